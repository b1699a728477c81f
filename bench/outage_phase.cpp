#include "bench/outage_phase.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "jwt.hpp"
#include "qcp/core/jwt.hpp"

namespace qcp::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

// The robot token's exp in a managed Secret; nullopt when it has none to read.
std::optional<long> expiry_of(const test::FakeKubeApi& api, const std::string& quay_host,
                              const std::pair<std::string, std::string>& where) {
  const auto secret = api.secret(where.first, where.second);
  if (!secret) {
    return std::nullopt;
  }
  const auto config = nlohmann::json::parse(
      core::base64_decode((*secret)["data"][".dockerconfigjson"].get<std::string>()).value());
  const auto auth =
      core::base64_decode(config["auths"][quay_host]["auth"].get<std::string>()).value();
  const auto claims = test::decode_jwt_unverified(auth.substr(auth.find(':') + 1));
  return claims ? std::optional(claims->payload["exp"].get<long>()) : std::nullopt;
}

std::size_t expired(const test::FakeKubeApi& api, const std::string& quay_host,
                    const std::vector<std::pair<std::string, std::string>>& secrets) {
  const long now =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  return static_cast<std::size_t>(
      std::count_if(secrets.begin(), secrets.end(), [&](const auto& at) {
        const auto exp = expiry_of(api, quay_host, at);
        return !exp || *exp <= now;
      }));
}

}  // namespace

OutageFigures run_quay_outage(QuayOutageSwitch& quay, std::chrono::seconds length,
                              const test::FakeKubeApi& api, const std::string& quay_host,
                              const std::vector<std::pair<std::string, std::string>>& secrets) {
  OutageFigures figures;
  figures.seconds = static_cast<double>(length.count());
  std::printf("Quay down for %lld s\n", static_cast<long long>(length.count()));
  quay.set_down(true);
  std::size_t counted = 0;
  for (auto left = length; left > 0s; left -= std::min(left, std::chrono::seconds{60})) {
    std::this_thread::sleep_for(std::min(left, std::chrono::seconds{60}));
    figures.refused_per_minute.push_back(quay.refused() - counted);
    counted = quay.refused();
  }
  figures.expired_at_return = expired(api, quay_host, secrets);
  quay.set_down(false);
  const auto back = std::chrono::steady_clock::now();
  constexpr auto kLimit = 10min;
  while (std::chrono::steady_clock::now() - back < kLimit) {
    if (expired(api, quay_host, secrets) == 0) {
      figures.all_valid_after =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - back).count();
      break;
    }
    std::this_thread::sleep_for(250ms);
  }
  return figures;
}

void print_outage(const OutageFigures& figures, std::size_t secrets, int token_seconds,
                  std::chrono::seconds renew_before) {
  std::printf("\nQuay outage: %.0f s, tokens live %d s, renewed %lld s before expiry\n",
              figures.seconds, token_seconds, static_cast<long long>(renew_before.count()));
  std::size_t total = 0;
  std::printf("  exchanges refused, by minute:");
  for (const auto refused : figures.refused_per_minute) {
    std::printf(" %zu", refused);
    total += refused;
  }
  std::printf(" (%zu in all, for %zu ServiceAccounts)\n", total, secrets);
  std::printf("  Secrets expired when Quay came back: %zu of %zu\n", figures.expired_at_return,
              secrets);
  if (figures.all_valid_after < 0) {
    std::printf("  every Secret valid again: NOT within 10 minutes\n");
  } else {
    std::printf("  every Secret valid again %.1f s after Quay came back\n",
                figures.all_valid_after);
  }
}

}  // namespace qcp::bench
