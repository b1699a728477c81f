#pragma once
// One registry's credentials from a directory of per-registry files.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/static_provider/namespace.hpp"

namespace qcp::static_provider {

// Credential files are a few hundred bytes; a password file a few KiB.
inline constexpr std::size_t kMaxCredentialsFileBytes = std::size_t{64} << 10;

struct RegistryCredentials {
  std::string file;  // the file that answered, for messages and logs
  std::string username;
  std::string password;  // a secret
  std::optional<std::chrono::seconds> duration;
};

// The file names that may serve a registry (host[:port]), longest suffix first:
// "registry.example.org:5000" -> registry.example.org:5000.json, example.org:5000.json,
// org:5000.json. The port is part of every name, as the kubelet matches ports; an IP address or
// a single-label host has only its own name.
std::vector<std::string> candidate_files(std::string_view registry);

// The first candidate present in `dir`, read (never through a symlink, never a file of another
// user or open to group or others) and checked; nullopt when there is none. Throws Failure
// (kUsage) naming the file for a file that is there but unusable; no message quotes a password.
std::optional<RegistryCredentials> find_credentials(const std::string& dir,
                                                    std::string_view registry);

}  // namespace qcp::static_provider
