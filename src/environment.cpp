#include "qcp/environment.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <thread>

extern char**
    environ;  // NOLINT(readability-redundant-declaration): POSIX, not in <unistd.h> by default

namespace qcp {

std::optional<std::string> Environment::get(std::string_view name) const {
  const auto it = variables.find(name);
  if (it == variables.end()) {
    return std::nullopt;
  }
  return it->second;
}

Environment Environment::from_process() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string_view::npos) {
      env.variables.emplace(std::string(text.substr(0, equals)),
                            std::string(text.substr(equals + 1)));
    }
  }
  env.is_readable_file = [](const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           ::access(path.c_str(), R_OK) == 0;
  };
  env.is_directory = [](const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
  };
  return env;
}

void SystemClock::sleep_for(std::chrono::milliseconds duration) const {
  std::this_thread::sleep_for(duration);
}

}  // namespace qcp
