#pragma once

#include <ostream>
#include <string_view>

namespace qcp::core {

// Writes a protocol's whole answer to `out` and flushes it. Throws Failure (kLookupFailed) when
// it cannot, naming errno's reason: a full disk (ENOSPC), a reader that has gone away (EPIPE;
// SIGPIPE is ignored in main), ...
void write_answer(std::ostream& out, std::string_view answer);

}  // namespace qcp::core
