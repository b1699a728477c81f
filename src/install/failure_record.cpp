#include "qcp/install/failure_record.hpp"

#include <chrono>
#include <optional>

#include "install/transaction.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/private_file.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {
namespace {

constexpr std::size_t kMaxRecordBytes = std::size_t{64} << 10;
constexpr std::string_view kWhat = "install: --failure-record";
// Two installers sharing one record (a --watch loop and a second run) take turns.
constexpr auto kLockWait = std::chrono::seconds{600};

}  // namespace

void FailureRecord::refuse_if_remembered() const {
  const auto record = read_private_file(path_, kWhat, kMaxRecordBytes);
  if (!record) {
    return;
  }
  const auto newline = record->find('\n');
  if (record->substr(0, newline) != attempt_) {
    return;  // another binary or other settings: a new attempt
  }
  const std::string why = newline == std::string::npos ? "" : record->substr(newline + 1);
  throw Failure(ExitCode::kLookupFailed,
                "install: not trying again what the kubelet did not come up with (" +
                    one_line(why.substr(0, why.find('\n'))) + "); delete " + path_ +
                    " (or the pod) to try again");
}

Outcome FailureRecord::install(HostFiles& files, const InstallRequest& request) const {
  if (path_.empty()) {
    return install::install(files, request);
  }
  // Taken before anything is written: a record that could not be written would let the next
  // round restart the kubelet into the same failure, which is what it exists to stop.
  const PrivateFileLock lock(path_, kWhat, std::chrono::steady_clock::now() + kLockWait);
  refuse_if_remembered();
  try {
    return install::install(files, request);
  } catch (const RolledBack& failure) {
    try {
      write_private_file(path_, kWhat, attempt_ + '\n' + one_line(failure.what()) + '\n');
    } catch (const Failure& unwritten) {
      throw RolledBack(failure.code(), std::string(failure.what()) +
                                           "; and it could not be remembered: " + unwritten.what());
    }
    throw;
  }
}

}  // namespace qcp::install
