#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "install/journal.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/host_files.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {

// What commit_after throws: the changes were in place, the check failed, and they were taken
// back (a kubelet that did not come up with them).
class RolledBack : public Failure {
 public:
  using Failure::Failure;
};

// Changes to the node's files that can all be taken back: each write or removal remembers what
// was there, each created directory is noted, and rollback() undoes them newest first. Until
// commit(), the destructor rolls back (a change is never left half-made by an exception).
class Transaction {
 public:
  explicit Transaction(HostFiles& files) : files_(files) {}
  // From now on every change is first written down on disk (journal.hpp), so that a run killed
  // half-way is undone by the next one.
  void journal_to(const InstallState& scope, const std::string& provider_name) {
    journal_.emplace(files_, scope, provider_name);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction(Transaction&&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  void write(const std::string& path, std::string_view bytes, mode_t mode);
  void remove(const std::string& path);
  // The directories it created, outermost first.
  std::vector<std::string> make_directories(const std::string& path);

  // Directories made for it by someone else (the lock): removed, when empty, on rollback.
  void adopt_created(const std::vector<std::string>& directories);

  void commit();
  // Runs `check` (a kubelet restart) with the changes in place: commits and returns its line
  // when it succeeds; otherwise rolls back, runs `check` again to bring back what was there,
  // and throws the first failure as RolledBack, saying whether the node is as it was.
  std::string commit_after(const std::function<std::string()>& check);
  // Undoes every change; returns what could not be undone ("" when all was).
  std::string rollback();
  // Rolls back, then throws `failure` again, ending its message with whether the node is as it
  // was ("; nothing was changed") or what could not be put back.
  [[noreturn]] void abandon(const Failure& failure);

 private:
  struct Undo {
    std::string path;
    std::optional<FileContent> before;  // nullopt: nothing was there
  };
  HostFiles& files_;
  std::optional<Journal> journal_;
  std::vector<Undo> undo_;
  std::vector<std::string> created_;
};

// Large enough for any build of this program; bounds what is read back for undo.
inline constexpr std::size_t kMaxManagedFileBytes = std::size_t{256} << 20;

}  // namespace qcp::install
