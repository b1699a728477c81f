#pragma once

// The controller's plain-HTTP endpoints, as kubelet probes and Prometheus speak to them: a GET
// of a known path gets what its handler answers, anything else 404. Used twice: the probes
// (/healthz, /readyz on --health-probe-bind-address) and the metrics (/metrics on
// --metrics-bind-address). One connection at a time, each read bounded in size and time, so a
// stuck or hostile client holds it for at most kReadTimeout.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/stop_flag.hpp"
#include "qcp/core/unique_fd.hpp"

namespace qcp::controller {

struct EndpointReply {
  int status = 200;  // 200 or 503
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Path (without the query) -> what it answers, computed for each request.
using EndpointRoutes = std::map<std::string, std::function<EndpointReply()>, std::less<>>;

class EndpointServer {
 public:
  static constexpr std::chrono::milliseconds kReadTimeout{2000};

  // Binds `address` (":8081" for every interface, "127.0.0.1:8081", "[::1]:0"); throws Failure
  // (kUsage) naming `flag` for an address that is no IP literal and port, or cannot be bound.
  EndpointServer(std::string_view flag, const std::string& address, EndpointRoutes routes);
  // Serves until `stop`.
  void run(const StopFlag& stop);
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  void serve(int connection) const;

  UniqueFd listener_;
  std::uint16_t port_ = 0;
  EndpointRoutes routes_;
};

// Throws Failure (kUsage) naming `flag` unless `address` is [IP]:PORT (checked with the flags,
// before anything is sent; binding it may still fail later).
void check_bind_address(std::string_view flag, const std::string& address);

// "" (healthy) -> 200 "ok", else 503 with the reason: what a probe endpoint answers.
EndpointReply probe_reply(const std::string& problem);

}  // namespace qcp::controller
