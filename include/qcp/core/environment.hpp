#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qcp::core {

// What the process sees of its node, passed in so tests can stage any node.
struct Environment {
  std::map<std::string, std::string, std::less<>> variables;
  std::function<bool(const std::string& path)> is_readable_file;
  std::function<bool(const std::string& path)> is_directory;
  // A regular file this process may execute (check-config --bin-dir).
  std::function<bool(const std::string& path)> is_executable_file;
  // The whole content of a file of at most max_bytes; throws Failure (kUsage) naming the path
  // and the reason. The diagnostics subcommands and the plugin's --policy read files.
  std::function<std::string(const std::string& path, std::size_t max_bytes)> read_file;
  // Names of the entries of a directory that are not themselves directories (symlinks count,
  // wherever they point); throws Failure (kUsage).
  std::function<std::vector<std::string>(const std::string& path)> list_directory;

  [[nodiscard]] std::optional<std::string> get(std::string_view name) const;

  // The real process environment and file system.
  static Environment from_process();
};

// The whole content of the regular file `path`, at most max_bytes; throws Failure (kUsage)
// "cannot read PATH: why". A FIFO, socket or device is refused without blocking on it.
std::string read_whole_file(const std::string& path, std::size_t max_bytes);

// Variables libraries may still read from the process environment after from_process(): the
// resolver's search domains and options, as glibc's resolver also honours them.
inline constexpr std::array<std::string_view, 2> kLibraryVariables = {"LOCALDOMAIN", "RES_OPTIONS"};

// Empties the process environment but for kLibraryVariables, once from_process() has taken what
// the program reads: libcurl, OpenSSL and c-ares must not change behaviour behind our back
// (SSLKEYLOGFILE would write the TLS secrets to disk; OPENSSL_CONF, SSL_CERT_*, *_proxy,
// HOSTALIASES and CURL_* alter trust, routing or output). Returns false if it could not.
bool isolate_process_environment();

class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  Clock(Clock&&) = delete;
  Clock& operator=(Clock&&) = delete;
  virtual ~Clock() = default;
  // Wall time: token expiry and Retry-After dates.
  [[nodiscard]] virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time: deadlines, immune to clock steps.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point monotonic() const = 0;
  // Waits between attempts; tests advance a fake clock instead.
  virtual void sleep_for(std::chrono::milliseconds duration) const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  [[nodiscard]] std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::now();
  }
  void sleep_for(std::chrono::milliseconds duration) const override;
};

}  // namespace qcp::core
