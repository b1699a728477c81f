// install and uninstall on fake host roots (real directories): a generic node, a kubeadm node
// whose config already holds ECR's provider, a config directory, 1.33 and 1.34 kubelets; the
// binary and config written atomically and verified, a second install writing nothing, uninstall
// leaving the tree as it was, and every refusal or failure leaving it untouched.
#include "qcp/install/installer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host_root_fixture.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/quay/provider_needs.hpp"

namespace qcp::install {
namespace {

using ::testing::HasSubstr;

TEST_F(Installer, GenericNodeInstallsOnceChangesNothingTheSecondTimeAndUninstallsToTheSameTree) {
  const auto before = snapshot(root_);
  const auto request = this->request("/etc/kubernetes/credential-providers.yaml");
  const auto first = install_with(request);
  EXPECT_TRUE(first.changed);
  EXPECT_EQ(read(std::string(kBinDir) + "/quay-credential-provider"), request.binary);
  EXPECT_EQ(
      fs::status(root_ / "usr/local/lib/kubelet/credential-providers/quay-credential-provider")
          .permissions(),
      fs::perms(0755));
  const auto report = check("/etc/kubernetes/credential-providers.yaml");
  EXPECT_TRUE(report.ok());
  EXPECT_THAT(report.provider_names, ::testing::ElementsAre("quay-credential-provider"));
  EXPECT_THAT(first.report.front(), HasSubstr("read back and verified"));

  const auto installed = snapshot(root_, true);
  const auto second = install_with(request);
  EXPECT_FALSE(second.changed);
  EXPECT_THAT(second.report.front(), HasSubstr("nothing changed"));
  EXPECT_EQ(snapshot(root_, true), installed) << "a second install wrote something";

  EXPECT_TRUE(uninstall_from("/etc/kubernetes/credential-providers.yaml").changed);
  EXPECT_EQ(snapshot(root_), before);
  EXPECT_FALSE(uninstall_from("/etc/kubernetes/credential-providers.yaml").changed);
}

TEST_F(Installer, AnotherProvidersEntryAndBinarySurviveInstallAndUninstall) {
  write("/etc/kubernetes/credential-provider-config.yaml", kEcrConfig, fs::perms(0600));
  write(std::string(kBinDir) + "/ecr-credential-provider", "ecr", fs::perms(0755));
  const auto before = snapshot(root_);
  // ECR's entry uses no tokens: the kubelet's version cannot be read off the file.
  EXPECT_THROW(
      install_with(request("/etc/kubernetes/credential-provider-config.yaml", std::nullopt)),
      Failure);
  EXPECT_EQ(snapshot(root_), before);

  install_with(request("/etc/kubernetes/credential-provider-config.yaml"));
  const std::string merged = read("/etc/kubernetes/credential-provider-config.yaml");
  EXPECT_TRUE(merged.starts_with(kEcrConfig)) << merged;
  EXPECT_THAT(check("/etc/kubernetes/credential-provider-config.yaml").provider_names,
              ::testing::ElementsAre("ecr-credential-provider", "quay-credential-provider"));
  EXPECT_EQ(fs::status(root_ / "etc/kubernetes/credential-provider-config.yaml").permissions(),
            fs::perms(0600));
  // Now the file shows the generation: a second install needs no --kubelet-version.
  EXPECT_FALSE(
      install_with(request("/etc/kubernetes/credential-provider-config.yaml", std::nullopt))
          .changed);

  uninstall_from("/etc/kubernetes/credential-provider-config.yaml");
  EXPECT_EQ(snapshot(root_), before);
}

TEST_F(Installer, AConfigDirectoryGetsAFileOfItsOwn) {
  write("/etc/kubernetes/credential-providers.d/10-ecr.yaml", kEcrConfig);
  write(std::string(kBinDir) + "/ecr-credential-provider", "ecr", fs::perms(0755));
  const auto before = snapshot(root_);
  install_with(request("/etc/kubernetes/credential-providers.d"));
  EXPECT_EQ(read("/etc/kubernetes/credential-providers.d/10-ecr.yaml"), kEcrConfig);
  EXPECT_TRUE(check("/etc/kubernetes/credential-providers.d/quay-credential-provider.yaml").ok());
  // A 1.33 kubelet reads one file: a directory is refused before anything is written.
  uninstall_from("/etc/kubernetes/credential-providers.d");
  EXPECT_EQ(snapshot(root_), before);
  try {
    install_with(request("/etc/kubernetes/credential-providers.d", KubeletGeneration::k1_33));
    ADD_FAILURE() << "a config directory was accepted for a 1.33 kubelet";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("1.33 kubelet reads one config file"));
  }
  EXPECT_EQ(snapshot(root_), before);
}

TEST_F(Installer, A133KubeletGetsAnEntryWithoutCacheType) {
  install_with(request("/etc/kubernetes/credential-providers.yaml", KubeletGeneration::k1_33));
  const std::string config = read("/etc/kubernetes/credential-providers.yaml");
  EXPECT_THAT(config, ::testing::Not(HasSubstr("cacheType")));
  ConfigCheckSettings for_1_33;
  for_1_33.kubelet = KubeletGeneration::k1_33;
  EXPECT_TRUE(check_provider_config(config, for_1_33).ok());
}

TEST_F(Installer, AConfigTheKubeletWouldRefuseIsNeverWritten) {
  // The existing config names a provider whose binary is not in the bin dir.
  write("/etc/kubernetes/credential-provider-config.yaml", kEcrConfig);
  const auto before = snapshot(root_);
  try {
    install_with(request("/etc/kubernetes/credential-provider-config.yaml"));
    ADD_FAILURE() << "installed a config the kubelet refuses";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(),
                HasSubstr("no executable " + std::string(kBinDir) + "/ecr-credential-provider"));
    EXPECT_THAT(failure.what(), HasSubstr("nothing was changed"));
  }
  EXPECT_EQ(snapshot(root_), before);
  auto bad_image = request("/etc/kubernetes/credential-providers.yaml");
  bad_image.provider.match_images = {"[::1"};
  EXPECT_THROW(install_with(bad_image), Failure);
  EXPECT_EQ(snapshot(root_), before);
}

// Fails the write of one path, as a full disk or a read-only mount would.
class FailingFiles final : public ForwardingFiles {
 public:
  FailingFiles(HostFiles& real, std::string fail_path)
      : ForwardingFiles(real), fail_(std::move(fail_path)) {}
  void write_atomic(const std::string& p, std::string_view bytes, mode_t mode) override {
    if (p == fail_) {
      throw Failure(ExitCode::kLookupFailed, "cannot write " + p + ": No space left on device");
    }
    ForwardingFiles::write_atomic(p, bytes, mode);
  }

 private:
  std::string fail_;
};

TEST_F(Installer, AFailedWriteLeavesTheNodeAsItWas) {
  write(std::string(kBinDir) + "/quay-credential-provider", "an older build", fs::perms(0755));
  const auto before = snapshot(root_);
  for (const std::string& failing : {std::string("/etc/kubernetes/credential-providers.yaml"),
                                     std::string(kStateDirectory) + "/install.json"}) {
    RootedFiles real(root_.string());
    FailingFiles files(real, failing);
    try {
      install(files, request("/etc/kubernetes/credential-providers.yaml"));
      ADD_FAILURE() << "no failure";
    } catch (const Failure& failure) {
      EXPECT_THAT(failure.what(), HasSubstr("No space left on device; nothing was changed"));
    }
    EXPECT_EQ(snapshot(root_), before) << "after failing " << failing;
  }
}

TEST_F(Installer, UninstallKeepsWhatOthersChangedAfterInstall) {
  write("/etc/kubernetes/credential-provider-config.yaml", kEcrConfig);
  write(std::string(kBinDir) + "/ecr-credential-provider", "ecr", fs::perms(0755));
  install_with(request("/etc/kubernetes/credential-provider-config.yaml"));
  const std::string edited = read("/etc/kubernetes/credential-provider-config.yaml") + "# note\n";
  write("/etc/kubernetes/credential-provider-config.yaml", edited);
  write(std::string(kBinDir) + "/quay-credential-provider", "a build put there by hand",
        fs::perms(0755));
  const auto outcome = uninstall_from("/etc/kubernetes/credential-provider-config.yaml");
  EXPECT_EQ(read("/etc/kubernetes/credential-provider-config.yaml"),
            std::string(kEcrConfig) + "# note\n");
  EXPECT_EQ(read(std::string(kBinDir) + "/quay-credential-provider"), "a build put there by hand");
  EXPECT_THAT(outcome.report, ::testing::Contains(HasSubstr("it was replaced after install")));
  EXPECT_FALSE(fs::exists(root_ / "var/lib/quay-credential-provider"));
}

TEST_F(Installer, AnUpgradeKeepsTheFirstOriginalForUninstall) {
  const auto before = snapshot(root_);
  auto request = this->request("/etc/kubernetes/credential-providers.yaml");
  install_with(request);
  request.binary =
      "\x7f"
      "ELF the provider, version 2";
  request.provider.match_images = {"quay.example.com", "quay.example.com:8443"};
  EXPECT_TRUE(install_with(request).changed);
  EXPECT_EQ(read(std::string(kBinDir) + "/quay-credential-provider"), request.binary);
  EXPECT_THAT(read("/etc/kubernetes/credential-providers.yaml"),
              HasSubstr("quay.example.com:8443"));
  uninstall_from("/etc/kubernetes/credential-providers.yaml");
  EXPECT_EQ(snapshot(root_), before);
}

TEST_F(Installer, PathsResolveInsideTheHostRootWhateverTheirSymlinks) {
  // The node's /etc/kubernetes is an absolute symlink, and a path climbs with "..": both stay
  // inside the host root, as on the node itself.
  fs::create_directories(root_ / "srv/kube");
  fs::remove(root_ / "etc/kubernetes");
  fs::create_symlink("/srv/kube", root_ / "etc/kubernetes");
  install_with(request("/etc/kubernetes/credential-providers.yaml"));
  EXPECT_TRUE(fs::is_regular_file(root_ / "srv/kube/credential-providers.yaml"));
  EXPECT_TRUE(fs::is_symlink(root_ / "etc/kubernetes"));
  uninstall_from("/etc/kubernetes/credential-providers.yaml");

  auto climbing = request("/../../../etc/kubernetes/../../srv/kube/config.yaml");
  install_with(climbing);
  EXPECT_TRUE(fs::is_regular_file(root_ / "srv/kube/config.yaml"));
  uninstall_from(climbing.config);
  EXPECT_FALSE(fs::exists(root_ / "srv/kube/config.yaml"));
}

TEST_F(Installer, SaysWhatTheRunningKubeletStillNeeds) {
  using namespace std::string_literals;
  const std::string config = "/etc/kubernetes/credential-providers.yaml";
  auto report = install_with(request(config)).report;
  EXPECT_THAT(report.back(), HasSubstr("no kubelet process found in the node's /proc: give it "
                                       "--image-credential-provider-config=" +
                                       config));
  write("/proc/7/cmdline", "/usr/bin/containerd\0--config\0/etc/kubelet\0"s);
  write("/proc/self/cmdline", "kubelet\0"s);
  write("/usr/bin/kubelet", "#!/bin/sh\n", fs::perms(0755));
  const auto kubelet = [this](const std::string& flags) {
    fake_process("4242", "/usr/bin/kubelet\0--v=2"s + flags, "/usr/bin/kubelet");
  };
  kubelet("\0--image-credential-provider-config="s + config +
          "\0--image-credential-provider-bin-dir\0"s + kBinDir + "/");
  report = install_with(request(config)).report;
  EXPECT_THAT(report.back(), HasSubstr("the kubelet (pid 4242) runs with "
                                       "--image-credential-provider-config=" +
                                       config));
  EXPECT_THAT(report.back(), HasSubstr("restart it to read the new config"));
  kubelet("");
  EXPECT_THAT(install_with(request(config)).report.back(),
              HasSubstr("(pid 4242) has no --image-credential-provider-config and has no "
                        "--image-credential-provider-bin-dir: give it"));
  kubelet("\0--image-credential-provider-config\0/etc/other.yaml\0"s +
          "--image-credential-provider-bin-dir=" + kBinDir);
  EXPECT_THAT(install_with(request(config)).report.back(),
              HasSubstr("runs with --image-credential-provider-config=/etc/other.yaml, not " +
                        config + ": give it"));
}

TEST_F(Installer, ASecondInstallWithOtherPathsIsRefused) {
  install_with(request("/etc/kubernetes/credential-providers.yaml"));
  try {
    install_with(request("/etc/kubernetes/other.yaml"));
    ADD_FAILURE() << "accepted";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("uninstall that first"));
  }
  EXPECT_THROW(uninstall_from("/etc/kubernetes/other.yaml"), Failure);
}

}  // namespace
}  // namespace qcp::install
