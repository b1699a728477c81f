#include "qcp/core/memory.hpp"

#include <malloc.h>

// Under a sanitizer, malloc is the sanitizer's and glibc's allocator is first set up by the first
// malloc_trim itself. glibc marks itself initialised before it initialises its main arena, so two
// threads trimming for the first time at once (two informers finishing their LISTs) can walk an
// empty arena: CI's ASan run crashed so, in mtrim. There is nothing of ours there to trim anyway.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define QCP_MALLOC_REPLACED_BY_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define QCP_MALLOC_REPLACED_BY_SANITIZER 1
#endif
#endif

namespace qcp::core {

void release_free_memory() {
#ifndef QCP_MALLOC_REPLACED_BY_SANITIZER
  static_cast<void>(::malloc_trim(0));  // 0: keep no slack at the top of the heap either
#endif
}

}  // namespace qcp::core
