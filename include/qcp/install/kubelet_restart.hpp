#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/host_files.hpp"
#include "qcp/core/process.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {

// Runs a program of the node's, as the node would: tests substitute their own.
class NodeCommands {
 public:
  NodeCommands() = default;
  NodeCommands(const NodeCommands&) = delete;
  NodeCommands& operator=(const NodeCommands&) = delete;
  NodeCommands(NodeCommands&&) = delete;
  NodeCommands& operator=(NodeCommands&&) = delete;
  virtual ~NodeCommands() = default;
  // Throws Failure when the program cannot run or misses the deadline.
  virtual ProcessResult run(const std::vector<std::string>& argv,
                            std::chrono::steady_clock::time_point deadline) = 0;
};

// The real node. With --host-root / this process is on the node already; otherwise (a pod
// seeing the node at /host) programs run in PID 1's mount namespace, the node's own files and
// systemd, which needs hostPID and a privileged container: without them it refuses, saying so.
class HostNodeCommands final : public NodeCommands {
 public:
  // `init_namespace`: PID 1's mount namespace as this process sees it (tests name another).
  explicit HostNodeCommands(std::string host_root, std::string init_namespace = "/proc/1/ns/mnt")
      : host_root_(std::move(host_root)), init_namespace_(std::move(init_namespace)) {}
  ProcessResult run(const std::vector<std::string>& argv,
                    std::chrono::steady_clock::time_point deadline) override;
  // Throws Failure (kUsage) unless the node's programs can be run: checked before install
  // writes anything it would then need a restart for.
  void check_reachable(std::string_view program) const;

 private:
  // "" on the node itself, else PID 1's mount namespace.
  [[nodiscard]] std::string node_namespace(std::string_view program) const;
  std::string host_root_;
  std::string init_namespace_;
};

// Where the kubelet answers health checks: plain HTTP on the node's loopback (healthzPort).
struct HealthzEndpoint {
  std::string address = "127.0.0.1";  // an IPv4 literal
  std::uint16_t port = 10248;
  std::string path = "/healthz";

  [[nodiscard]] std::string url() const;
};

// http://IPv4-or-localhost:PORT/PATH; nullopt when it is anything else.
std::optional<HealthzEndpoint> parse_healthz_url(std::string_view url);

// One GET: true when it answers 200 by the deadline.
bool kubelet_healthy(const HealthzEndpoint& endpoint,
                     std::chrono::steady_clock::time_point deadline);

struct RestartSettings {
  std::string unit = "kubelet";  // the systemd unit running the kubelet (k3s: k3s, k3s-agent)
  HealthzEndpoint healthz;
  std::chrono::seconds timeout{120};  // for the restart and the kubelet's first healthy answer
};

// `systemctl restart UNIT`, then healthz until it answers 200. Returns the line to report;
// throws Failure (kLookupFailed) saying which step failed.
std::string restart_kubelet(NodeCommands& node, const RestartSettings& settings);

// The running kubelet's version as its own executable tells it (/proc/PID/exe --version, run on
// the node: "Kubernetes v1.34.1", or k3s's "k3s version v1.33.3+k3s1"): "v1.34.1". Throws
// Failure saying why it could not be told.
std::string running_kubelet_version(const HostFiles& files, NodeCommands& node);

}  // namespace qcp::install
