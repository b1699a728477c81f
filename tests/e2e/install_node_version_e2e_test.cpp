// The built binary, run as the DaemonSet runs it (--node-name from spec.nodeName, the pod's
// service-account token and CA mounted where the kubelet mounts them), takes the kubelet's
// version from its Node object on a fake kube-apiserver over HTTPS: no kubelet process, no
// --kubelet-version, nothing executed. The pod's files are staged in a private mount namespace
// (a tmpfs on /run), so the test needs root or user namespaces; it skips, saying so, without.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "fake_kube_api.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace qcp::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kUser = "system:serviceaccount:quay-credential-provider:node-installer";
const std::string kToken =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bm9kZS1pbnN0YWxsZXIifQ."
    "bm9kZS1pbnN0YWxsZXItc2lnbmF0dXJl";
// Mounts a tmpfs on /run (where /var/run leads) in a private mount namespace, puts the pod's
// files where the kubelet mounts them, then runs the rest of argv.
constexpr const char* kPodFiles =
    "mount -t tmpfs -o mode=0755 tmpfs /run && d=/var/run/secrets/kubernetes.io/serviceaccount && "
    "mkdir -p $d && cp \"$QCP_POD_FILES/token\" \"$QCP_POD_FILES/ca.crt\" $d/ && exec \"$@\"";

bool can_stage_pod_files() {
  return run_process(
             "/usr/bin/unshare",
             {"--mount", "--propagation", "private", "/bin/sh", "-c", "mount -t tmpfs tmpfs /run"},
             {}, "")
             .exit_code == 0;
}

class InstallFromNode : public ::testing::Test {
 protected:
  InstallFromNode() : api_(pki_) {
    dir_ = test::make_temp_dir("qcp-e2e-node");
    fs::create_directories(dir_ / "pod");
    fs::create_directories(dir_ / "host/var/lib/kubelet");
    std::ofstream(dir_ / "pod/token") << kToken;
    std::ofstream(dir_ / "pod/ca.crt") << pki_.ca_pem();
    std::ofstream(dir_ / "host/var/lib/kubelet/kubeadm-flags.env")
        << "KUBELET_KUBEADM_ARGS=\"--node-ip=10.0.0.5\"\n";
    api_.add_user(kToken, kUser);
  }
  ~InstallFromNode() override { fs::remove_all(dir_); }
  InstallFromNode(const InstallFromNode&) = delete;
  InstallFromNode& operator=(const InstallFromNode&) = delete;
  InstallFromNode(InstallFromNode&&) = delete;
  InstallFromNode& operator=(InstallFromNode&&) = delete;

  ProcessResult install(const std::string& node) {
    std::vector<std::string> args = {"--mount", "--propagation", "private", "/bin/sh",
                                     "-c",      kPodFiles,       "sh"};
    for (const auto& part : command_line(kBinary)) {
      args.push_back(part);
    }
    args.insert(args.end(), {"install", "--host-root", (dir_ / "host").string(), "--profile",
                             "kubeadm", "--match-image", "quay.example.com", "--node-name", node});
    return run_process("/usr/bin/unshare", args,
                       {"PATH=/usr/bin:/bin", "QCP_POD_FILES=" + (dir_ / "pod").string(),
                        "KUBERNETES_SERVICE_HOST=" + api_.service_host(),
                        "KUBERNETES_SERVICE_PORT=" + std::to_string(api_.port())},
                       "");
  }

  std::string flags() {
    std::ifstream in(dir_ / "host/var/lib/kubelet/kubeadm-flags.env");
    return {std::istreambuf_iterator<char>(in), {}};
  }

  TestPki pki_;
  FakeKubeApi api_;
  fs::path dir_;
};

TEST_F(InstallFromNode, TheNodesKubeletVersionChoosesTheEntryWithNothingExecuted) {
  if (!can_stage_pod_files()) {
    GTEST_SKIP() << "cannot make a private mount namespace here (needs root or user namespaces)";
  }
  api_.allow(kUser, "get", "nodes");
  api_.add_node("worker-1", "v1.33.4");
  api_.add_node("worker-2", "v1.36.2");
  auto result = install("worker-1");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // 1.33 needs the feature gate; 1.34 and later have it on.
  EXPECT_THAT(flags(), HasSubstr("--feature-gates=KubeletServiceAccountTokenForCredentialProviders"
                                 "=true"));
  const auto requests = api_.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].target, "/api/v1/nodes/worker-1");
  EXPECT_EQ(requests[0].header("Authorization"), "Bearer " + kToken);
  EXPECT_THAT(result.out + result.err, Not(HasSubstr(kToken.substr(0, 16))));

  fs::remove_all(dir_ / "host");
  fs::create_directories(dir_ / "host/var/lib/kubelet");
  std::ofstream(dir_ / "host/var/lib/kubelet/kubeadm-flags.env") << "KUBELET_KUBEADM_ARGS=\"\"\n";
  result = install("worker-2");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(flags(), HasSubstr("--image-credential-provider-config="));
  EXPECT_THAT(flags(), Not(HasSubstr("--feature-gates")));
}

TEST_F(InstallFromNode, WithoutGetNodesItSaysSoInOneLineAndWritesNothing) {
  if (!can_stage_pod_files()) {
    GTEST_SKIP() << "cannot make a private mount namespace here (needs root or user namespaces)";
  }
  api_.add_node("worker-1", "v1.36.2");
  const auto before = flags();
  const auto result = install("worker-1");
  EXPECT_EQ(result.exit_code, 2) << "the operator's to fix: the RBAC, or --kubelet-version";
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_THAT(
      result.err,
      HasSubstr("or Node worker-1's status (reading Node worker-1: the API server at https://"));
  EXPECT_THAT(result.err, HasSubstr("cannot get resource \"nodes\" in API group \"\" at the "
                                    "cluster scope (HTTP 403)"));
  EXPECT_THAT(result.err, Not(HasSubstr(kToken.substr(0, 16))));
  EXPECT_EQ(flags(), before);
  EXPECT_FALSE(fs::exists(dir_ / "host/etc/kubernetes"));
}

}  // namespace
}  // namespace qcp::test
