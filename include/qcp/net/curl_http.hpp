#pragma once

#include "qcp/core/http.hpp"

namespace qcp {

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
};

}  // namespace qcp
