// Issue 22, item 1: install asks the running kubelet its version by running its executable as
// root, so which process counts as the kubelet must be something the node's other users cannot
// choose. A process picks its own argv[0]; these fake /proc trees stage what an attacker can:
// a process of another uid named kubelet, one in a container's mount namespace, one whose
// executable (or a directory above it) another user can change. None of them is executed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host_root_fixture.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/install/kubelet_restart.hpp"

namespace qcp::install {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

// Runs a node program (a node path inside the fake root) as the node would.
class FakeRootNode final : public NodeCommands {
 public:
  explicit FakeRootNode(fs::path root) : root_(std::move(root)) {}
  ProcessResult run(const std::vector<std::string>& argv,
                    std::chrono::steady_clock::time_point deadline) override {
    ProcessSpec spec;
    spec.argv = argv;
    spec.argv.front() = (root_ / argv.front().substr(1)).string();
    spec.environment = {"PATH=/usr/bin:/bin"};
    spec.deadline = deadline;
    return run_process(spec);
  }

 private:
  fs::path root_;
};

class KubeletDiscovery : public Installer {
 protected:
  KubeletDiscovery() : node_(root_), marker_(root_ / "executed") {
    // An attacker's program: it leaves a marker when run, and claims a version.
    write("/home/evil/kubelet",
          "#!/bin/sh\ntouch '" + marker_.string() + "'\necho 'Kubernetes v1.99.0'\n",
          fs::perms(0755));
    write("/usr/bin/kubelet", "#!/bin/sh\necho 'Kubernetes v1.33.4'\n", fs::perms(0755));
  }
  std::string version() {
    const RootedFiles files(root_.string());
    return running_kubelet_version(files, node_);
  }
  std::string refusal() {
    try {
      ADD_FAILURE() << "told a version: " << version();
    } catch (const Failure& failure) {
      return failure.what();
    }
    return "";
  }

  FakeRootNode node_;
  fs::path marker_;
};

TEST_F(KubeletDiscovery, AProcessOfAnotherUserNamedKubeletIsNeverExecuted) {
  // "19" sorts before "4242" as text and as a number: it is looked at first.
  fake_process("19", "kubelet\0--v=2\0"s, "/home/evil/kubelet", 65534);
  fake_process("4242", "/usr/bin/kubelet\0--v=2\0"s, "/usr/bin/kubelet");
  EXPECT_EQ(version(), "v1.33.4");
  EXPECT_FALSE(fs::exists(marker_)) << "another user's program was executed";
}

TEST_F(KubeletDiscovery, PidsAreTakenInNumericOrder) {
  fake_process("2", "/usr/bin/kubelet\0"s, "/usr/bin/kubelet");
  fake_process("19", "kubelet\0"s, "/home/evil/kubelet", 65534);
  EXPECT_EQ(version(), "v1.33.4");
  EXPECT_FALSE(fs::exists(marker_));
}

TEST_F(KubeletDiscovery, OnlyUntrustedCandidatesAreRefusedSayingWhy) {
  fake_process("19", "kubelet\0"s, "/home/evil/kubelet", 65534);
  const auto why = refusal();
  EXPECT_THAT(why, HasSubstr("no kubelet process in the node's /proc (pid 19 is named kubelet "
                             "but runs as uid 65534: not trusted)"));
  EXPECT_FALSE(fs::exists(marker_));
}

TEST_F(KubeletDiscovery, RootInAContainersMountNamespaceIsNotTheNodesKubelet) {
  // A pod running as root: uid 0, but its files are its image's, not the node's.
  fake_process("19", "/usr/bin/kubelet\0"s, "/home/evil/kubelet", 0, "mnt:[4026532999]");
  EXPECT_THAT(refusal(), HasSubstr("pid 19 is named kubelet but is not in the node's mount "
                                   "namespace: not trusted"));
  EXPECT_FALSE(fs::exists(marker_));
}

TEST_F(KubeletDiscovery, AnExecutableOthersCanChangeIsNotRun) {
  fake_process("19", "/usr/bin/kubelet\0"s, "/usr/bin/kubelet");
  fs::permissions(root_ / "usr/bin/kubelet", fs::perms(0775));
  EXPECT_THAT(refusal(), HasSubstr("runs /usr/bin/kubelet, which another user could change"));
  fs::permissions(root_ / "usr/bin/kubelet", fs::perms(0755));
  fs::permissions(root_ / "usr/bin", fs::perms(0777));
  EXPECT_THAT(refusal(),
              HasSubstr("runs /usr/bin/kubelet from /usr/bin, which another user could change"));
}

TEST_F(KubeletDiscovery, AnExecutableReplacedSinceTheKubeletStartedIsNotRun) {
  fake_process("19", "/usr/bin/kubelet\0"s, "/usr/bin/kubelet (deleted)");
  EXPECT_THAT(refusal(), HasSubstr("runs a program that is no longer on the node"));
}

TEST_F(KubeletDiscovery, AProcessOfAnotherUserIsNotAskedForItsFlagsEither) {
  fake_process("19", "kubelet\0--image-credential-provider-config=/home/evil/c.yaml\0"s,
               "/home/evil/kubelet", 65534);
  const auto report = install_with(request("/etc/kubernetes/credential-providers.yaml")).report;
  EXPECT_THAT(report.back(), HasSubstr("no kubelet process found in the node's /proc"));
}

TEST_F(KubeletDiscovery, SaysRestartOnlyWhenTheConfigChangedSinceTheKubeletStarted) {
  // Issue 22, item 21: from /proc/PID/stat's starttime and /proc/stat's btime.
  const std::string config = "/etc/kubernetes/credential-providers.yaml";
  fake_process("4242",
               "/usr/bin/kubelet\0--image-credential-provider-config="s + config +
                   "\0--image-credential-provider-bin-dir="s + kBinDir + "\0"s,
               "/usr/bin/kubelet");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto booted = [this](long long btime) {
    write("/proc/stat", "cpu  1 2 3\nbtime " + std::to_string(btime) + "\nprocesses 9\n");
  };
  booted(now - 200);  // the kubelet started 199 s ago, before install wrote the config
  EXPECT_THAT(install_with(request(config)).report.back(),
              HasSubstr("runs with --image-credential-provider-config=" + config +
                        " --image-credential-provider-bin-dir=" + std::string(kBinDir) +
                        ": restart it to read the new config"));
  booted(now + 5);  // restarted since: it has read the config as it is
  const auto again = install_with(request(config));
  EXPECT_FALSE(again.changed);
  EXPECT_THAT(again.report.back(),
              HasSubstr("started after the config was last written: nothing to restart"));
}

TEST(NodeNamespace, AnUnreadableInitNamespaceIsReportedWithItsErrno) {
  // Not "the pod needs hostPID": the pod may have it, and an LSM still say no.
  const HostNodeCommands node("/host", "/nonexistent/1/ns/mnt");
  try {
    node.check_reachable("systemctl");
    ADD_FAILURE() << "reachable";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("cannot run systemctl on the node: cannot read "
                                          "/nonexistent/1/ns/mnt: No such file or directory"));
  }
}

}  // namespace
}  // namespace qcp::install
