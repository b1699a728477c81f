// Workload mode through the built binary: invoked as docker-credential-quay (a symlink, as
// installed next to docker or podman) it speaks the credential-helper protocol, with a real
// exchange at a fake Quay; `login --authfile` writes an auth file tools read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "plugin_fixture.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class WorkloadBinary : public PluginBinary {
 protected:
  WorkloadBinary() {
    helper_ = dir_ / "docker-credential-quay";
    std::filesystem::create_symlink(kBinary, helper_);
    token_file_ = (dir_ / "token").string();
    std::ofstream(token_file_) << token_ << "\n";
  }
  // The helper as a tool runs it: by its name, with the action as its only argument.
  ProcessResult helper(const std::string& action, const std::string& input,
                       std::vector<std::string> environment) {
    environment.emplace_back("PATH=/usr/bin:/bin");
    environment.emplace_back("QUAY_CREDENTIAL_PROVIDER_CA_FILE=" + ca_file_);
    if (kEmulator.empty()) {
      return run_process(helper_.string(), {action}, environment, input);
    }
    return run_process(kEmulator, {helper_.string(), action}, environment, input);
  }

  std::filesystem::path helper_;
  std::string token_file_;
};

TEST_F(WorkloadBinary, AsDockerCredentialQuayItAnswersGetWithAFreshRobotToken) {
  const auto result = helper("get", "https://" + quay_.host() + "/v2/\n",
                             {"QUAY_CREDENTIAL_PROVIDER_ROBOT=" + std::string(kRobot),
                              "QUAY_CREDENTIAL_PROVIDER_TOKEN_FILE=" + token_file_});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const Json answer = Json::parse(result.out);
  EXPECT_EQ(answer["Username"], kRobot);
  EXPECT_TRUE(RsaSigner::verify(answer["Secret"].get<std::string>(), quay_.instance_signer()));
  EXPECT_EQ(quay_.requests().back().basic_password, token_);
  expect_no_leak(result.err, {token_, answer["Secret"].get<std::string>()});
}

TEST_F(WorkloadBinary, AsDockerCredentialQuayItFollowsTheProtocolsConventions) {
  auto result = helper("get", "registry.example.org\n", {"HOME=" + dir_.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "credentials not found in native keychain\n");
  result = helper("version", "", {});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out,
              ::testing::StartsWith("docker-credential-quay (quay-credential-provider) "));
  result = helper("store", R"({"ServerURL":"a","Username":"b","Secret":"c"})", {});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "");
}

TEST_F(WorkloadBinary, AToolThatNeverClosesStdinCannotHoldTheHelperPastItsTimeout) {
  ProcessOptions options;
  options.keep_stdin_open = true;
  std::vector<std::string> args = {"get"};
  std::string program = helper_.string();
  if (!kEmulator.empty()) {
    args.insert(args.begin(), helper_.string());
    program = kEmulator;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto result =
      run_process(program, args, {"PATH=/usr/bin:/bin", "QUAY_CREDENTIAL_PROVIDER_TIMEOUT=1s"},
                  quay_.host(), options);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds{5});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.out, HasSubstr("stdin was not closed within"));
}

TEST_F(WorkloadBinary, LoginWritesAnAuthFile) {
  const auto authfile = dir_ / "auth.json";
  const auto result =
      run_process(kBinary,
                  {"login", "--robot", kRobot, "--registry", quay_.host(), "--token-file",
                   token_file_, "--authfile", authfile.string(), "--ca-file", ca_file_},
                  {"PATH=/usr/bin:/bin"}, "");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "");
  std::ifstream in(authfile);
  EXPECT_TRUE(Json::parse(in)["auths"].contains(quay_.host()));
}

TEST_F(WorkloadBinary, ConcurrentLoginsIntoOneAuthFileLoseNoEntry) {
  // Issue 22, item 11: twelve logins for twelve registries, all at once, into one file.
  const auto authfile = dir_ / "shared/auth.json";
  std::vector<std::thread> logins;
  std::vector<ProcessResult> results(12);
  for (std::size_t i = 0; i < results.size(); ++i) {
    logins.emplace_back([&, i] {
      results[i] = run_process(
          kBinary,
          {"login", "--robot", kRobot, "--registry", "registry-" + std::to_string(i) + ".example",
           "--quay-host", quay_.host(), "--token-file", token_file_, "--authfile",
           authfile.string(), "--ca-file", ca_file_},
          {"PATH=/usr/bin:/bin"}, "");
    });
  }
  for (auto& login : logins) {
    login.join();
  }
  std::ifstream in(authfile);
  const auto file = Json::parse(in);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].exit_code, 0) << results[i].err;
    EXPECT_TRUE(file["auths"].contains("registry-" + std::to_string(i) + ".example")) << i;
  }
}

// The auth value the file holds for `registry`, "" while there is none.
std::string auth_in(const std::filesystem::path& authfile, const std::string& registry) {
  std::ifstream in(authfile);
  const auto file = Json::parse(in, nullptr, false);
  if (!file.is_object() || !file.contains("auths") || !file["auths"].contains(registry)) {
    return "";
  }
  return file["auths"][registry]["auth"].get<std::string>();
}

TEST_F(WorkloadBinary, TheReadyFileGoesWhenTheCredentialExpiresEvenWhileQuayStalls) {
  // Issue 22, item 12: after the first exchange Quay hangs; the refresh attempt waits on it,
  // but the ready file must not outlive the credential it vouches for. And SIGTERM, sent then,
  // ends the stalled exchange: the sidecar stops within its pod's grace period.
  FakeQuayOptions short_lived;
  short_lived.token_lifetime = std::chrono::seconds{4};
  FakeQuay quay(pki_, short_lived);
  quay.add_robot(kRobot, {{quay.issuer_url(), "system:serviceaccount:app:puller", {}}});
  std::ofstream(token_file_) << quay.mint_service_account_token("app", "puller");
  std::atomic<int> exchanges{0};
  quay.set_handler([&exchanges](const RecordedRequest& request) -> std::optional<Reply> {
    if (request.path.starts_with("/oauth2/federation") && ++exchanges > 1) {
      return Reply::hang(std::chrono::seconds{30});
    }
    return std::nullopt;
  });
  const auto ready = dir_ / "ready";
  std::optional<std::chrono::steady_clock::time_point> appeared;
  std::optional<std::chrono::steady_clock::time_point> gone;
  std::chrono::steady_clock::time_point signalled;
  std::thread watcher;
  ProcessOptions options;
  options.deadline = std::chrono::seconds{40};
  options.on_spawn = [&](pid_t pid) {
    watcher = std::thread([&, pid] {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{20};
      while (!gone && std::chrono::steady_clock::now() < until) {
        const bool there = std::filesystem::exists(ready);
        if (there && !appeared) {
          appeared = std::chrono::steady_clock::now();
        } else if (!there && appeared) {
          gone = std::chrono::steady_clock::now();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
      }
      signalled = std::chrono::steady_clock::now();
      ::kill(pid, SIGTERM);
    });
  };
  const auto result = run_process(
      kBinary,
      {"login", "--refresh", "--robot", kRobot, "--registry", quay.host(), "--token-file",
       token_file_, "--authfile", (dir_ / "auth.json").string(), "--ready-file", ready.string(),
       "--cache-margin", "1s", "--timeout", "25s", "--ca-file", ca_file_},
      {"PATH=/usr/bin:/bin"}, "", options);
  const auto ended = std::chrono::steady_clock::now();
  watcher.join();
  // The exchange in flight is given up within about a second (libcurl asks once a second),
  // not after its 25 s timeout.
  EXPECT_LT(ended - signalled, std::chrono::seconds{3}) << result.err;
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("this process is stopping"));
  EXPECT_THAT(result.err, HasSubstr("stopping on SIGTERM"));
  ASSERT_TRUE(appeared) << result.err;
  ASSERT_TRUE(gone) << "the ready file outlived the credential: " << result.err;
  // The token lives 4 s from the exchange, which came just before the file appeared.
  EXPECT_LT(*gone - *appeared, std::chrono::milliseconds{4800}) << result.err;
  EXPECT_GT(*gone - *appeared, std::chrono::milliseconds{2500}) << result.err;
  EXPECT_THAT(result.err, HasSubstr("the published credential has expired: removed"));
}

TEST_F(WorkloadBinary, LoginRefreshKeepsTheAuthFileFreshAcrossExpiriesAndStopsOnSigterm) {
  FakeQuayOptions short_lived;
  short_lived.token_lifetime = std::chrono::seconds{4};
  FakeQuay quay(pki_, short_lived);
  quay.add_robot(kRobot, {{quay.issuer_url(), "system:serviceaccount:app:puller", {}}});
  const std::string token = quay.mint_service_account_token("app", "puller");
  std::ofstream(token_file_) << token;
  const auto authfile = dir_ / "shared/auth.json";
  const auto ready = dir_ / "shared/ready";
  std::vector<std::string> seen;
  bool ready_seen = false;
  std::chrono::steady_clock::time_point signalled;
  std::thread watcher;
  ProcessOptions options;
  options.deadline = std::chrono::seconds{60};
  options.on_spawn = [&](pid_t pid) {
    watcher = std::thread([&, pid] {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{40};
      while (seen.size() < 4 && std::chrono::steady_clock::now() < until) {
        if (const auto auth = auth_in(authfile, quay.host());
            !auth.empty() && (seen.empty() || seen.back() != auth)) {
          seen.push_back(auth);
          ready_seen = ready_seen || std::filesystem::exists(ready);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
      }
      signalled = std::chrono::steady_clock::now();
      ::kill(pid, SIGTERM);
    });
  };
  const auto result =
      run_process(kBinary,
                  {"login", "--refresh", "--robot", kRobot, "--registry", quay.host(),
                   "--token-file", token_file_, "--authfile", authfile.string(), "--ready-file",
                   ready.string(), "--cache-margin", "1s", "--ca-file", ca_file_},
                  {"PATH=/usr/bin:/bin"}, "", options);
  watcher.join();
  const auto stopping = std::chrono::steady_clock::now() - signalled;
  EXPECT_EQ(seen.size(), 4U) << result.err;
  EXPECT_TRUE(ready_seen);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_LT(stopping, std::chrono::seconds{1});
  EXPECT_EQ(result.out, "");
  EXPECT_FALSE(std::filesystem::exists(ready));
  EXPECT_FALSE(auth_in(authfile, quay.host()).empty());  // the last credential stays
  for (const auto& auth : seen) {  // each one whole: robot:token, signed by Quay for the robot
    std::string standard = auth;
    std::replace(standard.begin(), standard.end(), '+', '-');
    std::replace(standard.begin(), standard.end(), '/', '_');
    const auto pair = base64url_decode(standard);
    ASSERT_TRUE(pair && pair->starts_with(std::string(kRobot) + ":"));
    EXPECT_TRUE(RsaSigner::verify(pair->substr(std::strlen(kRobot) + 1), quay.instance_signer()));
  }
  std::size_t refreshes = 0;
  for (auto at = result.err.find("refreshed the credential"); at != std::string::npos;
       at = result.err.find("refreshed the credential", at + 1)) {
    ++refreshes;
  }
  EXPECT_GE(refreshes, 4U) << result.err;
  EXPECT_THAT(result.err, HasSubstr("stopping on SIGTERM"));
  expect_no_leak(result.err, {token});
  EXPECT_EQ(quay.requests().size(), refreshes);
}

}  // namespace
}  // namespace qcp::test
