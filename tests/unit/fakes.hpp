#pragma once

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_clock.hpp"
#include "layers.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"

namespace qcp::test {

inline std::string base64url(std::string_view bytes) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8U) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> static_cast<unsigned>(bits)) & 0x3FU]);
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(buffer << static_cast<unsigned>(6 - bits)) & 0x3FU]);
  }
  return out;
}

// An unsigned-but-well-formed JWT: enough for code that reads claims without verifying.
inline std::string make_jwt(const nlohmann::json& claims,
                            std::string_view signature = "c2lnbmF0dXJl") {
  const nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}};
  return base64url(header.dump()) + "." + base64url(claims.dump()) + "." + std::string(signature);
}

// Answers with scripted results in order (the last one repeats) and remembers the requests.
class FakeHttp final : public HttpClient {
 public:
  explicit FakeHttp(HttpResult result) : results_{std::move(result)} {}
  explicit FakeHttp(std::vector<HttpResult> results, const FixedClock* clock = nullptr,
                    std::chrono::milliseconds cost = std::chrono::milliseconds{0})
      : results_(std::move(results)), clock_(clock), cost_(cost) {}
  HttpResult send(const HttpRequest& request) override {
    requests.push_back(request);
    if (clock_ != nullptr) {
      clock_->advance(cost_);
    }
    const auto index = std::min(requests.size(), results_.size()) - 1;
    return results_[index];
  }
  std::vector<HttpRequest> requests;

 private:
  std::vector<HttpResult> results_;
  const FixedClock* clock_ = nullptr;
  std::chrono::milliseconds cost_{0};
};

inline HttpResponse json_response(long status, const nlohmann::json& body) {
  return HttpResponse{.status = status,
                      .content_type = "application/json",
                      .body = body.dump(),
                      .retry_after = std::nullopt,
                      .www_authenticate = std::nullopt,
                      .date = std::nullopt};
}

// A node with only the given files and directories.
inline Environment staged_environment(
    std::vector<std::string> files = {"/etc/ssl/certs/ca-certificates.crt"},
    std::vector<std::string> dirs = {},
    std::map<std::string, std::string, std::less<>> variables = {}) {
  Environment env;
  env.variables = std::move(variables);
  env.is_readable_file = [files](const std::string& path) {
    return std::find(files.begin(), files.end(), path) != files.end();
  };
  env.is_directory = [dirs](const std::string& path) {
    return std::find(dirs.begin(), dirs.end(), path) != dirs.end();
  };
  return env;
}

}  // namespace qcp::test
