#pragma once

// The controller's fault suite, end to end (controller_faults_e2e_test.cpp: the API server's
// faults; controller_failover_e2e_test.cpp: Quay's and the leader's). The static binary against
// the fake API server and the fake Quay with faults injected while it keeps one ServiceAccount's
// pull Secret renewed. For each fault: the Secret's token never expired while the API server and
// Quay could be reached, each token Quay minted was written once at most, memory stayed
// bounded, and the controller recovered without a restart. Each test prints its row of the
// figures table ("| fault | ..."), the closing note's table.
//
// Time is compressed: Quay's tokens live 20 s and are renewed 10 s before they expire (an hour
// and 15 minutes in production), so an outage of 6 s here stands for one of 9 minutes there.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "controller_process.hpp"
#include "eventually.hpp"
#include "fake_kube_api.hpp"
#include "fake_quay.hpp"
#include "no_leak.hpp"
#include "qcp/core/jwt.hpp"
#include "temp_dir.hpp"

namespace qcp::test::controller_faults {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Clock = std::chrono::system_clock;

inline constexpr const char* kController = "system:serviceaccount:qcp-system:qcp-controller";
inline constexpr const char* kFirstToken = "first-replica-token-0123456789";
inline constexpr const char* kSecondToken = "second-replica-token-0123456789";
inline constexpr const char* kSecretName = "puller-quay-pull";

// How much a run may add to the resident set: ASan's quarantine holds freed memory a while.
#ifdef QCP_SANITIZED_BINARY
inline constexpr double kRssGrowthMib = 64;
#else
inline constexpr double kRssGrowthMib = 8;
#endif

inline FakeQuayOptions tokens_living(std::chrono::seconds life) {
  FakeQuayOptions options;
  options.token_lifetime = life;
  options.clock_skew = 0s;  // a token is dead the second it expires
  return options;
}

// Every sample of every series of `name` in a scrape, summed (labels or none).
inline double sum_of(const std::string& scrape, const std::string& name) {
  double sum = 0;
  for (std::size_t at = scrape.find("\n" + name); at != std::string::npos;
       at = scrape.find("\n" + name, at + 1)) {
    const auto line_end = scrape.find('\n', at + 1);
    const auto line = scrape.substr(at + 1, line_end - at - 1);
    const auto rest = line.substr(name.size());
    if (!rest.empty() && (rest[0] == ' ' || rest[0] == '{')) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

// The managed Secret's token, watched every 100 ms from the API server's store: the least time
// it had left, and how often it had expired, while the test said the servers could be reached.
class ExpiryWatch {
 public:
  ExpiryWatch(const FakeKubeApi& api, std::string quay_host)
      : api_(api), quay_host_(std::move(quay_host)), thread_([this] { watch(); }) {}
  ~ExpiryWatch() {
    done_ = true;
    thread_.join();
  }
  ExpiryWatch(const ExpiryWatch&) = delete;
  ExpiryWatch& operator=(const ExpiryWatch&) = delete;
  ExpiryWatch(ExpiryWatch&&) = delete;
  ExpiryWatch& operator=(ExpiryWatch&&) = delete;

  void reachable(bool reachable) { reachable_ = reachable; }
  [[nodiscard]] double least_left_seconds() const { return least_left_ms_.load() / 1000.0; }
  [[nodiscard]] int expired_samples() const { return expired_.load(); }
  [[nodiscard]] std::size_t tokens_seen() const {
    const std::lock_guard lock(mutex_);
    return tokens_.size();
  }

 private:
  void watch() {
    while (!done_) {
      sample();
      std::this_thread::sleep_for(100ms);
    }
  }
  void sample() {
    const auto secret = api_.secret("ci", kSecretName);
    if (!secret || !reachable_) {
      return;
    }
    const auto config = Json::parse(
        base64_decode((*secret)["data"][".dockerconfigjson"].get<std::string>()).value());
    const auto auth = base64_decode(config["auths"][quay_host_]["auth"].get<std::string>()).value();
    const auto token = auth.substr(auth.find(':') + 1);
    const auto expires = decode_jwt_unverified(token).value().payload["exp"].get<long>();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        Clock::time_point(std::chrono::seconds(expires)) - Clock::now());
    least_left_ms_ = std::min(least_left_ms_.load(), static_cast<long>(left.count()));
    expired_ += left.count() <= 0 ? 1 : 0;
    const std::lock_guard lock(mutex_);
    tokens_.insert(token);
  }

  const FakeKubeApi& api_;
  std::string quay_host_;
  std::atomic<bool> done_{false};
  std::atomic<bool> reachable_{true};
  std::atomic<long> least_left_ms_{1'000'000};
  std::atomic<int> expired_{0};
  mutable std::mutex mutex_;
  std::set<std::string> tokens_;
  std::thread thread_;
};

// What one fault's run measured: its row of the table.
struct Figures {
  std::size_t secret_writes = 0;  // PUTs and POSTs of the Secret the API server accepted
  std::size_t minted = 0;         // tokens Quay issued
  double least_left = 0;          // seconds the Secret's token had left at worst
  int expired = 0;                // samples that found it expired while reachable
  double rss_before_mib = 0;
  double rss_after_mib = 0;
  double relists = 0;
  double watch_failures = 0;
};

class ControllerFaults : public ::testing::Test {
 protected:
  // Quay's tokens live `token_life` and are renewed half of it before they expire.
  explicit ControllerFaults(std::chrono::seconds token_life = 20s)
      : renew_before_(token_life / 2), quay_(pki_, tokens_living(token_life)) {
    ca_file_ = pki_.write_ca(dir_.path()).string();
    api_.add_user(kFirstToken, kController);
    api_.add_user(kSecondToken, kController);
    api_.allow_controller(kController);
    api_.sign_tokens_with(quay_.issuer_signer(), quay_.issuer_url());
    quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:ci:puller", {}}});
    api_.add_service_account("ci", "puller", {{"quay.io/federated-robot-account", kRobot}});
  }

  void SetUp() override {
#ifdef QCP_SANITIZED_BINARY
    const bool slowed = true;
#else
    const bool slowed = !kEmulator.empty();
#endif
    if (slowed) {
      // The controller's logic is the same in every build; under qemu-user or a sanitizer its
      // timings are not, and these tests time faults against compressed token lifetimes. Their
      // paths run under ASan in the integration tests (ShortTokens, Leader, Provision).
      GTEST_SKIP() << "the fault suite runs on the native, unsanitized binary only";
    }
  }

  std::vector<std::string> args(const char* token, std::uint16_t metrics_port) {
    return {"controller",
            "--kubeconfig",
            write_kubeconfig(dir_.path() / (std::string(token).substr(0, 6) + ".kubeconfig"), api_,
                             pki_, token),
            "--quay-host",
            quay_.host(),
            "--ca-file",
            ca_file_,
            "--renew-before",
            std::to_string(renew_before_.count()) + "s",
            "--leader-elect",
            "--leader-election-namespace",
            "qcp-system",
            "--health-probe-bind-address=127.0.0.1:0",
            "--metrics-bind-address=127.0.0.1:" + std::to_string(metrics_port)};
  }
  // Waits for the next renewal, then `then` more: a fault started now covers the renewal after.
  void after_a_renewal(std::chrono::seconds then) {
    const auto data = [&] {
      const auto secret = api_.secret("ci", kSecretName);
      return secret ? (*secret)["data"].dump() : std::string();
    };
    const std::string before = data();
    EXPECT_TRUE(eventually([&] { return data() != before; }, 30s));
    std::this_thread::sleep_for(then);
  }
  [[nodiscard]] std::size_t accepted_secret_writes() const {
    std::size_t writes = 0;
    for (const auto& request : api_.requests()) {
      writes += (request.method == "PUT" || request.method == "POST") &&
                        request.path.find("/secrets") != std::string::npos &&
                        (request.status == 200 || request.status == 201)
                    ? 1U
                    : 0U;
    }
    return writes;
  }
  [[nodiscard]] std::size_t minted() const {
    std::size_t issued = 0;
    for (const auto& request : quay_.requests()) {
      issued += request.path == "/oauth2/federation/robot/token" && request.status == 200 ? 1U : 0U;
    }
    return issued;
  }

  // Runs the controller, lets `inject` do its fault once the Secret exists, lets it run `after`
  // more, and checks what every fault must leave: a Secret that never expired while reachable,
  // no token written twice, memory bounded, a clean exit.
  Figures run_through(const std::string& fault, const std::function<void(ExpiryWatch&)>& inject,
                      std::chrono::seconds after = 6s) {
    const std::uint16_t metrics_port = free_port();
    Replica controller(args(kFirstToken, metrics_port), 180s);
    ExpiryWatch watch(api_, quay_.host());
    Figures figures;
    EXPECT_TRUE(eventually([&] { return api_.secret("ci", kSecretName).has_value(); }, 30s));
    std::this_thread::sleep_for(2s);
    const std::string before = http_get(metrics_port, "/metrics");
    inject(watch);
    watch.reachable(true);
    std::this_thread::sleep_for(after);
    const std::string scrape = http_get(metrics_port, "/metrics");
    const auto& result = controller.stop();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    figures.secret_writes = accepted_secret_writes();
    figures.minted = minted();
    figures.least_left = watch.least_left_seconds();
    figures.expired = watch.expired_samples();
    figures.rss_before_mib = sum_of(before, "process_resident_memory_bytes") / (1 << 20);
    figures.rss_after_mib = sum_of(scrape, "process_resident_memory_bytes") / (1 << 20);
    figures.relists = sum_of(scrape, "quay_credential_provider_api_relists_total");
    figures.watch_failures = sum_of(scrape, "quay_credential_provider_api_watch_failures_total");
    std::printf("| %-34s | %3zu | %3zu | %5.1f s | %2d | %4.1f -> %4.1f MiB | %2.0f | %3.0f |\n",
                fault.c_str(), figures.secret_writes, figures.minted, figures.least_left,
                figures.expired, figures.rss_before_mib, figures.rss_after_mib, figures.relists,
                figures.watch_failures);
    EXPECT_EQ(figures.expired, 0) << result.err;
    EXPECT_GT(figures.least_left, 0.0);
    EXPECT_GE(figures.secret_writes, 2U);              // renewed across the fault
    EXPECT_LE(figures.secret_writes, figures.minted);  // no token written twice
    EXPECT_GE(watch.tokens_seen(), 2U);
    EXPECT_LT(figures.rss_after_mib, figures.rss_before_mib + kRssGrowthMib) << scrape;
    expect_no_leak(result.err, {kFirstToken});
    return figures;
  }

  std::chrono::seconds renew_before_;
  TestPki pki_;
  TempDir dir_{"qcp-faults"};
  std::string ca_file_;
  FakeQuay quay_;
  FakeKubeApi api_{pki_};
};

}  // namespace qcp::test::controller_faults
