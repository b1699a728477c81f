#include "install/install_state.hpp"

#include <array>
#include <nlohmann/json.hpp>

#include "qcp/core/failure.hpp"
#include "qcp/install/installer.hpp"

namespace qcp::install {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kStateVersion = 1;
constexpr std::size_t kMaxStateBytes = std::size_t{1} << 20;

constexpr std::array<std::pair<FileRole, std::string_view>, 3> kRoles{{
    {FileRole::kBinary, "binary"},
    {FileRole::kConfig, "config"},
    {FileRole::kKubeletFlags, "kubeletFlags"},
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

}  // namespace

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

std::optional<InstallState> load_state(const HostFiles& files) {
  const auto content = files.read(state_path(), kMaxStateBytes);
  if (!content) {
    return std::nullopt;
  }
  try {
    const Json json = Json::parse(content->bytes);
    if (json.at("version").get<int>() != kStateVersion) {
      throw Failure(ExitCode::kLookupFailed,
                    state_path() + " was written by another version of this installer");
    }
    InstallState state{
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
    return state;
  } catch (const Json::exception&) {
    throw Failure(ExitCode::kLookupFailed,
                  state_path() + " is not an install record this installer can read");
  }
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
