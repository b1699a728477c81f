#include "qcp/quay/exchange.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <utility>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/retry.hpp"
#include "qcp/quay/namespace.hpp"
#include "quay/exchange_answers.hpp"

namespace qcp::quay {
namespace {

// `unavailable`: the attempts ended on what only retries cure (no answer, 5xx, 429).
ExchangeFailure with_attempts(const Failure& failure, int attempts, bool unavailable) {
  if (attempts <= 1) {
    return {failure, unavailable};
  }
  return {Failure(failure.code(), std::string(failure.what()) + " (after " +
                                      std::to_string(attempts) + " attempts)"),
          unavailable};
}

// GET https://<quay>/oauth2/federation/robot/token, Basic robot:<service-account JWT>.
HttpRequest federation_request(const Identity& identity, const std::string& service_account_token,
                               const ExchangeSettings& settings) {
  HttpRequest request;
  request.url = "https://" + identity.quay_host + std::string(kFederationPath);
  request.headers = {{"Accept", "application/json"}, {"User-Agent", settings.user_agent}};
  request.basic_user = identity.robot;
  request.basic_password = service_account_token;
  request.trust = settings.trust;
  request.proxy = settings.proxy;
  request.no_proxy = settings.no_proxy;
  return request;
}

// What no message may show: the token, and the proxy's credentials (the password alone too).
void add_exchange_secrets(Redactor& redactor, const std::string& service_account_token,
                          const ExchangeSettings& settings) {
  redactor.add_secret(service_account_token);
  if (!settings.proxy_userinfo.empty()) {
    redactor.add_literal(settings.proxy_userinfo);
    if (const auto colon = settings.proxy_userinfo.find(':');
        colon != std::string::npos && settings.proxy_userinfo.size() - colon > 4) {
      redactor.add_literal(std::string_view(settings.proxy_userinfo).substr(colon + 1));
    }
  }
}

std::function<double()> jitter_source(const ExchangeSettings& settings) {
  if (settings.uniform) {
    return settings.uniform;
  }
  return [engine = std::mt19937_64(std::random_device{}()),
          distribution = std::uniform_real_distribution<double>(0.0, 1.0)]() mutable {
    return distribution(engine);
  };
}

// What one attempt's answer means: the token, or a failure and whether to try again.
struct Judgement {
  std::optional<QuayToken> token;
  std::optional<Failure> failure;
  bool final = false;                                   // another attempt cannot help
  std::optional<std::string> transport_detail;          // no answer: why, scrubbed
  std::optional<std::chrono::milliseconds> asked_wait;  // Quay's Retry-After
};

Judgement judge(const HttpResult& result, const Identity& identity,
                const ExchangeSettings& settings, const Redactor& redactor, const Clock& clock,
                int& server_errors) {
  Judgement judged;
  if (const auto* error = std::get_if<TransportError>(&result)) {
    judged.failure = unreachable(*error, identity, settings, redactor);
    judged.final = !is_retryable(*error);
    judged.transport_detail = redactor.scrub(error->detail);
    return judged;
  }
  const auto& response = std::get<HttpResponse>(result);
  if (response.status == 200) {
    judged.token = token_from_answer(response, identity, clock);
    return judged;
  }
  judged.failure = refusal(response, identity, redactor);
  judged.final = !is_retryable(response.status, server_errors);
  server_errors += response.status == 500 ? 1 : 0;
  if (response.retry_after) {
    judged.asked_wait = parse_retry_after(*response.retry_after, clock.now());
  }
  return judged;
}

// The wait before the next attempt does not fit before the deadline (`timeout`, by its name).
Failure no_time_to_wait(const Failure& failure, bool asked, std::chrono::milliseconds wait,
                        const std::string& timeout) {
  const std::string why = asked ? "Quay asked to retry after " +
                                      format_human(std::chrono::ceil<std::chrono::seconds>(wait)) +
                                      ", beyond the " + timeout + " deadline"
                                : "no time left for another attempt before " + timeout;
  return {ExitCode::kLookupFailed, std::string(failure.what()) + "; " + why};
}

}  // namespace

std::chrono::milliseconds deadline_left(std::chrono::steady_clock::time_point deadline,
                                        const Clock& clock) {
  return std::max(std::chrono::milliseconds{0},
                  std::chrono::floor<std::chrono::milliseconds>(deadline - clock.monotonic()));
}

void bound_attempt(HttpRequest& request, const ExchangeSettings& settings,
                   std::chrono::milliseconds left) {
  request.total_timeout = std::min(settings.attempt_timeout, left);
  request.connect_timeout = std::min(settings.connect_timeout, request.total_timeout);
}

QuayToken exchange_token(HttpClient& http, const Identity& identity,
                         const std::string& service_account_token, const ExchangeSettings& settings,
                         const Clock& clock) {
  using std::chrono::milliseconds;
  HttpRequest request = federation_request(identity, service_account_token, settings);
  const WipeOnExit wipe_password(request.basic_password);
  Redactor redactor;
  add_exchange_secrets(redactor, service_account_token, settings);
  const std::function<double()> uniform = jitter_source(settings);
  const auto deadline = settings.deadline.value_or(clock.monotonic() + settings.total_timeout);
  const auto remaining = [&] { return deadline_left(deadline, clock); };
  std::optional<Failure> last_failure;
  int server_errors = 0;  // HTTP 500 answers so far
  for (int attempt = 1;; ++attempt) {
    const milliseconds left = remaining();
    if (left < milliseconds{1}) {
      const std::string detail =
          last_failure ? std::string(last_failure->what()) : "no time left for a first attempt";
      throw with_attempts(deadline_failure(identity, settings, detail), attempt - 1, true);
    }
    bound_attempt(request, settings, left);
    const auto sent_at = clock.monotonic();
    Judgement judged =
        judge(http.send(request), identity, settings, redactor, clock, server_errors);
    if (judged.token) {
      judged.token->requested_at = sent_at;
      return std::move(*judged.token);
    }
    if (judged.final) {
      throw with_attempts(*judged.failure, attempt, false);
    }
    if (judged.transport_detail && remaining() < milliseconds{1}) {
      throw with_attempts(deadline_failure(identity, settings, *judged.transport_detail), attempt,
                          true);
    }
    if (attempt > settings.retries) {
      throw with_attempts(*judged.failure, attempt, true);
    }
    const milliseconds wait = judged.asked_wait.value_or(
        backoff_delay(attempt, settings.backoff_base, settings.backoff_cap, uniform));
    if (wait >= remaining()) {
      throw with_attempts(no_time_to_wait(*judged.failure, judged.asked_wait.has_value(), wait,
                                          settings.names(Setting::kTimeout)),
                          attempt, true);
    }
    if (settings.on_retry) {
      settings.on_retry("attempt " + std::to_string(attempt) + " failed (" +
                        judged.failure->what() + "); retrying in " + std::to_string(wait.count()) +
                        "ms");
    }
    clock.sleep_for(wait);
    last_failure = judged.failure;  // the wake-up may be late: the next turn checks time first
  }
}

}  // namespace qcp::quay
