#include "qcp/static_provider/credentials_file.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/private_file.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/static_provider/namespace.hpp"

namespace qcp::static_provider {
namespace {

constexpr std::string_view kWhat = "credentials file";

[[noreturn]] void unusable(const std::string& file, const std::string& why) {
  throw Failure(ExitCode::kUsage, std::string(kWhat) + " " + one_line(file) + ": " + why);
}

bool is_ip_address(std::string_view host) {
  return host.starts_with('[') || std::all_of(host.begin(), host.end(), [](char c) {
           return c == '.' || (c >= '0' && c <= '9');
         });
}

std::string joined_path(const std::string& dir, std::string_view name) {
  return dir.ends_with('/') ? dir + std::string(name) : dir + "/" + std::string(name);
}

const std::string& text_field(const nlohmann::json& json, const char* key,
                              const std::string& file) {
  const auto& value = json.at(key);
  if (!value.is_string()) {
    unusable(file, std::string(key) + " must be a string");
  }
  return value.get_ref<const std::string&>();
}

// passwordFile: absolute, or relative to the credentials directory; its one line.
std::string password_from_file(const std::string& dir, const std::string& name,
                               const std::string& file) {
  const std::string path = name.starts_with('/') ? name : joined_path(dir, name);
  auto password = read_secret_file(path, "passwordFile of " + file, kMaxCredentialsFileBytes);
  if (!password) {
    unusable(file, "its passwordFile " + one_line(path) + " does not exist");
  }
  while (!password->empty() && (password->back() == '\n' || password->back() == '\r')) {
    password->pop_back();
  }
  if (password->empty()) {
    unusable(file, "its passwordFile " + one_line(path) + " is empty");
  }
  return std::move(*password);
}

std::optional<std::chrono::seconds> duration_of(const nlohmann::json& json,
                                                const std::string& file) {
  if (!json.contains("duration")) {
    return std::nullopt;
  }
  const auto parsed = parse_go_duration(text_field(json, "duration", file));
  if (!parsed || parsed->count() < 0) {
    unusable(file, "duration must be a Go duration such as \"30m\", \"1h\" or \"0s\"");
  }
  return std::chrono::floor<std::chrono::seconds>(*parsed);
}

RegistryCredentials parse_credentials(std::string& text, const std::string& dir,
                                      const std::string& file) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  wipe(text);
  // Its own words only: the parser's would quote the bytes around the error, a password too.
  if (json.is_discarded() || !json.is_object()) {
    unusable(file, "is not a JSON object {\"username\": ..., \"password\": ...}");
  }
  for (const auto& [key, value] : json.items()) {
    static_cast<void>(value);
    if (key != "username" && key != "password" && key != "passwordFile" && key != "duration") {
      unusable(file, "unknown field \"" + one_line(key.substr(0, 40)) +
                         "\" (known: username, password, passwordFile, duration)");
    }
  }
  if (!json.contains("username")) {
    unusable(file, "has no username");
  }
  if (json.contains("password") == json.contains("passwordFile")) {
    unusable(file, "must give exactly one of password and passwordFile");
  }
  RegistryCredentials credentials{.file = file,
                                  .username = text_field(json, "username", file),
                                  .password = {},
                                  .duration = duration_of(json, file)};
  if (json.contains("password")) {
    credentials.password = text_field(json, "password", file);
    wipe(json["password"].get_ref<std::string&>());
  } else {
    credentials.password = password_from_file(dir, text_field(json, "passwordFile", file), file);
  }
  return credentials;
}

}  // namespace

std::vector<std::string> candidate_files(std::string_view registry) {
  const auto colon = registry.rfind(':');
  const bool has_port =
      colon != std::string_view::npos && registry.find(']', colon) == std::string_view::npos;
  const auto host = has_port ? registry.substr(0, colon) : registry;
  const auto port = has_port ? registry.substr(colon) : std::string_view{};
  std::vector<std::string> names{std::string(host) + std::string(port) + ".json"};
  if (is_ip_address(host)) {
    return names;
  }
  for (auto dot = host.find('.'); dot != std::string_view::npos; dot = host.find('.', dot + 1)) {
    names.push_back(std::string(host.substr(dot + 1)) + std::string(port) + ".json");
  }
  return names;
}

std::optional<RegistryCredentials> find_credentials(const std::string& dir,
                                                    std::string_view registry) {
  for (const auto& name : candidate_files(registry)) {
    const std::string file = joined_path(dir, name);
    auto text = read_secret_file(file, kWhat, kMaxCredentialsFileBytes);
    if (!text) {
      continue;
    }
    const WipeOnExit wipe_text(*text);
    return parse_credentials(*text, dir, file);
  }
  return std::nullopt;
}

}  // namespace qcp::static_provider
