#include "qcp/install/failure_record.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "install/transaction.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"

namespace qcp::install {
namespace {

constexpr std::size_t kMaxRecordBytes = std::size_t{64} << 10;

}  // namespace

void FailureRecord::refuse_if_remembered() const {
  std::error_code error;
  if (path_.empty() || !std::filesystem::is_regular_file(path_, error)) {
    return;
  }
  const std::string record = read_whole_file(path_, kMaxRecordBytes);
  const auto newline = record.find('\n');
  if (record.substr(0, newline) != attempt_) {
    return;  // another binary or other settings: a new attempt
  }
  const std::string why = newline == std::string::npos ? "" : record.substr(newline + 1);
  throw Failure(ExitCode::kLookupFailed,
                "install: not trying again what the kubelet did not come up with (" +
                    one_line(why) + "); delete " + path_ + " (or the pod) to try again");
}

void FailureRecord::remember(const std::string& why) const {
  if (path_.empty()) {
    return;
  }
  const std::string temporary = path_ + ".new";
  std::ofstream(temporary, std::ios::trunc) << attempt_ << '\n' << one_line(why) << '\n';
  std::error_code error;
  std::filesystem::rename(temporary, path_, error);
}

Outcome FailureRecord::install(HostFiles& files, const InstallRequest& request) const {
  refuse_if_remembered();
  try {
    return install::install(files, request);
  } catch (const RolledBack& failure) {
    remember(failure.what());
    throw;
  }
}

}  // namespace qcp::install
