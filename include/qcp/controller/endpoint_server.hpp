#pragma once

// The controller's probe endpoints, plain HTTP as kubelet probes speak it: GET /healthz (the
// process and its loops are running) and GET /readyz (every informer has listed once), each
// "ok" with 200 or what is missing with 503. One connection at a time, each read bounded in
// size and time, so a stuck or hostile client holds it for at most kReadTimeout.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/stop_flag.hpp"
#include "qcp/core/unique_fd.hpp"

namespace qcp::controller {

struct HealthChecks {
  std::function<std::string()> alive;  // "" when healthy, else why not
  std::function<std::string()> ready;
};

class HealthServer {
 public:
  static constexpr std::chrono::milliseconds kReadTimeout{2000};

  // Binds `address` (":8081" for every interface, "127.0.0.1:8081", "[::1]:0"); throws Failure
  // (kUsage) for an address that is no IP literal and port, or that cannot be bound.
  HealthServer(const std::string& address, HealthChecks checks);
  // Serves until `stop`.
  void run(const StopFlag& stop);
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  void serve(int connection) const;

  UniqueFd listener_;
  std::uint16_t port_ = 0;
  HealthChecks checks_;
};

}  // namespace qcp::controller
