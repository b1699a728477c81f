#include "qcp/core/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <mutex>
#include <ostream>

#include "qcp/core/redact.hpp"

namespace qcp::core {
namespace {

// Writes each record as one printable line: the message is escaped (one_line) before it is
// formatted, so an image name, a claim or a server's words cannot end the line, start a forged
// one, or carry terminal or bidi controls.
class EscapingStreamSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit EscapingStreamSink(std::ostream& out) : out_(out) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    const std::string escaped =
        one_line(std::string_view(message.payload.data(), message.payload.size()));
    spdlog::details::log_msg safe = message;
    safe.payload = escaped;
    spdlog::memory_buf_t line;
    formatter_->format(safe, line);
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    out_.flush();
  }
  void flush_() override { out_.flush(); }

 private:
  std::ostream& out_;
};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

struct Log::Backend {
  spdlog::logger logger;
};

Log::Log(std::ostream& err, LogLevel level)
    : level_(level),
      backend_(std::make_unique<Backend>(Backend{
          spdlog::logger("quay-credential-provider", std::make_shared<EscapingStreamSink>(err))})) {
  backend_->logger.set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
  backend_->logger.set_level(to_spdlog(level));
}

Log::~Log() = default;

void Log::write(LogLevel level, const std::string& message) {
  backend_->logger.log(to_spdlog(level), spdlog::string_view_t(message.data(), message.size()));
}

std::unique_ptr<Log> make_logger(std::ostream& err, LogLevel level) {
  return std::make_unique<Log>(err, level);
}

}  // namespace qcp::core
