#include "fake_quay.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include "http_text.hpp"
#include "ossl.hpp"

namespace qcp::test {
namespace {

constexpr std::string_view kFederationPath = "/oauth2/federation/robot/token";
constexpr std::int64_t kRegistryMaxFreshSeconds = 3660;  // REGISTRY_JWT_AUTH_MAX_FRESH_S
constexpr std::int64_t kRegistryTokenSeconds = 300;      // a registry bearer token's lifetime

HttpsServerOptions server_options(const FakeQuayOptions& options) {
  return {.ipv6 = options.ipv6,
          .port = options.port,
          .io_timeout = options.io_timeout,
          .only_tls_1_1 = options.only_tls_1_1,
          .server_header = "fake-quay",
          .log = options.log};
}

std::string werkzeug_page(int status, std::string_view title, std::string_view text) {
  return "<!doctype html>\n<html lang=en>\n<title>" + std::to_string(status) + " " +
         std::string(title) + "</title>\n<h1>" + std::string(title) + "</h1>\n<p>" +
         std::string(text) + "</p>\n";
}

Reply method_not_allowed(std::string allow) {
  return Reply::html(
      405,
      werkzeug_page(405, "Method Not Allowed", "The method is not allowed for the requested URL."),
      {{"Allow", std::move(allow)}});
}

Reply not_found() {
  return Reply::html(404, werkzeug_page(404, "Not Found",
                                        "The requested URL was not found on the server. If you "
                                        "entered the URL manually please check your spelling and "
                                        "try again."));
}

Reply internal_error() {
  return Reply::html(500, werkzeug_page(500, "Internal Server Error",
                                        "The server encountered an internal error and was unable "
                                        "to complete your request. Either the server is "
                                        "overloaded or there is an error in the application."));
}

Reply unauthorized(std::string_view error) {
  return Reply::json(401, {{"error", std::string(error)}});
}

Reply bad_request(std::string_view message) {
  return Reply::json(400, {{"message", std::string(message)}});
}

// Docker registry error body, used by /v2/ routes.
Reply registry_error(int status, std::string_view code, std::string_view message) {
  return Reply::json(status,
                     {{"errors", nlohmann::json::array({{{"code", std::string(code)},
                                                         {"message", std::string(message)},
                                                         {"detail", nlohmann::json::object()}}})}});
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1fU;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0fU;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (i + len > s.size()) {
      return false;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3fU);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Quay's Basic parsing for the federation endpoint (util/security/federated_robot_auth.py).
struct BasicParse {
  std::optional<std::string> error;  // 401 "error" text
  std::string user;
  std::string password;
};

BasicParse parse_basic_like_quay(const std::optional<std::string>& header) {
  BasicParse out;
  if (!header || header->empty()) {
    out.error = "No auth header";
    return out;
  }
  std::vector<std::string_view> parts;
  std::string_view rest = *header;
  for (int guard = 0; guard < 1024 && !rest.empty(); ++guard) {
    const std::size_t sp = rest.find(' ');
    const std::string_view part = rest.substr(0, sp);
    if (!part.empty()) {
      parts.push_back(trim_ows(part));
    }
    if (sp == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(sp + 1);
  }
  if (parts.size() != 2 || !iequals(parts[0], "basic")) {
    out.error = "Invalid basic auth header";
    return out;
  }
  const auto decoded = python_b64decode(parts[1]);
  if (!decoded) {
    out.error = "Could not parse basic auth header";
    return out;
  }
  const std::size_t colon = decoded->find(':');
  const std::string user = decoded->substr(0, colon);
  const std::string password = colon == std::string::npos ? "" : decoded->substr(colon + 1);
  if (!valid_utf8(user) || !valid_utf8(password)) {
    out.error = "Could not parse basic auth header";
    return out;
  }
  if (colon == std::string::npos) {
    out.error = "Unexpected number of credentials found in basic auth header";
    return out;
  }
  out.user = user;
  out.password = password;
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
      const std::string hex(s.substr(i + 1, 2));
      out += static_cast<char>(static_cast<unsigned char>(std::stoul(hex, nullptr, 16)));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  for (int guard = 0; guard < 256 && start <= query.size() && !query.empty(); ++guard) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) {
      end = query.size();
    }
    const std::string_view item = query.substr(start, end - start);
    const std::size_t eq = item.find('=');
    if (!item.empty()) {
      out.emplace_back(percent_decode(item.substr(0, eq)),
                       eq == std::string_view::npos ? "" : percent_decode(item.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

std::string random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  detail::check(
      RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) == 1,
      "RAND_bytes");
  return base64url_encode(raw);
}

std::optional<std::int64_t> claim_int(const nlohmann::json& payload, const char* name) {
  const auto it = payload.find(name);
  if (it == payload.end()) {
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  if (it->is_number_float()) {
    return static_cast<std::int64_t>(it->get<double>());
  }
  return std::nullopt;
}

// Whether the token's aud (a string or a list) names one of `allowed`.
bool any_audience_in(const nlohmann::json& payload, const std::vector<std::string>& allowed) {
  const auto aud = payload.find("aud");
  if (aud == payload.end()) {
    return false;
  }
  const auto listed = [&allowed](const nlohmann::json& value) {
    return value.is_string() &&
           std::find(allowed.begin(), allowed.end(), value.get<std::string>()) != allowed.end();
  };
  return listed(*aud) || (aud->is_array() && std::any_of(aud->begin(), aud->end(), listed));
}

// PyJWT's claim validation as Quay configures it: exp and iat required, 30 s leeway, nbf only
// when asked (the registry's check; the federation endpoint never asks). Returns Quay's message
// on failure.
// `leeway`: Quay's JWT_CLOCK_SKEW_SECONDS (30 by default).
std::optional<std::string> validate_time_claims(const nlohmann::json& payload, std::int64_t now,
                                                bool verify_nbf, std::int64_t leeway) {
  for (const char* name : {"exp", "iat"}) {
    if (!payload.contains(name)) {
      return std::string("Token is missing the \"") + name + "\" claim";
    }
  }
  const auto iat = claim_int(payload, "iat");
  if (!iat) {
    return "Issued At claim (iat) must be an integer.";
  }
  if (*iat > now + leeway) {
    return "Issued At claim (iat) cannot be in the future.";
  }
  if (verify_nbf && payload.contains("nbf")) {
    const auto nbf = claim_int(payload, "nbf");
    if (!nbf) {
      return "Not Before claim (nbf) must be an integer.";
    }
    if (*nbf > now + leeway) {
      return "The token is not yet valid (nbf)";
    }
  }
  const auto exp = claim_int(payload, "exp");
  if (!exp) {
    return "Expiration Time claim (exp) must be an integer.";
  }
  if (*exp <= now - leeway) {
    return "Signature has expired";
  }
  return std::nullopt;
}

std::string json_scalar_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

// ------------------------------------------------------------------------------------------
// What the fake Quay (and its OIDC issuer) answers; the transport is LoopbackHttpsServer's.

struct FakeQuay::Impl {
  struct Robot {
    std::vector<FederationBinding> bindings;
  };

  FakeQuayOptions options;
  std::string base;      // https://HOST:PORT
  std::string hostname;  // SERVER_HOSTNAME
  RsaSigner issuer_key;
  RsaSigner instance_key;

  mutable std::mutex mu;
  std::map<std::string, Robot> robots;
  std::map<std::string, std::vector<RsaSigner>> issuers;
  std::deque<Reply> scripted;
  std::set<std::string> registry_tokens;
  std::set<std::string> pushers;  // robots whose registry tokens grant push

  Impl(FakeQuayOptions opts, std::string base_url)
      : options(std::move(opts)),
        base(std::move(base_url)),
        hostname(options.server_hostname.empty() ? base.substr(std::strlen("https://"))
                                                 : options.server_hostname),
        issuer_key(options.issuer_key ? *options.issuer_key
                                      : RsaSigner::shared(RsaSigner::SharedKey::kIssuer)),
        instance_key(options.instance_key
                         ? *options.instance_key
                         : RsaSigner::shared(RsaSigner::SharedKey::kQuayInstance)) {
    issuers[issuer_url()].push_back(issuer_key);
  }

  [[nodiscard]] const std::string& base_url() const { return base; }
  [[nodiscard]] std::string issuer_url() const { return base + "/issuer"; }

  [[nodiscard]] std::int64_t now() const {
    return unix_seconds(std::chrono::system_clock::now() + options.clock_offset);
  }

  // A scripted reply for the federation endpoint first, then the default routes.
  Reply respond(const RecordedRequest& req) {
    if (req.path == kFederationPath) {
      const std::lock_guard lock(mu);
      if (!scripted.empty()) {
        Reply reply = std::move(scripted.front());
        scripted.pop_front();
        return reply;
      }
    }
    return route(req);
  }

  // ---------------------------------------------------------------------------------------
  // Default routes.

  Reply route(const RecordedRequest& req) {
    if (req.path == kFederationPath) {
      if (req.method == "OPTIONS") {
        Reply r = Reply::html(200, "");
        r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
        return r;
      }
      if (req.method != "GET" && req.method != "HEAD") {
        return method_not_allowed("GET, HEAD, OPTIONS");
      }
      return federation(req);
    }
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (req.path == "/v2/auth") {
      return get ? v2_auth(req) : method_not_allowed("GET, HEAD, OPTIONS");
    }
    if (req.path == "/v2/" || req.path == "/v2") {
      return get ? v2_base(req) : method_not_allowed("GET, HEAD, OPTIONS");
    }
    if (auto r = issuer_document(req.path)) {
      return get ? *r : method_not_allowed("GET, HEAD, OPTIONS");
    }
    return not_found();
  }

  // Discovery and JWKS for every registered issuer whose URL lives on this server.
  std::optional<Reply> issuer_document(const std::string& path) {
    const std::lock_guard lock(mu);
    for (const auto& [url, keys] : issuers) {
      if (url.compare(0, base.size(), base) != 0 ||
          (url.size() > base.size() && url[base.size()] != '/')) {
        continue;
      }
      std::string prefix = url.substr(base.size());
      while (!prefix.empty() && prefix.back() == '/') {
        prefix.pop_back();
      }
      if (path == prefix + "/.well-known/openid-configuration") {
        return Reply::json(200, {{"issuer", url},
                                 {"jwks_uri", base + prefix + "/keys"},
                                 {"response_types_supported", {"id_token"}},
                                 {"subject_types_supported", {"public"}},
                                 {"id_token_signing_alg_values_supported", {"RS256"}}});
      }
      if (path == prefix + "/keys") {
        nlohmann::json jwks = {{"keys", nlohmann::json::array()}};
        for (const RsaSigner& key : keys) {
          jwks["keys"].push_back(key.jwk());
        }
        return Reply::json(200, jwks);
      }
    }
    return std::nullopt;
  }

  // GET /oauth2/federation/robot/token, in Quay's validation order (reference §4).
  Reply federation(const RecordedRequest& req) {
    // 1. Basic header.
    const BasicParse basic = parse_basic_like_quay(req.header("Authorization"));
    if (basic.error) {
      return unauthorized(*basic.error);
    }
    // 2. Robot name shape.
    if (basic.user.find('+') == std::string::npos) {
      return unauthorized("Invalid robot");
    }
    // 3. Robot exists.
    std::vector<FederationBinding> bindings;
    {
      const std::lock_guard lock(mu);
      const auto it = robots.find(basic.user);
      if (!is_ascii(basic.user) || it == robots.end()) {
        return bad_request("Could not find robot with specified username");
      }
      bindings = it->second.bindings;
    }
    // 4. iss, read without verification; a password that is not a JWT is an unmapped error.
    const auto unverified = decode_jwt_unverified(basic.password);
    if (!unverified) {
      return internal_error();
    }
    const auto iss_it = unverified->payload.find("iss");
    if (iss_it == unverified->payload.end() || iss_it->is_null() ||
        (iss_it->is_string() && iss_it->get<std::string>().empty())) {
      return bad_request("Token does not contain issuer");
    }
    const std::string iss = json_scalar_text(*iss_it);
    // 5. Bindings exist.
    if (bindings.empty()) {
      return bad_request("Robot does not have federated login configured");
    }
    // 6. Exact issuer match.
    std::vector<FederationBinding> for_issuer;
    for (const FederationBinding& b : bindings) {
      if (iss_it->is_string() && b.issuer == iss) {
        for_issuer.push_back(b);
      }
    }
    if (for_issuer.empty()) {
      return bad_request("issuer " + iss + " not configured for this robot");
    }
    // 7. The header must name a key: checked before any discovery (observed in Quay 3.18).
    const auto kid_it = unverified->header.find("kid");
    if (kid_it == unverified->header.end() || kid_it->is_null()) {
      return bad_request("Invalid token: Missing `kid` header");
    }
    // 8. "Discovery": the issuer must be known to the fake.
    std::vector<RsaSigner> keys;
    {
      const std::lock_guard lock(mu);
      const auto it = issuers.find(iss);
      if (it == issuers.end()) {
        return internal_error();
      }
      keys = it->second;
    }
    // 9. Key by kid; an EC-signed token stands for an EC key in the JWKS, which Quay cannot use.
    const std::string kid = json_scalar_text(*kid_it);
    const auto key =
        std::find_if(keys.begin(), keys.end(), [&](const RsaSigner& k) { return k.kid() == kid; });
    if (key == keys.end()) {
      return internal_error();
    }
    const std::string alg = unverified->header.value("alg", "");
    if (alg.starts_with("ES")) {
      return internal_error();
    }
    // 10. Signature: RS256 or RS384.
    if (alg != "RS256" && alg != "RS384") {
      return bad_request("Invalid token: The specified alg value is not allowed");
    }
    const auto payload = RsaSigner::verify(basic.password, *key);
    if (!payload) {
      return bad_request("Invalid token: Signature verification failed");
    }
    // 10. Time claims, 30 s leeway; nbf is never checked (observed in every version).
    if (const auto problem = validate_time_claims(*payload, now(), /*verify_nbf=*/false,
                                                  options.clock_skew.count())) {
      return bad_request("Invalid token: " + *problem);
    }
    // 10. Audiences (3.18+), in the same decode, so before the subject: only when a binding
    // for this issuer stores some.
    if (options.quay_3_18) {
      std::vector<std::string> allowed;
      for (const FederationBinding& b : for_issuer) {
        allowed.insert(allowed.end(), b.audiences.begin(), b.audiences.end());
      }
      if (!allowed.empty() && !any_audience_in(*payload, allowed)) {
        return bad_request("Invalid token: Audience doesn't match");
      }
    }
    // 11. Subject.
    const auto sub_it = payload->find("sub");
    const bool bound =
        sub_it != payload->end() && sub_it->is_string() &&
        std::any_of(for_issuer.begin(), for_issuer.end(), [&](const FederationBinding& b) {
          return b.subject == sub_it->get<std::string>();
        });
    if (!bound) {
      return bad_request("Token does not match robot");
    }
    return Reply::json(200, {{"token", issue_robot_token(basic.user)}});
  }

  std::string issue_robot_token(const std::string& robot) const {
    const std::int64_t t = now();
    const nlohmann::json claims = {
        {"iss", "quay"},
        {"aud", hostname},
        {"sub", robot},
        {"nbf", t},
        {"iat", t},
        {"exp", t + options.token_lifetime.count()},
        {"access", nlohmann::json::object()},
        {"context",
         {{"version", 2},
          {"entity_kind", "robot"},
          {"entity_reference", robot},
          {"kind", "user"},
          {"user", robot},
          {"com.apostille.roots", nullptr},
          {"com.apostille.root", "$disabled"}}},
    };
    return instance_key.sign(claims);
  }

  // Checks a Quay-issued robot token as /v2/auth would (reference §8); nullopt when valid.
  std::optional<std::string> robot_token_problem(const std::string& user,
                                                 const std::string& token) const {
    const auto jwt = decode_jwt_unverified(token);
    if (!jwt) {
      return "Invalid username or password";  // no static robot tokens in the fake
    }
    if (jwt->header.value("kid", "") != instance_key.kid()) {
      return "Unknown service key";
    }
    const auto payload = RsaSigner::verify(token, instance_key);
    if (!payload) {
      return "Signature verification failed";
    }
    if (payload->value("iss", "") != "quay") {
      return "Invalid issuer";
    }
    if (payload->value("aud", "") != hostname) {
      return "Invalid audience for robot token";
    }
    if (payload->value("sub", "") != user) {
      return "Token does not match robot";
    }
    if (!payload->contains("nbf")) {
      return "Token is missing the \"nbf\" claim";
    }
    if (auto problem = validate_time_claims(*payload, now(), true, options.clock_skew.count())) {
      return problem;
    }
    const auto exp = claim_int(*payload, "exp");
    const auto iat = claim_int(*payload, "iat");
    if (exp && iat && *exp - *iat > kRegistryMaxFreshSeconds) {
      return "Token was signed for more than " + std::to_string(kRegistryMaxFreshSeconds) +
             " seconds";
    }
    return std::nullopt;
  }

  Reply v2_auth(const RecordedRequest& req) {
    if (!req.basic_user || !req.basic_password) {
      return registry_error(401, "UNAUTHORIZED", "authentication required");
    }
    const std::string& user = *req.basic_user;
    {
      const std::lock_guard lock(mu);
      if (robots.find(user) == robots.end()) {
        return registry_error(401, "UNAUTHORIZED", "Invalid username or password");
      }
    }
    if (const auto problem = robot_token_problem(user, *req.basic_password)) {
      // Quay's robot verification raises unmapped exceptions for these: 500 HTML, not 401
      // (observed), so a credential cached past exp fails the pull with a 500.
      for (const std::string_view unmapped :
           {"Unknown service key", "Invalid audience for robot token", "Signature has expired",
            "Token was signed for more than"}) {
        if (problem->starts_with(unmapped)) {
          return internal_error();
        }
      }
      return registry_error(401, "UNAUTHORIZED", *problem);
    }
    const std::string owner = user.substr(0, user.find('+'));
    std::string service = hostname;
    nlohmann::json access = nlohmann::json::array();
    for (const auto& [name, value] : parse_query(req.query)) {
      if (name == "service") {
        service = value;
      }
      if (name != "scope") {
        continue;
      }
      // repository:<ns>/<repo>:<actions>
      const std::size_t first = value.find(':');
      const std::size_t last = value.rfind(':');
      if (value.compare(0, first, "repository") != 0 || first == last) {
        return registry_error(400, "UNSUPPORTED", "unsupported scope " + value);
      }
      const std::string repo = value.substr(first + 1, last - first - 1);
      if (repo.substr(0, repo.find('/')) != owner) {
        return registry_error(403, "DENIED", "requested access to the resource is denied");
      }
      // The granted actions: what was asked, less push for a robot that may only pull.
      nlohmann::json actions = nlohmann::json::array();
      std::size_t start = last + 1;
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        const std::string action = value.substr(start, comma - start);
        const std::lock_guard lock(mu);
        if (action == "pull" || (action == "push" && pushers.count(user) != 0)) {
          actions.push_back(action);
        }
        start = comma + 1;
      }
      access.push_back({{"type", "repository"}, {"name", repo}, {"actions", actions}});
    }
    // A Docker registry bearer token (docker/distribution's token spec), signed with the
    // instance service key as Quay signs its own, with the libtrust kid the registry looks
    // keys up by.
    const std::int64_t t = now();
    const std::string registry_token = instance_key.sign({{"kid", instance_key.libtrust_key_id()}},
                                                         {{"iss", hostname},
                                                          {"sub", user},
                                                          {"aud", service},
                                                          {"exp", t + kRegistryTokenSeconds},
                                                          {"nbf", t - 1},
                                                          {"iat", t},
                                                          {"jti", random_token(16)},
                                                          {"access", access}});
    {
      const std::lock_guard lock(mu);
      registry_tokens.insert(registry_token);
    }
    return Reply::json(200, {{"token", registry_token},
                             {"access_token", registry_token},
                             {"expires_in", kRegistryTokenSeconds}});
  }

  Reply v2_base(const RecordedRequest& req) {
    const auto auth = req.header("Authorization");
    if (auth && auth->size() > 7 && iequals(auth->substr(0, 7), "bearer ")) {
      const std::lock_guard lock(mu);
      if (registry_tokens.count(std::string(trim_ows(auth->substr(7)))) != 0) {
        return Reply::json(200, nlohmann::json::object(),
                           {{"Docker-Distribution-API-Version", "registry/2.0"}});
      }
    }
    Reply r =
        registry_error(401, "UNAUTHORIZED", "access to the requested resource is not authorized");
    r.headers.emplace_back("Docker-Distribution-API-Version", "registry/2.0");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"" + base_url() +
                                                   "/v2/auth\",service=\"" + hostname + "\"");
    return r;
  }
};

// ------------------------------------------------------------------------------------------

FakeQuay::FakeQuay(const TestPki& pki, FakeQuayOptions options)
    : LoopbackHttpsServer(pki, server_options(options)),
      impl_(std::make_unique<Impl>(std::move(options), base_url())) {
  start([this](const RecordedRequest& request) { return impl_->respond(request); });
}

// Serving stops before the Quay state the responder reads goes.
FakeQuay::~FakeQuay() {
  stop();
}

std::string FakeQuay::issuer_url() const {
  return impl_->issuer_url();
}
std::string FakeQuay::server_hostname() const {
  return impl_->hostname;
}

const RsaSigner& FakeQuay::issuer_signer() const {
  return impl_->issuer_key;
}
void FakeQuay::allow_push(const std::string& robot) {
  const std::lock_guard lock(impl_->mu);
  impl_->pushers.insert(robot);
}

std::string FakeQuay::registry_service() const {
  return impl_->hostname;
}

std::string FakeQuay::registry_token_issuer() const {
  return impl_->hostname;
}

std::string FakeQuay::registry_token_certificate_pem() const {
  return impl_->instance_key.self_signed_certificate_pem("qcp fake quay instance key");
}

const RsaSigner& FakeQuay::instance_signer() const {
  return impl_->instance_key;
}

std::string FakeQuay::mint_service_account_token(const std::string& ns,
                                                 const std::string& service_account,
                                                 const std::string& audience,
                                                 std::chrono::seconds lifetime) const {
  ServiceAccountTokenSpec spec;
  spec.issuer = issuer_url();
  spec.ns = ns;
  spec.service_account = service_account;
  spec.audiences = {audience};
  spec.lifetime = lifetime;
  spec.issued_at = std::chrono::system_clock::now() + impl_->options.clock_offset;
  return qcp::test::mint_service_account_token(impl_->issuer_key, spec);
}

void FakeQuay::add_issuer(const std::string& url, const RsaSigner& signer) {
  const std::lock_guard lock(impl_->mu);
  auto& keys = impl_->issuers[url];
  const auto same = std::find_if(keys.begin(), keys.end(),
                                 [&](const RsaSigner& k) { return k.kid() == signer.kid(); });
  if (same != keys.end()) {
    *same = signer;
  } else {
    keys.push_back(signer);
  }
}

void FakeQuay::add_robot(const std::string& name, std::vector<FederationBinding> bindings) {
  const std::lock_guard lock(impl_->mu);
  impl_->robots[name] = Impl::Robot{std::move(bindings)};
}

void FakeQuay::remove_robot(const std::string& name) {
  const std::lock_guard lock(impl_->mu);
  impl_->robots.erase(name);
}

void FakeQuay::script(std::vector<Reply> replies) {
  const std::lock_guard lock(impl_->mu);
  for (Reply& r : replies) {
    impl_->scripted.push_back(std::move(r));
  }
}

void FakeQuay::push_reply(Reply reply) {
  const std::lock_guard lock(impl_->mu);
  impl_->scripted.push_back(std::move(reply));
}

std::size_t FakeQuay::pending_replies() const {
  const std::lock_guard lock(impl_->mu);
  return impl_->scripted.size();
}

}  // namespace qcp::test
