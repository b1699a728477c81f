#pragma once

#include <fmt/core.h>

#include <memory>
#include <ostream>
#include <string>
#include <utility>

namespace qcp::core {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// The program's log: one printable line per record ("2026-12-06T18:11:04.123Z info ...", the
// message escaped by one_line) on the stream it was made for, stderr in production and never
// stdout, which belongs to the protocols. Never registered globally, so concurrent runs in one
// test process share nothing. spdlog lives behind it in log.cpp: a file that logs compiles only
// fmt's core.
class Log {
 public:
  Log(std::ostream& err, LogLevel level);
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  Log(Log&&) = delete;
  Log& operator=(Log&&) = delete;
  ~Log();

  // Whether records of this level are written: to skip work done only for a record.
  [[nodiscard]] bool enabled(LogLevel level) const {
    return level != LogLevel::kOff && level >= level_;
  }
  template <typename... Args>
  void trace(fmt::format_string<Args...> format, Args&&... args) {
    emit(LogLevel::kTrace, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) {
    emit(LogLevel::kDebug, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    emit(LogLevel::kInfo, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) {
    emit(LogLevel::kWarn, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) {
    emit(LogLevel::kError, format, std::forward<Args>(args)...);
  }

 private:
  template <typename... Args>
  void emit(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(level)) {
      write(level, fmt::format(format, std::forward<Args>(args)...));
    }
  }
  void write(LogLevel level, const std::string& message);

  struct Backend;
  LogLevel level_;
  std::unique_ptr<Backend> backend_;
};

// A log on `err` (stderr in production) at `level`.
std::unique_ptr<Log> make_logger(std::ostream& err, LogLevel level);

}  // namespace qcp::core
