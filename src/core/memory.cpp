#include "qcp/core/memory.hpp"

#include <malloc.h>

namespace qcp::core {

void release_free_memory() {
  static_cast<void>(::malloc_trim(0));  // 0: keep no slack at the top of the heap either
}

}  // namespace qcp::core
