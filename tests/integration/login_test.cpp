// login: one exchange against a fake Quay over real HTTPS, its credential written where tools
// read it: merged into an auth file (others' entries kept, 0600, atomic), a dockerconfigjson
// Secret manifest, or External Secrets' keys; bad input refused before anything is read or
// sent; no token or piece of one in any message.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "layers.hpp"
#include "qcp/core/jwt.hpp"
#include "workload_fixture.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// Standard base64 (RFC 4648 §4), through the test support's url-safe decoder.
std::optional<std::string> decode_base64(std::string text) {
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  return test::base64url_decode(text);
}

class Login : public WorkloadFixture {
 protected:
  Outcome login(std::vector<std::string> extra, const std::string& robot = kWorkloadRobot) {
    std::vector<std::string> args = {"login",      "--robot",     robot,
                                     "--registry", quay_.host(),  "--ca-file",
                                     ca_file_,     "--log-level", "debug"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto outcome = run_plugin("", args);
    std::vector<std::string> secrets = {token_};
    for (const auto& request : quay_.requests()) {
      if (request.basic_password) {
        secrets.push_back(*request.basic_password);
      }
    }
    expect_no_leak(outcome.err, secrets);
    return outcome;
  }
  // An `auth` value: base64 of "robot:token", the token one the fake Quay signed for the robot.
  void expect_robot_auth(const Json& auth) const {
    ASSERT_TRUE(auth.is_string());
    const auto pair = decode_base64(auth.get<std::string>());
    ASSERT_TRUE(pair);
    ASSERT_TRUE(pair->starts_with(std::string(kWorkloadRobot) + ":"));
    expect_robot_token(pair->substr(std::string(kWorkloadRobot).size() + 1));
  }
};

TEST_F(Login, MergesTheCredentialIntoAnAuthFileKeepingOtherEntries) {
  const auto authfile = dir_.path() / "containers/auth.json";
  std::filesystem::create_directories(authfile.parent_path());
  std::ofstream(authfile)
      << R"({"auths":{"docker.io":{"auth":"b3RoZXI6c2VjcmV0"}},"credHelpers":{"gcr.io":"gcloud"}})";
  const auto outcome = login({"--token-file", token_file_, "--authfile", authfile.string()});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(outcome.out, "");
  EXPECT_THAT(outcome.err, HasSubstr("wrote the credential for robot team+builder on " +
                                     quay_.host() + " (Quay token sha256="));
  std::ifstream in(authfile);
  const Json file = Json::parse(in);
  expect_robot_auth(file["auths"][quay_.host()]["auth"]);
  EXPECT_EQ(file["auths"]["docker.io"]["auth"], "b3RoZXI6c2VjcmV0");
  EXPECT_EQ(file["credHelpers"]["gcr.io"], "gcloud");
  struct stat status {};
  ASSERT_EQ(::stat(authfile.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777U, 0600U);
  ASSERT_EQ(quay_.request_count(), 1U);
  EXPECT_EQ(quay_.requests().front().basic_user, kWorkloadRobot);
  EXPECT_EQ(quay_.requests().front().basic_password, token_);
}

TEST_F(Login, CreatesAMissingAuthFileAndItsDirectoryPrivately) {
  const auto authfile = dir_.path() / "run/user/containers/auth.json";
  ASSERT_EQ(login({"--token-file", token_file_, "--authfile", authfile.string()}).exit_code, 0);
  struct stat status {};
  ASSERT_EQ(::stat(authfile.parent_path().c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777U, 0700U);
  std::ifstream in(authfile);
  EXPECT_EQ(Json::parse(in)["auths"].size(), 1U);
}

TEST_F(Login, NeverWritesTheCredentialThroughAPlantedSymlink) {
  // Issue 22, item 10: run as root in a shared directory, the link another user planted would
  // have sent the credential into their file.
  const auto victim = dir_.path() / "someone-elses.json";
  std::ofstream(victim) << "{}";
  const auto authfile = dir_.path() / "auth.json";
  std::filesystem::create_symlink(victim, authfile);
  const auto outcome = login({"--token-file", token_file_, "--authfile", authfile.string()});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_THAT(outcome.err, HasSubstr("login: --authfile " + authfile.string() +
                                     ": is a symbolic link, which is never followed"));
  std::ifstream in(victim);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "{}");
  EXPECT_TRUE(std::filesystem::is_symlink(authfile));
}

TEST_F(Login, AnAuthFileOfAnotherUserIsNeitherReadNorWritten) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to plant a file of another user";
  }
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(01777));
  const auto authfile = dir_.path() / "auth.json";
  std::ofstream(authfile) << R"({"auths":{}})";
  ASSERT_EQ(::chown(authfile.c_str(), 65534, 65534), 0);
  const auto outcome = login({"--token-file", token_file_, "--authfile", authfile.string()});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_THAT(outcome.err, HasSubstr("is owned by uid 65534, not 0"));
  std::ifstream in(authfile);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), R"({"auths":{}})");
  struct stat status {};
  ASSERT_EQ(::stat(authfile.c_str(), &status), 0);
  EXPECT_EQ(status.st_uid, 65534U);
}

// Deadlines are absolute: a writer that holds the auth file's lock does not hold login past
// --timeout (it was a fixed 30 s).
TEST_F(Login, WaitsForAnotherWriterOfTheAuthFileAtMostTimeout) {
  const auto authfile = dir_.path() / "auth.json";
  const int holder = ::open((authfile.string() + ".lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(holder, 0);
  ASSERT_EQ(::flock(holder, LOCK_EX), 0);
  const auto started = std::chrono::steady_clock::now();
  const auto outcome =
      login({"--token-file", token_file_, "--authfile", authfile.string(), "--timeout", "2s"});
  const auto took = std::chrono::steady_clock::now() - started;
  ::close(holder);
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_THAT(outcome.err, HasSubstr("another writer held the lock past the deadline"));
  EXPECT_LT(took, std::chrono::seconds{10}) << "the lock wait outlived --timeout";
  EXPECT_FALSE(std::filesystem::exists(authfile));
}

TEST_F(Login, PrintsADockerconfigjsonSecret) {
  const auto outcome = login({"--token-file", token_file_, "--format", "secret", "--namespace",
                              "ci", "--secret-name", "quay-pull"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const Json secret = Json::parse(outcome.out);
  EXPECT_EQ(secret["kind"], "Secret");
  EXPECT_EQ(secret["type"], "kubernetes.io/dockerconfigjson");
  EXPECT_EQ(secret["metadata"]["name"], "quay-pull");
  EXPECT_EQ(secret["metadata"]["namespace"], "ci");
  const auto config = decode_base64(secret["data"][".dockerconfigjson"].get<std::string>());
  ASSERT_TRUE(config);
  expect_robot_auth(Json::parse(*config)["auths"][quay_.host()]["auth"]);
}

TEST_F(Login, PrintsExternalSecretsKeys) {
  const auto before = std::chrono::system_clock::now();
  const auto outcome = login({"--token-file", token_file_, "--format", "eso"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const Json eso = Json::parse(outcome.out);
  EXPECT_EQ(eso["registry"], quay_.host());
  expect_robot_auth(eso["auth"]);
  const auto expiry = std::stoll(eso["expiry"].get<std::string>());
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch());
  EXPECT_NEAR(static_cast<double>(expiry - now.count()), 3600.0, 5.0);
}

TEST(LoginWithSkew, ANodeTwoHoursAheadOfQuayLogsInAndPrintsTheTokensOwnExp) {
  // Issue 22, items 14 and 15: Quay judges exp on its own clock; ESO's generator prints exp.
  TempDir dir;
  TestPki pki;
  const auto ca_file = pki.write_ca(dir.path()).string();
  FakeQuayOptions options;
  options.clock_offset = std::chrono::hours{-2};
  FakeQuay quay(pki, options);
  quay.add_robot(kWorkloadRobot,
                 {{quay.issuer_url(), "system:serviceaccount:ci:builder", {"quay"}}});
  const auto token_file = (dir.path() / "token").string();
  std::ofstream(token_file) << quay.mint_service_account_token("ci", "builder") << "\n";
  const auto outcome =
      run_plugin("", {"login", "--robot", kWorkloadRobot, "--registry", quay.host(), "--ca-file",
                      ca_file, "--token-file", token_file, "--format", "eso"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("looks expired by this machine's clock"));
  const auto expiry = std::stoll(Json::parse(outcome.out)["expiry"].get<std::string>());
  const auto quay_now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() -
                        7200;
  EXPECT_NEAR(static_cast<double>(expiry - quay_now), 3600.0, 5.0) << "not the token's exp";
}

TEST_F(Login, ATokenCommandIsRunForTheToken) {
  const auto script = dir_.path() / "oidc-token";
  std::ofstream(script) << "#!/bin/sh\ncat " << token_file_ << "\n";
  std::filesystem::permissions(script, std::filesystem::perms(0755));
  const auto outcome = login({"--token-command", script.string(), "--format", "eso"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(quay_.requests().front().basic_password, token_);
}

// Issue 20: token_source.hpp promised exit 1 for a token file that cannot be read, and the
// file reader said 2. Decided: 1. The settings name a source (2 when they do not, or are
// malformed); a source that gives no token failed, like a failing --token-command, and that is
// what the workload docs list as 1.
TEST_F(Login, ATokenFileThatCannotBeReadIsTheTokenSourceFailingExit1) {
  const auto authfile = dir_.path() / "auth.json";
  const auto missing = (dir_.path() / "no-token").string();
  auto outcome = login({"--token-file", missing, "--authfile", authfile.string()});
  EXPECT_EQ(outcome.exit_code, 1) << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("--token-file " + missing + ": cannot read " + missing +
                                     ": No such file or directory"));
  std::filesystem::create_directory(dir_.path() / "a-directory");
  outcome = login({"--token-file", (dir_.path() / "a-directory").string(), "--format", "eso"});
  EXPECT_EQ(outcome.exit_code, 1) << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("is a directory"));
  EXPECT_TRUE(quay_.requests().empty());
  EXPECT_FALSE(std::filesystem::exists(authfile));
}

TEST_F(Login, QuaysRefusalIsPassedOnAndNothingIsWritten) {
  const auto authfile = dir_.path() / "auth.json";
  const auto outcome =
      login({"--token-file", token_file_, "--authfile", authfile.string()}, "team+stranger");
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "");
  EXPECT_FALSE(std::filesystem::exists(authfile));
  // After the debug lines, one line with Quay's own words.
  EXPECT_THAT(outcome.err, ::testing::EndsWith("\n"));
  const auto last = outcome.err.substr(outcome.err.rfind('\n', outcome.err.size() - 2) + 1);
  EXPECT_THAT(last, HasSubstr("quay-credential-provider: "));
  EXPECT_THAT(last, HasSubstr("Could not find robot with specified username")) << outcome.err;
}

TEST_F(Login, BadInputIsRefusedBeforeAnythingIsSent) {
  const auto garbage = dir_.path() / "garbage.json";
  std::ofstream(garbage) << "[\"not\", \"an object\", \"s3cr3t-password-of-someone\"]";
  for (const auto& [extra, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--format", "eso"}, "give exactly one of --token-file and --token-command"},
           {{"--token-file", token_file_, "--token-command", "x", "--format", "eso"},
            "give exactly one of --token-file and --token-command"},
           {{"--token-file", token_file_}, "give --authfile PATH, or --format secret"},
           {{"--token-file", token_file_, "--format", "yaml"}, "give --authfile PATH, or --format"},
           {{"--token-file", token_file_, "--format", "secret", "--secret-name", "Bad_Name"},
            "must be Kubernetes names"},
           // Issue 20: login's own name check took "a..b", which the API server refuses.
           {{"--token-file", token_file_, "--format", "secret", "--namespace", "a..b"},
            "must be Kubernetes names"},
           {{"--token-file", token_file_, "--format", "secret", "--secret-name", "quay-.x"},
            "must be Kubernetes names"},
           {{"--token-file", token_file_, "--format", "eso", "--timeout", "2m"},
            "--timeout must be between 1ms and 55s"},
           {{"--token-command", "'unclosed", "--format", "eso"}, "unclosed '"}}) {
    const auto outcome = login(extra);
    EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
    EXPECT_THAT(outcome.err, HasSubstr(message));
  }
  EXPECT_EQ(login({"--token-file", token_file_, "--format", "eso"}, "no-plus").exit_code, 2);
  quay_.clear_requests();
  auto outcome = login({"--token-file", token_file_, "--authfile", garbage.string()});
  EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
  EXPECT_THAT(outcome.err, HasSubstr("is not a docker config.json or containers auth.json"));
  EXPECT_THAT(outcome.err, ::testing::Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace qcp::test
