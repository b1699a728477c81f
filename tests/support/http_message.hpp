#pragma once
// HTTP/1.1 messages as LoopbackHttpsServer reads and writes them.

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "https_server.hpp"

namespace qcp::test {

std::string_view reason_phrase(int status);
// The request line and headers (without the blank line); false when malformed.
bool parse_head(std::string_view head, RecordedRequest& req);
// basic_user / basic_password from a Basic Authorization header, when it decodes.
void decode_basic_for_record(RecordedRequest& req);
// "127.0.0.1:53124" / "[::1]:53124".
std::string peer_name(const sockaddr_storage& ss);

}  // namespace qcp::test
