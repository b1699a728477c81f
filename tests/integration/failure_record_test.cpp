// Issue 22, item 6: --failure-record exists to stop a restart loop, so it must be written
// whatever its directory, never through a planted link, and an install whose record could not
// be written must not restart the kubelet at all.
#include "qcp/install/failure_record.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "host_root_fixture.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::install::failure_record_test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kConfig = "/etc/kubernetes/credential-providers.yaml";

class FailureRecordFile : public Installer {
 protected:
  FailureRecordFile() : scratch_(root_.string() + ".scratch") { fs::create_directories(scratch_); }
  ~FailureRecordFile() override { fs::remove_all(scratch_); }
  FailureRecordFile(const FailureRecordFile&) = delete;
  FailureRecordFile& operator=(const FailureRecordFile&) = delete;
  FailureRecordFile(FailureRecordFile&&) = delete;
  FailureRecordFile& operator=(FailureRecordFile&&) = delete;

  // An install whose kubelet never comes up: every restart fails.
  InstallRequest failing() {
    auto result = request(kConfig);
    result.restart_kubelet = [this]() -> std::string {
      ++restarts_;
      throw Failure(ExitCode::kLookupFailed, "the kubelet was not healthy");
    };
    return result;
  }
  std::string attempt(const std::string& record) {
    RootedFiles files(root_.string());
    try {
      FailureRecord(record, "binary-1 args-1").install(files, failing());
    } catch (const Failure& failure) {
      return failure.what();
    }
    return "";
  }

  fs::path scratch_;  // the container's own files (an emptyDir), outside the node's
  int restarts_ = 0;
};

TEST_F(FailureRecordFile, IsWrittenIntoADirectoryThatDidNotExistAndStopsTheNextRound) {
  const auto record = (scratch_ / "run/quay-credential-provider/failed-install").string();
  EXPECT_THAT(attempt(record), HasSubstr("the kubelet was not healthy"));
  EXPECT_EQ(restarts_, 2);  // the failed one and the one after putting everything back
  struct stat status {};
  ASSERT_EQ(::stat(record.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777U, 0600U);
  const auto again = attempt(record);
  EXPECT_THAT(again, HasSubstr("not trying again what the kubelet did not come up with (the "
                               "kubelet was not healthy; put back the previous files"));
  EXPECT_THAT(again, ::testing::EndsWith("to try again")) << "no escaped newline at the end";
  EXPECT_EQ(restarts_, 2);
}

TEST_F(FailureRecordFile, APlantedLinkAtTheRecordStopsTheInstallBeforeAnyRestart) {
  const auto victim = scratch_ / "victim";
  std::ofstream(victim) << "kept\n";
  const auto record = scratch_ / "failed-install";
  fs::create_symlink(victim, record);
  const auto before = snapshot(root_);
  EXPECT_THAT(attempt(record.string()), HasSubstr("is a symbolic link"));
  EXPECT_EQ(restarts_, 0);
  EXPECT_EQ(snapshot(root_), before);
  std::ifstream in(victim);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "kept\n");
}

TEST_F(FailureRecordFile, APlantedDotNewLinkIsNotWrittenThrough) {
  const auto victim = scratch_ / "victim";
  std::ofstream(victim) << "kept\n";
  const auto record = scratch_ / "failed-install";
  fs::create_symlink(victim, record.string() + ".new");
  EXPECT_THAT(attempt(record.string()), HasSubstr("the kubelet was not healthy"));
  std::ifstream in(victim);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "kept\n");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(record)));
}

TEST_F(FailureRecordFile, ARecordThatCannotBeWrittenStopsTheInstallBeforeAnyRestart) {
  std::ofstream(scratch_ / "not-a-directory") << "";
  const auto before = snapshot(root_);
  EXPECT_THAT(attempt((scratch_ / "not-a-directory/failed-install").string()),
              HasSubstr("install: --failure-record"));
  EXPECT_EQ(restarts_, 0);
  EXPECT_EQ(snapshot(root_), before);
}

}  // namespace
}  // namespace qcp::install::failure_record_test
