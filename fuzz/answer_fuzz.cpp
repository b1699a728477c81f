// Fuzzes the HTTP answer path as the real transport drives it: the input is an answer's header
// lines and body, fed to AnswerCollector exactly as libcurl's callbacks feed it, and the
// collected answer goes through exchange_token (refusal or token) and, for a token, the cache
// duration.
//
// Invariants (a violation traps, which libFuzzer reports as a crash):
//   - a refusal is one printable line with no piece (16 characters) of the service-account token;
//   - a token is never empty, and its cache duration is between 1 s and Quay's one hour;
//   - the collector never holds more than its budgets.
// Any exception other than Failure escapes and aborts: also a crash.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/net/http_answer.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/token_lifetime.hpp"

namespace {

using namespace std::chrono_literals;

const std::string kToken =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0."
    "eyJpc3MiOiJodHRwczovL29pZGMuZXhhbXBsZS5jb20iLCJzdWIiOiJzeXN0"
    "ZW06c2VydmljZWFjY291bnQ6YXBwOnB1bGxlciJ9.c2lnbmF0dXJlLW9mLXRoZS1zZXJ2aWNlLWFjY291bnQtdG9rZW4";

class FuzzClock final : public qcp::Clock {
 public:
  [[nodiscard]] std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'767'222'000)) + slept_;
  }
  [[nodiscard]] std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::time_point{} + slept_;
  }
  void sleep_for(std::chrono::milliseconds duration) const override { slept_ += duration; }

 private:
  mutable std::chrono::milliseconds slept_{0};
};

class OneAnswer final : public qcp::HttpClient {
 public:
  explicit OneAnswer(qcp::HttpResponse response) : response_(std::move(response)) {}
  qcp::HttpResult send(const qcp::HttpRequest& /*request*/) override { return response_; }

 private:
  qcp::HttpResponse response_;
};

// The header part up to the first empty line, one line at a time, then the body in chunks.
qcp::HttpResponse collect(std::string_view input) {
  constexpr std::size_t kHeaderBudget = 4096;
  constexpr std::size_t kBodyBudget = 8192;
  qcp::AnswerCollector answer(kHeaderBudget, kBodyBudget);
  bool reading = true;
  while (reading && !input.empty()) {
    const auto end = input.find('\n');
    const auto line = input.substr(0, end == std::string_view::npos ? input.size() : end + 1);
    input.remove_prefix(line.size());
    reading = answer.add_header_line(line) && line != "\r\n" && line != "\n";
  }
  constexpr std::size_t kChunk = 61;
  while (reading && !input.empty()) {
    const auto chunk = input.substr(0, kChunk);
    input.remove_prefix(chunk.size());
    reading = answer.add_body(chunk);
  }
  auto response = answer.take();
  qcp_fuzz::check(response.body.size() <= kBodyBudget, "the body stays within its budget");
  if (response.status == 0) {
    response.status = 200;  // no status line: let the body reach the token path
  }
  return response;
}

void check_refusal(const std::string& message) {
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    qcp_fuzz::check(byte >= 0x20 && byte != 0x7F, "a refusal is one printable line");
  }
  for (std::size_t i = 0; i + 16 <= kToken.size(); ++i) {
    qcp_fuzz::check(message.find(std::string_view(kToken).substr(i, 16)) == std::string::npos,
                    "a refusal holds no piece of the service-account token");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  OneAnswer http(collect(std::string_view(reinterpret_cast<const char*>(data), size)));
  const FuzzClock clock;
  qcp::ExchangeSettings settings;
  settings.retries = 1;
  settings.total_timeout = 20s;
  settings.uniform = [] { return 0.5; };
  const qcp::Identity identity{
      .robot = "team+puller", .registry = "quay.example.com", .quay_host = "quay.example.com"};
  try {
    const auto token = qcp::exchange_token(http, identity, kToken, settings, clock);
    qcp_fuzz::check(!token.value.empty(), "a token is never empty");
    try {
      const auto cache = qcp::cache_duration_for(token.expires_at, clock.now(), 300s, std::nullopt);
      qcp_fuzz::check(cache >= 1s && cache <= qcp::kQuayTokenLifetime,
                      "the cache duration is within Quay's lifetime");
    } catch (const qcp::Failure& failure) {
      check_refusal(failure.what());
    }
  } catch (const qcp::Failure& failure) {
    check_refusal(failure.what());
  }
  return 0;
}
