#include "qcp/core/environment.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "qcp/core/failure.hpp"
#include "qcp/core/file_io.hpp"
#include "qcp/core/unique_fd.hpp"

extern char**
    environ;  // NOLINT(readability-redundant-declaration): POSIX, not in <unistd.h> by default

namespace qcp::core {
namespace {

// strerror's text, without strerror's shared buffer.
std::string system_error_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// As Go's os.ReadDir and the kubelet see a directory: an entry counts as a directory only if it
// is one itself; a symlink is "not a directory" whatever it points to (or whether it points).
std::vector<std::string> directory_entries(const std::string& path) {
  std::vector<DirectoryEntry> entries;
  if (!list_directory(UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)),
                      entries)) {
    throw Failure(ExitCode::kUsage, "cannot read " + path + ": " + system_error_text(errno));
  }
  std::vector<std::string> names;
  for (auto& entry : entries) {
    if (!entry.is_directory) {
      names.push_back(std::move(entry.name));
    }
  }
  return names;
}

}  // namespace

std::string read_whole_file(const std::string& path, std::size_t max_bytes) {
  auto failed = [&path](const std::string& why) {
    return Failure(ExitCode::kUsage, "cannot read " + path + ": " + why);
  };
  // Non-blocking open: a FIFO would otherwise block here until a writer comes, maybe forever.
  const UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (file.get() < 0) {
    throw failed(system_error_text(errno));
  }
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) {
    throw failed(system_error_text(errno));
  }
  if (S_ISDIR(info.st_mode)) {
    throw failed("is a directory");
  }
  if (!S_ISREG(info.st_mode)) {
    throw failed("not a regular file (a FIFO, socket or device may never end)");
  }
  std::string data;
  if (!read_all(file.get(), max_bytes, data)) {
    throw failed(errno == EFBIG ? "larger than " + std::to_string(max_bytes) + " bytes"
                                : system_error_text(errno));
  }
  return data;
}

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
  env.is_executable_file = [](const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  env.read_file = read_whole_file;
  env.list_directory = directory_entries;
  return env;
}

bool isolate_process_environment() {
  std::vector<std::pair<std::string, std::string>> kept;
  for (const auto name : kLibraryVariables) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): called once in main, before any thread exists
    if (const char* value = std::getenv(std::string(name).c_str()); value != nullptr) {
      kept.emplace_back(name, value);
    }
  }
  if (::clearenv() != 0) {
    return false;
  }
  for (const auto& [name, value] : kept) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): as above
    if (::setenv(name.c_str(), value.c_str(), 1) != 0) {
      return false;
    }
  }
  return true;
}

void SystemClock::sleep_for(std::chrono::milliseconds duration) const {
  std::this_thread::sleep_for(duration);
}

}  // namespace qcp::core
