// Issue 20: core's one directory lister, which check-config (the kubelet's config directory)
// and the installer (node directories under --host-root) both read through.
#include "qcp/core/file_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "layers.hpp"
#include "qcp/core/atomic_write.hpp"
#include "temp_dir.hpp"

namespace qcp {
namespace {

namespace fs = std::filesystem;

UniqueFd open_directory(const fs::path& path) {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

UniqueFd open_file(const fs::path& path) {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

TEST(ListDirectory, NamesSortedAndOnlyRealDirectoriesCountAsDirectories) {
  const test::TempDir dir("qcp-list");
  std::ofstream(dir.path() / "b.yaml") << "b";
  std::ofstream(dir.path() / "a.yaml") << "a";
  fs::create_directory(dir.path() / "c.d");
  fs::create_directory_symlink(dir.path() / "c.d", dir.path() / "link-to-dir");

  std::vector<DirectoryEntry> entries;
  ASSERT_TRUE(list_directory(open_directory(dir.path()), entries));
  ASSERT_EQ(entries.size(), 4U);
  EXPECT_EQ(entries[0].name, "a.yaml");
  EXPECT_EQ(entries[1].name, "b.yaml");
  EXPECT_EQ(entries[2].name, "c.d");
  EXPECT_TRUE(entries[2].is_directory);
  EXPECT_EQ(entries[3].name, "link-to-dir");
  EXPECT_FALSE(entries[3].is_directory);  // as Go's os.ReadDir, and so the kubelet, sees it
  EXPECT_FALSE(entries[0].is_directory);
}

TEST(ListDirectory, ABadDescriptorFailsWithErrnoSet) {
  std::vector<DirectoryEntry> entries;
  errno = 0;
  EXPECT_FALSE(list_directory(UniqueFd(-1), entries));
  EXPECT_EQ(errno, EBADF);
  EXPECT_TRUE(entries.empty());
}

std::string content(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The one bounded reader: a file reporting size 0 (as /proc's do) is still read whole, and
// one byte past the bound is EFBIG, whatever fstat said.
TEST(ReadAll, ReadsPastTheSizeFstatGivesAndStopsAtTheBound) {
  std::string out = "kept:";
  const UniqueFd cmdline(::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(read_all(cmdline.get(), 1 << 20, out));
  EXPECT_GT(out.size(), 5U);
  EXPECT_EQ(out.substr(0, 5), "kept:");

  const test::TempDir dir("qcp-read");
  std::ofstream(dir.path() / "ten") << "0123456789";
  std::string exact;
  EXPECT_TRUE(read_all(open_file(dir.path() / "ten").get(), 10, exact));
  EXPECT_EQ(exact, "0123456789");
  std::string over;
  errno = 0;
  EXPECT_FALSE(read_all(open_file(dir.path() / "ten").get(), 9, over));
  EXPECT_EQ(errno, EFBIG);
  EXPECT_TRUE(over.empty());
}

// The one atomic writer behind --authfile, ready files, failure records and every node file
// the installer changes.
TEST(WriteAtomically, ReplacesWithTheModeGivenAndLeavesNoTemporaryFile) {
  const test::TempDir dir("qcp-atomic");
  std::ofstream(dir.path() / "file") << "old";
  const UniqueFd directory = open_directory(dir.path());
  const auto error = write_atomically(directory.get(), "file", "new",
                                      {.mode = 0640, .owner = std::nullopt, .before_replace = {}});
  EXPECT_FALSE(error);
  EXPECT_EQ(content(dir.path() / "file"), "new");
  EXPECT_EQ(fs::status(dir.path() / "file").permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  std::vector<DirectoryEntry> entries;
  ASSERT_TRUE(list_directory(open_directory(dir.path()), entries));
  EXPECT_EQ(entries.size(), 1U);
}

TEST(WriteAtomically, ALastLookThatRefusesReplacesNothingAndRemovesTheTemporaryFile) {
  const test::TempDir dir("qcp-atomic");
  std::ofstream(dir.path() / "file") << "old";
  const UniqueFd directory = open_directory(dir.path());
  const AtomicWrite how{.mode = 0600, .owner = std::nullopt, .before_replace = [] {
                          throw std::runtime_error("changed meanwhile");
                        }};
  EXPECT_THROW(static_cast<void>(write_atomically(directory.get(), "file", "new", how)),
               std::runtime_error);
  EXPECT_EQ(content(dir.path() / "file"), "old");
  std::vector<DirectoryEntry> entries;
  ASSERT_TRUE(list_directory(open_directory(dir.path()), entries));
  ASSERT_EQ(entries.size(), 1U);
  EXPECT_EQ(entries[0].name, "file");
}

TEST(WriteAtomically, ADirectoryAtTheNameIsAFailedReplaceWithTheTemporaryFileGone) {
  const test::TempDir dir("qcp-atomic");
  fs::create_directory(dir.path() / "file");
  fs::create_directory(dir.path() / "file" / "inside");  // a non-empty directory: rename fails
  const UniqueFd directory = open_directory(dir.path());
  const auto error = write_atomically(directory.get(), "file", "new",
                                      {.mode = 0600, .owner = std::nullopt, .before_replace = {}});
  ASSERT_TRUE(error);
  EXPECT_EQ(error->step, AtomicWriteStep::kReplace);
  EXPECT_EQ(error->error, EISDIR);
  std::vector<DirectoryEntry> entries;
  ASSERT_TRUE(list_directory(open_directory(dir.path()), entries));
  EXPECT_EQ(entries.size(), 1U);
}

}  // namespace
}  // namespace qcp
