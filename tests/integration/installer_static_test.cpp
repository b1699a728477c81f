// Issue 23: install --static-credentials-dir installs the same binary a second time as
// static-credential-provider, with its entry (no tokenAttributes), in one transaction; a second
// install changes nothing; uninstall takes both away, whatever happened to the config since.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host_root_fixture.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/quay/provider_needs.hpp"

namespace qcp::install {
namespace installer_static_test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kConfig = "/etc/kubernetes/credential-providers.yaml";

InstallRequest with_static(InstallRequest request) {
  request.static_provider = ProviderSettings{.name = "static-credential-provider",
                                             .match_images = {"registry.example.org"},
                                             .audience = "",
                                             .kubelet = KubeletGeneration::k1_34_or_later,
                                             .args = {"--credentials-dir", "/etc/registry-creds"},
                                             .service_account_tokens = false};
  return request;
}

TEST_F(Installer, TheStaticProviderIsInstalledBesideOursAndUninstalledWithIt) {
  const auto before = snapshot(root_);
  const auto request = with_static(this->request(kConfig));
  const auto first = install_with(request);
  EXPECT_TRUE(first.changed);
  EXPECT_EQ(read(std::string(kBinDir) + "/static-credential-provider"), request.binary);
  EXPECT_EQ(fs::status(root_ / std::string(kBinDir).substr(1) / "static-credential-provider")
                .permissions(),
            fs::perms(0755));
  const auto report = check(kConfig);
  EXPECT_TRUE(report.ok());
  EXPECT_THAT(report.provider_names,
              ::testing::ElementsAre("quay-credential-provider", "static-credential-provider"));
  const std::string config = read(kConfig);
  const std::string static_entry = config.substr(config.find("- name: static-credential-provider"));
  EXPECT_THAT(static_entry, HasSubstr("args:\n      - \"--credentials-dir\"\n"
                                      "      - \"/etc/registry-creds\"\n"));
  EXPECT_THAT(static_entry, ::testing::Not(HasSubstr("tokenAttributes")));
  EXPECT_THAT(first.report, ::testing::Contains(HasSubstr("static-credential-provider (the same "
                                                          "bytes)")));

  const auto installed = snapshot(root_, true);
  EXPECT_FALSE(install_with(request).changed);
  EXPECT_EQ(snapshot(root_, true), installed) << "a second install wrote something";

  EXPECT_TRUE(uninstall_from(kConfig).changed);
  EXPECT_EQ(snapshot(root_), before);
}

TEST_F(Installer, AnUpgradeReplacesBothBinaries) {
  auto request = with_static(this->request(kConfig));
  install_with(request);
  request.binary =
      "\x7f"
      "ELF the provider, version 2";
  EXPECT_TRUE(install_with(request).changed);
  EXPECT_EQ(read(std::string(kBinDir) + "/quay-credential-provider"), request.binary);
  EXPECT_EQ(read(std::string(kBinDir) + "/static-credential-provider"), request.binary);
}

TEST_F(Installer, OnceInstalledTheStaticProviderIsNotSilentlyDropped) {
  install_with(with_static(request(kConfig)));
  const auto installed = snapshot(root_, true);
  try {
    install_with(request(kConfig));
    ADD_FAILURE() << "an install without the static provider was carried out";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("static-credential-provider was installed with "
                                          "--static-credentials-dir"));
  }
  EXPECT_EQ(snapshot(root_, true), installed);
}

TEST_F(Installer, AConfigChangedSinceLosesBothEntriesAndOnlyThem) {
  write(kConfig, kEcrConfig);
  write(std::string(kBinDir) + "/ecr-credential-provider", "ecr", fs::perms(0755));
  install_with(with_static(request(kConfig)));
  write(kConfig, read(kConfig) + "# edited by hand\n");
  uninstall_from(kConfig);
  EXPECT_EQ(read(kConfig), std::string(kEcrConfig) + "# edited by hand\n");
  EXPECT_FALSE(fs::exists(root_ / std::string(kBinDir).substr(1) / "static-credential-provider"));
}

}  // namespace
}  // namespace installer_static_test
}  // namespace qcp::install
