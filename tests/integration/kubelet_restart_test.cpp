// --restart-kubelet against a fake systemctl (a real script, run as the node would run it) and
// a fake kubelet healthz (a real HTTP listener on loopback): a healthy restart, a restart the
// kubelet does not survive (everything put back, restarted again), and no restart when nothing
// changed.
#include "qcp/install/kubelet_restart.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "fake_healthz.hpp"
#include "host_root_fixture.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/install/failure_record.hpp"

namespace qcp::install::kubelet_restart_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using test::FakeHealthz;

// The node's programs: the directory of fake ones (node paths inside the fake root), run
// through run_process as the node's are.
class ScriptedNode final : public NodeCommands {
 public:
  ScriptedNode(fs::path root, fs::path bin, std::vector<std::string> environment)
      : root_(std::move(root)), bin_(std::move(bin)), environment_(std::move(environment)) {}
  ProcessResult run(const std::vector<std::string>& argv,
                    std::chrono::steady_clock::time_point deadline) override {
    ProcessSpec spec;
    spec.argv = argv;
    if (argv.front().starts_with('/')) {
      spec.argv.front() = (root_ / argv.front().substr(1)).string();
    }
    spec.search_path = bin_.string();
    spec.environment = environment_;
    spec.deadline = deadline;
    return run_process(spec);
  }

 private:
  fs::path root_;
  fs::path bin_;
  std::vector<std::string> environment_;
};

class KubeletRestart : public Installer {
 protected:
  KubeletRestart()
      : tools_(root_ / "tools"),
        healthz_(root_ / "tools/kubelet-state"),
        node_(root_, tools_,
              {"PATH=/usr/bin:/bin", "LOG=" + (tools_ / "systemctl.log").string(),
               "STATE=" + (tools_ / "kubelet-state").string(),
               "CONFIG=" + (root_ / "etc/kubernetes/credential-providers.yaml").string()}) {
    // The fake kubelet comes up unless the config names a provider whose binary says "broken".
    write("/tools/systemctl",
          "#!/bin/sh\n"
          "echo \"$*\" >> \"$LOG\"\n"
          "[ \"$1 $2\" = \"restart kubelet\" ] || { echo \"no unit $2\" >&2; exit 5; }\n"
          "if grep -qs broken \"$CONFIG\"; then echo down; else echo up; fi > \"$STATE\"\n",
          fs::perms(0755));
    settings_.healthz.port = healthz_.port();
    settings_.timeout = std::chrono::seconds{3};
  }
  InstallRequest restarting(const std::string& config) {
    auto result = request(config);
    result.restart_kubelet = [this] { return restart_kubelet(node_, settings_); };
    return result;
  }
  [[nodiscard]] std::string restarts() const { return read("/tools/systemctl.log"); }

  fs::path tools_;
  FakeHealthz healthz_;
  ScriptedNode node_;
  RestartSettings settings_;
};

constexpr const char* kConfig = "/etc/kubernetes/credential-providers.yaml";

TEST_F(KubeletRestart, AHealthyRestartIsReportedAndANoChangeInstallRestartsNothing) {
  const auto report = install_with(restarting(kConfig)).report;
  EXPECT_THAT(report, testing::Contains(
                          HasSubstr("restarted the kubelet (systemctl restart kubelet): healthy at "
                                    "http://127.0.0.1:" +
                                    std::to_string(healthz_.port()) + "/healthz after")));
  EXPECT_EQ(restarts(), "restart kubelet\n");
  EXPECT_FALSE(install_with(restarting(kConfig)).changed);
  EXPECT_EQ(restarts(), "restart kubelet\n");
}

TEST_F(KubeletRestart, AKubeletThatDoesNotComeBackGetsEverythingPutBackAndARestart) {
  write(kConfig, kEcrConfig);
  write(std::string(kBinDir) + "/ecr-credential-provider", "ecr", fs::perms(0755));
  const auto before = snapshot(root_ / "etc");
  auto request = restarting(kConfig);
  request.provider.match_images = {"broken.quay.example.com"};
  try {
    install_with(request);
    ADD_FAILURE() << "accepted";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(),
                HasSubstr("the kubelet was not healthy at http://127.0.0.1:" +
                          std::to_string(healthz_.port()) +
                          "/healthz within 3s of systemctl restart kubelet; put back the "
                          "previous files and then restarted the kubelet (systemctl restart "
                          "kubelet): healthy"));
  }
  EXPECT_EQ(restarts(), "restart kubelet\nrestart kubelet\n");
  EXPECT_EQ(snapshot(root_ / "etc"), before);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/quay-credential-provider"));
  EXPECT_FALSE(fs::exists(root_ / std::string(kBinDir).substr(1) / "quay-credential-provider"));
}

TEST_F(KubeletRestart, AnInstallTheKubeletDidNotSurviveIsNotTriedAgain) {
  write(std::string(kBinDir) + "/ecr-credential-provider", "ecr", fs::perms(0755));
  auto request = restarting(kConfig);
  request.provider.match_images = {"broken.quay.example.com"};
  const std::string record = (tools_ / "failed-install").string();
  const FailureRecord attempts(record, "binary-1 args-1");
  {
    RootedFiles files(root_.string());
    EXPECT_THROW(attempts.install(files, request), Failure);
  }
  EXPECT_EQ(restarts(), "restart kubelet\nrestart kubelet\n");
  const auto before = snapshot(root_ / "etc");
  for (int round = 0; round < 2; ++round) {  // a --watch round, a restarted container
    try {
      RootedFiles files(root_.string());
      attempts.install(files, request);
      ADD_FAILURE() << "tried again";
    } catch (const Failure& failure) {
      EXPECT_THAT(failure.what(), HasSubstr("install: not trying again what the kubelet did not "
                                            "come up with (the kubelet was not healthy at"));
      EXPECT_THAT(failure.what(), HasSubstr("delete " + record + " (or the pod) to try again"));
    }
  }
  EXPECT_EQ(restarts(), "restart kubelet\nrestart kubelet\n");
  EXPECT_EQ(snapshot(root_ / "etc"), before);
  // Another binary or other settings are a new attempt; so is one after the record is deleted.
  request.provider.match_images = {"quay.example.com"};
  RootedFiles files(root_.string());
  EXPECT_TRUE(FailureRecord(record, "binary-2 args-1").install(files, request).changed);
  EXPECT_EQ(restarts(), "restart kubelet\nrestart kubelet\nrestart kubelet\n");
}

TEST_F(KubeletRestart, AFailingSystemctlIsReportedWithItsOwnWords) {
  settings_.unit = "kubelet-other";
  try {
    install_with(restarting(kConfig));
    ADD_FAILURE() << "accepted";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("systemctl restart kubelet-other failed (exit status "
                                          "5): no unit kubelet-other"));
    EXPECT_THAT(failure.what(), HasSubstr("put back the previous files, and that failed too: "));
    EXPECT_THAT(failure.what(), Not(HasSubstr("and and")));
  }
  EXPECT_FALSE(fs::exists(root_ / "etc/kubernetes/credential-providers.yaml"));
}

TEST_F(KubeletRestart, UninstallRestartsTheKubeletToo) {
  install_with(request(kConfig));
  RootedFiles files(root_.string());
  const auto report =
      uninstall(files, {.bin_dir = kBinDir,
                        .config = kConfig,
                        .provider_name = "quay-credential-provider",
                        .restart_kubelet = [this] { return restart_kubelet(node_, settings_); }})
          .report;
  EXPECT_THAT(report, testing::Contains(HasSubstr("restarted the kubelet")));
  EXPECT_EQ(restarts(), "restart kubelet\n");
}

TEST_F(KubeletRestart, TheRunningKubeletTellsItsVersionWhenTheConfigCannot) {
  using namespace std::string_literals;
  auto unsaid = request(kConfig, std::nullopt);
  unsaid.ask_kubelet = [this] {
    const RootedFiles files(root_.string());
    const auto version = running_kubelet_version(files, node_);
    EXPECT_EQ(version, "v1.33.4");
    return version.starts_with("v1.33.") ? KubeletGeneration::k1_33
                                         : KubeletGeneration::k1_34_or_later;
  };
  try {
    install_with(unsaid);
    ADD_FAILURE() << "accepted";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("or the running kubelet (no kubelet process in the "
                                          "node's /proc): pass --kubelet-version 1.N"));
  }
  write("/usr/bin/kubelet", "#!/bin/sh\necho \"Kubernetes v1.33.4\"\n", fs::perms(0755));
  fake_process("4242", "/usr/bin/kubelet\0--v=2\0"s, "/usr/bin/kubelet");
  install_with(unsaid);
  EXPECT_THAT(read(kConfig), Not(HasSubstr("cacheType")));
}

TEST(HealthzUrl, TakesLoopbackHttpOnly) {
  const auto parsed = parse_healthz_url("http://localhost:10248/healthz");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->url(), "http://127.0.0.1:10248/healthz");
  EXPECT_EQ(parse_healthz_url("http://10.0.0.1:1/")->url(), "http://10.0.0.1:1/");
  for (const char* bad :
       {"https://127.0.0.1:10248/healthz", "http://127.0.0.1/healthz", "http://node:10248/healthz",
        "http://127.0.0.1:0/", "http://127.0.0.1:99999/", "http://127.0.0.1:1/a b"}) {
    EXPECT_FALSE(parse_healthz_url(bad)) << bad;
  }
}

TEST(HealthzUrl, NothingListeningIsUnhealthyAtOnce) {
  HealthzEndpoint endpoint;
  endpoint.port = 1;  // reserved: nothing listens there
  EXPECT_FALSE(
      kubelet_healthy(endpoint, std::chrono::steady_clock::now() + std::chrono::seconds{1}));
}

}  // namespace
}  // namespace qcp::install::kubelet_restart_test
