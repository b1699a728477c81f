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

TEST(DiscoverTrust, FlagsComeFirst) {
  const auto env =
      staged_environment({"/x/ca.pem", "/etc/ssl/certs/ca-certificates.crt"}, {"/x/certs"},
                         {{"SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"}});
  const auto trust = discover_trust("/x/ca.pem", "/x/certs", env);
  EXPECT_EQ(trust.ca_file, "/x/ca.pem");
  EXPECT_EQ(trust.ca_dir, "/x/certs");
  EXPECT_EQ(trust.source, "--ca-file /x/ca.pem and --ca-dir /x/certs");
}

TEST(DiscoverTrust, SslCertFileBeatsTheDistributionBundles) {
  const auto env = staged_environment({"/custom.pem", "/etc/ssl/certs/ca-certificates.crt"}, {},
                                      {{"SSL_CERT_FILE", "/custom.pem"}});
  EXPECT_EQ(discover_trust("", "", env).ca_file, "/custom.pem");
  const auto dir_env = staged_environment({}, {"/certs"}, {{"SSL_CERT_DIR", "/certs:/other"}});
  EXPECT_EQ(discover_trust("", "", dir_env).ca_dir, "/certs");
}

TEST(DiscoverTrust, ProbesDistributionBundlesInOrder) {
  EXPECT_EQ(
      discover_trust("", "",
                     staged_environment({"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"}))
          .ca_file,
      "/etc/pki/tls/certs/ca-bundle.crt");
  EXPECT_EQ(discover_trust("", "", staged_environment({"/etc/ssl/cert.pem"})).ca_file,
            "/etc/ssl/cert.pem");
  EXPECT_EQ(discover_trust(
                "", "", staged_environment({"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"}))
                .ca_file,
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem");
  const auto dir_only = discover_trust("", "", staged_environment({}, {"/etc/pki/tls/certs"}));
  EXPECT_EQ(dir_only.ca_dir, "/etc/pki/tls/certs");
  EXPECT_TRUE(dir_only.ca_file.empty());
}

TEST(DiscoverTrust, NamedButMissingPathsAreErrorsNotFallThroughs) {
  const auto env = staged_environment({"/etc/ssl/certs/ca-certificates.crt"}, {},
                                      {{"SSL_CERT_FILE", "/gone.pem"}});
  try {
    static_cast<void>(discover_trust("", "", env));
    FAIL();
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kUsage);
    EXPECT_THAT(failure.what(), HasSubstr("SSL_CERT_FILE names /gone.pem"));
  }
  EXPECT_THROW(static_cast<void>(discover_trust("/gone.pem", "", env)), Failure);
  EXPECT_THROW(static_cast<void>(discover_trust("", "/gone", env)), Failure);
}

TEST(DiscoverTrust, NothingFoundSaysWhatToDo) {
  try {
    static_cast<void>(discover_trust("", "", staged_environment({}, {})));
    FAIL();
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("pass --ca-file or set SSL_CERT_FILE"));
  }
}

}  // namespace
}  // namespace qcp
