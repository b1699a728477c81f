#include "install/transaction.hpp"

#include <exception>

#include "qcp/install/namespace.hpp"

namespace qcp::install {

Transaction::~Transaction() {
  if (!undo_.empty() || !created_.empty()) {
    static_cast<void>(rollback());
  }
}

void Transaction::write(const std::string& path, std::string_view bytes, mode_t mode) {
  undo_.push_back({path, files_.read(path, kMaxManagedFileBytes)});
  if (journal_) {
    journal_->will_change(path, undo_.back().before);
  }
  files_.write_atomic(path, bytes, mode);
}

void Transaction::remove(const std::string& path) {
  undo_.push_back({path, files_.read(path, kMaxManagedFileBytes)});
  if (journal_) {
    journal_->will_change(path, undo_.back().before);
  }
  files_.remove_file(path);
}

std::vector<std::string> Transaction::make_directories(const std::string& path) {
  if (journal_) {
    std::vector<std::string> missing;  // outermost first
    for (std::string at = path; at != "/" && files_.status(at).kind == FileKind::kAbsent;
         at = parent_path(at)) {
      missing.insert(missing.begin(), at);
    }
    journal_->will_create(missing);
  }
  auto made = files_.make_directories(path);
  created_.insert(created_.end(), made.begin(), made.end());
  return made;
}

void Transaction::adopt_created(const std::vector<std::string>& directories) {
  created_.insert(created_.end(), directories.begin(), directories.end());
}

void Transaction::commit() {
  undo_.clear();
  created_.clear();
  if (journal_) {
    journal_->finish();
  }
}

std::string Transaction::rollback() {
  std::string failures;
  const auto note = [&failures](const std::exception& error) {
    failures += (failures.empty() ? "" : "; ") + std::string(error.what());
  };
  for (auto undo = undo_.rbegin(); undo != undo_.rend(); ++undo) {
    try {
      if (undo->before) {
        files_.write_atomic(undo->path, undo->before->bytes, undo->before->mode);
      } else {
        files_.remove_file(undo->path);
      }
    } catch (const std::exception& error) {
      note(error);
    }
  }
  // The files are as they were: the journal goes before the directories, which hold it.
  if (journal_ && failures.empty()) {
    try {
      journal_->finish();
    } catch (const std::exception& error) {
      note(error);
    }
  }  // else it stays, and the next run tries again
  for (auto directory = created_.rbegin(); directory != created_.rend(); ++directory) {
    try {
      files_.remove_directory(*directory);
    } catch (const std::exception& error) {
      note(error);
    }
  }
  undo_.clear();
  created_.clear();
  return failures;
}

std::string Transaction::commit_after(const std::function<std::string()>& check) {
  try {
    std::string line = check();
    commit();
    return line;
  } catch (const Failure& failure) {
    const std::string left = rollback();
    std::string again;
    try {
      again = " and then " + check();
    } catch (const Failure& second) {
      again = ", and that failed too: " + std::string(second.what());
    }
    throw RolledBack(failure.code(), std::string(failure.what()) + "; put back the previous files" +
                                         (left.empty() ? "" : " (but: " + left + ")") + again);
  }
}

void Transaction::abandon(const Failure& failure) {
  const std::string left = rollback();
  throw Failure(failure.code(),
                std::string(failure.what()) +
                    (left.empty() ? "; nothing was changed" : "; undoing it failed too: " + left));
}

}  // namespace qcp::install
