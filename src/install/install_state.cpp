#include "install/install_state.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "qcp/core/failure.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/install/profile.hpp"
#include "qcp/version.hpp"

namespace qcp::install {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kStateVersion = 1;
constexpr std::size_t kMaxStateBytes = std::size_t{1} << 20;

constexpr std::array<std::pair<FileRole, std::string_view>, 4> kRoles{{
    {FileRole::kBinary, "binary"},
    {FileRole::kConfig, "config"},
    {FileRole::kKubeletFlags, "kubeletFlags"},
    {FileRole::kPolicy, "policy"},
}};

std::string_view role_name(FileRole role) {
  for (const auto& [known, name] : kRoles) {
    if (known == role) {
      return name;
    }
  }
  return "config";
}

FileRole role_named(const std::string& name) {
  for (const auto& [role, known] : kRoles) {
    if (known == name) {
      return role;
    }
  }
  throw Failure(ExitCode::kLookupFailed, state_path() + " names an unknown file role");
}

[[noreturn]] void refuse_record(const std::string& why) {
  throw Failure(ExitCode::kLookupFailed,
                state_path() + " " + why +
                    ": not an install record this installer wrote, so nothing it names is "
                    "touched; check the node, then remove the record by hand");
}

// Only the installer (root) may have written the record and what it points at: a record
// another user could edit would let them pick what root deletes or overwrites.
void check_owner(const std::string& path, uid_t owner, mode_t mode) {
  if (owner != ::geteuid()) {
    refuse_record("(or " + path + ") is owned by uid " + std::to_string(owner) + ", not " +
                  std::to_string(::geteuid()));
  }
  if ((mode & 022U) != 0) {
    refuse_record("(or " + path + ") is writable by group or others");
  }
}

bool is_ancestor_or_self(std::string_view directory, std::string_view of) {
  return of == directory || (of.starts_with(directory) && of.size() > directory.size() &&
                             (directory == "/" || of[directory.size()] == '/'));
}

bool is_saved_original(std::string_view path) {
  const std::string prefix = originals_directory() + "/";
  if (!path.starts_with(prefix) || path.size() == prefix.size()) {
    return false;
  }
  const auto number = path.substr(prefix.size());
  return number.front() != '0' &&
         std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The role install gives `path`, when install can ever write it for this record.
std::optional<FileRole> managed_role(const InstallState& state, std::string_view path,
                                     std::string_view provider_name) {
  // The binary, and the same bytes as static-credential-provider (install --static-...).
  if (path == join_path(state.bin_dir, provider_name) ||
      path == join_path(state.bin_dir, kStaticProgramName)) {
    return FileRole::kBinary;
  }
  if (path == state.config || path == join_path(state.config, kConfigFileName)) {
    return FileRole::kConfig;
  }
  if (path == managed_policy_path(state.config)) {
    return FileRole::kPolicy;
  }
  const auto profile = parse_profile(state.profile);
  if (profile && !profile_defaults(*profile).flags_file.empty() &&
      path == profile_defaults(*profile).flags_file) {
    return FileRole::kKubeletFlags;
  }
  return std::nullopt;
}

// Every path the record names must be one install manages: uninstall removes and overwrites
// them as root.
void check_paths(const InstallState& state, std::string_view provider_name) {
  if (!parse_profile(state.profile)) {
    refuse_record("names an unknown profile");
  }
  std::vector<std::string_view> seen;
  const auto once = [&seen](std::string_view path) {
    if (std::find(seen.begin(), seen.end(), path) != seen.end()) {
      refuse_record("names " + std::string(path) + " twice");
    }
    seen.push_back(path);
  };
  for (const auto& file : state.files) {
    once(file.path);
    if (managed_role(state, file.path, provider_name) != file.role) {
      refuse_record("names " + file.path + ", which install never writes (only the binaries in " +
                    state.bin_dir + ", the config " + state.config +
                    " and the profile's flags file)");
    }
    if (file.original) {
      once(*file.original);
      if (!is_saved_original(*file.original)) {
        refuse_record("names " + *file.original + " as a saved original, which are only under " +
                      originals_directory() + "/");
      }
    }
  }
  for (const auto& directory : state.created_directories) {
    if (!install_may_create(state, directory)) {
      refuse_record("names " + directory + " as a directory install created, which it never does");
    }
  }
}

}  // namespace

std::string managed_policy_path(std::string_view config) {
  return join_path(parent_path(config), "quay-credential-provider-policy.yaml");
}

bool install_may_write(const InstallState& scope, std::string_view path,
                       std::string_view provider_name) {
  const std::string journal_prefix = journal_directory() + "/";
  const auto number = path.substr(std::min(path.size(), journal_prefix.size()));
  return managed_role(scope, path, provider_name).has_value() || path == state_path() ||
         is_saved_original(path) ||
         (path.starts_with(journal_prefix) && !number.empty() && number.front() != '0' &&
          std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

bool install_may_create(const InstallState& scope, std::string_view directory) {
  const auto profile = parse_profile(scope.profile).value_or(Profile::kGeneric);
  const std::string flags_file = profile_defaults(profile).flags_file;
  const std::vector<std::string> made_by_install = {
      scope.bin_dir,       parent_path(scope.config),
      kStateDirectory,     originals_directory(),
      journal_directory(), flags_file.empty() ? "" : parent_path(flags_file)};
  return directory.starts_with('/') && std::any_of(made_by_install.begin(), made_by_install.end(),
                                                   [&directory](const std::string& made) {
                                                     return !made.empty() &&
                                                            is_ancestor_or_self(directory, made);
                                                   });
}

ManagedFile* InstallState::find(std::string_view path) {
  for (auto& file : files) {
    if (file.path == path) {
      return &file;
    }
  }
  return nullptr;
}

std::string state_path() {
  return join_path(kStateDirectory, "install.json");
}
std::string originals_directory() {
  return join_path(kStateDirectory, "originals");
}
std::string journal_directory() {
  return join_path(kStateDirectory, "journal");
}

std::optional<InstallState> load_state(const HostFiles& files, std::string_view provider_name) {
  const auto content = files.read(state_path(), kMaxStateBytes);
  if (!content) {
    return std::nullopt;
  }
  check_owner(state_path(), content->owner, content->mode);
  const auto directory = files.status(kStateDirectory);
  check_owner(kStateDirectory, directory.owner, directory.mode);
  InstallState state;
  try {
    const Json json = Json::parse(content->bytes);
    if (json.at("version").get<int>() != kStateVersion) {
      throw Failure(ExitCode::kLookupFailed,
                    state_path() + " was written by another version of this installer");
    }
    state = InstallState{
        .bin_dir = json.at("binDir").get<std::string>(),
        .config = json.at("config").get<std::string>(),
        .profile = json.at("profile").get<std::string>(),
        .created_directories = json.at("createdDirectories").get<std::vector<std::string>>(),
        .files = {}};
    for (const auto& file : json.at("files")) {
      ManagedFile managed{.path = file.at("path").get<std::string>(),
                          .role = role_named(file.at("role").get<std::string>()),
                          .original = std::nullopt,
                          .original_mode = file.at("originalMode").get<mode_t>(),
                          .written_sha256 = file.at("writtenSha256").get<std::string>()};
      if (!file.at("original").is_null()) {
        managed.original = file.at("original").get<std::string>();
      }
      state.files.push_back(std::move(managed));
    }
  } catch (const Json::exception&) {
    throw Failure(ExitCode::kLookupFailed,
                  state_path() + " is not an install record this installer can read");
  }
  check_paths(state, provider_name);
  return state;
}

std::string serialize(const InstallState& state) {
  Json files = Json::array();
  for (const auto& file : state.files) {
    files.push_back({{"path", file.path},
                     {"role", role_name(file.role)},
                     {"original", file.original ? Json(*file.original) : Json()},
                     {"originalMode", file.original_mode},
                     {"writtenSha256", file.written_sha256}});
  }
  const Json json = {{"version", kStateVersion},
                     {"binDir", state.bin_dir},
                     {"config", state.config},
                     {"profile", state.profile},
                     {"createdDirectories", state.created_directories},
                     {"files", files}};
  return json.dump(2) + "\n";
}

}  // namespace qcp::install
