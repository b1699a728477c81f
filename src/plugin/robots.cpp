#include "plugin/robots.hpp"

#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/plugin/namespace.hpp"
#include "qcp/quay/token_lifetime.hpp"

namespace qcp::plugin {
namespace {

// The kubelet matches auth keys by raw path prefix with no segment boundary
// (kubelet-plugin-protocol.md §10): "host/team" would also serve "host/team2/app", so a key
// scoped to an organisation ends in '/'.
std::string auth_key_for(const Identity& identity, bool several) {
  return several ? identity.registry + "/" + std::string(organisation_of(identity.robot)) + "/"
                 : identity.registry;
}

// Whether the robot belongs to the image's organisation ("team" of "host/team/app").
bool is_own_robot(const Identity& identity, std::string_view image) {
  const auto slash = image.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  const auto path = image.substr(slash + 1);
  return path.substr(0, path.find('/')) == organisation_of(identity.robot);
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : "; ") + item;
  }
  return out;
}

}  // namespace

MintedRobots mint_robots(HttpClient& http, const Resolution& resolution, std::string_view image,
                         const std::string& service_account_token, const ExchangeSettings& settings,
                         const Options& options, const Clock& clock, Log& log) {
  const bool several = resolution.identities.size() > 1;
  MintedRobots minted;
  for (const Identity& identity : resolution.identities) {
    try {
      MintedRobot robot{.credential = mint_credential(http, identity, service_account_token,
                                                      settings, clock, log),
                        .auth_key = auth_key_for(identity, several)};
      const WipeOnExit wipe_left_behind(robot.credential.token);  // after a move, or a throw
      robot.cache_for = cache_duration_for(robot.credential.valid_until, clock,
                                           options.cache_margin, options.max_cache_duration);
      minted.robots.push_back(std::move(robot));
    } catch (const Failure& failure) {
      if (!several) {
        throw;
      }
      if (is_own_robot(identity, image)) {
        wipe_tokens(minted);
        throw Failure(failure.code(),
                      "robot " + identity.robot + " (the image's organisation): " + failure.what());
      }
      minted.failures.push_back("robot " + identity.robot + ": " + failure.what());
    }
  }
  if (minted.robots.empty()) {
    throw Failure(ExitCode::kLookupFailed, "every robot failed: " + joined(minted.failures));
  }
  for (const auto& failure : minted.failures) {
    log.warn("{}; its organisation's images get no credential from this response", failure);
  }
  return minted;
}

void wipe_tokens(MintedRobots& minted) noexcept {
  for (auto& robot : minted.robots) {
    wipe(robot.credential.token);
  }
}

}  // namespace qcp::plugin
