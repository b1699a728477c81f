#pragma once
// Several robots for one request: each minted under the one deadline, the image's own first.

#include <chrono>
#include <string>
#include <vector>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/log.hpp"
#include "qcp/plugin/namespace.hpp"
#include "qcp/quay/credential.hpp"
#include "qcp/quay/exchange_settings.hpp"
#include "qcp/quay/identity.hpp"
#include "qcp/quay/options.hpp"

namespace qcp::plugin {

struct MintedRobot {
  RobotCredential credential;
  std::string auth_key;  // the registry, or "registry/org/" when there are several robots
  std::chrono::seconds cache_for{};
};

struct MintedRobots {
  std::vector<MintedRobot> robots;    // those Quay gave a token, in the resolution's order
  std::vector<std::string> failures;  // "robot org+name: why" for the others; no secret in them
};

// Mints every robot of the resolution. The image's own organisation's robot failing fails the
// request (the pull needs it, and only a failure reaches the kubelet's log); another robot's
// failure leaves it out; all failing fails the request with each reason.
MintedRobots mint_robots(HttpClient& http, const Resolution& resolution, std::string_view image,
                         const std::string& service_account_token, const ExchangeSettings& settings,
                         const Options& options, const Clock& clock, Log& log);

// Wipes every token held.
void wipe_tokens(MintedRobots& minted) noexcept;

// Wipes them when the scope ends, on every path out of it.
class WipeRobotsOnExit {
 public:
  explicit WipeRobotsOnExit(MintedRobots& minted) noexcept : minted_(minted) {}
  WipeRobotsOnExit(const WipeRobotsOnExit&) = delete;
  WipeRobotsOnExit& operator=(const WipeRobotsOnExit&) = delete;
  WipeRobotsOnExit(WipeRobotsOnExit&&) = delete;
  WipeRobotsOnExit& operator=(WipeRobotsOnExit&&) = delete;
  ~WipeRobotsOnExit() { wipe_tokens(minted_); }

 private:
  MintedRobots& minted_;
};

}  // namespace qcp::plugin
