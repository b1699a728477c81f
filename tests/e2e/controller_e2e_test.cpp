// Issue 21, end to end: the static binary's `controller` against the fake API server and the
// fake Quay, and the pull Secret it writes used by skopeo to pull from the real docker-registry
// (as a kubelet uses a pod's imagePullSecrets): renewed across several expiries of 6-second
// Quay tokens with pulls still working, withdrawn with the annotation, written by one of two
// replicas only, and the Lease released on SIGTERM.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "controller_process.hpp"
#include "eventually.hpp"
#include "fake_kube_api.hpp"
#include "no_leak.hpp"
#include "qcp/core/jwt.hpp"
#include "registry_fixture.hpp"

namespace qcp::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr const char* kController = "system:serviceaccount:qcp-system:qcp-controller";
constexpr const char* kLeaderToken = "leader-token-0123456789abcdef";
constexpr const char* kStandbyToken = "standby-token-0123456789abcdef";
constexpr const char* kRobotAnnotation = "quay.io/federated-robot-account";

class ControllerE2e : public RealRegistry {
 protected:
  ControllerE2e() {
    api_.add_user(kLeaderToken, kController);
    api_.add_user(kStandbyToken, kController);
    api_.allow_controller(kController);
    api_.sign_tokens_with(quay_.issuer_signer(), quay_.issuer_url());
    // RealRegistry binds team+puller to system:serviceaccount:ci:puller.
    api_.add_service_account("ci", "puller", {{kRobotAnnotation, kPuller}});
  }

  // A kubeconfig for the fake API server: its CA inline, a bearer token.
  std::string kubeconfig(const char* token) {
    return write_kubeconfig(dir_ / (std::string(token).substr(0, 6) + ".kubeconfig"), api_, pki_,
                            token);
  }
  std::vector<std::string> controller_args(const char* token, std::uint16_t metrics_port = 0,
                                           std::uint16_t health_port = 0) {
    return {"controller", "--kubeconfig", kubeconfig(token), "--quay-host", quay_.host(),
            "--registry", registry_->host(), "--ca-file", ca_file_, "--renew-before", "2s",
            "--leader-elect", "--leader-election-namespace", "qcp-system", "--log-level", "debug",
            // Loopback ports: two replicas run on this one machine.
            "--health-probe-bind-address=127.0.0.1:" + std::to_string(health_port),
            "--metrics-bind-address=127.0.0.1:" + std::to_string(metrics_port)};
  }
  // The leader's args with --policy: a file at `path` whose one rule, for namespace ci, goes on
  // with `rest`.
  std::vector<std::string> args_with_policy(const std::filesystem::path& path,
                                            const std::string& rest) {
    write(path,
          "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nrules:\n"
          "  - namespaces: [ci]\n" +
              rest);
    auto args = controller_args(kLeaderToken);
    args.push_back("--policy=" + path.string());
    return args;
  }
  // The Secret's .dockerconfigjson, as the API server holds it (base64), or "".
  [[nodiscard]] std::string secret_data(const std::string& name = "puller-quay-pull") const {
    const auto secret = api_.secret("ci", name);
    return secret ? (*secret)["data"][".dockerconfigjson"].get<std::string>() : std::string();
  }
  // Pulls as a kubelet does with the pod's imagePullSecrets: the Secret's config as auth file.
  ProcessResult pull_with(const std::string& data) {
    const auto authfile = dir_ / ("secret-" + std::to_string(++authfiles_) + ".json");
    write(authfile, base64_decode(data).value_or(""));
    return pull({.user_password = {}, .authfile = authfile.string()});
  }
  [[nodiscard]] std::string robot_token(const std::string& data) const {
    const auto config = Json::parse(base64_decode(data).value());
    const auto auth =
        base64_decode(config["auths"][registry_->host()]["auth"].get<std::string>()).value();
    return auth.substr(auth.find(':') + 1);
  }

  // Whether an Event with `reason` is about the object of that kind and name.
  [[nodiscard]] bool has_event(const std::string& kind, const std::string& name,
                               const std::string& reason) const {
    const auto events = api_.events();
    return std::any_of(events.begin(), events.end(), [&](const Json& event) {
      return event["involvedObject"]["kind"] == kind && event["involvedObject"]["name"] == name &&
             event["reason"] == reason;
    });
  }
  // The message of the first Event with `reason`, or "".
  [[nodiscard]] std::string event_message(const std::string& reason) const {
    for (const auto& event : api_.events()) {
      if (event["reason"] == reason) {
        return event["message"].get<std::string>();
      }
    }
    return {};
  }

  FakeKubeApi api_{pki_};
  int authfiles_ = 0;
};

TEST_P(ControllerE2e, ItsSecretPullsAcrossSeveralExpiriesAndGoesWithTheAnnotation) {
  ASSERT_EQ(push().exit_code, 0) << registry_->log();
  const std::uint16_t metrics_port = free_port();
  const std::uint16_t health_port = free_port();
  std::string metrics;
  std::string ready;
  std::vector<std::string> seen;
  std::vector<int> pulls;
  std::string last_error;
  bool withdrawn = false;
  std::thread driver;
  ProcessOptions options;
  options.deadline = 150s;
  options.on_spawn = [&](pid_t pid) {
    driver = std::thread([&, pid] {
      if (eventually([&] { return !secret_data().empty(); }, 60s)) {
        // Three pulls, each after the token the one before used has expired (6 s lifetime).
        for (int round = 0; round < 3; ++round) {
          if (round > 0) {
            std::this_thread::sleep_for(7s);
          }
          seen.push_back(secret_data());
          const auto pulled = pull_with(seen.back());
          pulls.push_back(pulled.exit_code);
          last_error = pulled.exit_code == 0 ? last_error : pulled.err;
        }
        metrics = http_get(metrics_port, "/metrics");
        ready = http_get(health_port, "/readyz");
        api_.annotate("ci", "puller", kRobotAnnotation, std::nullopt);
        withdrawn = eventually([&] {
          const auto account = api_.service_account("ci", "puller");
          return secret_data().empty() && account && !account->contains("imagePullSecrets");
        });
      }
      ::kill(pid, SIGTERM);
    });
  };
  const auto controller =
      run_process(kBinary, controller_args(kLeaderToken, metrics_port, health_port),
                  {"PATH=/usr/bin:/bin"}, "", options);
  driver.join();
  EXPECT_EQ(pulls, (std::vector<int>{0, 0, 0})) << last_error << controller.err;
  ASSERT_EQ(seen.size(), 3U);
  EXPECT_NE(seen[0], seen[1]);  // renewed between pulls
  EXPECT_NE(seen[1], seen[2]);
  EXPECT_NE(pull_with(seen[0]).exit_code, 0);  // the control: that first token expired long ago
  EXPECT_TRUE(withdrawn) << controller.err;
  EXPECT_EQ(controller.exit_code, 0) << controller.err;
  EXPECT_THAT(controller.err,
              HasSubstr("Lease qcp-system/quay-credential-provider-controller released"));
  const auto lease = api_.lease("qcp-system", "quay-credential-provider-controller").value();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "");
  std::vector<std::string> tokens{kLeaderToken};
  for (const auto& data : seen) {
    tokens.push_back(robot_token(data));
  }
  expect_no_leak(controller.err, tokens);
  std::size_t created = 0;
  for (const auto& event : api_.events()) {
    created += event["reason"] == "PullSecretCreated" ? 1U : 0U;
    expect_no_leak(event.dump(), tokens);
  }
  EXPECT_EQ(created, 1U);
  // What a scrape and a probe saw, between the pulls and the withdrawal.
  EXPECT_THAT(ready, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(metrics, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(metrics, HasSubstr("\nquay_credential_provider_leader 1\n"));
  EXPECT_THAT(metrics, HasSubstr("\nquay_credential_provider_managed_secrets 1\n"));
  EXPECT_THAT(metrics,
              HasSubstr("\nquay_credential_provider_secret_writes_total{reason=\"created\"} 1\n"));
  EXPECT_THAT(metrics,
              ::testing::ContainsRegex("secret_writes_total\\{reason=\"refreshed\"\\} [1-9]"));
  // The process's own figures, as any exporter's. Under qemu-user (the arm64 binary's run),
  // /proc/self/stat is qemu's own rendering, with 0 for memory.
  EXPECT_THAT(metrics, ::testing::ContainsRegex(
                           kEmulator.empty() ? "\nprocess_resident_memory_bytes [1-9][0-9]{5,9}\n"
                                             : "\nprocess_resident_memory_bytes [0-9]+\n"));
  EXPECT_THAT(metrics, ::testing::ContainsRegex("\nprocess_open_fds [1-9][0-9]*\n"));
  EXPECT_THAT(metrics, ::testing::ContainsRegex("\nprocess_start_time_seconds 1[0-9]{9}"));
  expect_no_leak(metrics, tokens);
}

TEST_P(ControllerE2e, OfTwoReplicasOnlyTheLeaderWritesAndTheOtherTakesOverOnSigterm) {
  const std::string standby_header = "Bearer " + std::string(kStandbyToken);
  const auto writes_by = [&](const std::string& header) {
    std::vector<std::string> writes;
    for (const auto& request : api_.requests()) {
      if (request.method != "GET" && request.header("Authorization") == header) {
        writes.push_back(request.method + " " + request.path);
      }
    }
    return writes;
  };
  Replica leader(controller_args(kLeaderToken));
  ASSERT_TRUE(eventually([&] { return !secret_data().empty(); }, 60s)) << leader.stop().err;
  Replica standby(controller_args(kStandbyToken));
  // The standby has listed and watched, and asked for the Lease a few times: it wrote nothing.
  ASSERT_TRUE(eventually([&] {
    std::size_t lease_reads = 0;
    for (const auto& request : api_.requests()) {
      lease_reads += request.header("Authorization") == standby_header &&
                             request.path.find("/leases/") != std::string::npos
                         ? 1U
                         : 0U;
    }
    return lease_reads >= 3;
  }));
  EXPECT_EQ(writes_by(standby_header), std::vector<std::string>{});

  const auto& first = leader.stop();
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.err, HasSubstr("released"));
  quay_.add_robot("team+second", {{quay_.issuer_url(), "system:serviceaccount:ci:second", {}}});
  api_.add_service_account("ci", "second", {{kRobotAnnotation, "team+second"}});
  EXPECT_TRUE(eventually([&] { return !secret_data("second-quay-pull").empty(); }));
  // The fake records a request once it has answered it: the Secret can be read a moment before.
  EXPECT_TRUE(eventually([&] {
    const auto writes = writes_by(standby_header);
    return std::find(writes.begin(), writes.end(), "POST /api/v1/namespaces/ci/secrets") !=
           writes.end();
  })) << ::testing::PrintToString(writes_by(standby_header));
  const auto& second = standby.stop();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("this replica"));  // "... leads"
}

// Issue 25: a pod created before its ServiceAccount's Secret, stuck in ImagePullBackOff, is
// evicted through the Eviction API; its replacement is admitted with the Secret, which pulls.
TEST_P(ControllerE2e, APodStuckBeforeItsSecretIsEvictedAndItsReplacementPulls) {
  ASSERT_EQ(push().exit_code, 0) << registry_->log();
  ASSERT_TRUE(api_.create_pod("ci", "web-1", "puller", {}, image_ + ":v1"));
  api_.set_pull_failure("ci", "web-1");
  const std::uint16_t metrics_port = free_port();
  Replica controller(controller_args(kLeaderToken, metrics_port));
  ASSERT_TRUE(eventually([&] { return !api_.pod("ci", "web-1").has_value(); }, 60s))
      << controller.stop().err;
  ASSERT_TRUE(eventually([&] { return has_event("Pod", "web-1", "PullSecretEviction"); }));
  EXPECT_TRUE(eventually([&] { return has_event("ServiceAccount", "puller", "PodEvicted"); }));
  EXPECT_TRUE(eventually([&] {
    return http_get(metrics_port, "/metrics")
               .find("\nquay_credential_provider_pod_evictions_total{result=\"evicted\"} 1\n") !=
           std::string::npos;
  }));
  const auto replacement = api_.create_pod("ci", "web-2", "puller", {}, image_ + ":v1").value();
  EXPECT_EQ(replacement["spec"]["imagePullSecrets"],
            Json::parse(R"([{"name":"puller-quay-pull"}])"));
  const std::string data = secret_data();
  const auto pulled = pull_with(data);
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err;
  const auto& result = controller.stop();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  expect_no_leak(result.err + Json(api_.events()).dump(), {kLeaderToken, robot_token(data)});
}

// Issue 25: --verify-only walks the federation to Quay's registry token endpoint (the docker
// registry here sends its clients to a token endpoint on another host, where a robot token is
// never sent), writes no Secret, and warns once the robot's binding is gone.
TEST_P(ControllerE2e, VerifyOnlyWalksToTheRegistryWritesNothingAndWarnsWhenTheBindingGoes) {
  const std::uint16_t metrics_port = free_port();
  Replica controller({"controller", "--kubeconfig", kubeconfig(kLeaderToken), "--quay-host",
                      quay_.host(), "--ca-file", ca_file_, "--verify-only", "--verify-image",
                      quay_.host() + "/team/app:v1", "--health-probe-bind-address=127.0.0.1:0",
                      "--metrics-bind-address=127.0.0.1:" + std::to_string(metrics_port)});
  ASSERT_TRUE(
      eventually([&] { return has_event("ServiceAccount", "puller", "FederationVerified"); }, 60s))
      << controller.stop().err;
  EXPECT_THAT(event_message("FederationVerified"), HasSubstr("which can pull team/app"));
  quay_.remove_robot(kPuller);
  api_.annotate("ci", "puller", "example.com/touched", "1");  // a change: verified again now
  ASSERT_TRUE(eventually([&] { return has_event("ServiceAccount", "puller", "FederationFailed"); }))
      << controller.stop().err;
  const std::string scrape = http_get(metrics_port, "/metrics");
  EXPECT_THAT(scrape, HasSubstr("\nquay_credential_provider_verify_failing 1\n"));
  EXPECT_THAT(scrape, ::testing::ContainsRegex("verifications_total\\{result=\"ok\"\\} [1-9]"));
  const auto& result = controller.stop();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(api_.secret("ci", "puller-quay-pull").has_value());
  EXPECT_FALSE(api_.service_account("ci", "puller").value().contains("imagePullSecrets"));
  expect_no_leak(result.err + Json(api_.events()).dump(), {kLeaderToken});
}

// Issue 23: the controller on a credential policy. The ServiceAccount names no robot; its
// namespace's rule gives it team+puller by default, and skopeo pulls with the Secret that gets.
// A robot the rule does not allow is refused with a Warning Event, and the Secret goes.
TEST_P(ControllerE2e, APolicysDefaultRobotPullsAndARobotItRefusesLosesItsSecret) {
  ASSERT_EQ(push().exit_code, 0) << registry_->log();
  api_.annotate("ci", "puller", kRobotAnnotation, std::nullopt);
  const auto policy = dir_ / "policy.yaml";
  Replica controller(
      args_with_policy(policy, "    robots: [\"team+*\"]\n    defaultRobot: team+puller\n"));
  ASSERT_TRUE(eventually([&] { return !secret_data().empty(); }, 60s)) << controller.stop().err;
  const auto pulled = pull_with(secret_data());
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err;
  api_.annotate("ci", "puller", kRobotAnnotation, "other+puller");
  ASSERT_TRUE(eventually([&] { return secret_data().empty(); }, 60s)) << controller.stop().err;
  EXPECT_THAT(event_message("RobotNotAllowed"),
              HasSubstr("the robot other+puller is not allowed for the service account "
                        "ci/puller by rule 1 (" +
                        policy.string() + ":4)"));
  const auto& result = controller.stop();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  expect_no_leak(result.err + Json(api_.events()).dump(), {kLeaderToken});
}

// A policy with a mistake stops the controller before it writes anything: one line, exit 2.
TEST_P(ControllerE2e, ABrokenPolicyStopsTheControllerAtStart) {
  const auto policy = dir_ / "policy.yaml";
  const auto args = args_with_policy(policy, "    robts: [\"team+*\"]\n");
  ProcessOptions options;
  options.deadline = 20s;
  const auto result = run_process(kBinary, args, {"PATH=/usr/bin:/bin"}, "", options);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr(policy.string() + ":5: "));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_FALSE(api_.secret("ci", "puller-quay-pull").has_value());
}

INSTANTIATE_TEST_SUITE_P(Clients, ControllerE2e, ::testing::Values(Tool::kSkopeo),
                         [](const auto& /*param_info*/) { return std::string("skopeo"); });

}  // namespace
}  // namespace qcp::test
