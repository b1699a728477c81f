// TLS failures over real sockets, each named for what it is: a handshake cut off (retried like
// a reset), plain HTTP on the port, a server stuck below TLS 1.2, the proxy's own certificate, a
// certificate whose name is only in its CN.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TlsFailures : public ::testing::Test {
 protected:
  TlsFailures() : ca_file_(pki_.write_ca(dir_.path()).string()) {}

  // A lookup against `quay`, trusting this fixture's CA.
  Outcome lookup(FakeQuay& quay, std::vector<std::string> extra_args = {},
                 std::map<std::string, std::string, std::less<>> variables = {}) {
    quay.add_robot(kRobot, {{quay.issuer_url(), "system:serviceaccount:app:puller", {}}});
    std::vector<std::string> args = {"--ca-file", ca_file_, "--log-level", "debug"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    auto env = clean_environment();
    env.variables = std::move(variables);
    const std::string token = quay.mint_service_account_token("app", "puller");
    auto outcome = run_plugin(make_request(quay.host() + "/team/app", token,
                                           {{"quay.io/federated-robot-account", kRobot}}),
                              args, env);
    expect_no_leak(outcome.err, {token});
    return outcome;
  }

  TempDir dir_;
  TestPki pki_;
  std::string ca_file_;
  FakeQuay quay_{pki_};
};

TEST_F(TlsFailures, AHandshakeResetOrClosedIsRetriedLikeAReset) {
  for (const auto fault : {HandshakeFault::kReset, HandshakeFault::kClose}) {
    quay_.fail_handshakes(fault);
    const auto outcome = lookup(quay_);
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  }
  EXPECT_EQ(quay_.handshakes_attempted(), 4U);
  EXPECT_EQ(quay_.handshakes_completed(), 2U);
}

TEST_F(TlsFailures, AHandshakeCutOffEveryTimeSaysSoNotCertificate) {
  quay_.fail_handshakes(HandshakeFault::kReset, 10);
  const auto outcome = lookup(quay_, {"--retries", "2"});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err,
              HasSubstr("the TLS handshake with Quay at " + quay_.host() + " was cut off"));
  EXPECT_THAT(outcome.err, HasSubstr("(after 3 attempts)"));
  EXPECT_THAT(outcome.err, Not(HasSubstr("certificate")));
}

TEST_F(TlsFailures, PlainHttpOnThePortIsNamedAndNotRetried) {
  quay_.fail_handshakes(HandshakeFault::kPlainHttp, 10);
  const auto outcome = lookup(quay_);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("did not answer in TLS"));
  EXPECT_THAT(outcome.err, HasSubstr("is that port plain HTTP?"));
  EXPECT_THAT(outcome.err, Not(HasSubstr("certificate")));
  // OpenSSL's reason in words, also where its error strings are loaded only for a failure.
  EXPECT_THAT(outcome.err, Not(HasSubstr("::reason(")));
  EXPECT_EQ(quay_.handshakes_attempted(), 1U);
}

TEST_F(TlsFailures, AServerWithOnlyTls11IsNamedAndNotRetried) {
  FakeQuayOptions options;
  options.only_tls_1_1 = true;
  FakeQuay old_quay(pki_, options);
  const auto outcome = lookup(old_quay);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("offers no TLS 1.2 or 1.3"));
  EXPECT_THAT(outcome.err, Not(HasSubstr("certificate")));
  EXPECT_EQ(old_quay.handshakes_attempted(), 1U);
}

TEST_F(TlsFailures, TheProxysOwnCertificateIsNotCalledQuays) {
  const TestPki proxy_pki;  // a CA this node does not trust
  FakeQuay proxy(proxy_pki);
  const auto outcome = lookup(quay_, {}, {{"HTTPS_PROXY", "https://" + proxy.host()}});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, HasSubstr("TLS certificate problem with the HTTPS proxy, not Quay"));
  EXPECT_EQ(quay_.handshakes_attempted(), 0U);
}

TEST_F(TlsFailures, AProxyWithATrustedCertificateTunnelsNothingButIsVerified) {
  // The proxy's certificate is trusted and its TLS completes; it is no real proxy (it answers
  // CONNECT with 405), which proves the handshake passed verification.
  FakeQuay proxy(pki_);
  const auto outcome =
      lookup(quay_, {"--retries", "0"}, {{"HTTPS_PROXY", "https://" + proxy.host()}});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.err, Not(HasSubstr("certificate problem")));
  EXPECT_EQ(proxy.handshakes_completed(), 1U);
}

TEST_F(TlsFailures, ACertificateWithoutSubjectAltNameIsRefused) {
  TestPkiOptions options;
  options.common_name_only = true;
  const TestPki cn_only(options);
  std::filesystem::create_directory(dir_.path() / "cn-only");
  const std::string cn_ca = cn_only.write_ca(dir_.path() / "cn-only").string();
  FakeQuay quay(cn_only);
  quay.add_robot(kRobot, {{quay.issuer_url(), "system:serviceaccount:app:puller", {}}});
  auto env = clean_environment();
  const auto outcome = run_plugin(
      make_request(quay.host() + "/team/app", quay.mint_service_account_token("app", "puller"),
                   {{"quay.io/federated-robot-account", kRobot}}),
      {"--ca-file", cn_ca}, env);
  EXPECT_EQ(outcome.exit_code, 1) << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("TLS certificate problem with Quay at " + quay.host()));
  EXPECT_THAT(outcome.err, HasSubstr("no subjectAltName"));
  EXPECT_EQ(quay.request_count(), 0U);
}

}  // namespace
}  // namespace qcp::test
