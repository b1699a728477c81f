#pragma once

// The controller's --policy (docs/policy.md): read at start, where a mistake stops the controller
// before it writes anything, and read again every few seconds (a ConfigMap edit reaches the pod
// by an atomic swap of its files), so an edit takes effect without a restart. A broken edit
// leaves the last good policy in force and says so once.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/log.hpp"
#include "qcp/quay/policy.hpp"

namespace qcp::controller {

// How often the file is read again: a ConfigMap edit takes a kubelet sync (up to a minute or
// so) to reach the pod, and a policy is a few KiB.
inline constexpr std::chrono::seconds kPolicyRereadEvery{10};

class PolicyFile {
 public:
  // Reads and checks the policy; throws Failure (kUsage) "PATH:LINE: what is wrong".
  PolicyFile(Environment env, std::string path);

  // The policy in force.
  [[nodiscard]] std::shared_ptr<const Policy> current() const;
  // Reads the file again: true when a changed policy took effect (every ServiceAccount is then
  // looked at again). An unreadable or invalid file is logged once and changes nothing.
  bool reread(Log& log);
  // "" unless an edit changed the annotation keys: the informers keep only the keys read at
  // start, so new keys take effect at the next start (/healthz says so, and the kubelet
  // restarts the controller); until then the last policy with the old keys stays in force.
  [[nodiscard]] std::string problem() const;
  // The annotation keys read at start: what the informers keep.
  [[nodiscard]] const std::string& robot_key() const { return robot_key_; }
  [[nodiscard]] const std::string& host_key() const { return host_key_; }

 private:
  Environment env_;
  std::string path_;
  std::string robot_key_;
  std::string host_key_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Policy> policy_;
  std::string text_;        // what policy_ was read from
  std::string last_error_;  // the last reread's failure, told once
  std::string problem_;
};

}  // namespace qcp::controller
