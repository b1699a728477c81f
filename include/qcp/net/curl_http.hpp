#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "qcp/core/http.hpp"
#include "qcp/net/ca_bundle.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

// HTTPS through libcurl: TLS always verified, no redirects, no protocol but https, the body
// capped while it is read (or streamed to the caller), one deadline for the whole request.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;
  CurlHttpClient(CurlHttpClient&&) = delete;
  CurlHttpClient& operator=(CurlHttpClient&&) = delete;
  ~CurlHttpClient() override;

  HttpResult send(const HttpRequest& request) override;

 private:
  const CaBundle* bundle_for(const TrustStore& trust, std::string& problem);

  // Each CA bundle, read and indexed once per process: retries reuse it. Kept while the client
  // lives, as a TLS handshake on another thread may be reading it (the controller's informers
  // and workers share one client); a process has one or two trust settings.
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<CaBundle>, std::less<>> bundles_;  // by file or PEM
  // libcurl handles between requests, with their open connections (curl_http.cpp says why).
  struct IdleHandles;
  class Lease;
  std::unique_ptr<IdleHandles> idle_;
};

}  // namespace qcp::net
