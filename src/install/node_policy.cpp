#include "install/node_policy.hpp"

#include <unistd.h>

#include <algorithm>

#include "qcp/core/failure.hpp"

namespace qcp::install {
namespace {

Failure refused(const std::string& path, const std::string& why) {
  return Failure(ExitCode::kUsage, "install: --policy " + path + " " + why +
                                       ": the provider runs as root and would refuse it (or "
                                       "another user could change what it allows); nothing was "
                                       "changed");
}

// Root's: or, where install itself runs as another user (tests), its own, as every private file
// of ours is judged.
bool roots(uid_t owner) {
  return owner == 0 || owner == ::geteuid();
}

constexpr mode_t kOthersWrite = 022;
constexpr mode_t kSticky = 01000;

}  // namespace

Policy read_node_policy(const HostFiles& files, const std::string& path) {
  if (files.link_target(path)) {
    throw refused(path, "is a symlink");
  }
  const auto content = files.read(path, kMaxPolicyBytes + 1);
  if (!content) {
    throw Failure(ExitCode::kUsage, "install: --policy " + path + ": no such file on the node");
  }
  if (content->bytes.size() > kMaxPolicyBytes) {
    throw refused(path, "is larger than " + std::to_string(kMaxPolicyBytes >> 10) + " KiB");
  }
  if (!roots(content->owner)) {
    throw refused(path, "is not root's");
  }
  if ((content->mode & kOthersWrite) != 0) {
    throw refused(path, "may be written by group or others");
  }
  const auto directory = files.status(parent_path(path));
  if (!roots(directory.owner) ||
      ((directory.mode & kOthersWrite) != 0 && (directory.mode & kSticky) == 0)) {
    throw refused(path, "is in a directory that is not root's or that others may write to");
  }
  try {
    return parse_policy(content->bytes, path);
  } catch (const Failure& failure) {
    throw Failure(ExitCode::kUsage,
                  "install: " + std::string(failure.what()) + "; nothing was changed");
  }
}

void apply_policy(const Policy& policy, ProviderSettings& provider) {
  provider.args.insert(provider.args.end(), {"--policy", policy.path});
  provider.robot_key = policy.robot_annotation;
  provider.host_key = policy.host_annotation;
  provider.robot_key_optional =
      std::any_of(policy.rules.begin(), policy.rules.end(),
                  [](const PolicyRule& rule) { return !rule.default_robots.empty(); });
}

}  // namespace qcp::install
