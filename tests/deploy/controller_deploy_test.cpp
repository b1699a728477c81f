// Issue 21: deploy/controller/, rendered by the machine's own `kubectl kustomize`: two replicas
// with leader election, nothing privileged, probes on the health port, a PodDisruptionBudget
// over the same pods, and RBAC that is exactly what the controller uses (the fake API server
// grants the same list, so the integration tests pass only if it is enough): cluster-wide in
// cluster/, a Role per listed namespace in namespaced/, the Lease in its own namespace only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "fake_kube_api.hpp"
#include "qcp/quay/policy.hpp"
#include "render.hpp"

namespace qcp {
namespace {

using namespace qcp::deploy_test;
using ::testing::Contains;
using ::testing::Not;
using yaml::Node;

// The (verb, resource) pairs a Role or ClusterRole grants.
std::set<test::Grant> grants_of(const Node& role) {
  std::set<test::Grant> grants;
  for (const auto& rule : at(role, "rules").items) {
    for (const auto& resource : texts(at(rule, "resources"))) {
      for (const auto& verb : texts(at(rule, "verbs"))) {
        grants.insert({verb, resource});
      }
    }
  }
  return grants;
}

std::set<test::Grant> as_set(const std::vector<test::Grant>& grants) {
  return {grants.begin(), grants.end()};
}

std::vector<const Node*> all_of(const Rendered& rendered, std::string_view kind) {
  std::vector<const Node*> found;
  for (const auto& object : rendered.objects) {
    if (const auto* k = object.find("kind"); k != nullptr && k->text == kind) {
      found.push_back(&object);
    }
  }
  return found;
}

class ControllerDeploy : public ::testing::Test {
 protected:
  void SetUp() override {
    static const bool available = kubectl_can_render();
    if (!available) {
      GTEST_SKIP() << "kubectl with kustomize is not on this machine (Debian 12 does not package "
                      "it): deploy/controller is not rendered";
    }
  }
};

TEST_F(ControllerDeploy, TwoUnprivilegedReplicasElectALeaderAndProbeTheHealthPort) {
  const auto rendered = render("controller/cluster");
  const auto* deployment = rendered.find("Deployment");
  ASSERT_NE(deployment, nullptr);
  EXPECT_EQ(at(*deployment, "spec.replicas").text, "2");
  const auto& pod = at(*deployment, "spec.template.spec");
  const auto args = texts(at(pod, "containers.0.args"));
  EXPECT_EQ(args.front(), "controller");
  EXPECT_THAT(args, Contains("--leader-elect"));
  EXPECT_THAT(args, Contains("--health-probe-bind-address=:8081"));
  EXPECT_EQ(at(pod, "containers.0.image").text,
            "registry.example.com/quay-credential-provider:v" + std::string(QCP_PROJECT_VERSION));
  EXPECT_EQ(at(pod, "securityContext.runAsNonRoot").text, "true");
  EXPECT_EQ(at(pod, "securityContext.seccompProfile.type").text, "RuntimeDefault");
  EXPECT_EQ(at(pod, "containers.0.securityContext.readOnlyRootFilesystem").text, "true");
  EXPECT_EQ(at(pod, "containers.0.securityContext.allowPrivilegeEscalation").text, "false");
  EXPECT_EQ(texts(at(pod, "containers.0.securityContext.capabilities.drop")),
            std::vector<std::string>{"ALL"});
  EXPECT_EQ(pod.find("hostPID"), nullptr);
  EXPECT_EQ(pod.find("hostNetwork"), nullptr);
  EXPECT_FALSE(at(pod, "containers.0.resources.limits.memory").text.empty());
  EXPECT_FALSE(at(pod, "containers.0.resources.requests.cpu").text.empty());
  EXPECT_EQ(at(pod, "containers.0.livenessProbe.httpGet.path").text, "/healthz");
  EXPECT_EQ(at(pod, "containers.0.readinessProbe.httpGet.path").text, "/readyz");
  EXPECT_EQ(at(pod, "containers.0.ports.0.containerPort").text, "8081");
  EXPECT_THAT(args, Contains("--metrics-bind-address=:8080"));
  EXPECT_EQ(at(pod, "containers.0.ports.1.name").text, "metrics");
  EXPECT_EQ(at(pod, "containers.0.ports.1.containerPort").text, "8080");
  // The Lease's namespace and the replica's name come from the pod itself.
  std::map<std::string, std::string> from_pod;
  for (const auto& variable : at(pod, "containers.0.env").items) {
    if (const auto* field = variable.find("valueFrom")->find("fieldRef")) {
      from_pod[at(variable, "name").text] = at(*field, "fieldPath").text;
    }
  }
  EXPECT_EQ(from_pod, (std::map<std::string, std::string>{{"POD_NAMESPACE", "metadata.namespace"},
                                                          {"POD_NAME", "metadata.name"}}));
  const auto data = config_data(rendered);
  EXPECT_EQ(data.at("audience"), "quay");
  EXPECT_EQ(data.at("renew-before"), "15m");

  const auto* budget = rendered.find("PodDisruptionBudget");
  ASSERT_NE(budget, nullptr);
  EXPECT_EQ(at(*budget, "spec.minAvailable").text, "1");
  const auto selector = [](const Node& labels) {
    std::map<std::string, std::string> out;
    for (const auto& entry : labels.entries) {
      out[entry.key] = entry.value.text;
    }
    return out;
  };
  EXPECT_EQ(selector(at(*budget, "spec.selector.matchLabels")),
            selector(at(*deployment, "spec.selector.matchLabels")));

  // A ServiceMonitor finds the replicas through this Service: same pods, the named port.
  const auto* service = rendered.find("Service");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(selector(at(*service, "spec.selector")),
            selector(at(*deployment, "spec.selector.matchLabels")));
  EXPECT_EQ(at(*service, "spec.ports.0.name").text, "metrics");
  EXPECT_EQ(at(*service, "spec.ports.0.targetPort").text, "metrics");
  EXPECT_EQ(selector(at(*service, "metadata.labels")).at("app.kubernetes.io/component"),
            "controller");
}

TEST_F(ControllerDeploy, ClusterRbacIsExactlyWhatTheControllerUses) {
  const auto rendered = render("controller/cluster");
  const auto* role = rendered.find("ClusterRole", "quay-credential-provider-controller");
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(grants_of(*role), as_set(test::controller_grants()));
  const auto* binding = rendered.find("ClusterRoleBinding", "quay-credential-provider-controller");
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ(at(*binding, "subjects.0.name").text, "quay-credential-provider-controller");
  EXPECT_EQ(at(*binding, "subjects.0.namespace").text, "quay-credential-provider");
  // The Lease: a Role in the controller's own namespace, nowhere else.
  const auto* lease_role =
      rendered.find("Role", "quay-credential-provider-controller-leader-election");
  ASSERT_NE(lease_role, nullptr);
  EXPECT_EQ(at(*lease_role, "metadata.namespace").text, "quay-credential-provider");
  EXPECT_EQ(grants_of(*lease_role), as_set(test::leader_election_grants()));
}

TEST_F(ControllerDeploy, TheNamespacedVariantHasARolePerWatchedNamespaceAndNothingClusterWide) {
  const auto rendered = render("controller/namespaced");
  EXPECT_TRUE(all_of(rendered, "ClusterRole").empty());
  EXPECT_TRUE(all_of(rendered, "ClusterRoleBinding").empty());
  const auto* deployment = rendered.find("Deployment");
  ASSERT_NE(deployment, nullptr);
  std::set<std::string> watched;
  for (const auto& arg : texts(at(*deployment, "spec.template.spec.containers.0.args"))) {
    if (arg.starts_with("--namespace=")) {
      watched.insert(arg.substr(12));
    }
  }
  EXPECT_EQ(watched, (std::set<std::string>{"team-a", "team-b"}));
  std::set<std::string> served;
  for (const auto* role : all_of(rendered, "Role")) {
    if (at(*role, "metadata.name").text != "quay-credential-provider-controller") {
      continue;
    }
    served.insert(at(*role, "metadata.namespace").text);
    EXPECT_EQ(grants_of(*role), as_set(test::controller_grants()));
  }
  EXPECT_EQ(served, watched);
  std::set<std::string> bound;
  for (const auto* binding : all_of(rendered, "RoleBinding")) {
    if (at(*binding, "roleRef.name").text == "quay-credential-provider-controller") {
      bound.insert(at(*binding, "metadata.namespace").text);
      EXPECT_EQ(at(*binding, "subjects.0.namespace").text, "quay-credential-provider");
    }
  }
  EXPECT_EQ(bound, watched);
  EXPECT_THAT(texts(at(*deployment, "spec.template.spec.containers.0.args")),
              Not(Contains("--namespace=")));
}

// Issue 23: the policy component mounts its ConfigMap whole (a subPath mount never sees an edit)
// where --policy looks, read-only, in the controller's namespace; the example policy parses.
TEST_F(ControllerDeploy, ThePolicyComponentMountsAPolicyTheControllerCanRead) {
  const auto rendered = render("controller/cluster-with-policy");
  const std::string text = mounted_policy(rendered, "Deployment", "--policy=");
  const auto parsed = quay::parse_policy(text, "policy.yaml");
  EXPECT_EQ(parsed.rules.size(), 2U);
  EXPECT_EQ(parsed.rules.at(0).default_robots, std::vector<std::string>{"team_a+puller"});
  EXPECT_THAT(texts(at(*rendered.find("Deployment"), "spec.template.spec.containers.0.args")),
              Contains("--leader-elect"));
}

}  // namespace
}  // namespace qcp
