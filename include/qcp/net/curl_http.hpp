#pragma once

#include <memory>
#include <string>

#include "qcp/core/http.hpp"
#include "qcp/net/ca_bundle.hpp"
#include "qcp/net/namespace.hpp"

namespace qcp::net {

// HTTPS GET through libcurl: TLS always verified, no redirects, no protocol but https, the body
// capped while it is read, one deadline for the whole request.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;
  CurlHttpClient(CurlHttpClient&&) = delete;
  CurlHttpClient& operator=(CurlHttpClient&&) = delete;
  ~CurlHttpClient() override;

  HttpResult get(const HttpRequest& request) override;

 private:
  const CaBundle* bundle_for(const std::string& path, std::string& problem);

  // The CA bundle, read and indexed once per process: retries reuse it.
  std::string bundle_path_;
  std::unique_ptr<CaBundle> bundle_;
};

}  // namespace qcp::net
