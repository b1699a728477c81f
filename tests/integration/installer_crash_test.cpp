// Issue 22, item 4: an install or uninstall killed at any point (SIGKILL: the OOM killer at the
// DaemonSet's 128 Mi, an eviction past the grace period) is finished or undone by the next run,
// and nothing of it stays behind: no half-written temporary file, no saved original, no entry.
// Each run is a forked child that kills itself at its Nth change to the node, before the change
// or halfway through an atomic write (the temporary file written, the rename not done).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_root_fixture.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::install::installer_crash_test {
namespace {

constexpr const char* kConfig = "/etc/kubernetes/credential-provider-config.yaml";

class KillingFiles final : public ForwardingFiles {
 public:
  KillingFiles(HostFiles& real, fs::path root, int kill_at, bool halfway)
      : ForwardingFiles(real), root_(std::move(root)), kill_at_(kill_at), halfway_(halfway) {}
  void write_atomic(const std::string& p, std::string_view bytes, mode_t mode) override {
    if (++changes_ == kill_at_) {
      if (halfway_) {  // what RootedFiles leaves when killed between its write and its rename
        const auto at = root_ / p.substr(1);
        std::ofstream(at.parent_path() / ("." + at.filename().string() + ".qcp-0123456789ab"))
            << bytes.substr(0, bytes.size() / 2);
      }
      ::kill(::getpid(), SIGKILL);
    }
    ForwardingFiles::write_atomic(p, bytes, mode);
  }
  void remove_file(const std::string& p) override {
    if (++changes_ == kill_at_) {
      ::kill(::getpid(), SIGKILL);
    }
    ForwardingFiles::remove_file(p);
  }

 private:
  fs::path root_;
  int kill_at_;
  bool halfway_;
  int changes_ = 0;
};

class Killed : public Installer {
 protected:
  Killed() {
    write(kConfig, kEcrConfig);
    write(std::string(kBinDir) + "/ecr-credential-provider", "ecr", fs::perms(0755));
  }
  // Runs `step` in a child killed at its `kill_at`th change; true when it was killed (false:
  // it ran to the end first).
  bool killed_at(int kill_at, bool halfway, const std::function<void(HostFiles&)>& step) {
    const pid_t child = ::fork();
    if (child == 0) {
      RootedFiles real(root_.string());
      KillingFiles files(real, root_, kill_at, halfway);
      try {
        step(files);
      } catch (...) {
        ::_exit(3);
      }
      ::_exit(0);
    }
    int status = 0;
    EXPECT_EQ(::waitpid(child, &status, 0), child);
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0) << "the run failed before it was killed";
    }
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }
  InstallRequest version(int n) {
    auto result = request(kConfig);
    result.binary =
        "\x7f"
        "ELF the provider, version " +
        std::to_string(n) + std::string(4096, 'x');
    if (n > 1) {
      result.provider.match_images = {"quay.example.com", "quay.example.com:8443"};
    }
    // The node's policy too (--policy-source): one more file in the same transaction.
    result.policy_text =
        "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nrules:\n"
        "  - namespaces: [team-a]\n    robots: [\"team+*\"]\n    defaultRobot: team+v" +
        std::to_string(n) + "\n";
    result.policy_source = "policy.yaml";
    return result;
  }
};

TEST_F(Killed, AnInstallKilledAtAnyChangeIsUndoneByTheNextAndUninstallLeavesNoTrace) {
  const auto before = snapshot(root_);
  int point = 1;
  for (; point < 60; ++point) {
    for (const bool halfway : {false, true}) {
      SCOPED_TRACE("killed at change " + std::to_string(point) + (halfway ? ", halfway" : ""));
      const bool killed = killed_at(point, halfway, [this](HostFiles& files) {
        static_cast<void>(install(files, version(1)));
      });
      install_with(version(1));
      EXPECT_EQ(read(std::string(kBinDir) + "/quay-credential-provider"), version(1).binary);
      uninstall_from(kConfig);
      ASSERT_EQ(snapshot(root_), before);
      if (!killed) {
        return;  // every change point was tried
      }
    }
  }
  FAIL() << "install made more than " << point << " changes";
}

TEST_F(Killed, AnUpgradeKilledAtAnyChangeKeepsTheFirstOriginalsForUninstall) {
  const auto before = snapshot(root_);
  for (int point = 1; point < 60; ++point) {
    SCOPED_TRACE("killed at change " + std::to_string(point));
    install_with(version(1));
    const bool killed = killed_at(
        point, true, [this](HostFiles& files) { static_cast<void>(install(files, version(2))); });
    install_with(version(2));
    EXPECT_EQ(read(std::string(kBinDir) + "/quay-credential-provider"), version(2).binary);
    uninstall_from(kConfig);
    ASSERT_EQ(snapshot(root_), before);
    if (!killed) {
      return;
    }
  }
  FAIL() << "the upgrade never ran to its end";
}

TEST_F(Killed, AnUninstallKilledAtAnyChangeIsFinishedByTheNext) {
  const auto before = snapshot(root_);
  for (int point = 1; point < 60; ++point) {
    SCOPED_TRACE("killed at change " + std::to_string(point));
    install_with(version(1));
    const bool killed = killed_at(point, true, [](HostFiles& files) {
      static_cast<void>(uninstall(files, {.bin_dir = kBinDir,
                                          .config = kConfig,
                                          .provider_name = "quay-credential-provider",
                                          .restart_kubelet = {}}));
    });
    uninstall_from(kConfig);
    ASSERT_EQ(snapshot(root_), before);
    if (!killed) {
      return;
    }
  }
  FAIL() << "uninstall never ran to its end";
}

}  // namespace
}  // namespace qcp::install::installer_crash_test
