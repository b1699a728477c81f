#pragma once

// A controller over real HTTPS against the fake API server and the fake Quay, with one
// ServiceAccount (team-a/puller) annotated for robot team+puller, for the controller's
// integration tests: start() and stop() it, and read what it wrote.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kube_fixture.hpp"
#include "qcp/controller/controller.hpp"
#include "qcp/controller/metrics.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/stop_flag.hpp"

namespace qcp::test {

using namespace std::chrono_literals;

inline constexpr const char* kRobotKey = "quay.io/federated-robot-account";
inline constexpr const char* kSecret = "puller-quay-pull";

// Quay's tokens live 4 s here, so renewals come every ~2 s (half their life).
inline FakeQuayOptions short_tokens() {
  FakeQuayOptions options;
  options.token_lifetime = 4s;
  return options;
}

class ControllerFixture : public KubeFixture {
 protected:
  explicit ControllerFixture(FakeQuayOptions options = {}) : KubeFixture(options) {
    quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:team-a:puller", {}}});
    api_.add_service_account("team-a", "puller", {{kRobotKey, kRobot}});
    settings_.provision.quay_host = quay_.host();
    settings_.exchange.trust = {
        .ca_file = "", .ca_dir = "", .ca_pem = pki_.ca_pem(), .source = "test CA"};
    settings_.renewal = {.renew_before = 1s, .retry_base = 200ms, .retry_cap = 1s};
    settings_.instance = "qcp-controller-0";
    settings_.workers = 2;
  }
  ~ControllerFixture() override { stop(); }
  ControllerFixture(const ControllerFixture&) = delete;
  ControllerFixture& operator=(const ControllerFixture&) = delete;
  ControllerFixture(ControllerFixture&&) = delete;
  ControllerFixture& operator=(ControllerFixture&&) = delete;

  void start() {
    stop_ = std::make_unique<StopFlag>();
    controller_ =
        std::make_unique<controller::Controller>(client_, quay_http_, settings_, clock_, *log_);
    thread_ = std::thread([this] { controller_->run(*stop_, [] { return true; }); });
  }
  void stop() {
    if (thread_.joinable()) {
      stop_->request();
      thread_.join();
    }
  }
  // The robot token a Secret's data holds.
  [[nodiscard]] std::string token_in(const std::string& data) const {
    const auto config = nlohmann::json::parse(base64_decode(data).value());
    const auto auth = base64_decode(config["auths"][quay_.host()]["auth"].get<std::string>());
    return auth.value().substr(auth->find(':') + 1);
  }
  [[nodiscard]] std::string data() const {
    const auto secret = api_.secret("team-a", kSecret);
    return secret ? (*secret)["data"][".dockerconfigjson"].get<std::string>() : std::string();
  }
  [[nodiscard]] std::vector<std::string> reasons() const {
    std::vector<std::string> out;
    for (const auto& event : api_.events()) {
      out.push_back(event["reason"].get<std::string>());
    }
    return out;
  }
  [[nodiscard]] std::size_t count(const std::string& reason) const {
    const auto all = reasons();
    return static_cast<std::size_t>(std::count(all.begin(), all.end(), reason));
  }
  [[nodiscard]] nlohmann::json pull_secrets() const {
    return api_.service_account("team-a", "puller")
        .value()
        .value("imagePullSecrets", nlohmann::json());
  }
  // What /metrics would answer now, and one sample's value ("name{labels}"; -1 when absent).
  [[nodiscard]] std::string metrics() const {
    controller::PrometheusText out;
    controller_->write_metrics(out);
    return out.text();
  }
  [[nodiscard]] double sample(const std::string& series) const {
    const std::string text = "\n" + metrics();
    const auto at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
  }
  // The Events with this reason, and those about one object.
  [[nodiscard]] std::vector<nlohmann::json> events_with(const std::string& reason) const {
    std::vector<nlohmann::json> out;
    for (const auto& event : api_.events()) {
      if (event["reason"] == reason) {
        out.push_back(event);
      }
    }
    return out;
  }
  [[nodiscard]] std::vector<nlohmann::json> events_about(const std::string& kind,
                                                         const std::string& name) const {
    std::vector<nlohmann::json> out;
    for (const auto& event : api_.events()) {
      if (event["involvedObject"]["kind"] == kind && event["involvedObject"]["name"] == name) {
        out.push_back(event);
      }
    }
    return out;
  }
  std::size_t exchanges() const {
    std::size_t n = 0;
    for (const auto& request : quay_.requests()) {
      n += request.path.starts_with("/oauth2/federation/robot/token") ? 1U : 0U;
    }
    return n;
  }

  net::CurlHttpClient quay_http_;
  std::ostringstream log_text_;
  std::unique_ptr<Log> log_ = make_logger(log_text_, LogLevel::kDebug);
  controller::ControllerSettings settings_;
  std::unique_ptr<StopFlag> stop_;
  std::unique_ptr<controller::Controller> controller_;
  std::thread thread_;
};

}  // namespace qcp::test
