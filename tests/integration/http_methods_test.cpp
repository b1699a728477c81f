// Issue 21: the HTTP seam carries what an API client needs: methods with bodies, an inline CA
// bundle (a kubeconfig's certificate-authority-data), a streamed answer for watches, and an
// end the caller decides (a stop signal, a lost lease). Real HTTPS on loopback through libcurl.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "fake_quay.hpp"
#include "layers.hpp"
#include "qcp/net/curl_http.hpp"

namespace qcp::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class HttpMethods : public ::testing::Test {
 protected:
  HttpRequest request(std::string method, std::string path) {
    HttpRequest r;
    r.method = std::move(method);
    r.url = server_.base_url() + path;
    r.trust = TrustStore{.ca_file = "", .ca_dir = "", .ca_pem = pki_.ca_pem(), .source = "test"};
    r.total_timeout = 20s;
    return r;
  }
  // A request trusting a CA that did not sign the server fails as a certificate failure.
  void expect_refused_under_another_bundle() {
    const TestPki other;
    HttpRequest r = request("GET", "/version");
    r.trust.ca_pem = other.ca_pem();
    const auto result = http_.send(r);
    ASSERT_TRUE(std::holds_alternative<TransportError>(result));
    EXPECT_EQ(std::get<TransportError>(result).kind, TransportError::Kind::kCertificate);
  }
  void answer_with(Reply reply) {
    server_.set_handler([reply](const RecordedRequest&) { return std::optional<Reply>(reply); });
  }

  TestPki pki_;
  FakeQuay server_{pki_};
  net::CurlHttpClient http_;
};

TEST_F(HttpMethods, EachMethodSendsItsBodyAsGivenAndReadsTheAnswer) {
  answer_with(Reply::json(201, {{"kind", "Secret"}}));
  for (const std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
    server_.clear_requests();
    HttpRequest r = request(method, "/api/v1/namespaces/a/secrets");
    r.headers = {{"Content-Type", "application/merge-patch+json"}};
    r.body = std::string("{\"data\":{\"k\":\"\\u0000bin\"}}\n") + method;
    const auto result = http_.send(r);
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(result)) << method;
    EXPECT_EQ(std::get<HttpResponse>(result).status, 201);
    EXPECT_THAT(std::get<HttpResponse>(result).body, HasSubstr("Secret"));
    const auto seen = server_.requests();
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].method, method);
    EXPECT_EQ(seen[0].body, r.body);
    EXPECT_EQ(seen[0].header("Content-Type").value_or(""), "application/merge-patch+json");
    EXPECT_FALSE(seen[0].header("Expect"));  // no 100-continue round trip
  }
}

TEST_F(HttpMethods, AnInlineBundleThatDidNotSignTheServerIsACertificateFailure) {
  expect_refused_under_another_bundle();
}

TEST_F(HttpMethods, AStreamedAnswerReachesTheSinkWhole_PastTheCollectingBound) {
  constexpr std::size_t kBytes = std::size_t{3} << 20;
  answer_with(Reply::huge(kBytes, /*with_content_length=*/false));
  HttpRequest r = request("GET", "/api/v1/serviceaccounts?watch=1");
  r.max_body_bytes = 1024;
  std::size_t streamed = 0;
  r.body_sink = [&streamed](std::string_view chunk) {
    streamed += chunk.size();
    return true;
  };
  const auto result = http_.send(r);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(result));
  EXPECT_EQ(std::get<HttpResponse>(result).status, 200);
  EXPECT_TRUE(std::get<HttpResponse>(result).body.empty());
  EXPECT_EQ(streamed, kBytes);
}

TEST_F(HttpMethods, ASinkThatHasHadEnoughEndsTheRequestAsAborted) {
  answer_with(Reply::huge(std::size_t{64} << 20, false));
  HttpRequest r = request("GET", "/api/v1/serviceaccounts?watch=1");
  std::size_t streamed = 0;
  r.body_sink = [&streamed](std::string_view chunk) {
    streamed += chunk.size();
    return streamed < 100'000;
  };
  const auto result = http_.send(r);
  ASSERT_TRUE(std::holds_alternative<TransportError>(result));
  EXPECT_EQ(std::get<TransportError>(result).kind, TransportError::Kind::kAborted);
  EXPECT_LT(streamed, std::size_t{1} << 20);
}

TEST_F(HttpMethods, AnErrorAnswerToAStreamedRequestIsCollectedNotStreamed) {
  answer_with(Reply::json(403, {{"kind", "Status"}, {"code", 403}}));
  HttpRequest r = request("GET", "/api/v1/serviceaccounts?watch=1");
  bool streamed = false;
  r.body_sink = [&streamed](std::string_view) { return streamed = true; };
  const auto result = http_.send(r);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(result));
  EXPECT_EQ(std::get<HttpResponse>(result).status, 403);
  EXPECT_THAT(std::get<HttpResponse>(result).body, HasSubstr("Status"));
  EXPECT_FALSE(streamed);
}

// A watch that hears nothing still ends when the caller says so (SIGTERM, a lost lease), not
// at its own far deadline.
TEST_F(HttpMethods, KeepGoingEndsASilentRequestLongBeforeItsDeadline) {
  answer_with(Reply::hang(60s));
  HttpRequest r = request("GET", "/api/v1/serviceaccounts?watch=1");
  r.total_timeout = 120s;
  std::atomic<int> asked{0};
  r.keep_going = [&asked] { return ++asked < 3; };
  const auto started = std::chrono::steady_clock::now();
  const auto result = http_.send(r);
  ASSERT_TRUE(std::holds_alternative<TransportError>(result));
  EXPECT_EQ(std::get<TransportError>(result).kind, TransportError::Kind::kAborted);
  EXPECT_GE(asked.load(), 3);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
}

// A controller's renewal sends three requests: they share one connection (and one TLS
// handshake) when they trust the same.
TEST_F(HttpMethods, RequestsThatTrustTheSameShareAConnection) {
  answer_with(Reply::json(200, {{"kind", "Status"}}));
  for (int i = 0; i < 3; ++i) {
    const auto result = http_.send(request("GET", "/version"));
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(result));
  }
  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 3U);
  EXPECT_EQ(seen[0].connection, seen[1].connection);
  EXPECT_EQ(seen[1].connection, seen[2].connection);
}

// libcurl would reuse a connection by host and port; the CA bundle is ours, so a request that
// does not trust the server must not ride on a connection another request verified.
TEST_F(HttpMethods, AConnectionVerifiedUnderOneBundleServesNoRequestThatTrustsAnother) {
  answer_with(Reply::json(200, {{"kind", "Status"}}));
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(http_.send(request("GET", "/version"))));
  expect_refused_under_another_bundle();
  EXPECT_EQ(server_.requests().size(), 1U);
  // Nor a client certificate's connection a request without it.
  HttpRequest with_identity = request("GET", "/version");
  with_identity.client_certificate_pem = pki_.server_cert_pem();
  with_identity.client_key_pem = pki_.server_key_pem();
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(http_.send(with_identity)));
  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_NE(seen[0].connection, seen[1].connection);
}

}  // namespace
}  // namespace qcp::test
