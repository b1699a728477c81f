// Tests of the fake itself, over real HTTPS with libcurl: the federation contract (reference
// §3/§4/§7), discovery/JWKS, /v2/auth, fault injection, TLS trust, IPv6, shutdown, and the
// fake-quay executable.

#include "fake_quay.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "jwt.hpp"
#include "pki.hpp"

extern char** environ;  // NOLINT

namespace qcp::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kRobot = "team+puller";
constexpr const char* kSubject = "system:serviceaccount:demo:puller";
constexpr std::string_view kFederation = "/oauth2/federation/robot/token";

// ---------------------------------------------------------------------------------------------
// A small libcurl client.

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
  CurlGlobal(CurlGlobal&&) = delete;
  CurlGlobal& operator=(CurlGlobal&&) = delete;
};
const CurlGlobal curl_global;  // NOLINT(cert-err58-cpp)

struct Http {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  HeaderList headers;
  std::string error;

  [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
    RecordedRequest r;
    r.headers = headers;
    return r.header(name);
  }
  [[nodiscard]] json body_json() const { return json::parse(body, nullptr, false); }
};

struct Call {
  std::string url;
  std::string ca_pem;
  std::optional<std::string> authorization;  // the whole header value
  std::string method = "GET";
  std::optional<std::string> body;
  long timeout_ms = 10'000;
  std::size_t max_body = std::size_t{1} << 20;
};

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

CurlPtr new_handle() {
  return {curl_easy_init(), &curl_easy_cleanup};
}

struct Sink {
  std::string* body;
  std::size_t max;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->body->size() + size * n > sink->max) {
    return 0;  // abort: too large
  }
  sink->body->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<HeaderList*>(user);
  std::string line(data, size * n);
  const std::size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
      value.pop_back();
    }
    while (!value.empty() && value.front() == ' ') {
      value.erase(0, 1);
    }
    headers->emplace_back(line.substr(0, colon), value);
  }
  return size * n;
}

Http perform(const Call& call, CURL* reuse = nullptr) {
  CurlPtr owned(nullptr, &curl_easy_cleanup);
  CURL* h = reuse;
  if (h == nullptr) {
    owned = new_handle();
    h = owned.get();
  }
  Http out;
  std::array<char, CURL_ERROR_SIZE> err{};
  Sink sink{&out.body, call.max_body};
  curl_blob ca{const_cast<char*>(call.ca_pem.data()), call.ca_pem.size(), CURL_BLOB_COPY};
  curl_slist* headers = nullptr;
  if (call.authorization) {
    headers = curl_slist_append(headers, ("Authorization: " + *call.authorization).c_str());
  }
  curl_easy_setopt(h, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(h, CURLOPT_CAINFO, nullptr);
  curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, call.timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &out.headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err.data());
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_NOBODY, call.method == "HEAD" ? 1L : 0L);
  if (call.body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body->c_str());
  }
  if (call.method != "GET" && call.method != "HEAD") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, nullptr);
    if (!call.body) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, call.method == "GET" ? 1L : 0L);
    }
  }
  out.code = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
  out.error = err.data();
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  return out;
}

std::string basic(std::string_view user, std::string_view password) {
  return "Basic " + base64_encode(std::string(user) + ":" + std::string(password));
}

std::int64_t now_s() {
  return unix_seconds(std::chrono::system_clock::now());
}

// ---------------------------------------------------------------------------------------------

class FakeQuayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = std::make_unique<TestPki>();
    issuer_key_ = std::make_unique<RsaSigner>();
    instance_key_ = std::make_unique<RsaSigner>();
  }
  static void TearDownTestSuite() {
    pki_.reset();
    issuer_key_.reset();
    instance_key_.reset();
  }

  void SetUp() override { start(FakeQuayOptions{}); }

  void start(FakeQuayOptions options) {
    quay_.reset();
    options.issuer_key = *issuer_key_;
    options.instance_key = *instance_key_;
    quay_ = std::make_unique<FakeQuay>(*pki_, std::move(options));
    quay_->add_robot(kRobot, {{quay_->issuer_url(), kSubject}});
  }

  [[nodiscard]] Call federation(std::optional<std::string> authorization) const {
    Call c;
    c.url = quay_->base_url() + std::string(kFederation);
    c.ca_pem = pki_->ca_pem();
    c.authorization = std::move(authorization);
    return c;
  }

  [[nodiscard]] Http exchange(std::string_view user, std::string_view password) const {
    return perform(federation(basic(user, password)));
  }

  [[nodiscard]] std::string sa_token() const {
    return quay_->mint_service_account_token("demo", "puller");
  }

  // SA-like claims from the fake's issuer, to be edited by a test.
  [[nodiscard]] json claims() const {
    ServiceAccountTokenSpec spec;
    spec.issuer = quay_->issuer_url();
    spec.ns = "demo";
    spec.service_account = "puller";
    return service_account_claims(spec);
  }

  static void expect_message(const Http& r, long status, const std::string& message) {
    EXPECT_EQ(r.code, CURLE_OK) << r.error;
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(r.body_json(), (json{{"message", message}})) << r.body;
  }
  static void expect_error(const Http& r, const std::string& error) {
    EXPECT_EQ(r.code, CURLE_OK) << r.error;
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(r.body_json(), (json{{"error", error}})) << r.body;
  }

  static std::unique_ptr<TestPki> pki_;
  static std::unique_ptr<RsaSigner> issuer_key_;
  static std::unique_ptr<RsaSigner> instance_key_;
  std::unique_ptr<FakeQuay> quay_;
};

std::unique_ptr<TestPki> FakeQuayTest::pki_;
std::unique_ptr<RsaSigner> FakeQuayTest::issuer_key_;
std::unique_ptr<RsaSigner> FakeQuayTest::instance_key_;

// --- success --------------------------------------------------------------------------------

TEST_F(FakeQuayTest, ExchangeReturnsQuaySignedRobotToken) {
  const std::string sa = sa_token();
  const std::int64_t before = now_s();
  const Http r = exchange(kRobot, sa);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
  const json body = r.body_json();
  ASSERT_TRUE(body.is_object());
  ASSERT_EQ(body.size(), 1U) << "only `token`, no expires_in/token_type";
  const std::string token = body.at("token").get<std::string>();

  const auto jwt = decode_jwt_unverified(token);
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->header, (json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", instance_key_->kid()}}));
  const auto claims = RsaSigner::verify(token, quay_->instance_signer());
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->at("iss"), "quay");
  EXPECT_EQ(claims->at("aud"), quay_->host());
  EXPECT_EQ(claims->at("sub"), kRobot);
  const auto iat = claims->at("iat").get<std::int64_t>();
  EXPECT_GE(iat, before - 1);
  EXPECT_LE(iat, now_s() + 1);
  EXPECT_EQ(claims->at("nbf"), iat);
  EXPECT_EQ(claims->at("exp").get<std::int64_t>(), iat + 3600);
  EXPECT_EQ(claims->at("access"), json::object());
  EXPECT_EQ(claims->at("context"), (json{{"version", 2},
                                         {"entity_kind", "robot"},
                                         {"entity_reference", kRobot},
                                         {"kind", "user"},
                                         {"user", kRobot},
                                         {"com.apostille.roots", nullptr},
                                         {"com.apostille.root", "$disabled"}}));

  const auto requests = quay_->requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, kFederation);
  EXPECT_EQ(requests[0].status, 200);
  EXPECT_EQ(requests[0].basic_user, kRobot);
  EXPECT_EQ(requests[0].basic_password, sa);
  EXPECT_EQ(requests[0].peer.rfind("127.0.0.1:", 0), 0U) << requests[0].peer;
  EXPECT_TRUE(requests[0].header("authorization").has_value());
  EXPECT_EQ(quay_->handshakes_completed(), 1U);
}

TEST_F(FakeQuayTest, OptionsChangeLifetimeAndAudience) {
  FakeQuayOptions options;
  options.token_lifetime = seconds{120};
  options.server_hostname = "quay.test:8443";
  start(options);
  const Http r = exchange(kRobot, sa_token());
  ASSERT_EQ(r.status, 200) << r.body;
  const auto claims =
      RsaSigner::verify(r.body_json().at("token").get<std::string>(), quay_->instance_signer());
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->at("aud"), "quay.test:8443");
  EXPECT_EQ(claims->at("exp").get<std::int64_t>() - claims->at("iat").get<std::int64_t>(), 120);
}

TEST_F(FakeQuayTest, ScopeQueryIsIgnored) {
  Call c = federation(basic(kRobot, sa_token()));
  c.url += "?scope=repo:read";
  EXPECT_EQ(perform(c).status, 200);
  EXPECT_EQ(quay_->requests().at(0).query, "scope=repo:read");
}

TEST_F(FakeQuayTest, HeadAnswersLikeGetWithoutBody) {
  Call c = federation(basic(kRobot, sa_token()));
  c.method = "HEAD";
  const Http r = perform(c);
  EXPECT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_NE(std::stoul(r.header("Content-Length").value_or("0")), 0U);
}

TEST_F(FakeQuayTest, TokensFromOtherRegisteredIssuersAreAccepted) {
  const RsaSigner kube;
  const std::string iss = "https://kubernetes.default.svc.cluster.local";
  quay_->add_issuer(iss, kube);
  quay_->add_robot("team+other", {{iss, "system:serviceaccount:apps:builder"}});
  ServiceAccountTokenSpec spec;
  spec.issuer = iss;
  spec.ns = "apps";
  spec.service_account = "builder";
  EXPECT_EQ(exchange("team+other", mint_service_account_token(kube, spec)).status, 200);
}

TEST_F(FakeQuayTest, ExpiryWithinLeewayIsAccepted) {
  json c = claims();
  c["exp"] = now_s() - 10;
  EXPECT_EQ(exchange(kRobot, issuer_key_->sign(c)).status, 200);
}

TEST_F(FakeQuayTest, NbfIsNeverChecked) {
  json c = claims();
  c["nbf"] = now_s() + 600;
  EXPECT_EQ(exchange(kRobot, issuer_key_->sign(c)).status, 200);
}

// --- 401 rows -------------------------------------------------------------------------------

TEST_F(FakeQuayTest, NoAuthHeader) {
  expect_error(perform(federation(std::nullopt)), "No auth header");
}

TEST_F(FakeQuayTest, BearerIsNotBasic) {
  expect_error(perform(federation("Bearer " + sa_token())), "Invalid basic auth header");
}

TEST_F(FakeQuayTest, BasicWithoutCredentials) {
  expect_error(perform(federation("Basic")), "Invalid basic auth header");
}

TEST_F(FakeQuayTest, SchemeIsCaseInsensitive) {
  const std::string value = basic(kRobot, sa_token()).substr(6);
  EXPECT_EQ(perform(federation("bAsIc " + value)).status, 200);
}

TEST_F(FakeQuayTest, Base64ThatDoesNotDecode) {
  expect_error(perform(federation("Basic abc")), "Could not parse basic auth header");
}

TEST_F(FakeQuayTest, CredentialsThatAreNotUtf8) {
  expect_error(perform(federation("Basic " + base64_encode("team+\xff\xfe:x"))),
               "Could not parse basic auth header");
}

TEST_F(FakeQuayTest, CredentialsWithoutColon) {
  expect_error(perform(federation("Basic " + base64_encode(kRobot))),
               "Unexpected number of credentials found in basic auth header");
}

TEST_F(FakeQuayTest, UsernameWithoutPlus) {
  expect_error(exchange("teampuller", sa_token()), "Invalid robot");
}

// --- 400 / 500 rows --------------------------------------------------------------------------

TEST_F(FakeQuayTest, UnknownRobot) {
  expect_message(exchange("team+nobody", sa_token()), 400,
                 "Could not find robot with specified username");
}

TEST_F(FakeQuayTest, NonAsciiRobotName) {
  quay_->add_robot(
      "t\xc3\xa9"
      "am+puller",
      {{quay_->issuer_url(), kSubject}});
  expect_message(exchange("t\xc3\xa9"
                          "am+puller",
                          sa_token()),
                 400, "Could not find robot with specified username");
}

TEST_F(FakeQuayTest, PasswordThatIsNotAJwtIs500Html) {
  const Http r = exchange(kRobot, "ROBOTSTATICTOKEN0123456789");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<title>500 Internal Server Error</title>"), std::string::npos);
}

TEST_F(FakeQuayTest, TokenWithoutIssuer) {
  json c = claims();
  c.erase("iss");
  expect_message(exchange(kRobot, issuer_key_->sign(c)), 400, "Token does not contain issuer");
}

TEST_F(FakeQuayTest, RobotWithoutBindings) {
  quay_->add_robot("team+plain", {});
  expect_message(exchange("team+plain", sa_token()), 400,
                 "Robot does not have federated login configured");
}

TEST_F(FakeQuayTest, IssuerNotBound) {
  json c = claims();
  c["iss"] = "https://elsewhere.example";
  expect_message(exchange(kRobot, issuer_key_->sign(c)), 400,
                 "issuer https://elsewhere.example not configured for this robot");
}

TEST_F(FakeQuayTest, IssuerMatchIsExactNoTrailingSlash) {
  json c = claims();
  c["iss"] = quay_->issuer_url() + "/";
  expect_message(exchange(kRobot, issuer_key_->sign(c)), 400,
                 "issuer " + quay_->issuer_url() + "/ not configured for this robot");
}

TEST_F(FakeQuayTest, BoundIssuerThatIsUnreachableIs500) {
  const std::string iss = "https://unreachable.example";
  quay_->add_robot("team+lost", {{iss, kSubject}});
  json c = claims();
  c["iss"] = iss;
  EXPECT_EQ(exchange("team+lost", issuer_key_->sign(c)).status, 500);
}

TEST_F(FakeQuayTest, MissingKid) {
  expect_message(exchange(kRobot, issuer_key_->sign({{"kid", nullptr}}, claims())), 400,
                 "Invalid token: Missing `kid` header");
}

TEST_F(FakeQuayTest, MissingKidIsCheckedBeforeDiscovery) {
  // Quay looks at the header before fetching discovery: even an unreachable issuer gets the 400.
  const std::string iss = "https://unreachable.example";
  quay_->add_robot("team+lost", {{iss, kSubject}});
  json c = claims();
  c["iss"] = iss;
  expect_message(exchange("team+lost", issuer_key_->sign({{"kid", nullptr}}, c)), 400,
                 "Invalid token: Missing `kid` header");
}

TEST_F(FakeQuayTest, Rs384IsAcceptedAndEcKeysAre500) {
  EXPECT_EQ(exchange(kRobot, issuer_key_->sign({{"alg", "RS384"}}, claims())).status, 200);
  const Http ec = exchange(kRobot, issuer_key_->sign({{"alg", "ES256"}}, claims()));
  EXPECT_EQ(ec.status, 500);
  EXPECT_NE(ec.body.find("<title>500 Internal Server Error</title>"), std::string::npos);
}

TEST_F(FakeQuayTest, UnknownKidIs500) {
  const RsaSigner stranger;
  EXPECT_EQ(exchange(kRobot, stranger.sign(claims())).status, 500);
}

TEST_F(FakeQuayTest, WrongKeyWithKnownKid) {
  const RsaSigner impostor(issuer_key_->kid());
  expect_message(exchange(kRobot, impostor.sign(claims())), 400,
                 "Invalid token: Signature verification failed");
}

TEST_F(FakeQuayTest, TamperedPayload) {
  const std::string token = sa_token();
  json c = decode_jwt_unverified(token)->payload;
  c["sub"] = "system:serviceaccount:demo:other";
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.find('.', dot1 + 1);
  const std::string forged =
      token.substr(0, dot1 + 1) + base64url_encode(c.dump()) + token.substr(dot2);
  expect_message(exchange(kRobot, forged), 400, "Invalid token: Signature verification failed");
}

TEST_F(FakeQuayTest, DisallowedAlg) {
  expect_message(exchange(kRobot, issuer_key_->sign({{"alg", "HS256"}}, claims())), 400,
                 "Invalid token: The specified alg value is not allowed");
}

TEST_F(FakeQuayTest, ExpiredBeyondLeeway) {
  json c = claims();
  c["iat"] = now_s() - 4000;
  c["exp"] = now_s() - 31;
  expect_message(exchange(kRobot, issuer_key_->sign(c)), 400,
                 "Invalid token: Signature has expired");
}

TEST_F(FakeQuayTest, IssuedInTheFuture) {
  json c = claims();
  c["iat"] = now_s() + 120;
  expect_message(exchange(kRobot, issuer_key_->sign(c)), 400,
                 "Invalid token: Issued At claim (iat) cannot be in the future.");
}

TEST_F(FakeQuayTest, MissingExp) {
  json c = claims();
  c.erase("exp");
  expect_message(exchange(kRobot, issuer_key_->sign(c)), 400,
                 "Invalid token: Token is missing the \"exp\" claim");
}

TEST_F(FakeQuayTest, SubjectNotBound) {
  expect_message(exchange(kRobot, quay_->mint_service_account_token("demo", "intruder")), 400,
                 "Token does not match robot");
}

TEST_F(FakeQuayTest, Quay318ChecksStoredAudiencesBeforeTheSubjectAndNeverNbf) {
  FakeQuayOptions options;
  options.quay_3_18 = true;
  start(options);
  quay_->add_robot(kRobot, {{quay_->issuer_url(), kSubject, {"quay"}}});
  quay_->add_robot("team+open", {{quay_->issuer_url(), kSubject}});

  json c = claims();
  c["nbf"] = now_s() + 600;
  EXPECT_EQ(exchange(kRobot, issuer_key_->sign(c)).status, 200);
  expect_message(exchange(kRobot, quay_->mint_service_account_token("demo", "puller", "other")),
                 400, "Invalid token: Audience doesn't match");
  // Before the subject: a wrong audience and a wrong subject give the audience message.
  expect_message(exchange(kRobot, quay_->mint_service_account_token("demo", "intruder", "other")),
                 400, "Invalid token: Audience doesn't match");
  // A binding without audiences (all the API can store) checks none.
  EXPECT_EQ(
      exchange("team+open", quay_->mint_service_account_token("demo", "puller", "other")).status,
      200);
  EXPECT_EQ(exchange(kRobot, sa_token()).status, 200);
}

TEST_F(FakeQuayTest, ValidationOrderRobotBeforeToken) {
  // An unknown robot wins over a broken token; a missing '+' wins over an unknown robot.
  expect_message(exchange("team+nobody", "not-a-jwt"), 400,
                 "Could not find robot with specified username");
  expect_error(exchange("nobody", "not-a-jwt"), "Invalid robot");
}

// --- methods and other routes ------------------------------------------------------------------

TEST_F(FakeQuayTest, PostIs405Html) {
  Call c = federation(basic(kRobot, sa_token()));
  c.method = "POST";
  c.body = "grant_type=whatever";
  const Http r = perform(c);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("Allow").value_or(""), "GET, HEAD, OPTIONS");
  EXPECT_NE(r.body.find("405 Method Not Allowed"), std::string::npos);
  const auto requests = quay_->requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].body_bytes, 19U);
  EXPECT_EQ(requests[0].body, "grant_type=whatever");  // recorded: the fake API server reads it
}

TEST_F(FakeQuayTest, OptionsListsMethods) {
  Call c = federation(std::nullopt);
  c.method = "OPTIONS";
  const Http r = perform(c);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Allow").value_or(""), "GET, HEAD, OPTIONS");
}

TEST_F(FakeQuayTest, UnknownPathIs404) {
  Call c = federation(std::nullopt);
  c.url = quay_->base_url() + "/api/v1/discovery";
  EXPECT_EQ(perform(c).status, 404);
}

TEST_F(FakeQuayTest, ServesDiscoveryAndJwks) {
  Call c = federation(std::nullopt);
  c.url = quay_->issuer_url() + "/.well-known/openid-configuration";
  const Http discovery = perform(c);
  ASSERT_EQ(discovery.status, 200);
  const json doc = discovery.body_json();
  EXPECT_EQ(doc.at("issuer"), quay_->issuer_url());
  ASSERT_EQ(doc.at("jwks_uri"), quay_->issuer_url() + "/keys");

  c.url = doc.at("jwks_uri").get<std::string>();
  const Http keys = perform(c);
  ASSERT_EQ(keys.status, 200);
  const json jwks = keys.body_json();
  ASSERT_EQ(jwks.at("keys").size(), 1U);
  const json& jwk = jwks["keys"][0];
  EXPECT_EQ(jwk.at("kty"), "RSA");
  EXPECT_EQ(jwk.at("alg"), "RS256");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwk.at("kid"), quay_->issuer_signer().kid());

  // What the real Quay does: verify the SA token with the key from the JWKS.
  const std::string token = sa_token();
  const auto claims_checked = RsaSigner::verify(token, jwk);
  ASSERT_TRUE(claims_checked);
  EXPECT_EQ(claims_checked->at("iss"), quay_->issuer_url());
  EXPECT_EQ(claims_checked->at("sub"), kSubject);
  EXPECT_EQ(claims_checked->at("aud"), json::array({"quay"}));
  EXPECT_EQ(claims_checked->at("kubernetes.io").at("namespace"), "demo");
  EXPECT_EQ(claims_checked->at("kubernetes.io").at("serviceaccount").at("name"), "puller");
  EXPECT_TRUE(claims_checked->at("kubernetes.io").at("pod").contains("uid"));
  EXPECT_EQ(decode_jwt_unverified(token)->header,
            (json{{"alg", "RS256"}, {"kid", quay_->issuer_signer().kid()}}));
}

// --- /v2/auth ------------------------------------------------------------------------------------

TEST_F(FakeQuayTest, RegistryAcceptsIssuedTokenAndRejectsTamperedOne) {
  quay_->add_robot("team+pusher", {{quay_->issuer_url(), "system:serviceaccount:demo:pusher"}});
  const std::string token = exchange(kRobot, sa_token()).body_json().at("token").get<std::string>();
  Call c = federation(basic(kRobot, token));
  c.url =
      quay_->base_url() + "/v2/auth?service=" + quay_->host() + "&scope=repository:team/app:pull";
  const Http ok = perform(c);
  ASSERT_EQ(ok.status, 200) << ok.body;
  const std::string registry_token = ok.body_json().at("token").get<std::string>();
  EXPECT_FALSE(registry_token.empty());

  // The registry token opens /v2/.
  Call v2 = federation("Bearer " + registry_token);
  v2.url = quay_->base_url() + "/v2/";
  EXPECT_EQ(perform(v2).status, 200);
  v2.authorization.reset();
  const Http challenge = perform(v2);
  EXPECT_EQ(challenge.status, 401);
  EXPECT_EQ(challenge.header("WWW-Authenticate").value_or(""),
            "Bearer realm=\"" + quay_->base_url() + "/v2/auth\",service=\"" + quay_->host() + "\"");

  // Tampered signature (not the last character: its low bits are padding).
  std::string tampered = token;
  char& victim = tampered[tampered.size() - 10];
  victim = victim == 'A' ? 'B' : 'A';
  c.authorization = basic(kRobot, tampered);
  EXPECT_EQ(perform(c).status, 401);
  // Right token, other robot.
  c.authorization = basic("team+pusher", token);
  const Http other = perform(c);
  EXPECT_EQ(other.status, 401);
  EXPECT_NE(other.body.find("Token does not match robot"), std::string::npos) << other.body;
  // Another organisation's repository.
  c.authorization = basic(kRobot, token);
  c.url = quay_->base_url() + "/v2/auth?scope=repository:other/app:pull";
  EXPECT_EQ(perform(c).status, 403);
  // No credentials.
  c.authorization.reset();
  EXPECT_EQ(perform(c).status, 401);
}

TEST_F(FakeQuayTest, RegistryRejectsTokenForAnotherAudience) {
  const RsaSigner& key = quay_->instance_signer();
  const std::int64_t t = now_s();
  const std::string token = key.sign({{"iss", "quay"},
                                      {"aud", "quay.example.com"},
                                      {"sub", kRobot},
                                      {"nbf", t},
                                      {"iat", t},
                                      {"exp", t + 3600}});
  Call c = federation(basic(kRobot, token));
  c.url = quay_->base_url() + "/v2/auth?scope=repository:team/app:pull";
  const Http r = perform(c);
  EXPECT_EQ(r.status, 500);  // observed: an unmapped exception, not 401
  EXPECT_NE(r.body.find("<title>500 Internal Server Error</title>"), std::string::npos) << r.body;
}

TEST_F(FakeQuayTest, RegistryAnswers500ForExpiredOrOverlongRobotTokens) {
  const RsaSigner& key = quay_->instance_signer();
  const std::int64_t t = now_s();
  const auto robot_token = [&](std::int64_t iat, std::int64_t exp) {
    return key.sign({{"iss", "quay"},
                     {"aud", quay_->server_hostname()},
                     {"sub", kRobot},
                     {"nbf", iat},
                     {"iat", iat},
                     {"exp", exp}});
  };
  for (const auto& token : {robot_token(t - 3700, t - 100), robot_token(t, t + 3661)}) {
    Call c = federation(basic(kRobot, token));
    c.url = quay_->base_url() + "/v2/auth?scope=repository:team/app:pull";
    EXPECT_EQ(perform(c).status, 500);
  }
  Call fresh = federation(basic(kRobot, robot_token(t, t + 3600)));
  fresh.url = quay_->base_url() + "/v2/auth?scope=repository:team/app:pull";
  EXPECT_EQ(perform(fresh).status, 200);
}

// --- fault injection ----------------------------------------------------------------------------

TEST_F(FakeQuayTest, ScriptedRepliesComeFirstThenDefaultLogic) {
  quay_->script({Reply::json(503, {{"message", "busy"}}, {{"Retry-After", "2"}}),
                 Reply::html(502, "<html>bad gateway</html>")});
  EXPECT_EQ(quay_->pending_replies(), 2U);

  // Other paths do not consume scripted replies.
  Call other = federation(std::nullopt);
  other.url = quay_->issuer_url() + "/keys";
  EXPECT_EQ(perform(other).status, 200);
  EXPECT_EQ(quay_->pending_replies(), 2U);

  const Http first = exchange(kRobot, sa_token());
  EXPECT_EQ(first.status, 503);
  EXPECT_EQ(first.header("Retry-After").value_or(""), "2");
  EXPECT_EQ(first.body_json(), (json{{"message", "busy"}}));
  EXPECT_EQ(exchange(kRobot, sa_token()).status, 502);
  EXPECT_EQ(exchange(kRobot, sa_token()).status, 200);
  EXPECT_EQ(quay_->pending_replies(), 0U);
}

TEST_F(FakeQuayTest, RedirectIsNotFollowedByDefault) {
  Reply redirect = Reply::text(302, "moved\n", {{"Location", "http://127.0.0.1:1/steal"}});
  quay_->push_reply(redirect);
  const Http r = exchange(kRobot, sa_token());
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.header("Location").value_or(""), "http://127.0.0.1:1/steal");
  EXPECT_EQ(quay_->request_count(), 1U);
}

TEST_F(FakeQuayTest, HandlerSeesEveryRequestAndMayFallThrough) {
  std::atomic<int> seen{0};
  quay_->set_handler([&seen](const RecordedRequest& req) -> std::optional<Reply> {
    ++seen;
    if (req.path == "/custom") {
      return Reply::json(418, {{"teapot", true}});
    }
    return std::nullopt;
  });
  Call c = federation(std::nullopt);
  c.url = quay_->base_url() + "/custom";
  EXPECT_EQ(perform(c).status, 418);
  EXPECT_EQ(exchange(kRobot, sa_token()).status, 200);
  EXPECT_EQ(seen.load(), 2);
  quay_->set_handler({});
  EXPECT_EQ(perform(c).status, 404);
}

TEST_F(FakeQuayTest, HangTimesOutTheClientAfterTheRequestArrived) {
  quay_->push_reply(Reply::hang());
  Call c = federation(basic(kRobot, sa_token()));
  c.timeout_ms = 300;
  const auto t0 = Clock::now();
  const Http r = perform(c);
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT) << r.error;
  EXPECT_LT(Clock::now() - t0, seconds{5});
  ASSERT_TRUE(quay_->wait_for_requests(1, milliseconds{2000}));
  EXPECT_EQ(quay_->requests()[0].status, 0);
}

TEST_F(FakeQuayTest, HangAfterHeadersTimesOutTheClient) {
  Reply r = Reply::json(200, {{"token", "x"}});
  r.action = Reply::Action::kHangAfterHeaders;
  quay_->push_reply(r);
  Call c = federation(basic(kRobot, sa_token()));
  c.timeout_ms = 300;
  const Http got = perform(c);
  EXPECT_EQ(got.code, CURLE_OPERATION_TIMEDOUT) << got.error;
  EXPECT_EQ(got.status, 200);
}

TEST_F(FakeQuayTest, DelayedReplyArrivesLate) {
  Reply slow = Reply::json(200, {{"token", "late"}});
  slow.delay = milliseconds{1500};
  quay_->push_reply(slow);
  Call c = federation(basic(kRobot, sa_token()));
  c.timeout_ms = 300;
  EXPECT_EQ(perform(c).code, CURLE_OPERATION_TIMEDOUT);
}

TEST_F(FakeQuayTest, ResetIsATransportError) {
  quay_->push_reply(Reply::reset());
  const Http r = exchange(kRobot, sa_token());
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_NE(r.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(r.status, 0) << r.error;
  EXPECT_EQ(quay_->request_count(), 1U);
  EXPECT_EQ(exchange(kRobot, sa_token()).status, 200) << "the server keeps serving";
}

TEST_F(FakeQuayTest, CloseWithoutResponseIsEmptyReply) {
  quay_->push_reply(Reply::close_without_response());
  const Http r = exchange(kRobot, sa_token());
  EXPECT_EQ(r.code, CURLE_GOT_NOTHING) << r.error;
  EXPECT_EQ(r.status, 0);
}

TEST_F(FakeQuayTest, HugeBodiesAreStreamedAndAbortable) {
  for (const bool with_length : {true, false}) {
    SCOPED_TRACE(with_length ? "with Content-Length" : "close-delimited");
    // Exact size arrives.
    quay_->push_reply(Reply::huge(200'000, with_length));
    const Http whole = exchange(kRobot, sa_token());
    EXPECT_EQ(whole.code, CURLE_OK) << whole.error;
    EXPECT_EQ(whole.body.size(), 200'000U);
    EXPECT_EQ(whole.header("Content-Length").has_value(), with_length);

    // 64 MiB against a 1 MiB client limit: the client aborts quickly, the server copes.
    quay_->push_reply(Reply::huge(std::size_t{64} << 20, with_length));
    const auto t0 = Clock::now();
    const Http big = exchange(kRobot, sa_token());
    EXPECT_EQ(big.code, CURLE_WRITE_ERROR) << big.error;
    EXPECT_LT(Clock::now() - t0, seconds{5});
    EXPECT_EQ(exchange(kRobot, sa_token()).status, 200);
  }
}

TEST_F(FakeQuayTest, KeepAliveReusesTheConnection) {
  const CurlPtr handle = new_handle();
  EXPECT_EQ(perform(federation(basic(kRobot, sa_token())), handle.get()).status, 200);
  EXPECT_EQ(perform(federation(basic(kRobot, sa_token())), handle.get()).status, 200);
  const auto requests = quay_->requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].connection, requests[1].connection);
  EXPECT_EQ(quay_->connections_accepted(), 1U);
}

TEST_F(FakeQuayTest, OversizedHeadersGet431) {
  Call c = federation(std::nullopt);
  c.authorization = "Basic " + std::string(std::size_t{70} * 1024, 'A');
  const Http r = perform(c);
  EXPECT_EQ(r.status, 431) << r.error;
  EXPECT_EQ(quay_->request_count(), 0U);
}

TEST_F(FakeQuayTest, WaitForRequestsTimesOut) {
  const auto t0 = Clock::now();
  EXPECT_FALSE(quay_->wait_for_requests(1, milliseconds{50}));
  EXPECT_GE(Clock::now() - t0, milliseconds{50});
}

// --- TLS
// -------------------------------------------------------------------------------------------

TEST_F(FakeQuayTest, UntrustedCaSendsNoRequest) {
  const TestPki other;
  Call c = federation(basic(kRobot, sa_token()));
  c.ca_pem = other.ca_pem();
  const Http r = perform(c);
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
  EXPECT_EQ(quay_->handshakes_attempted(), 1U);
  EXPECT_EQ(quay_->handshakes_completed(), 0U);
  EXPECT_EQ(quay_->request_count(), 0U);
}

TEST_F(FakeQuayTest, HostnameMismatchIsRejected) {
  TestPkiOptions pki_options;
  pki_options.default_sans = false;
  pki_options.extra_dns_names = {"elsewhere.test"};
  const TestPki mismatched(pki_options);
  const FakeQuay quay(mismatched);
  Call c;
  c.url = quay.base_url() + std::string(kFederation);
  c.ca_pem = mismatched.ca_pem();
  EXPECT_EQ(perform(c).code, CURLE_PEER_FAILED_VERIFICATION);
  EXPECT_EQ(quay.request_count(), 0U);
}

TEST_F(FakeQuayTest, ExpiredServerCertificateIsRejected) {
  TestPkiOptions pki_options;
  pki_options.expired_server_cert = true;
  const TestPki expired(pki_options);
  const FakeQuay quay(expired);
  Call c;
  c.url = quay.base_url() + std::string(kFederation);
  c.ca_pem = expired.ca_pem();
  const Http r = perform(c);
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
}

TEST_F(FakeQuayTest, LocalhostNameIsInTheCertificate) {
  Call c = federation(basic(kRobot, sa_token()));
  c.url = "https://localhost:" + std::to_string(quay_->port()) + std::string(kFederation);
  EXPECT_EQ(perform(c).status, 200);
}

TEST_F(FakeQuayTest, StalledHandshakeTimesOutWithoutTls) {
  quay_->set_stall_handshakes(true);
  Call c = federation(basic(kRobot, sa_token()));
  c.timeout_ms = 300;
  EXPECT_EQ(perform(c).code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(quay_->connections_accepted(), 1U);
  EXPECT_EQ(quay_->handshakes_attempted(), 0U);
}

TEST_F(FakeQuayTest, Ipv6Listener) {
  FakeQuayOptions options;
  options.ipv6 = true;
  try {
    start(options);
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  EXPECT_EQ(quay_->host(), "[::1]:" + std::to_string(quay_->port()));
  EXPECT_EQ(quay_->issuer_url(), "https://[::1]:" + std::to_string(quay_->port()) + "/issuer");
  const Http r = exchange(kRobot, sa_token());
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(quay_->requests().at(0).peer.rfind("[::1]:", 0), 0U);
  const auto claims =
      RsaSigner::verify(r.body_json().at("token").get<std::string>(), quay_->instance_signer());
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->at("aud"), quay_->host());
}

// --- shutdown ----------------------------------------------------------------------------------

TEST_F(FakeQuayTest, DestructionIsPromptWhileAConnectionHangs) {
  quay_->push_reply(Reply::hang(milliseconds{60'000}));
  Call c = federation(basic(kRobot, sa_token()));
  c.timeout_ms = 30'000;
  auto client = std::async(std::launch::async, [c] { return perform(c); });
  ASSERT_TRUE(quay_->wait_for_requests(1, milliseconds{5000}));

  const auto t0 = Clock::now();
  quay_.reset();
  EXPECT_LT(Clock::now() - t0, seconds{3});
  ASSERT_EQ(client.wait_for(seconds{10}), std::future_status::ready);
  const Http r = client.get();
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_NE(r.code, CURLE_OPERATION_TIMEDOUT) << "the client saw the close, not its own timeout";
}

TEST_F(FakeQuayTest, DestructionIsPromptWithStalledHandshakeAndIdleKeepAlive) {
  const CurlPtr handle = new_handle();
  EXPECT_EQ(perform(federation(basic(kRobot, sa_token())), handle.get()).status, 200);
  quay_->set_stall_handshakes(true);
  Call c = federation(basic(kRobot, sa_token()));
  c.timeout_ms = 30'000;
  auto client = std::async(std::launch::async, [c] { return perform(c); });
  const auto deadline = Clock::now() + seconds{5};
  while (quay_->connections_accepted() < 2 && Clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(quay_->connections_accepted(), 2U);
  const auto t0 = Clock::now();
  quay_.reset();
  EXPECT_LT(Clock::now() - t0, seconds{3});
  ASSERT_EQ(client.wait_for(seconds{10}), std::future_status::ready);
  EXPECT_NE(client.get().code, CURLE_OK);
}

// --- helpers ---------------------------------------------------------------------------------

TEST(JwtHelpers, Base64) {
  EXPECT_EQ(base64_encode("team+puller:x"), "dGVhbStwdWxsZXI6eA==");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(base64url_decode("-_8="), "\xfb\xff");
  EXPECT_FALSE(base64url_decode("+/8"));
  EXPECT_FALSE(base64url_decode("A"));
}

TEST(JwtHelpers, SignVerifyAndJwk) {
  const RsaSigner signer("key-1");
  const std::string token = signer.sign({{"typ", nullptr}, {"x", 1}}, {{"sub", "me"}});
  const auto jwt = decode_jwt_unverified(token);
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->header, (json{{"alg", "RS256"}, {"kid", "key-1"}, {"x", 1}}));
  EXPECT_EQ(RsaSigner::verify(token, signer), (json{{"sub", "me"}}));
  const json jwk = signer.jwk();
  EXPECT_EQ(jwk.at("e"), "AQAB");
  EXPECT_EQ(base64url_decode(jwk.at("n").get<std::string>())->size(), 256U);
  EXPECT_TRUE(RsaSigner::verify(token, jwk));
  EXPECT_FALSE(RsaSigner::verify(token, RsaSigner("key-1")));
  EXPECT_FALSE(RsaSigner::verify(token + "x", signer));
  EXPECT_FALSE(RsaSigner::verify(signer.sign({{"alg", "none"}}, {{"a", 1}}), signer));
  EXPECT_FALSE(decode_jwt_unverified("a.b"));
  EXPECT_EQ(RsaSigner().kid().size(), 43U);  // base64url(SHA-256)
}

TEST(TestPkiTest, CertificatesVerifyAndCarryTheRightExtensions) {
  const TestPki pki;
  using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
  using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
  const auto load = [](const std::string& pem) {
    const BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  };
  const X509Ptr ca = load(pki.ca_pem());
  const X509Ptr leaf = load(pki.server_cert_pem());
  ASSERT_TRUE(ca && leaf);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(X509_check_purpose(leaf.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "quay.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "quay.io", 0, 0, nullptr), 0);

  const std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                      &X509_STORE_free);
  X509_STORE_add_cert(store.get(), ca.get());
  const std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                            &X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));

  const TestPki extra(TestPkiOptions{{"registry.internal"}, true, false});
  const X509Ptr extra_leaf = load(extra.server_cert_pem());
  EXPECT_EQ(X509_check_host(extra_leaf.get(), "registry.internal", 0, 0, nullptr), 1);

  const auto dir =
      std::filesystem::temp_directory_path() / ("qcp-pki-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  pki.write_all(dir);
  std::ifstream in(dir / "ca.pem");
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), pki.ca_pem());
  EXPECT_TRUE(std::filesystem::exists(dir / "server-key.pem"));
  std::filesystem::remove_all(dir);
}

// --- the fake-quay executable --------------------------------------------------------------------

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FakeQuayExecutable, ServesTheDemoFlowAndNeverLogsSecrets) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("qcp-fake-quay-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string log = (dir / "stderr.log").string();
  const std::string files = (dir / "files").string();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> args = {FAKE_QUAY_EXE, "--dir",
                                   files,         "--robot",
                                   "org+bot",     "--namespace",
                                   "ns1",         "--service-account",
                                   "sa1",         "--token-lifetime",
                                   "600"};
  // A cross build's fake runs under the emulator (an emulated process cannot exec another).
  if (const std::string emulator = FAKE_QUAY_EMULATOR; !emulator.empty()) {
    args.insert(args.begin(), emulator);
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv.front(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  const auto deadline = Clock::now() + seconds{20};
  while (!std::filesystem::exists(std::filesystem::path(files) / "ready") &&
         Clock::now() < deadline) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "fake-quay exited early:\n" << read_file(log);
    std::this_thread::sleep_for(milliseconds{20});  // polling a file, bounded by the deadline
  }
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(files) / "ready")) << read_file(log);

  std::string host = read_file(std::filesystem::path(files) / "host");
  while (!host.empty() && host.back() == '\n') {
    host.pop_back();
  }
  EXPECT_EQ(host.rfind("127.0.0.1:", 0), 0U);
  const std::string sa = read_file(std::filesystem::path(files) / "sa-token");
  const auto sa_claims = decode_jwt_unverified(sa);
  ASSERT_TRUE(sa_claims);
  EXPECT_EQ(sa_claims->payload.at("sub"), "system:serviceaccount:ns1:sa1");
  EXPECT_EQ(sa_claims->payload.at("iss"), "https://" + host + "/issuer");

  Call c;
  c.url = "https://" + host + std::string(kFederation);
  c.ca_pem = read_file(std::filesystem::path(files) / "ca.pem");
  c.authorization = basic("org+bot", sa);
  const Http r = perform(c);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string token = r.body_json().at("token").get<std::string>();
  const auto claims = decode_jwt_unverified(token);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->payload.at("sub"), "org+bot");
  EXPECT_EQ(
      claims->payload.at("exp").get<std::int64_t>() - claims->payload.at("iat").get<std::int64_t>(),
      600);
  c.url = "https://" + host + "/v2/auth?service=" + host + "&scope=repository:org/app:pull";
  c.authorization = basic("org+bot", token);
  EXPECT_EQ(perform(c).status, 200);

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(files) / "ready"));

  const std::string logged = read_file(log);
  EXPECT_NE(logged.find("GET /oauth2/federation/robot/token 200"), std::string::npos) << logged;
  EXPECT_NE(logged.find("GET /v2/auth 200"), std::string::npos) << logged;
  EXPECT_EQ(logged.find(sa), std::string::npos);
  EXPECT_EQ(logged.find(token), std::string::npos);
  EXPECT_EQ(logged.find(sa.substr(sa.rfind('.'))), std::string::npos);
  EXPECT_EQ(logged.find(token.substr(token.rfind('.'))), std::string::npos);
  EXPECT_EQ(logged.find("Basic"), std::string::npos);
  EXPECT_EQ(logged.find("scope="), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace qcp::test
