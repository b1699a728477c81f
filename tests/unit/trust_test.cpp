#include "qcp/net/trust.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp {
namespace {

using test::staged_environment;
using ::testing::HasSubstr;

// What the plugin calls its CA settings, and what docker-credential-quay (no flags) calls them.
const CaSettings kFlags{.ca_file = "--ca-file", .ca_dir = "--ca-dir"};
const CaSettings kVariables{.ca_file = "QUAY_CREDENTIAL_PROVIDER_CA_FILE",
                            .ca_dir = "QUAY_CREDENTIAL_PROVIDER_CA_DIR"};

TEST(DiscoverTrust, FlagsComeFirst) {
  const auto env =
      staged_environment({"/x/ca.pem", "/etc/ssl/certs/ca-certificates.crt"}, {"/x/certs"},
                         {{"SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"}});
  const auto trust = discover_trust({"/x/ca.pem", "/x/certs"}, env, kFlags);
  EXPECT_EQ(trust.ca_file, "/x/ca.pem");
  EXPECT_EQ(trust.ca_dir, "/x/certs");
  EXPECT_EQ(trust.source, "--ca-file /x/ca.pem and --ca-dir /x/certs");
}

TEST(DiscoverTrust, SslCertFileBeatsTheDistributionBundles) {
  const auto env = staged_environment({"/custom.pem", "/etc/ssl/certs/ca-certificates.crt"}, {},
                                      {{"SSL_CERT_FILE", "/custom.pem"}});
  EXPECT_EQ(discover_trust({"", ""}, env, kFlags).ca_file, "/custom.pem");
  const auto dir_env = staged_environment({}, {"/certs"}, {{"SSL_CERT_DIR", "/certs:/other"}});
  EXPECT_EQ(discover_trust({"", ""}, dir_env, kFlags).ca_dir, "/certs");
}

TEST(DiscoverTrust, ProbesDistributionBundlesInOrder) {
  EXPECT_EQ(
      discover_trust({"", ""},
                     staged_environment({"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"}),
                     kFlags)
          .ca_file,
      "/etc/pki/tls/certs/ca-bundle.crt");
  EXPECT_EQ(discover_trust({"", ""}, staged_environment({"/etc/ssl/cert.pem"}), kFlags).ca_file,
            "/etc/ssl/cert.pem");
  EXPECT_EQ(discover_trust(
                {"", ""}, staged_environment({"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"}),
                kFlags)
                .ca_file,
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem");
  const auto dir_only =
      discover_trust({"", ""}, staged_environment({}, {"/etc/pki/tls/certs"}), kFlags);
  EXPECT_EQ(dir_only.ca_dir, "/etc/pki/tls/certs");
  EXPECT_TRUE(dir_only.ca_file.empty());
}

TEST(DiscoverTrust, NamedButMissingPathsAreErrorsNotFallThroughs) {
  const auto env = staged_environment({"/etc/ssl/certs/ca-certificates.crt"}, {},
                                      {{"SSL_CERT_FILE", "/gone.pem"}});
  try {
    static_cast<void>(discover_trust({"", ""}, env, kFlags));
    FAIL();
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kUsage);
    EXPECT_THAT(failure.what(), HasSubstr("SSL_CERT_FILE names /gone.pem"));
  }
  EXPECT_THROW(static_cast<void>(discover_trust({"/gone.pem", ""}, env, kFlags)), Failure);
  EXPECT_THROW(static_cast<void>(discover_trust({"", "/gone"}, env, kFlags)), Failure);
}

TEST(DiscoverTrust, NothingFoundSaysWhatToDo) {
  try {
    static_cast<void>(discover_trust({"", ""}, staged_environment({}, {}), kFlags));
    FAIL();
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("pass --ca-file or set SSL_CERT_FILE"));
  }
}

// Issue 20: net/ named the plugin's flags whatever the mode, so docker-credential-quay told its
// users to pass a flag it does not take.
TEST(DiscoverTrust, MessagesCallTheSettingsWhatTheModeCallsThem) {
  const auto env = staged_environment({"/x/ca.pem"}, {});
  EXPECT_EQ(discover_trust({"/x/ca.pem", ""}, env, kVariables).source,
            "QUAY_CREDENTIAL_PROVIDER_CA_FILE /x/ca.pem");
  try {
    static_cast<void>(discover_trust({"", "/gone"}, env, kVariables));
    FAIL();
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("QUAY_CREDENTIAL_PROVIDER_CA_DIR names /gone"));
  }
  try {
    static_cast<void>(discover_trust({"", ""}, staged_environment({}, {}), kVariables));
    FAIL();
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("set QUAY_CREDENTIAL_PROVIDER_CA_FILE or SSL_CERT_FILE"));
    EXPECT_THAT(failure.what(), ::testing::Not(HasSubstr("--ca-file")));
  }
}

}  // namespace
}  // namespace qcp
