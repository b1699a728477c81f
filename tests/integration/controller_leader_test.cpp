// Issue 21: leader election on a Lease at the fake API server (kube-api/09a-09d): two
// candidates, one leader; a leader that cannot renew stops writing within the renew deadline;
// a stopped leader releases the Lease and the other takes it at once; and two controllers, of
// which only the leader writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "eventually.hpp"
#include "kube_fixture.hpp"
#include "qcp/controller/controller.hpp"
#include "qcp/controller/leader.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/stop_flag.hpp"

namespace qcp::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kStandbyToken = "standby-token-0123456789abcdef";

// One replica: its own API clients (one for the Lease, one fenced for everything else), its
// elector, and optionally a controller.
struct Replica {
  Replica(net::CurlHttpClient& http, const kube::ApiServer& server, const Clock& clock,
          const std::string& identity, std::ostream& log_stream)
      : log(make_logger(log_stream, LogLevel::kDebug)),
        lease_api(http, server, Environment{}, clock, "leader election"),
        api(http, server, Environment{}, clock, "controller"),
        elector(lease_api,
                {.namespace_name = "qcp-system",
                 .name = "qcp",
                 .identity = identity,
                 .lease_duration = 3s,
                 .renew_deadline = 2s,
                 .retry_period = 200ms},
                clock, *log) {
    api.fence_writes([this] { return elector.leading(); });
  }
  void start() {
    threads.emplace_back([this] { elector.run(stop); });
  }
  void start_controller(HttpClient& quay_http, const controller::ControllerSettings& settings,
                        const Clock& clock) {
    controller = std::make_unique<controller::Controller>(api, quay_http, settings, clock, *log);
    threads.emplace_back([this] { controller->run(stop, [this] { return elector.leading(); }); });
  }
  void halt() {
    stop.request();
    for (auto& thread : threads) {
      if (thread.joinable()) {
        thread.join();
      }
    }
  }
  ~Replica() { halt(); }
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;
  Replica(Replica&&) = delete;
  Replica& operator=(Replica&&) = delete;

  std::unique_ptr<Log> log;
  ApiClient lease_api;
  ApiClient api;
  controller::LeaderElector elector;
  std::unique_ptr<controller::Controller> controller;
  StopFlag stop;
  std::vector<std::thread> threads;
};

class Leader : public KubeFixture {
 protected:
  Leader() { api_.add_user(kStandbyToken, kController); }
  // A controller for the fake Quay, renewing an hour's tokens a minute before they expire.
  [[nodiscard]] controller::ControllerSettings controller_settings() const {
    controller::ControllerSettings settings;
    settings.provision.quay_host = quay_.host();
    settings.exchange.trust = {
        .ca_file = "", .ca_dir = "", .ca_pem = pki_.ca_pem(), .source = "test CA"};
    settings.renewal = {.renew_before = 60s, .retry_base = 200ms, .retry_cap = 1s};
    return settings;
  }
  kube::ApiServer standby_server() const {
    auto server = server_of(api_, pki_);
    server.token = kStandbyToken;
    return server;
  }
  [[nodiscard]] std::string holder() const {
    const auto lease = api_.lease("qcp-system", "qcp");
    return lease ? (*lease)["spec"].value("holderIdentity", "") : "";
  }
  std::ostringstream log_a_;
  std::ostringstream log_b_;
};

TEST_F(Leader, OfTwoCandidatesExactlyOneLeadsAndKeepsLeading) {
  Replica a(http_, server_of(api_, pki_), clock_, "pod-a_1", log_a_);
  Replica b(http_, standby_server(), clock_, "pod-b_2", log_b_);
  a.start();
  b.start();
  ASSERT_TRUE(eventually([&] { return a.elector.leading() || b.elector.leading(); }));
  for (int i = 0; i < 20; ++i) {  // 2 s: ten renewals, never two leaders
    EXPECT_NE(a.elector.leading(), b.elector.leading());
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(holder(), a.elector.leading() ? "pod-a_1" : "pod-b_2");
  const auto lease = api_.lease("qcp-system", "qcp").value();
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 3);
  EXPECT_EQ(lease["spec"]["renewTime"].get<std::string>().size(),
            std::string("2026-12-06T18:12:05.734329Z").size());
}

TEST_F(Leader, AStoppedLeaderReleasesTheLeaseAndTheStandbyTakesItAtOnce) {
  Replica a(http_, server_of(api_, pki_), clock_, "pod-a_1", log_a_);
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector.leading(); }));
  Replica b(http_, standby_server(), clock_, "pod-b_2", log_b_);
  b.start();
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(b.elector.leading());
  const auto stopped = std::chrono::steady_clock::now();
  a.halt();
  EXPECT_FALSE(a.elector.leading());
  EXPECT_THAT(log_a_.str(), HasSubstr("Lease qcp-system/qcp released"));
  ASSERT_TRUE(eventually([&] { return b.elector.leading(); }));
  // Released, not expired: taken within a few retry periods, not the 3 s duration.
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 2s);
  EXPECT_EQ(api_.lease("qcp-system", "qcp").value()["spec"]["leaseTransitions"], 1);
}

TEST_F(Leader, ALeaderThatCannotRenewStopsWritingWithinTheRenewDeadline) {
  Replica a(http_, server_of(api_, pki_), clock_, "pod-a_1", log_a_);
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector.leading(); }));
  api_.fail_lease_writes(true);
  const auto broken = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return !a.elector.leading(); }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - broken, 2500ms);  // the 2 s deadline
  try {
    a.api.call({.method = "POST",
                .path = "/api/v1/namespaces/team-a/events",
                .body = "{}",
                .content_type = "application/json",
                .timeout = 5s});
    ADD_FAILURE() << "a write went out without the lease";
  } catch (const Failure& failure) {
    EXPECT_THAT(failure.what(), HasSubstr("does not hold the leader lease"));
  }
  ASSERT_TRUE(
      eventually([&] { return log_a_.str().find("stopped writing") != std::string::npos; }));
  api_.fail_lease_writes(false);
  EXPECT_TRUE(eventually([&] { return a.elector.leading(); }));
}

TEST_F(Leader, OfTwoControllersOnlyTheLeaderWritesAndTheStandbyTakesOver) {
  quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:team-a:puller", {}},
                           {quay_.issuer_url(), "system:serviceaccount:team-a:second", {}}});
  api_.add_service_account("team-a", "puller", {{"quay.io/federated-robot-account", kRobot}});
  const auto settings = controller_settings();
  net::CurlHttpClient quay_http;
  Replica a(http_, server_of(api_, pki_), clock_, "pod-a_1", log_a_);
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector.leading(); }));
  Replica b(http_, standby_server(), clock_, "pod-b_2", log_b_);
  b.start();
  a.start_controller(quay_http, settings, clock_);
  b.start_controller(quay_http, settings, clock_);
  ASSERT_TRUE(eventually([&] { return api_.secret("team-a", "puller-quay-pull").has_value(); }));
  ASSERT_TRUE(eventually([&] { return b.controller->synced(); }));
  std::this_thread::sleep_for(500ms);
  for (const auto& request : api_.requests()) {
    if (request.method != "GET") {
      EXPECT_NE(request.header("Authorization"), "Bearer " + std::string(kStandbyToken))
          << "the standby wrote: " << request.method << " " << request.path;
    }
  }
  a.halt();
  ASSERT_TRUE(eventually([&] { return b.elector.leading(); }));
  // The new leader takes the Secret as it finds it (valid), and serves what comes next.
  api_.add_service_account("team-a", "second", {{"quay.io/federated-robot-account", kRobot}});
  EXPECT_TRUE(eventually([&] { return api_.secret("team-a", "second-quay-pull").has_value(); }));
  EXPECT_THAT(log_b_.str(), HasSubstr("Secret puller-quay-pull is valid until its renewal; kept"));
}

// The workers all wait for a renewal an hour away when the lease is lost and won back: every key
// is still looked at again (the Secrets may have changed hands meanwhile).
TEST_F(Leader, ALeaseLostAndWonBackLooksAtEveryKeyAgain) {
  quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:team-a:puller", {}}});
  api_.add_service_account("team-a", "puller", {{"quay.io/federated-robot-account", kRobot}});
  const auto settings = controller_settings();
  net::CurlHttpClient quay_http;
  Replica a(http_, server_of(api_, pki_), clock_, "pod-a_1", log_a_);
  a.start();
  ASSERT_TRUE(eventually([&] { return a.elector.leading(); }));
  a.start_controller(quay_http, settings, clock_);
  ASSERT_TRUE(eventually([&] { return api_.secret("team-a", "puller-quay-pull").has_value(); }));
  api_.fail_lease_writes(true);
  ASSERT_TRUE(
      eventually([&] { return log_a_.str().find("stopped writing") != std::string::npos; }));
  api_.fail_lease_writes(false);
  ASSERT_TRUE(eventually([&] { return a.elector.leading(); }));
  EXPECT_TRUE(eventually([&] {
    return log_a_.str().find("Secret puller-quay-pull is valid until its renewal; kept") !=
           std::string::npos;
  }));
}

}  // namespace
}  // namespace qcp::test
