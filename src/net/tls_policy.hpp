#pragma once

#include <curl/curl.h>

#include "qcp/net/ca_bundle.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

struct TlsContextSetup {
  const CaBundle* bundle = nullptr;  // the trusted CAs, unless libcurl loads a CA directory
};

// CURLOPT_SSL_CTX_FUNCTION, with CURLOPT_SSL_CTX_DATA pointing at a TlsContextSetup; called for
// Quay's connection and an HTTPS proxy's alike, so both trust the same CAs.
//  * The bundle's lookup goes into the context's trust store.
//  * On top of libcurl's checks, a leaf certificate must name its host in a subjectAltName (DNS
//    or IP): libcurl falls back to the subject's CN when there is none; Go's clients, and so the
//    kubelet and the registry clients, do not.
CURLcode prepare_tls_context(CURL* handle, void* ssl_ctx, void* setup);

// Whether the last verification on this thread refused a leaf without a DNS/IP subjectAltName;
// reset before each request.
bool& leaf_without_san_seen();

}  // namespace qcp::net
