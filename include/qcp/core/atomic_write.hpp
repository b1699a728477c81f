#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace qcp::core {

// The step of an atomic replacement that failed; each caller words it in its own language.
enum class AtomicWriteStep {
  kCreate,    // the temporary file could not be made
  kWrite,     // writing, syncing or reading it back failed (errno says why)
  kReadBack,  // what was read back differs from what was written (error 0)
  kReplace,   // the rename over the name failed
  kLanded,    // the name does not lead to the file written (error 0: another was put there)
};

struct AtomicWriteError {
  AtomicWriteStep step;
  int error = 0;  // errno, or 0 where the step says what differed
};

struct AtomicWrite {
  mode_t mode = 0600;
  struct Owner {
    uid_t uid;
    gid_t gid;
  };
  std::optional<Owner> owner;  // given to the new file (only root may give a file away)
  // Runs just before the rename (a last look at what is to be replaced); a throw removes the
  // temporary file and replaces nothing.
  std::function<void()> before_replace;
};

// The one atomic writer: `name` in the open directory `dir` replaced (or created) with `bytes`
// through a temporary file beside it (temporary_name, O_EXCL|O_NOFOLLOW), written, given its
// mode and owner, fsynced, read back through its own descriptor and compared, renamed over the
// name, the directory fsynced; then the name must lead to the inode written. A reader sees the
// old file or the new one, never a part; a temporary file is never left behind by a failure.
// nullopt when it all held.
std::optional<AtomicWriteError> write_atomically(int dir, const std::string& name,
                                                 std::string_view bytes, const AtomicWrite& how);

}  // namespace qcp::core
