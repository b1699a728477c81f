#pragma once

#include <memory>
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

  // The CA bundle, read and indexed once per process: retries reuse it.
  std::string bundle_key_;  // the file name, or the inline bundle itself
  std::unique_ptr<CaBundle> bundle_;
};

}  // namespace qcp::net
