#pragma once

namespace qcp::core {

// Gives the kernel back the whole pages that freed heap memory left inside the allocator (glibc
// keeps them, in every thread's arena, for allocations that may never come again). For a
// long-running process after a burst of short-lived allocations: a LIST of 100,000 objects,
// a renewal round. Costs about a millisecond for a heap of tens of MiB.
void release_free_memory();

}  // namespace qcp::core
