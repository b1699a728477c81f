// Issue 20: core's one directory lister, which check-config (the kubelet's config directory)
// and the installer (node directories under --host-root) both read through.
#include "qcp/core/file_io.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "layers.hpp"
#include "temp_dir.hpp"

namespace qcp {
namespace {

namespace fs = std::filesystem;

UniqueFd open_directory(const fs::path& path) {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
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

}  // namespace
}  // namespace qcp
