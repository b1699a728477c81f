// Issue 23: static-credential-provider answers from a directory of per-registry files, read on
// every call: longest suffix first, ports kept, files of others or open to others refused, the
// password never in a message, a missing file "no credentials".
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fake_clock.hpp"
#include "layers.hpp"
#include "no_leak.hpp"
#include "qcp/cli/app.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/static_provider/credentials_file.hpp"
#include "temp_dir.hpp"

namespace qcp {
namespace static_provider_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kPassword = "s3cret-Passw0rd-that-must-never-be-printed";

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class StaticProvider : public ::testing::Test {
 protected:
  StaticProvider() : dir_(test::make_temp_dir("qcp-static")) {}
  ~StaticProvider() override { fs::remove_all(dir_); }
  StaticProvider(const StaticProvider&) = delete;
  StaticProvider& operator=(const StaticProvider&) = delete;
  StaticProvider(StaticProvider&&) = delete;
  StaticProvider& operator=(StaticProvider&&) = delete;

  void put(const std::string& name, const std::string& text, fs::perms mode = fs::perms(0600)) {
    std::ofstream(dir_ / name) << text;
    fs::permissions(dir_ / name, mode);
  }
  static std::string credentials(const std::string& user, const std::string& extra = {}) {
    return R"({"username": ")" + user + R"(", "password": ")" + kPassword + "\"" + extra + "}";
  }
  Outcome call(const std::string& image, std::vector<std::string> args = {}) {
    if (args.empty()) {
      args = {"--credentials-dir", dir_.string()};
    }
    const std::string request =
        R"({"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1",)"
        R"("image":")" +
        image + "\"}";
    std::istringstream in(request);
    std::ostringstream out;
    std::ostringstream err;
    const test::FixedClock clock;
    const int code =
        cli::run_static_provider(args, {in, out, err}, Environment::from_process(), clock);
    return {code, out.str(), err.str()};
  }
  // The user the response gives for the image's registry, "" when it gives none.
  static std::string user_in(const Outcome& run, const std::string& registry) {
    const auto json = nlohmann::json::parse(run.out);
    return json["auth"].contains(registry) ? json["auth"][registry]["username"].get<std::string>()
                                           : "";
  }

  fs::path dir_;
};

TEST(CandidateFiles, LongestSuffixFirstWithThePortInEveryName) {
  EXPECT_EQ(
      candidate_files("registry.example.org"),
      (std::vector<std::string>{"registry.example.org.json", "example.org.json", "org.json"}));
  EXPECT_EQ(candidate_files("registry.example.org:5000"),
            (std::vector<std::string>{"registry.example.org:5000.json", "example.org:5000.json",
                                      "org:5000.json"}));
  EXPECT_EQ(candidate_files("localhost:5000"), std::vector<std::string>{"localhost:5000.json"});
  EXPECT_EQ(candidate_files("10.0.0.7:5000"), std::vector<std::string>{"10.0.0.7:5000.json"});
  EXPECT_EQ(candidate_files("[::1]:5000"), std::vector<std::string>{"[::1]:5000.json"});
}

TEST_F(StaticProvider, TheLongestSuffixAnswersAndTheKeyIsTheImagesRegistry) {
  put("example.org.json", credentials("wide"));
  put("registry.example.org.json", credentials("narrow", R"(, "duration": "1h")"));
  auto run = call("registry.example.org/team/app");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(user_in(run, "registry.example.org"), "narrow");
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["cacheDuration"], "3600s");
  EXPECT_EQ(json["cacheKeyType"], "Registry");
  EXPECT_EQ(json["auth"]["registry.example.org"]["password"], kPassword);
  run = call("mirror.example.org/team/app");
  EXPECT_EQ(user_in(run, "mirror.example.org"), "wide");
  EXPECT_EQ(nlohmann::json::parse(run.out)["cacheDuration"], "300s");  // the default
  test::expect_no_leak(run.err, {kPassword});
}

TEST_F(StaticProvider, PortsAreKeptAsTheKubeletMatchesThem) {
  put("registry.example.org:5000.json", credentials("port5000"));
  EXPECT_EQ(user_in(call("registry.example.org:5000/app"), "registry.example.org:5000"),
            "port5000");
  const auto without_port = call("registry.example.org/app");
  EXPECT_EQ(without_port.exit_code, 0);
  EXPECT_TRUE(nlohmann::json::parse(without_port.out)["auth"].empty());
  put("registry.example.org.json", credentials("noport"));
  EXPECT_EQ(user_in(call("registry.example.org:5001/app"), "registry.example.org:5001"), "");
}

TEST_F(StaticProvider, NoFileIsNoCredentialsNotCachedSoAFileAddedIsSeenAtOnce) {
  auto run = call("registry.example.org/app");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_TRUE(json["auth"].empty());
  EXPECT_EQ(json["cacheDuration"], "0s");
  EXPECT_THAT(run.err, HasSubstr("no credentials file for registry.example.org"));
  put("org.json", credentials("added"));
  EXPECT_EQ(user_in(call("registry.example.org/app"), "registry.example.org"), "added");
}

TEST_F(StaticProvider, EveryCallRereadsTheFileSoARotatedPasswordIsServed) {
  put("example.org.json", credentials("before"));
  EXPECT_EQ(user_in(call("example.org/app"), "example.org"), "before");
  put("example.org.json", R"({"username": "after", "password": "rotated"})");
  const auto run = call("example.org/app");
  EXPECT_EQ(nlohmann::json::parse(run.out)["auth"]["example.org"]["password"], "rotated");
}

TEST_F(StaticProvider, APasswordFileIsReadRelativeToTheDirectory) {
  put("example.org.json", R"({"username": "u", "passwordFile": "secrets/example"})");
  fs::create_directory(dir_ / "secrets");
  fs::permissions(dir_ / "secrets", fs::perms(0700));
  put("secrets/example", std::string(kPassword) + "\n");
  auto run = call("example.org/app");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["auth"]["example.org"]["password"], kPassword);
  fs::permissions(dir_ / "secrets/example", fs::perms(0644));
  run = call("example.org/app");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("is open to group or others (mode 0644)"));
}

TEST_F(StaticProvider, UnusableFilesAreOneLineErrorsThatNeverQuoteThePassword) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::string(R"({"username": "u", "password": ")") + kPassword, "is not a JSON object"},
      {credentials("u", R"(, "email": "x")"), "unknown field \"email\""},
      {R"({"password": "p"})", "has no username"},
      {R"({"username": "u"})", "exactly one of password and passwordFile"},
      {credentials("u", R"(, "passwordFile": "/x")"), "exactly one of password and passwordFile"},
      {R"({"username": 5, "password": "p"})", "username must be a string"},
      {credentials("u", R"(, "duration": "1d")"), "duration must be a Go duration"},
      {credentials("u", R"(, "duration": "-1h")"), "duration must be a Go duration"},
      {R"({"username": "u", "passwordFile": "missing"})", "does not exist"},
  };
  for (const auto& [text, expected] : cases) {
    put("example.org.json", text);
    const auto run = call("example.org/app");
    EXPECT_EQ(run.exit_code, 2) << text;
    EXPECT_EQ(run.out, "") << text;
    EXPECT_THAT(run.err, HasSubstr("credentials file " + (dir_ / "example.org.json").string()))
        << text;
    EXPECT_THAT(run.err, HasSubstr(expected)) << text;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    test::expect_no_leak(run.err, {kPassword});
  }
}

TEST_F(StaticProvider, FilesOpenToOthersOrLinkedAreRefused) {
  put("example.org.json", credentials("u"), fs::perms(0644));
  auto run = call("example.org/app");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("mode 0644"));
  fs::remove(dir_ / "example.org.json");
  put("target.json", credentials("u"));
  fs::create_symlink(dir_ / "target.json", dir_ / "example.org.json");
  run = call("example.org/app");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("is a symbolic link"));
  test::expect_no_leak(run.err, {kPassword});
}

TEST_F(StaticProvider, FlagsAreCheckedBeforeStdinIsRead) {
  auto run = call("example.org/app", {"--credentials-dir", (dir_ / "absent").string()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("static-credential-provider: --credentials-dir"));
  run = call("example.org/app", {"--bogus"});
  EXPECT_EQ(run.exit_code, 2);
  run = call("example.org/app", {"--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.out, HasSubstr("--credentials-dir"));
}

}  // namespace
}  // namespace static_provider_test
}  // namespace qcp
