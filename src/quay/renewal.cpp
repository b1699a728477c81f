#include "qcp/quay/renewal.hpp"

#include <algorithm>

#include "qcp/quay/namespace.hpp"

namespace qcp::quay {
namespace {

constexpr std::chrono::milliseconds kMinimumWait{1000};
constexpr double kJitter = 0.1;

}  // namespace

std::chrono::milliseconds renew_after(std::chrono::milliseconds left, std::chrono::seconds margin,
                                      double uniform) {
  using std::chrono::milliseconds;
  milliseconds wait = std::max(left - margin, left / 2);
  wait = milliseconds{static_cast<milliseconds::rep>(static_cast<double>(wait.count()) *
                                                     (1.0 - kJitter * uniform))};
  return std::max(wait, kMinimumWait);
}

}  // namespace qcp::quay
