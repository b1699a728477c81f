#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <optional>
#include <string>

namespace qcp::core {

// Reads `in` to its end; nullopt (and nothing kept: the bytes are wiped, they may be a token)
// when it holds more than `max_bytes`. Before each read, `wait_for_input` (when set) returns once
// bytes or EOF are there, or throws when its deadline has passed, so a writer that never closes
// the stream cannot hold the reader. Each read takes only what the stream has buffered, never
// blocking for a full chunk. Each caller says what too much means in its own protocol's words.
std::optional<std::string> read_bounded(std::istream& in, std::size_t max_bytes,
                                        const std::function<void()>& wait_for_input = {});

}  // namespace qcp::core
