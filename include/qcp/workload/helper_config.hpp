#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/environment.hpp"
#include "qcp/core/token_source.hpp"
#include "qcp/workload/namespace.hpp"

namespace qcp::workload {

// Which robot, with which identity token, serves one registry.
struct RegistryEntry {
  std::string registry;  // HOST[:PORT]; "" in the environment's entry: any registry asked
  std::string robot;
  std::string quay_host;  // the Quay that mints tokens when it is not the registry ("")
  TokenSource source;
};

inline constexpr std::string_view kRobotVariable = "QUAY_CREDENTIAL_PROVIDER_ROBOT";
inline constexpr std::string_view kTokenFileVariable = "QUAY_CREDENTIAL_PROVIDER_TOKEN_FILE";
inline constexpr std::string_view kTokenCommandVariable = "QUAY_CREDENTIAL_PROVIDER_TOKEN_COMMAND";
inline constexpr std::string_view kQuayHostVariable = "QUAY_CREDENTIAL_PROVIDER_QUAY_HOST";
inline constexpr std::string_view kHelperConfigVariable = "QUAY_CREDENTIAL_PROVIDER_HELPER_CONFIG";

// The helper's configuration: QUAY_CREDENTIAL_PROVIDER_ROBOT with _TOKEN_FILE or
// _TOKEN_COMMAND (and optionally _QUAY_HOST) (one entry, for whatever registry the tool asks about:
// credHelpers decides which ones), or else the file $QUAY_CREDENTIAL_PROVIDER_HELPER_CONFIG, by
// default
// ${XDG_CONFIG_HOME:-$HOME/.config}/quay-credential-provider/helper.yaml:
//
//   registries:
//     quay.example.com:
//       robot: team+builder
//       tokenFile: /var/run/secrets/tokens/quay
//     quay.example.com:8443:
//       robot: team+ci
//       tokenCommand: "print-oidc-token --audience quay"
//       quayHost: quay.example.com     # optional: the Quay that mints, if not the registry
//
// No configuration at all is an empty list. Throws Failure (kUsage) naming the variable, file
// and line of anything malformed.
std::vector<RegistryEntry> load_helper_config(const Environment& env);

// Parses the file's text (`origin` names it in messages).
std::vector<RegistryEntry> parse_helper_config(std::string_view text, const std::string& origin);

// What a tool passes on stdin to `get` ("quay.example.com", "quay.example.com:8443",
// "https://quay.example.com/v2/", ...) as HOST[:PORT]; nullopt when it is none.
std::optional<std::string> registry_of_server_url(std::string_view server_url);

// The entry serving `registry`, if any.
const RegistryEntry* entry_for(const std::vector<RegistryEntry>& entries,
                               const std::string& registry);

}  // namespace qcp::workload
