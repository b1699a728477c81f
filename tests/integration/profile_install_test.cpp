// install and uninstall with a node profile: kubeadm and kind nodes get the provider flags in
// kubeadm's flags file, k3s nodes a config.yaml.d drop-in; another provider's config and flags
// survive; a flags file or k3s setting pointing elsewhere is refused with nothing changed; and
// uninstall leaves each tree as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host_root_fixture.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::install {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kFlagsFile = "/var/lib/kubelet/kubeadm-flags.env";
constexpr const char* kKubeadmFlags =
    "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock "
    "--pod-infra-container-image=registry.k8s.io/pause:3.10\"\n";
constexpr const char* kK3sDropIn =
    "/etc/rancher/k3s/config.yaml.d/90-quay-credential-provider.yaml";

class ProfileInstall : public Installer {
 protected:
  InstallRequest profiled(Profile profile, std::optional<KubeletGeneration> kubelet) {
    const auto defaults = profile_defaults(profile);
    auto result = request(defaults.config, kubelet);
    result.bin_dir = defaults.bin_dir;
    result.profile = profile;
    return result;
  }
  Outcome uninstall_profiled(Profile profile) {
    const auto defaults = profile_defaults(profile);
    RootedFiles files(root_.string());
    return uninstall(files, {.bin_dir = defaults.bin_dir,
                             .config = defaults.config,
                             .provider_name = "quay-credential-provider",
                             .restart_kubelet = {}});
  }
  // Install, install again (not a byte or a time changes), uninstall (the tree as it was).
  void round_trip(const InstallRequest& request) {
    const auto before = snapshot(root_);
    EXPECT_TRUE(install_with(request).changed);
    const auto installed = snapshot(root_, true);
    EXPECT_FALSE(install_with(request).changed);
    EXPECT_EQ(snapshot(root_, true), installed);
    uninstall_profiled(request.profile);
    EXPECT_EQ(snapshot(root_), before);
  }
};

TEST_F(ProfileInstall, AKubeadmNodeGetsTheFlagsInKubeadmsFlagsFileAnd133ItsFeatureGate) {
  write(kFlagsFile, kKubeadmFlags);
  const auto request = profiled(Profile::kKubeadm, KubeletGeneration::k1_33);
  const auto report = install_with(request).report;
  EXPECT_EQ(read(kFlagsFile),
            "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/"
            "containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10 "
            "--image-credential-provider-config=/etc/kubernetes/image-credential-provider/"
            "config.yaml --image-credential-provider-bin-dir=/etc/kubernetes/"
            "image-credential-provider "
            "--feature-gates=KubeletServiceAccountTokenForCredentialProviders=true\"\n");
  EXPECT_THAT(report, testing::Contains(HasSubstr("gave the kubelet the provider flags in " +
                                                  std::string(kFlagsFile))));
  EXPECT_THAT(report.back(), HasSubstr(std::string(kFlagsFile) + " gives it"));
  EXPECT_THAT(read("/etc/kubernetes/image-credential-provider/config.yaml"),
              Not(HasSubstr("cacheType")));
  uninstall_profiled(Profile::kKubeadm);
  EXPECT_EQ(read(kFlagsFile), kKubeadmFlags);
  write("/var/lib/kubelet/config.yaml", "kind: KubeletConfiguration\n");
  round_trip(request);
}

TEST_F(ProfileInstall, AnExistingFeatureGatesFlagGetsTheGateAdded) {
  write(kFlagsFile, "KUBELET_KUBEADM_ARGS=\"--feature-gates=Foo=true\"\n");
  install_with(profiled(Profile::kKubeadm, KubeletGeneration::k1_33));
  EXPECT_THAT(read(kFlagsFile),
              HasSubstr("\"--feature-gates=Foo=true,"
                        "KubeletServiceAccountTokenForCredentialProviders=true "));
}

TEST_F(ProfileInstall, ASingleQuotedFlagsLineIsReadAsSystemdReadsIt) {
  write(kFlagsFile, "# kept\nKUBELET_KUBEADM_ARGS='--v=2'\n");
  install_with(profiled(Profile::kKubeadm, KubeletGeneration::k1_34_or_later));
  EXPECT_EQ(read(kFlagsFile),
            "# kept\nKUBELET_KUBEADM_ARGS=\"--v=2 --image-credential-provider-config=/etc/"
            "kubernetes/image-credential-provider/config.yaml --image-credential-provider-bin-dir="
            "/etc/kubernetes/image-credential-provider\"\n");
}

TEST_F(ProfileInstall, AKindNodeWithEcrsProviderKeepsItsConfigAndFlags) {
  const auto defaults = profile_defaults(Profile::kKind);
  write(defaults.config, kEcrConfig);
  write(defaults.bin_dir + "/ecr-credential-provider", "ecr", fs::perms(0755));
  const std::string flags =
      "KUBELET_KUBEADM_ARGS=\"--image-credential-provider-config=" + defaults.config +
      " --image-credential-provider-bin-dir=" + defaults.bin_dir + "\"\n";
  write(kFlagsFile, flags);
  round_trip(profiled(Profile::kKind, KubeletGeneration::k1_34_or_later));
  install_with(profiled(Profile::kKind, KubeletGeneration::k1_34_or_later));
  // The kubelet's version, unsaid, is read off our own entry: nothing to change.
  EXPECT_FALSE(install_with(profiled(Profile::kKind, std::nullopt)).changed);
  EXPECT_EQ(read(kFlagsFile), flags);
  EXPECT_THAT(read(defaults.config), HasSubstr("name: ecr-credential-provider"));
  EXPECT_TRUE(check(defaults.config).findings.empty());
}

TEST_F(ProfileInstall, FlagsNamingAnotherConfigAreRefusedAndNothingChanges) {
  write(kFlagsFile,
        "KUBELET_KUBEADM_ARGS=\"--image-credential-provider-config=/etc/eks/ecr.json\"\n");
  const auto before = snapshot(root_, true);
  try {
    install_with(profiled(Profile::kKubeadm, KubeletGeneration::k1_34_or_later));
    ADD_FAILURE() << "accepted";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(),
                HasSubstr("already starts the kubelet with "
                          "--image-credential-provider-config=/etc/eks/ecr.json: install with "
                          "--config /etc/eks/ecr.json"));
  }
  EXPECT_EQ(snapshot(root_, true), before);
}

TEST_F(ProfileInstall, AFlagsFileKubeadmRewroteLosesOnlyOurFlagsOnUninstall) {
  write(kFlagsFile, kKubeadmFlags);
  install_with(profiled(Profile::kKubeadm, KubeletGeneration::k1_34_or_later));
  write(kFlagsFile, read(kFlagsFile) + "# kubeadm upgrade was here\n");
  const auto report = uninstall_profiled(Profile::kKubeadm).report;
  EXPECT_EQ(read(kFlagsFile), std::string(kKubeadmFlags) + "# kubeadm upgrade was here\n");
  EXPECT_THAT(report, testing::Contains(HasSubstr("removed the provider flags from")));
}

TEST_F(ProfileInstall, AK3sNodeGetsADropInOfItsOwn) {
  write("/etc/rancher/k3s/config.yaml", "write-kubeconfig-mode: \"0644\"\n");
  const auto request = profiled(Profile::kK3s, KubeletGeneration::k1_33);
  install_with(request);
  EXPECT_EQ(read(kK3sDropIn),
            "# Written by quay-credential-provider install; uninstall removes it.\n"
            "# k3s passes these to its kubelet as --image-credential-provider-bin-dir/-config.\n"
            "image-credential-provider-bin-dir: \"/var/lib/rancher/credentialprovider/bin\"\n"
            "image-credential-provider-config: "
            "\"/var/lib/rancher/credentialprovider/config.yaml\"\n"
            "kubelet-arg+:\n"
            "  - \"feature-gates=KubeletServiceAccountTokenForCredentialProviders=true\"\n");
  uninstall_profiled(Profile::kK3s);
  round_trip(request);
  EXPECT_FALSE(fs::exists(root_ / "etc/rancher/k3s/config.yaml.d"));
}

TEST_F(ProfileInstall, AK3sSettingForAnotherConfigIsRefused) {
  write("/etc/rancher/k3s/config.yaml.d/10-ecr.yaml",
        "image-credential-provider-config: /etc/ecr/config.yaml\n");
  const auto before = snapshot(root_, true);
  try {
    install_with(profiled(Profile::kK3s, KubeletGeneration::k1_34_or_later));
    ADD_FAILURE() << "accepted";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("10-ecr.yaml sets image-credential-provider-config: "
                                          "/etc/ecr/config.yaml, which k3s would no longer use"));
  }
  EXPECT_EQ(snapshot(root_, true), before);
}

TEST_F(ProfileInstall, AGenericNodeGetsNoFlagsWritten) {
  write(kFlagsFile, kKubeadmFlags);
  auto request = profiled(Profile::kKubeadm, KubeletGeneration::k1_34_or_later);
  request.profile = Profile::kGeneric;
  install_with(request);
  EXPECT_EQ(read(kFlagsFile), kKubeadmFlags);
}

}  // namespace
}  // namespace qcp::install

namespace qcp::install {
namespace {

// Every profile, with no config, with ECR's config already there, or with a config directory
// holding ECR's (1.34+ only), for a 1.33 and a 1.34 kubelet: install, install again (nothing
// changes, not even a time), uninstall (the tree as it was, byte for byte). A directory for a
// 1.33 kubelet is refused with nothing changed.
enum class Existing { kNone, kEcrFile, kEcrDirectory };
using Case = std::tuple<Profile, Existing, KubeletGeneration>;

class ProfileMatrix : public ProfileInstall, public ::testing::WithParamInterface<Case> {};

TEST_P(ProfileMatrix, InstallsOnceChangesNothingTheSecondTimeAndUninstallsToTheSameTree) {
  const auto [profile, existing, kubelet] = GetParam();
  auto request = profiled(profile == Profile::kGeneric ? Profile::kKubeadm : profile, kubelet);
  request.profile = profile;
  if (profile == Profile::kKubeadm || profile == Profile::kKind) {
    write(kFlagsFile, kKubeadmFlags);
  }
  if (profile == Profile::kK3s) {
    write("/etc/rancher/k3s/config.yaml", "node-label: [\"pool=a\"]\n");
  }
  if (existing != Existing::kNone) {
    write(request.bin_dir + "/ecr-credential-provider", "ecr", fs::perms(0755));
  }
  if (existing == Existing::kEcrFile) {
    write(request.config, kEcrConfig);
  }
  std::string ecr_file = request.config;
  if (existing == Existing::kEcrDirectory) {
    request.config = parent_path(request.config) + "/config.d";
    ecr_file = request.config + "/ecr.yaml";
    write(ecr_file, kEcrConfig);
  }
  const auto before = snapshot(root_);
  if (existing == Existing::kEcrDirectory && kubelet == KubeletGeneration::k1_33) {
    EXPECT_THROW(install_with(request), Failure);  // a 1.33 kubelet reads no config directory
    EXPECT_EQ(snapshot(root_), before);
    return;
  }
  ASSERT_TRUE(install_with(request).changed);
  if (existing != Existing::kNone) {
    // The ECR lines stay as they were; ours are added after them (or beside them).
    EXPECT_THAT(read(ecr_file), HasSubstr(kEcrConfig));
    EXPECT_THAT(read(ecr_file), HasSubstr("name: ecr-credential-provider"));
  }
  const auto installed = snapshot(root_, true);
  EXPECT_FALSE(install_with(request).changed);
  EXPECT_EQ(snapshot(root_, true), installed);
  RootedFiles files(root_.string());
  uninstall(files, {.bin_dir = request.bin_dir,
                    .config = request.config,
                    .provider_name = "quay-credential-provider",
                    .restart_kubelet = {}});
  EXPECT_EQ(snapshot(root_), before);
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const auto& [profile, existing, kubelet] = info.param;
  constexpr std::array<const char*, 3> kExisting{"NoConfig", "EcrConfig", "EcrConfigDir"};
  return std::string(profile_name(profile)) + "_" +
         kExisting.at(static_cast<std::size_t>(existing)) +
         (kubelet == KubeletGeneration::k1_33 ? "_1_33" : "_1_34");
}

INSTANTIATE_TEST_SUITE_P(Nodes, ProfileMatrix,
                         ::testing::Combine(::testing::Values(Profile::kKubeadm, Profile::kKind,
                                                              Profile::kK3s, Profile::kGeneric),
                                            ::testing::Values(Existing::kNone, Existing::kEcrFile,
                                                              Existing::kEcrDirectory),
                                            ::testing::Values(KubeletGeneration::k1_33,
                                                              KubeletGeneration::k1_34_or_later)),
                         case_name);

}  // namespace
}  // namespace qcp::install
