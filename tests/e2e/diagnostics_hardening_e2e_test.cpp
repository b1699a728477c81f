// check-config under hostile input: FIFOs, huge directories, globs built to explode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace qcp::test::diagnostics_hardening_test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::filesystem::path kExamples = QCP_EXAMPLES_DIR;

class CheckConfigHostile : public ::testing::Test {
 protected:
  CheckConfigHostile() { dir_ = test::make_temp_dir("qcp-cc"); }
  ~CheckConfigHostile() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  CheckConfigHostile(const CheckConfigHostile&) = delete;
  CheckConfigHostile& operator=(const CheckConfigHostile&) = delete;
  CheckConfigHostile(CheckConfigHostile&&) = delete;
  CheckConfigHostile& operator=(CheckConfigHostile&&) = delete;

  static ProcessResult check(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"check-config"};
    all.insert(all.end(), args.begin(), args.end());
    return run_process(kBinary, all, {}, "", ProcessOptions{.deadline = 20s});
  }

  std::filesystem::path dir_;
};

TEST_F(CheckConfigHostile, AFifoIsRefusedNotWaitedOn) {
  const auto fifo = dir_ / "config.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // As FILE: a usage error. As a *.yaml in a directory: a finding, since the kubelet would
  // read it too.
  const auto as_file = check({fifo.string()});
  EXPECT_EQ(as_file.exit_code, 2) << as_file.out << as_file.err;
  EXPECT_THAT(as_file.err, HasSubstr("not a regular file"));
  EXPECT_LT(as_file.elapsed, 5s);
  const auto in_directory = check({dir_.string()});
  EXPECT_EQ(in_directory.exit_code, 1) << in_directory.out << in_directory.err;
  EXPECT_THAT(in_directory.out, HasSubstr("not a regular file"));
  EXPECT_LT(in_directory.elapsed, 5s);
}

TEST_F(CheckConfigHostile, DanglingSymlinksAndSymlinkedDirectoriesAreReadAsTheKubeletDoes) {
  std::filesystem::copy_file(kExamples / "credential-provider-config-1.34.yaml",
                             dir_ / "10-quay.yaml");
  std::filesystem::create_directory(dir_ / "real-dir");
  std::filesystem::create_directory_symlink(dir_ / "real-dir", dir_ / "20-linked.yaml");
  std::filesystem::create_symlink(dir_ / "missing.yaml", dir_ / "30-dangling.yaml");
  std::filesystem::create_directory(dir_ / "40-subdir.yaml");  // a real directory is skipped
  const auto result = check({dir_.string()});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("20-linked.yaml: is a directory: the kubelet reads every"));
  EXPECT_THAT(result.out, HasSubstr("30-dangling.yaml: No such file or directory"));
  EXPECT_THAT(result.out, ::testing::Not(HasSubstr("40-subdir.yaml")));
}

TEST_F(CheckConfigHostile, ADirectoryOfManyLargeFilesIsBounded) {
  const std::string filler = "# " + std::string((std::size_t{1} << 20) - 16, 'x') + "\n";
  for (int i = 0; i < 40; ++i) {
    std::ofstream(dir_ / ("c" + std::to_string(100 + i) + ".yaml")) << filler;
  }
  const auto result = check({dir_.string()});
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("hold more than 4 MiB"));
  EXPECT_LT(result.max_rss_kib, rss_bound_kib() + 16L * 1024);  // 4 MiB of files and their trees
}

TEST_F(CheckConfigHostile, GlobsWithManyStarsMatchInPolynomialTime) {
  std::string text;
  {
    std::ifstream example(kExamples / "credential-provider-config-1.34.yaml");
    text.assign(std::istreambuf_iterator<char>(example), {});
  }
  // A label of 12 stars between a's, against an image host label of 60 a's and no b.
  const std::string glob = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const auto at = text.find("matchImages:");
  ASSERT_NE(at, std::string::npos);
  text.insert(text.find('\n', at) + 1, "      - \"" + glob + ".example.com\"\n");
  std::ofstream(dir_ / "stars.yaml") << text;
  const auto result = check(
      {"--image", std::string(60, 'a') + ".example.com/team/app", (dir_ / "stars.yaml").string()});
  EXPECT_NE(result.exit_code, -1) << "killed at the deadline";
  EXPECT_LT(result.elapsed, 5s);
}

}  // namespace
}  // namespace qcp::test::diagnostics_hardening_test
