#pragma once

// How CurlHttpClient sets up one transfer: libcurl's options from an HttpRequest, and the
// callbacks that bound, stream or abort the answer.

#include <curl/curl.h>

#include <memory>

#include "net/tls_policy.hpp"
#include "qcp/core/http.hpp"
#include "qcp/net/http_answer.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

// What libcurl's callbacks see of one transfer.
struct Transfer {
  const HttpRequest& request;
  AnswerCollector answer;
  bool aborted = false;  // the request's body_sink or keep_going ended it
};

// Collects setopt results so one failed option (e.g. a feature missing from the linked libcurl)
// is reported instead of silently weakening the request.
class Setter {
 public:
  explicit Setter(CURL* handle) : handle_(handle) {}
  template <typename T>
  void operator()(CURLoption option, T value) {
    const CURLcode code = curl_easy_setopt(handle_, option, value);
    if (code != CURLE_OK && first_error_ == CURLE_OK) {
      first_error_ = code;
    }
  }
  [[nodiscard]] CURLcode result() const { return first_error_; }

 private:
  CURL* handle_;
  CURLcode first_error_ = CURLE_OK;
};

// The request's headers as libcurl's list; false when it runs out of memory.
bool append_headers(const HttpRequest& request, HeaderList& headers);

// The method, body and deadlines of one HTTPS request, never following a redirect.
void set_transfer_options(Setter& set, const HttpRequest& request, curl_slist* headers,
                          char* error_buffer);
// Verification on, TLS 1.2 or later, toward the server and an HTTPS proxy alike; the client
// certificate when the request has one.
void set_trust_options(Setter& set, const HttpRequest& request, TlsContextSetup& tls_setup);
// Basic credentials when the request has them, and the proxy the caller chose.
void set_identity_and_route(Setter& set, const HttpRequest& request);
// Header and body callbacks into `transfer`; the progress callback when keep_going is given.
void set_answer_sinks(Setter& set, Transfer& transfer);

}  // namespace qcp::net
