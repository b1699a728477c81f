#pragma once

#include <curl/curl.h>

#include <string>

#include "qcp/core/http.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

// What went wrong, from libcurl's code and words: a verification failure is told from an
// interrupted handshake, plain HTTP, an old TLS version, the proxy's certificate and a process
// out of file descriptors, since each asks something different of the operator.
struct CurlFailure {
  CURLcode code = CURLE_OK;
  std::string detail;              // libcurl's error buffer or strerror
  bool proxy_certificate = false;  // CURLINFO_PROXY_SSL_VERIFYRESULT was not 0
  bool leaf_without_san = false;   // our verify callback refused a CN-only certificate
};

TransportError describe_curl_failure(const CurlFailure& failure);

// true when this process cannot open one more file descriptor (EMFILE/ENFILE).
bool out_of_descriptors();

// One request may hold a socket, the CA file, resolver sockets and files, and libcurl's wake-up
// pair at once: about this many descriptors.
inline constexpr std::size_t kDescriptorsForARequest = 16;

// false when fewer than `needed` descriptors can be opened now, so a request would fail midway
// with a misleading error (a connect or CA-file failure).
bool descriptors_available(std::size_t needed = kDescriptorsForARequest);

}  // namespace qcp::net
