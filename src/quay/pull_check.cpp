#include "qcp/quay/pull_check.hpp"

#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "qcp/core/image.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/text.hpp"

namespace qcp::quay {
namespace {

using Json = nlohmann::json;

struct Challenge {
  std::string realm;
  std::string service;
};

// One parameter of a `WWW-Authenticate: Bearer realm="...",service="..."` challenge.
std::string challenge_parameter(std::string_view header, std::string_view name) {
  const std::string key = std::string(name) + "=\"";
  const auto at = header.find(key);
  if (at == std::string_view::npos) {
    return {};
  }
  const auto start = at + key.size();
  const auto end = header.find('"', start);
  return end == std::string_view::npos ? std::string()
                                       : std::string(header.substr(start, end - start));
}

HttpRequest request_for(const std::string& url, const ExchangeSettings& settings) {
  HttpRequest request;
  request.url = url;
  request.headers = {{"Accept", "application/json"}, {"User-Agent", settings.user_agent}};
  request.trust = settings.trust;
  request.proxy = settings.proxy;
  request.no_proxy = settings.no_proxy;
  request.max_body_bytes = std::size_t{64} << 10;
  return request;
}

// The check's two requests share the settings' one deadline (the exchange's, when the caller
// gives it): each gets its attempt timeout, cut to what is left. Nothing is sent without time.
class Asker {
 public:
  Asker(HttpClient& http, const ExchangeSettings& settings, const Clock& clock)
      : http_(http),
        settings_(settings),
        clock_(clock),
        deadline_(settings.deadline.value_or(clock.monotonic() + settings.total_timeout)) {}
  std::optional<HttpResult> send(HttpRequest request) const {
    const auto left = deadline_left(deadline_, clock_);
    if (left < std::chrono::milliseconds{1}) {
      return std::nullopt;
    }
    bound_attempt(request, settings_, left);
    return http_.send(request);
  }
  [[nodiscard]] PullCheck out_of_time(const std::string& url) const {
    return {.granted = false,
            .problem = "no time left within the " + settings_.names(Setting::kTimeout) +
                       " deadline to ask " + url};
  }

 private:
  HttpClient& http_;
  const ExchangeSettings& settings_;
  const Clock& clock_;
  std::chrono::steady_clock::time_point deadline_;
};

// The registry's own words in an error answer: distribution's errors[0].message, else the
// status alone (an HTML page says nothing a line can hold).
std::string words_of(const HttpResponse& response, const Redactor& redactor) {
  const auto body = Json::parse(response.body, nullptr, false);
  std::string message;
  if (body.is_object() && body.contains("errors") && body["errors"].is_array() &&
      !body["errors"].empty() && body["errors"][0].is_object()) {
    message = body["errors"][0].value("message", "");
  }
  const std::string status = "HTTP " + std::to_string(response.status);
  return message.empty() ? status : status + ": " + redactor.scrub(one_line(message), 200);
}

// The token endpoint a registry names in its 401 to GET /v2/, if it is a Bearer challenge.
std::optional<Challenge> challenge_of(const HttpResponse& response) {
  if (response.status != 401 || !response.www_authenticate ||
      !response.www_authenticate->starts_with("Bearer ")) {
    return std::nullopt;
  }
  Challenge challenge{.realm = challenge_parameter(*response.www_authenticate, "realm"),
                      .service = challenge_parameter(*response.www_authenticate, "service")};
  if (challenge.realm.empty()) {
    return std::nullopt;
  }
  return challenge;
}

// The actions the registry's bearer token grants on `repository` (distribution's token spec:
// access[{type: repository, name, actions}]); the token is read, not verified: it is the
// registry's to verify, and only what it says it grants matters here.
bool grants_pull(const std::string& body, std::string_view repository) {
  const auto answer = Json::parse(body, nullptr, false);
  if (!answer.is_object()) {
    return false;
  }
  const std::string token = answer.value("token", answer.value("access_token", ""));
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  if (first == std::string::npos || second == std::string::npos) {
    return false;
  }
  const auto payload = Json::parse(
      base64url_decode(std::string_view(token).substr(first + 1, second - first - 1)).value_or(""),
      nullptr, false);
  if (!payload.is_object() || !payload.contains("access") || !payload["access"].is_array()) {
    return false;
  }
  for (const auto& entry : payload["access"]) {
    if (entry.is_object() && entry.value("type", "") == "repository" &&
        entry.value("name", "") == repository && entry.contains("actions") &&
        entry["actions"].is_array()) {
      for (const auto& action : entry["actions"]) {
        if (action == "pull") {
          return true;
        }
      }
    }
  }
  return false;
}

std::string transport_problem(const std::string& what, const TransportError& error,
                              const Redactor& redactor) {
  return "cannot reach " + what + ": " + redactor.scrub(one_line(error.detail), 200);
}

// The registry's token endpoint, from its challenge to an anonymous GET /v2/; or why not.
std::variant<Challenge, PullCheck> find_challenge(const Asker& asker, const std::string& registry,
                                                  const ExchangeSettings& settings,
                                                  const Redactor& redactor) {
  const std::string base = "https://" + registry;
  const auto probe = asker.send(request_for(base + "/v2/", settings));
  if (!probe) {
    return asker.out_of_time(base + "/v2/");
  }
  if (const auto* error = std::get_if<TransportError>(&*probe)) {
    return PullCheck{.granted = false,
                     .problem = transport_problem(base + "/v2/", *error, redactor)};
  }
  const auto challenge = challenge_of(std::get<HttpResponse>(*probe));
  if (!challenge) {
    return PullCheck{.granted = false,
                     .problem = "the registry at " + registry +
                                " asked for no bearer token at /v2/ (HTTP " +
                                std::to_string(std::get<HttpResponse>(*probe).status) +
                                "): it is not Quay, or not its registry"};
  }
  if (!challenge->realm.starts_with(base + "/")) {
    return PullCheck{.granted = false,
                     .problem = "the registry's token endpoint \"" + one_line(challenge->realm) +
                                "\" is not on " + base + ": the robot token is not sent there"};
  }
  return *challenge;
}

}  // namespace

std::string repository_of_image(std::string_view image) {
  const std::string registry = registry_of_image(image);
  std::string_view path = image;
  if (image.starts_with(registry + "/")) {
    path.remove_prefix(registry.size() + 1);
  }
  if (const auto digest = path.find('@'); digest != std::string_view::npos) {
    path = path.substr(0, digest);
  }
  if (const auto colon = path.rfind(':');
      colon != std::string_view::npos && path.find('/', colon) == std::string_view::npos) {
    path = path.substr(0, colon);
  }
  return std::string(path);
}

PullCheck check_pull(HttpClient& http, const RobotCredential& credential,
                     std::string_view repository, const ExchangeSettings& settings,
                     const Clock& clock) {
  Redactor redactor;
  redactor.add_secret(credential.token);
  const Asker asker(http, settings, clock);
  const auto found = find_challenge(asker, credential.registry, settings, redactor);
  if (const auto* refused = std::get_if<PullCheck>(&found)) {
    return *refused;
  }
  const auto& challenge = std::get<Challenge>(found);
  HttpRequest ask = request_for(
      challenge.realm + (challenge.realm.find('?') == std::string::npos ? "?" : "&") +
          "service=" + percent_encoded(challenge.service) +
          "&scope=" + percent_encoded("repository:" + std::string(repository) + ":pull"),
      settings);
  ask.basic_user = credential.robot;
  ask.basic_password = credential.token;
  const WipeOnExit wipe(ask.basic_password);
  const auto answer = asker.send(ask);
  if (!answer) {
    return asker.out_of_time(challenge.realm);
  }
  if (const auto* error = std::get_if<TransportError>(&*answer)) {
    return {.granted = false, .problem = transport_problem(challenge.realm, *error, redactor)};
  }
  const auto& response = std::get<HttpResponse>(*answer);
  if (response.status != 200) {
    return {.granted = false,
            .problem = "the registry refused robot " + credential.robot + " for " +
                       std::string(repository) + " (" + words_of(response, redactor) + ")"};
  }
  if (!grants_pull(response.body, repository)) {
    return {.granted = false,
            .problem = "robot " + credential.robot + " cannot pull " + std::string(repository) +
                       ": the registry granted it no pull (give the robot read access to the "
                       "repository)"};
  }
  return {.granted = true, .problem = {}};
}

}  // namespace qcp::quay
