#pragma once

#include <curl/curl.h>

namespace qcp {

// CURLOPT_SSL_CTX_FUNCTION: on top of libcurl's checks, a leaf certificate must name its host in
// a subjectAltName (DNS or IP): libcurl falls back to the subject's CN when there is none; Go's
// clients, and so the kubelet and the registry clients, do not.
CURLcode require_subject_alt_name(CURL* handle, void* ssl_ctx, void* user);

// Whether the last verification on this thread refused a leaf without a DNS/IP subjectAltName;
// reset before each request.
bool& leaf_without_san_seen();

}  // namespace qcp
