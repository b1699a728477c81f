// Issue 22, items 10 and 11: files that hold a credential or steer a privileged process (auth
// files, ready files, failure records) are never written through a planted symlink or into a
// file another user planted, are created as the caller's own 0600, and writers of one file
// take turns.
#include "qcp/core/private_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "temp_dir.hpp"

namespace qcp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class PrivateFile : public ::testing::Test {
 protected:
  PrivateFile() { dir_ = test::make_temp_dir("qcp-private"); }
  ~PrivateFile() override { fs::remove_all(dir_); }
  PrivateFile(const PrivateFile&) = delete;
  PrivateFile& operator=(const PrivateFile&) = delete;
  PrivateFile(PrivateFile&&) = delete;
  PrivateFile& operator=(PrivateFile&&) = delete;

  static std::string content(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static std::string refusal(const std::function<void()>& action) {
    try {
      action();
    } catch (const Failure& failure) {
      EXPECT_EQ(failure.code(), ExitCode::kUsage);
      return failure.what();
    }
    ADD_FAILURE() << "not refused";
    return "";
  }

  fs::path dir_;
};

TEST_F(PrivateFile, IsCreatedAsTheCallersOwnWithMode0600AndItsDirectoriesPrivate) {
  const auto path = dir_ / "a/b/auth.json";
  write_private_file(path.string(), "login: --authfile", "{}\n");
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777U, 0600U);
  EXPECT_EQ(status.st_uid, ::geteuid());
  ASSERT_EQ(::stat((dir_ / "a").c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777U, 0700U);
  EXPECT_EQ(read_private_file(path.string(), "login: --authfile", 1024), "{}\n");
  EXPECT_EQ(fs::directory_iterator(dir_ / "a/b")->path().filename(), "auth.json")
      << "a temporary file was left behind";
}

TEST_F(PrivateFile, APlantedSymlinkIsNeitherFollowedNorReplacedNorRemoved) {
  const auto victim = dir_ / "victim";
  std::ofstream(victim) << "another user's file\n";
  const auto path = dir_ / "auth.json";
  fs::create_symlink(victim, path);
  EXPECT_THAT(refusal([&] { write_private_file(path.string(), "login: --authfile", "{}"); }),
              HasSubstr("login: --authfile " + path.string() +
                        ": is a symbolic link, which is never followed for this file"));
  EXPECT_THAT(refusal([&] { static_cast<void>(read_private_file(path.string(), "x", 100)); }),
              HasSubstr("is a symbolic link"));
  EXPECT_FALSE(remove_private_file(path.string()));
  EXPECT_TRUE(fs::is_symlink(path));
  EXPECT_EQ(content(victim), "another user's file\n");
  // A dangling one too: following it would create the file where it points.
  fs::remove(path);
  fs::create_symlink(dir_ / "created-through-a-link", path);
  EXPECT_THAT(refusal([&] { write_private_file(path.string(), "x", "{}"); }),
              HasSubstr("symbolic link"));
  EXPECT_FALSE(fs::exists(dir_ / "created-through-a-link"));
}

TEST_F(PrivateFile, AFilePlantedByAnotherUserInAStickyDirectoryIsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to plant a file of another user";
  }
  fs::permissions(dir_, fs::perms(01777));
  const auto path = dir_ / "auth.json";
  std::ofstream(path) << "{}\n";
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  EXPECT_THAT(refusal([&] { write_private_file(path.string(), "login: --authfile", "secret"); }),
              HasSubstr("is owned by uid 65534, not 0"));
  EXPECT_THAT(refusal([&] { static_cast<void>(read_private_file(path.string(), "x", 100)); }),
              HasSubstr("is owned by uid 65534"));
  EXPECT_FALSE(remove_private_file(path.string()));
  EXPECT_EQ(content(path), "{}\n");
  // Nor may another user's lock file stall the writers.
  std::ofstream(dir_ / "other.json.lock");
  ASSERT_EQ(::chown((dir_ / "other.json.lock").c_str(), 65534, 65534), 0);
  EXPECT_THAT(refusal([&] {
                PrivateFileLock lock((dir_ / "other.json").string(), "x",
                                     std::chrono::steady_clock::now());
              }),
              HasSubstr("is owned by uid 65534"));
}

// Issue 23: a directory another user may write to (not sticky) or owns lets them swap the file
// between our check and our read; a password file open to group or others is refused.
TEST_F(PrivateFile, ADirectoryOthersMayChangeAndASecretOthersMayReadAreRefused) {
  const auto path = dir_ / "registry.example.org.json";
  std::ofstream(path) << "{}\n";
  fs::permissions(path, fs::perms(0600));
  EXPECT_EQ(read_secret_file(path.string(), "credentials file", 100), "{}\n");
  fs::permissions(path, fs::perms(0640));
  EXPECT_THAT(refusal([&] { static_cast<void>(read_secret_file(path.string(), "x", 100)); }),
              HasSubstr(path.string() + ": is open to group or others (mode 0640): a file that "
                                        "holds a password must be chmod 600"));
  EXPECT_EQ(read_private_file(path.string(), "x", 100), "{}\n");  // not a password file
  fs::permissions(path, fs::perms(0600));
  fs::permissions(dir_, fs::perms(0777));
  EXPECT_THAT(refusal([&] { static_cast<void>(read_secret_file(path.string(), "x", 100)); }),
              HasSubstr("is in a directory that group or others may write to"));
  EXPECT_THAT(refusal([&] { write_private_file(path.string(), "x", "{}"); }),
              HasSubstr("chmod go-w the directory"));
  fs::permissions(dir_, fs::perms(01777));  // sticky, as /tmp: others cannot swap our file
  EXPECT_EQ(read_secret_file(path.string(), "x", 100), "{}\n");
  if (::geteuid() == 0) {
    fs::permissions(dir_, fs::perms(0755));
    ASSERT_EQ(::chown(dir_.c_str(), 65534, 65534), 0);
    EXPECT_THAT(refusal([&] { static_cast<void>(read_secret_file(path.string(), "x", 100)); }),
                HasSubstr("is in a directory owned by uid 65534, who could replace it"));
    ASSERT_EQ(::chown(dir_.c_str(), 0, 0), 0);
  }
}

TEST_F(PrivateFile, WritersTakeTurnsUnderTheLockAndNoUpdateIsLost) {
  const auto path = (dir_ / "auth.json").string();
  std::vector<std::thread> writers;
  for (int i = 0; i < 12; ++i) {
    writers.emplace_back([&path, i] {
      const PrivateFileLock lock(path, "x",
                                 std::chrono::steady_clock::now() + std::chrono::seconds{30});
      const auto before = read_private_file(path, "x", 4096).value_or("");
      std::this_thread::sleep_for(std::chrono::milliseconds{5});  // widen the window
      write_private_file(path, "x", before + std::to_string(i) + "\n");
    });
  }
  for (auto& writer : writers) {
    writer.join();
  }
  const auto lines = content(path);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 12) << lines;
}

TEST_F(PrivateFile, ALockHeldPastTheDeadlineIsAFailureNotAHang) {
  const auto path = (dir_ / "auth.json").string();
  const PrivateFileLock held(path, "x", std::chrono::steady_clock::now());
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THAT(refusal([&] {
                PrivateFileLock waiting(path, "login: --authfile",
                                        started + std::chrono::milliseconds{300});
              }),
              HasSubstr("another writer held the lock past the deadline"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{2});
}

}  // namespace
}  // namespace qcp
