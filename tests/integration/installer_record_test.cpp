// Issue 22, items 2 and 3: uninstall acts only on what install can ever manage, whatever the
// record says; install and uninstall hold one lock, so concurrent runs leave a consistent node.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "host_root_fixture.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::install::installer_record_test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kConfig = "/etc/kubernetes/credential-providers.yaml";
const std::string kRecord = std::string(kStateDirectory) + "/install.json";

class InstallRecord : public Installer {
 protected:
  void edit_record(const std::function<void(nlohmann::json&)>& change) {
    auto record = nlohmann::json::parse(read(kRecord));
    change(record);
    write(kRecord, record.dump(2));
  }
  // uninstall refuses, naming `expected`, and the node's tree is as it was.
  void expect_refused(const std::string& expected) {
    const auto before = snapshot(root_);
    try {
      uninstall_from(kConfig);
      ADD_FAILURE() << "uninstall acted on a record naming " << expected;
    } catch (const Failure& failure) {
      EXPECT_THAT(failure.what(), HasSubstr(expected));
      EXPECT_THAT(failure.what(), HasSubstr("nothing it names is touched"));
    }
    EXPECT_EQ(snapshot(root_), before);
  }
};

TEST_F(InstallRecord, UninstallRefusesARecordNamingFilesInstallNeverWrites) {
  write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  write("/etc/shadow", "root:*:19000:0:99999:7:::\n", fs::perms(0640));
  install_with(request(kConfig));
  edit_record([](nlohmann::json& record) {
    record["files"].push_back({{"path", "/etc/passwd"},
                               {"role", "config"},
                               {"original", "/etc/shadow"},
                               {"originalMode", 420},
                               {"writtenSha256", "0"}});
  });
  expect_refused("names /etc/passwd, which install never writes");
  EXPECT_TRUE(fs::exists(root_ / "etc/shadow"));
}

TEST_F(InstallRecord, UninstallRefusesASavedOriginalOutsideOriginals) {
  write(kConfig, "# the node's own, replaced by install\n");
  install_with(request(kConfig, KubeletGeneration::k1_34_or_later));
  write("/etc/shadow", "root:*:19000:0:99999:7:::\n", fs::perms(0640));
  edit_record([](nlohmann::json& record) {
    for (auto& file : record["files"]) {
      if (!file["original"].is_null()) {
        file["original"] = "/etc/shadow";
      }
    }
  });
  expect_refused("names /etc/shadow as a saved original");
}

TEST_F(InstallRecord, UninstallRefusesARoleThatIsNotThePathsOwn) {
  install_with(request(kConfig));
  edit_record([](nlohmann::json& record) {
    for (auto& file : record["files"]) {
      file["role"] = "binary";  // the config, restored as a binary would be (never edited)
    }
  });
  expect_refused("which install never writes");
}

TEST_F(InstallRecord, UninstallRefusesDirectoriesInstallNeverCreates) {
  fs::create_directories(root_ / "srv/empty");
  install_with(request(kConfig));
  edit_record([](nlohmann::json& record) { record["createdDirectories"].push_back("/srv/empty"); });
  expect_refused("names /srv/empty as a directory install created");
  EXPECT_TRUE(fs::exists(root_ / "srv/empty"));
}

TEST_F(InstallRecord, ARecordOthersCanWriteIsNotTrusted) {
  install_with(request(kConfig));
  fs::permissions(root_ / kRecord.substr(1), fs::perms(0666));
  expect_refused("is writable by group or others");
  fs::permissions(root_ / kRecord.substr(1), fs::perms(0644));
  fs::permissions(root_ / std::string(kStateDirectory).substr(1), fs::perms(0777));
  const auto before = snapshot(root_);
  EXPECT_THROW(uninstall_from(kConfig), Failure);
  EXPECT_THROW(install_with(request(kConfig)), Failure);
  EXPECT_EQ(snapshot(root_), before);
}

TEST_F(InstallRecord, ARecordOwnedByAnotherUserIsNotTrusted) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give the record to another user";
  }
  install_with(request(kConfig));
  ASSERT_EQ(::chown((root_ / kRecord.substr(1)).c_str(), 65534, 65534), 0);
  expect_refused("is owned by uid 65534");
}

TEST_F(InstallRecord, InstallAlsoRefusesATamperedRecord) {
  install_with(request(kConfig));
  edit_record([](nlohmann::json& record) { record["files"][0]["path"] = "/etc/hostname"; });
  const auto before = snapshot(root_);
  auto upgrade = request(kConfig);
  upgrade.binary =
      "\x7f"
      "ELF the provider, version 2";
  EXPECT_THROW(install_with(upgrade), Failure);
  EXPECT_EQ(snapshot(root_), before);
}

TEST_F(InstallRecord, ConcurrentInstallsThenUninstallLeaveTheNodeAsItWas) {
  write(kConfig, kEcrConfig);
  write(std::string(kBinDir) + "/ecr-credential-provider", "ecr", fs::perms(0755));
  const auto before = snapshot(root_);
  for (int round = 0; round < 8; ++round) {
    std::vector<std::thread> installs;
    std::atomic<int> failed{0};
    for (int i = 0; i < 3; ++i) {
      installs.emplace_back([&] {
        try {
          install_with(request(kConfig));
        } catch (const Failure& failure) {
          ++failed;
          ADD_FAILURE() << failure.what();
        }
      });
    }
    for (auto& thread : installs) {
      thread.join();
    }
    EXPECT_EQ(failed, 0) << "round " << round;
    EXPECT_TRUE(uninstall_from(kConfig).changed) << "round " << round;
    EXPECT_EQ(snapshot(root_), before) << "round " << round;
  }
}

TEST_F(InstallRecord, AnInstallWaitsForTheLockAndGivesUpAtItsDeadlineChangingNothing) {
  RootedFiles files(root_.string());
  const auto before = snapshot(root_);
  {
    const auto held = files.lock_directory(kStateDirectory, std::chrono::steady_clock::now());
    auto waiting = request(kConfig);
    waiting.lock_wait = std::chrono::seconds{1};
    try {
      install_with(waiting);
      ADD_FAILURE() << "installed while another held the lock";
    } catch (const Failure& failure) {
      EXPECT_THAT(failure.what(), HasSubstr("another install or uninstall has held"));
    }
    // Only its owner can open the locked directory, so only its owner can hold the lock.
    EXPECT_EQ(fs::status(root_ / std::string(kStateDirectory).substr(1)).permissions(),
              fs::perms(0700));
  }
  fs::remove(root_ / std::string(kStateDirectory).substr(1));  // the test's own lock made it
  EXPECT_EQ(snapshot(root_), before);
  install_with(request(kConfig));
  uninstall_from(kConfig);
  EXPECT_EQ(snapshot(root_), before);
}

TEST_F(InstallRecord, AStateDirectoryThatIsASymlinkIsNotLocked) {
  fs::create_directories(root_ / "srv/elsewhere");
  fs::create_directory_symlink("/srv/elsewhere", root_ / std::string(kStateDirectory).substr(1));
  const auto before = snapshot(root_);
  EXPECT_THROW(install_with(request(kConfig)), Failure);
  EXPECT_EQ(snapshot(root_), before);
}

}  // namespace
}  // namespace qcp::install::installer_record_test
