#pragma once

#include <string>

#include "qcp/net/namespace.hpp"

namespace qcp::net {

// OpenSSL loads ~3,400 error strings into a hash table on first use: ~0.77 M instructions, 6% of
// a whole lookup, spent for the one message a failure prints. In the static build (its own
// OpenSSL, QCP_OPENSSL_LAZY_ERROR_STRINGS) they are loaded only when a failure needs them; with
// a system OpenSSL both calls do nothing.

// Before libcurl's initialisation: OpenSSL's own loading is switched off.
void defer_openssl_error_strings();

// libcurl's message with each OpenSSL error that it had to print without its text
// ("error:0A00010B:lib(20)::reason(267)") printed again with it ("error:0A00010B:SSL
// routines::wrong version number"); the strings are loaded on the first call. With a system
// OpenSSL libcurl's messages already carry the text, and nothing is changed.
std::string with_openssl_error_strings(const std::string& detail);

}  // namespace qcp::net
