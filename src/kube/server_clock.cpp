#include "qcp/kube/server_clock.hpp"

#include "qcp/core/retry.hpp"

namespace qcp::kube {

void ServerClock::observe(const std::optional<std::string>& date, TimePoint local_now) {
  const auto server = date ? core::parse_http_date(*date) : std::nullopt;
  if (!server) {
    return;
  }
  // The Date was stamped before the answer arrived and cut to the second: the server's clock
  // is that, up to a second and the answer's time later. Rounded to the nearest second.
  const auto ahead = std::chrono::round<std::chrono::seconds>(
      *server - std::chrono::floor<std::chrono::milliseconds>(local_now) +
      std::chrono::milliseconds{500});
  const bool agree = ahead <= kAgreement && ahead >= -kAgreement;
  offset_ = agree ? 0 : ahead.count();
}

ServerClock::TimePoint ServerClock::now(TimePoint local_now) const {
  return local_now + std::chrono::seconds(offset_.load());
}

}  // namespace qcp::kube
