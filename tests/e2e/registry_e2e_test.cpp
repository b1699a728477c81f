// Through a real registry: Debian's docker-registry on loopback over TLS, with token auth at
// the fake Quay's /v2/auth, as Quay's own registry does. A robot allowed to push pushes a tiny
// image; skopeo and podman pull it with each credential this binary makes: the kubelet
// plugin's response, `login --authfile`, docker-credential-quay through credHelpers, and a
// `login --refresh` sidecar that keeps pulls working across several expiries of short-lived
// tokens. Without credentials, or with an expired token nobody refreshed, the pull fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "registry_fixture.hpp"

namespace qcp::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;

TEST_P(RealRegistry, ARobotAllowedToPushPushesAndOneThatMayNotIsRefused) {
  auto pushed = push();
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err << registry_->log();
  const auto authfile = dir_ / "puller-auth.json";
  ASSERT_EQ(login(kPuller, authfile).exit_code, 0);
  pushed = skopeo({"copy", "--dest-authfile", authfile.string(), "--dest-cert-dir",
                   registry_->cert_dir().string(), "oci:" + (dir_ / "layout").string() + ":v1",
                   "docker://" + image_ + ":v2"});
  EXPECT_NE(pushed.exit_code, 0);
  EXPECT_THAT(pushed.err, HasSubstr("authentication required")) << pushed.err;
}

TEST_P(RealRegistry, PullsWithTheKubeletPluginsResponse) {
  ASSERT_EQ(push().exit_code, 0) << registry_->log();
  const std::string request =
      kubelet_request(image_, quay_.mint_service_account_token("ci", "puller"), kPuller);
  // The pod's annotation names the Quay; the node allows it.
  auto with_host = Json::parse(request);
  with_host["serviceAccountAnnotations"]["quay.io/host"] = quay_.host();
  const auto response = run_process(
      kBinary, {"--ca-file", ca_file_, "--allowed-host", quay_.host(), "--cache-margin", "1s"},
      {"PATH=/usr/bin:/bin"}, with_host.dump() + "\n");
  ASSERT_EQ(response.exit_code, 0) << response.err << response.out;
  const auto auth = Json::parse(response.out)["auth"][registry_->host()];
  const auto pulled = pull({.user_password = auth["username"].get<std::string>() + ":" +
                                             auth["password"].get<std::string>(),
                            .authfile = {}});
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err << registry_->log();
}

TEST_P(RealRegistry, PullsWithLoginsAuthFileAndNotWithout) {
  ASSERT_EQ(push().exit_code, 0) << registry_->log();
  EXPECT_NE(pull({}).exit_code, 0);  // anonymous: the registry wants a token, Quay says no
  const auto authfile = dir_ / "auth.json";
  ASSERT_EQ(login(kPuller, authfile).exit_code, 0);
  const auto pulled = pull({.user_password = {}, .authfile = authfile.string()});
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err << registry_->log();
}

TEST_P(RealRegistry, PullsThroughDockerCredentialQuayInCredHelpers) {
  ASSERT_EQ(push().exit_code, 0) << registry_->log();
  const auto bin = dir_ / "bin";
  fs::create_directories(bin);
  install_helper(bin / "docker-credential-quay");
  const auto authfile = dir_ / "helpers.json";
  write(authfile, Json{{"credHelpers", {{registry_->host(), "quay"}}}}.dump());
  const auto pulled = pull({.user_password = {}, .authfile = authfile.string()},
                           {"PATH=" + bin.string() + ":/usr/bin:/bin",
                            "QUAY_CREDENTIAL_PROVIDER_ROBOT=" + std::string(kPuller),
                            "QUAY_CREDENTIAL_PROVIDER_TOKEN_FILE=" + token_file(kPuller),
                            "QUAY_CREDENTIAL_PROVIDER_QUAY_HOST=" + quay_.host(),
                            "QUAY_CREDENTIAL_PROVIDER_CA_FILE=" + ca_file_});
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err << registry_->log();
  EXPECT_GE(quay_.request_count(), 1U);
  // The helper exchanged the puller's own token at Quay: the pull's credential was minted.
  EXPECT_EQ(quay_.requests().back().path, "/v2/auth");
  EXPECT_EQ(quay_.requests().back().basic_user, kPuller);
}

TEST_P(RealRegistry, ARefreshSidecarKeepsPullsWorkingAcrossExpiries) {
  ASSERT_EQ(push().exit_code, 0) << registry_->log();
  const auto stale = dir_ / "stale.json";  // logged in once, never refreshed
  ASSERT_EQ(login(kPuller, stale).exit_code, 0);
  const auto fresh = dir_ / "fresh.json";
  std::vector<int> pulled_ok;
  std::string last_error;
  std::thread puller;
  ProcessOptions options;
  options.deadline = std::chrono::seconds{90};
  options.on_spawn = [&](pid_t pid) {
    puller = std::thread([&, pid] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
      while (!fs::exists(dir_ / "ready") && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
      }
      // Three pulls, each after the one before's robot token has expired (6 s lifetime).
      for (int round = 0; round < 3; ++round) {
        if (round > 0) {
          std::this_thread::sleep_for(std::chrono::seconds{7});
        }
        const auto result = pull({.user_password = {}, .authfile = fresh.string()});
        pulled_ok.push_back(result.exit_code);
        if (result.exit_code != 0) {
          last_error = result.err;
        }
      }
      ::kill(pid, SIGTERM);
    });
  };
  std::vector<std::string> args = {"login",          "--refresh",
                                   "--robot",        kPuller,
                                   "--registry",     registry_->host(),
                                   "--quay-host",    quay_.host(),
                                   "--token-file",   token_file(kPuller),
                                   "--authfile",     fresh.string(),
                                   "--ready-file",   (dir_ / "ready").string(),
                                   "--cache-margin", "2s",
                                   "--ca-file",      ca_file_};
  const auto sidecar = run_process(kBinary, args, {"PATH=/usr/bin:/bin"}, "", options);
  puller.join();
  EXPECT_EQ(pulled_ok, (std::vector<int>{0, 0, 0})) << last_error << sidecar.err;
  EXPECT_EQ(sidecar.exit_code, 0) << sidecar.err;
  // The control: the credential nobody refreshed expired long ago.
  EXPECT_NE(pull({.user_password = {}, .authfile = stale.string()}).exit_code, 0);
}

INSTANTIATE_TEST_SUITE_P(Clients, RealRegistry, ::testing::Values(Tool::kSkopeo, Tool::kPodman),
                         [](const auto& param_info) {
                           return std::string(param_info.param == Tool::kSkopeo ? "skopeo"
                                                                                : "podman");
                         });

}  // namespace
}  // namespace qcp::test
