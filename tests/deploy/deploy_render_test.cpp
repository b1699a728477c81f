// deploy/overlays/<profile> and deploy/uninstall/<profile>, rendered by the machine's own
// `kubectl kustomize`: the DaemonSet's settings equal the installer's defaults for that profile,
// it reaches the node as install needs (host root, host PID and network, privileged), tolerates
// every taint and rolls one node at a time; the node-audience RBAC grants exactly the audience
// install writes; the image is this release's; the uninstall Job takes the same settings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "layers.hpp"
#include "qcp/core/process.hpp"
#include "qcp/core/yaml.hpp"
#include "qcp/install/profile.hpp"
#include "qcp/quay/policy.hpp"
#include "render.hpp"
#include "temp_dir.hpp"

namespace qcp {
namespace {

using ::testing::Contains;
using yaml::Node;
using namespace qcp::deploy_test;

// Every $(VAR) of the container's args comes from the rendered ConfigMap, by its hashed name,
// but the node's name, which the pod's own spec gives.
void expect_settings_from_config_map(const Node& pod, const Rendered& rendered) {
  const std::string config_name = at(*rendered.find("ConfigMap"), "metadata.name").text;
  for (const auto& variable : at(pod, "containers.0.env").items) {
    if (at(variable, "name").text == "QCP_NODE_NAME") {
      EXPECT_EQ(at(variable, "valueFrom.fieldRef.fieldPath").text, "spec.nodeName");
    } else {
      EXPECT_EQ(at(variable, "valueFrom.configMapKeyRef.name").text, config_name);
    }
  }
  EXPECT_EQ(at(pod, "containers.0.image").text,
            "registry.example.com/quay-credential-provider:v" + std::string(QCP_PROJECT_VERSION));
  EXPECT_EQ(at(pod, "containers.0.imagePullPolicy").text, "IfNotPresent");
  EXPECT_EQ(at(pod, "hostPID").text, "true");
  EXPECT_EQ(at(pod, "hostNetwork").text, "true");
  EXPECT_EQ(at(pod, "containers.0.securityContext.privileged").text, "true");
  EXPECT_EQ(at(pod, "containers.0.securityContext.runAsUser").text, "0");
  EXPECT_EQ(at(pod, "volumes.0.hostPath.path").text, "/");
  EXPECT_EQ(at(pod, "containers.0.volumeMounts.0.mountPath").text, "/host");
  EXPECT_THAT(texts(at(pod, "containers.0.args")), Contains("--host-root=/host"));
  EXPECT_EQ(at(pod, "tolerations.0.operator").text, "Exists");
  EXPECT_FALSE(at(pod, "containers.0.resources.limits.memory").text.empty());
  EXPECT_FALSE(at(pod, "containers.0.resources.requests.cpu").text.empty());
}

class Deploy : public ::testing::TestWithParam<install::Profile> {
 protected:
  void SetUp() override {
    static const bool available = kubectl_can_render();
    if (!available) {
      GTEST_SKIP() << "kubectl with kustomize is not on this machine (Debian 12 does not package "
                      "it): deploy/ is not rendered";
    }
  }
};

TEST_P(Deploy, TheOverlaySettingsAreTheInstallersDefaultsForItsProfile) {
  const std::string profile(install::profile_name(GetParam()));
  const auto rendered = render("overlays/" + profile);
  const auto data = config_data(rendered);
  const auto defaults = install::profile_defaults(GetParam());
  EXPECT_EQ(data.at("profile"), profile);
  EXPECT_EQ(data.at("bin-dir"), defaults.bin_dir);
  EXPECT_EQ(data.at("config"), defaults.config);

  const auto* daemonset = rendered.find("DaemonSet");
  ASSERT_NE(daemonset, nullptr);
  const auto& pod = at(*daemonset, "spec.template.spec");
  expect_settings_from_config_map(pod, rendered);
  EXPECT_EQ(texts(at(pod, "containers.0.args")),
            (std::vector<std::string>{
                "install", "--host-root=/host", "--profile=$(QCP_PROFILE)",
                "--bin-dir=$(QCP_BIN_DIR)", "--config=$(QCP_CONFIG)",
                "--match-image=$(QCP_MATCH_IMAGE)", "--kubelet-version=$(QCP_KUBELET_VERSION)",
                "--node-name=$(QCP_NODE_NAME)", "--audience=$(QCP_AUDIENCE)", "--restart-kubelet",
                "--failure-record=/run/quay-credential-provider/failed-install",
                "--watch=$(QCP_WATCH)"}));
  EXPECT_EQ(at(pod, "containers.0.volumeMounts.1.mountPath").text, "/run/quay-credential-provider");
  EXPECT_EQ(at(pod, "volumes.1.name").text, at(pod, "containers.0.volumeMounts.1.name").text);
  EXPECT_NE(at(pod, "volumes.1").find("emptyDir"), nullptr);
  EXPECT_EQ(at(*daemonset, "spec.updateStrategy.rollingUpdate.maxUnavailable").text, "1");
  EXPECT_EQ(data.at("kubelet-version"), "") << "read from the Node object unless set";
  // SIGTERM lets a checked restart end: two restarts of --restart-timeout's default 2m each,
  // and a minute for another install's lock and the rest.
  EXPECT_GE(std::stoi(at(pod, "terminationGracePeriodSeconds").text), 2 * 120 + 60);
  EXPECT_EQ(at(*daemonset, "metadata.namespace").text,
            at(*rendered.find("Namespace"), "metadata.name").text);
}

TEST_P(Deploy, KubeletsMayRequestTheAudienceInstallWrites) {
  const auto rendered = render("overlays/" + std::string(install::profile_name(GetParam())));
  const auto* role = rendered.find("ClusterRole", "quay-credential-provider-node-audience");
  const auto* binding =
      rendered.find("ClusterRoleBinding", "quay-credential-provider-node-audience");
  ASSERT_NE(role, nullptr);
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ(texts(at(*role, "rules.0.apiGroups")), std::vector<std::string>{""});
  EXPECT_EQ(texts(at(*role, "rules.0.resources")),
            std::vector<std::string>{config_data(rendered).at("audience")});
  EXPECT_EQ(texts(at(*role, "rules.0.verbs")),
            std::vector<std::string>{"request-serviceaccounts-token-audience"});
  EXPECT_EQ(at(*binding, "roleRef.name").text, at(*role, "metadata.name").text);
  EXPECT_EQ(at(*binding, "subjects.0.kind").text, "Group");
  EXPECT_EQ(at(*binding, "subjects.0.name").text, "system:nodes");
}

// install --node-name reads the node's Node object with the pod's own token: the DaemonSet's
// service account may get nodes and nothing else, and the pod gets a token to do it with.
TEST_P(Deploy, TheInstallerMayReadNodesAndNothingElse) {
  const auto rendered = render("overlays/" + std::string(install::profile_name(GetParam())));
  const auto& pod = at(*rendered.find("DaemonSet"), "spec.template.spec");
  const auto account = at(pod, "serviceAccountName").text;
  EXPECT_EQ(at(pod, "automountServiceAccountToken").text, "true");
  const auto* service_account = rendered.find("ServiceAccount", account);
  ASSERT_NE(service_account, nullptr) << account;
  const auto* role = rendered.find("ClusterRole", "quay-credential-provider-node-reader");
  const auto* binding = rendered.find("ClusterRoleBinding", "quay-credential-provider-node-reader");
  ASSERT_NE(role, nullptr);
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ(at(*role, "rules").items.size(), 1U);
  EXPECT_EQ(texts(at(*role, "rules.0.apiGroups")), std::vector<std::string>{""});
  EXPECT_EQ(texts(at(*role, "rules.0.resources")), std::vector<std::string>{"nodes"});
  EXPECT_EQ(texts(at(*role, "rules.0.verbs")), std::vector<std::string>{"get"});
  EXPECT_EQ(at(*binding, "roleRef.kind").text, "ClusterRole");
  EXPECT_EQ(at(*binding, "roleRef.name").text, at(*role, "metadata.name").text);
  EXPECT_EQ(at(*binding, "subjects").items.size(), 1U);
  EXPECT_EQ(at(*binding, "subjects.0.kind").text, "ServiceAccount");
  EXPECT_EQ(at(*binding, "subjects.0.name").text, account);
  EXPECT_EQ(at(*binding, "subjects.0.namespace").text,
            at(*service_account, "metadata.namespace").text);
}

TEST_P(Deploy, TheUninstallJobTakesTheSameSettingsAndLeavesOutTheDaemonSet) {
  const std::string profile(install::profile_name(GetParam()));
  const auto rendered = render("uninstall/" + profile);
  EXPECT_EQ(rendered.find("DaemonSet"), nullptr);
  EXPECT_EQ(config_data(rendered), config_data(render("overlays/" + profile)));
  const auto* job = rendered.find("Job");
  ASSERT_NE(job, nullptr);
  const auto& pod = at(*job, "spec.template.spec");
  expect_settings_from_config_map(pod, rendered);
  EXPECT_EQ(texts(at(pod, "containers.0.args")),
            (std::vector<std::string>{"uninstall", "--host-root=/host", "--profile=$(QCP_PROFILE)",
                                      "--bin-dir=$(QCP_BIN_DIR)", "--config=$(QCP_CONFIG)",
                                      "--restart-kubelet"}));
  EXPECT_EQ(at(pod,
               "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0."
               "topologyKey")
                .text,
            "kubernetes.io/hostname");
  EXPECT_EQ(at(*job, "metadata.namespace").text, "quay-credential-provider");
}

// Issue 22, item 8: deploy/ can only name a tag (a commit cannot hold the digest of an image
// built from it), so the release ships deploy/ pinned: scripts/pin-deploy.sh, which release.sh
// runs with the image index's digest. Every image the pinned tree runs is that digest.
TEST_P(Deploy, TheReleasedDeployTreeRunsTheImageByDigestOnly) {
  const std::string profile(install::profile_name(GetParam()));
  const std::filesystem::path dir = test::make_temp_dir("qcp-pinned");
  const std::string digest =
      "sha256:89abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567";
  ProcessSpec spec;
  spec.argv = {"/bin/bash",
               "-c",
               "\"$0\" \"$1\" \"$2/deploy.tar.gz\" && tar -C \"$2\" -xzf \"$2/deploy.tar.gz\"",
               QCP_PIN_DEPLOY,
               digest,
               dir.string()};
  spec.environment = {"PATH=/usr/bin:/bin"};
  spec.deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  const auto pinned = run_process(spec);
  ASSERT_TRUE(pinned.succeeded()) << pinned.err;
  // docs/install.md's overlay of your own: your registry's name, the release's digest.
  std::filesystem::create_directories(dir / "mine");
  std::ofstream(dir / "mine/kustomization.yaml")
      << "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
         "  - ../deploy/overlays/"
      << profile
      << "\nimages:\n  - name: registry.example.com/quay-credential-provider\n"
         "    newName: registry.internal/quay-credential-provider\n";
  const auto overlay = render_path((dir / "deploy/overlays" / profile).string());
  const auto uninstall = render_path((dir / "deploy/uninstall" / profile).string());
  const auto mine = render_path((dir / "mine").string());
  std::filesystem::remove_all(dir);
  const std::string image = "registry.example.com/quay-credential-provider@" + digest;
  const std::string path = "spec.template.spec.containers.0.image";
  ASSERT_NE(overlay.find("DaemonSet"), nullptr);
  EXPECT_EQ(at(*overlay.find("DaemonSet"), path).text, image);
  ASSERT_NE(uninstall.find("Job"), nullptr);
  EXPECT_EQ(at(*uninstall.find("Job"), path).text, image);
  ASSERT_NE(mine.find("DaemonSet"), nullptr);
  EXPECT_EQ(at(*mine.find("DaemonSet"), path).text,
            "registry.internal/quay-credential-provider@" + digest);
  EXPECT_EQ(at(*mine.find("DaemonSet"), "spec.template.spec.containers.0.imagePullPolicy").text,
            "IfNotPresent");
}

INSTANTIATE_TEST_SUITE_P(Profiles, Deploy,
                         ::testing::Values(install::Profile::kKubeadm, install::Profile::kKind,
                                           install::Profile::kK3s),
                         [](const auto& param_info) {
                           return std::string(install::profile_name(param_info.param));
                         });

// Issue 23: the node policy component gives every node's installer the ConfigMap's policy to
// write (--policy-source), mounted whole so that --watch passes see an edit; the example parses.
TEST(DeployPolicy, TheNodePolicyComponentMountsThePolicyForInstall) {
  if (!kubectl_can_render()) {
    GTEST_SKIP() << "kubectl with kustomize is not on this machine";
  }
  const auto rendered = render("overlays/kubeadm-with-policy");
  const std::string text = mounted_policy(rendered, "DaemonSet", "--policy-source=");
  const auto parsed = quay::parse_policy(text, "policy.yaml");
  EXPECT_EQ(parsed.rules.size(), 2U);
  EXPECT_THAT(texts(at(*rendered.find("DaemonSet"), "spec.template.spec.containers.0.args")),
              ::testing::Contains("--watch=$(QCP_WATCH)"));
}

}  // namespace
}  // namespace qcp
