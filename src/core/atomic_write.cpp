#include "qcp/core/atomic_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "qcp/core/file_io.hpp"
#include "qcp/core/unique_fd.hpp"

namespace qcp::core {
namespace {

struct Written {
  dev_t device = 0;
  ino_t inode = 0;
};

// The temporary file, written, synced and read back through its own descriptor.
std::optional<AtomicWriteError> write_temporary(int dir, const std::string& temporary,
                                                std::string_view bytes, const AtomicWrite& how,
                                                Written& written) {
  const UniqueFd file(
      ::openat(dir, temporary.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (file.get() < 0) {
    return AtomicWriteError{AtomicWriteStep::kCreate, errno};
  }
  const auto failed = [] { return AtomicWriteError{AtomicWriteStep::kWrite, errno}; };
  if (!write_all(file.get(), bytes)) {
    return failed();
  }
  if (how.owner && ::fchown(file.get(), how.owner->uid, how.owner->gid) != 0) {
    return failed();
  }
  struct stat status {};
  if (::fchmod(file.get(), how.mode) != 0 || ::fsync(file.get()) != 0 ||
      ::fstat(file.get(), &status) != 0 || ::lseek(file.get(), 0, SEEK_SET) != 0) {
    return failed();
  }
  written = {status.st_dev, status.st_ino};
  // Read back through the descriptor written: the name may be anyone's by now.
  std::string back;
  if (!read_all(file.get(), bytes.size(), back)) {
    return errno == EFBIG ? AtomicWriteError{AtomicWriteStep::kReadBack, 0} : failed();
  }
  if (back != bytes) {
    return AtomicWriteError{AtomicWriteStep::kReadBack, 0};
  }
  return std::nullopt;
}

// The rename made durable, and the name checked to lead to what was written.
std::optional<AtomicWriteError> check_landed(int dir, const std::string& name,
                                             const Written& written) {
  const UniqueFd directory(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() < 0 || ::fsync(directory.get()) != 0) {
    return AtomicWriteError{AtomicWriteStep::kWrite, errno};
  }
  struct stat landed {};
  if (::fstatat(dir, name.c_str(), &landed, AT_SYMLINK_NOFOLLOW) != 0) {
    return AtomicWriteError{AtomicWriteStep::kWrite, errno};
  }
  if (landed.st_dev != written.device || landed.st_ino != written.inode) {
    return AtomicWriteError{AtomicWriteStep::kLanded, 0};
  }
  return std::nullopt;
}

}  // namespace

std::optional<AtomicWriteError> write_atomically(int dir, const std::string& name,
                                                 std::string_view bytes, const AtomicWrite& how) {
  const std::string temporary = temporary_name(name);
  Written written;
  std::optional<AtomicWriteError> error;
  try {
    error = write_temporary(dir, temporary, bytes, how, written);
    if (!error && how.before_replace) {
      how.before_replace();
    }
  } catch (...) {
    ::unlinkat(dir, temporary.c_str(), 0);
    throw;
  }
  if (!error && ::renameat(dir, temporary.c_str(), dir, name.c_str()) != 0) {
    error = AtomicWriteError{AtomicWriteStep::kReplace, errno};
  }
  if (error) {
    if (error->step != AtomicWriteStep::kCreate) {  // never remove a name someone else made
      ::unlinkat(dir, temporary.c_str(), 0);
    }
    return error;
  }
  return check_landed(dir, name, written);
}

}  // namespace qcp::core
