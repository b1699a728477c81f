#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <ostream>

#include "qcp/plugin/options.hpp"

namespace qcp {

// A logger that writes to the given stream (stderr in production) and nowhere else: stdout
// belongs to the kubelet protocol. Never registered globally, so concurrent runs in one test
// process do not share state.
std::shared_ptr<spdlog::logger> make_logger(std::ostream& err, LogLevel level);

}  // namespace qcp
