#include "install/journal.hpp"

#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "install/transaction.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/file_io.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kJournalVersion = 1;
constexpr std::size_t kMaxJournalBytes = std::size_t{1} << 20;

std::string journal_path() {
  return join_path(journal_directory(), "journal.json");
}

[[noreturn]] void refuse_journal(const std::string& why) {
  throw Failure(ExitCode::kLookupFailed,
                journal_path() + " " + why +
                    ": not a journal this installer wrote, so nothing it names is touched; "
                    "check the node, then remove " +
                    journal_directory() + " by hand");
}

// Removes what a killed run left half-written, and journal copies no journal names.
int sweep(HostFiles& files, const std::vector<std::string>& directories) {
  int removed = 0;
  for (const auto& directory : directories) {
    if (files.status(directory).kind != FileKind::kDirectory) {
      continue;
    }
    for (const auto& name : files.list(directory)) {
      const bool stale_copy = directory == journal_directory();
      if (is_temporary_name(name) || stale_copy) {
        files.remove_file(join_path(directory, name));
        ++removed;
      }
    }
  }
  if (files.status(journal_directory()).kind == FileKind::kDirectory) {
    files.remove_directory(journal_directory());
  }
  return removed;
}

struct Recorded {
  InstallState scope;
  std::vector<std::string> directories;
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;  // path, saved
  std::vector<mode_t> modes;
};

Recorded read_journal(const FileContent& content, std::string_view provider_name) {
  if (content.owner != ::geteuid() || (content.mode & 022U) != 0) {
    refuse_journal("is owned by uid " + std::to_string(content.owner) + " or writable by others");
  }
  Recorded journal;
  try {
    const Json json = Json::parse(content.bytes);
    if (json.at("version").get<int>() != kJournalVersion) {
      refuse_journal("was written by another version of this installer");
    }
    journal.scope.bin_dir = json.at("binDir").get<std::string>();
    journal.scope.config = json.at("config").get<std::string>();
    journal.scope.profile = json.at("profile").get<std::string>();
    journal.directories = json.at("directories").get<std::vector<std::string>>();
    for (const auto& change : json.at("changes")) {
      std::optional<std::string> saved;
      if (!change.at("saved").is_null()) {
        saved = change.at("saved").get<std::string>();
      }
      journal.changes.emplace_back(change.at("path").get<std::string>(), saved);
      journal.modes.push_back(change.at("mode").get<mode_t>());
    }
  } catch (const Json::exception&) {
    refuse_journal("cannot be read");
  }
  for (const auto& [path, saved] : journal.changes) {
    const bool copy_ok = !saved || (saved->starts_with(journal_directory() + "/") &&
                                    install_may_write(journal.scope, *saved, provider_name));
    if (!install_may_write(journal.scope, path, provider_name) ||
        path.starts_with(journal_directory()) || !copy_ok) {
      refuse_journal("names " + path + ", which install never writes");
    }
  }
  for (const auto& directory : journal.directories) {
    if (!install_may_create(journal.scope, directory)) {
      refuse_journal("names " + directory + ", which install never creates");
    }
  }
  return journal;
}

}  // namespace

Journal::Journal(HostFiles& files, InstallState scope, std::string provider_name)
    : files_(files), scope_(std::move(scope)), provider_name_(std::move(provider_name)) {}

void Journal::will_create(const std::vector<std::string>& directories) {
  if (directories.empty()) {
    return;
  }
  directories_.insert(directories_.end(), directories.begin(), directories.end());
  persist();
}

void Journal::will_change(const std::string& path, const std::optional<FileContent>& before) {
  Entry entry{.path = path, .saved = std::nullopt, .mode = 0};
  if (before) {
    if (!started_) {
      files_.make_directories(journal_directory());
    }
    entry.saved = join_path(journal_directory(), std::to_string(entries_.size() + 1));
    entry.mode = before->mode;
    files_.write_atomic(*entry.saved, before->bytes, 0600);
  }
  entries_.push_back(std::move(entry));
  persist();
}

void Journal::persist() {
  if (!started_) {
    files_.make_directories(journal_directory());
    started_ = true;
  }
  Json changes = Json::array();
  for (const auto& entry : entries_) {
    changes.push_back({{"path", entry.path},
                       {"saved", entry.saved ? Json(*entry.saved) : Json()},
                       {"mode", entry.mode}});
  }
  const Json json = {{"version", kJournalVersion},  {"binDir", scope_.bin_dir},
                     {"config", scope_.config},     {"profile", scope_.profile},
                     {"directories", directories_}, {"changes", changes}};
  files_.write_atomic(journal_path(), json.dump(2) + "\n", 0600);
}

void Journal::finish() {
  if (!started_) {
    return;
  }
  files_.remove_file(journal_path());
  for (const auto& entry : entries_) {
    if (entry.saved) {
      files_.remove_file(*entry.saved);
    }
  }
  files_.remove_directory(journal_directory());
  directories_.clear();
  entries_.clear();
  started_ = false;
}

std::string recover(HostFiles& files, std::string_view provider_name,
                    const std::vector<std::string>& directories) {
  std::string line;
  if (const auto content = files.read(journal_path(), kMaxJournalBytes)) {
    const Recorded journal = read_journal(*content, provider_name);
    for (std::size_t i = journal.changes.size(); i-- > 0;) {
      const auto& [path, saved] = journal.changes[i];
      if (!saved) {
        files.remove_file(path);
        continue;
      }
      const auto bytes = files.read(*saved, kMaxManagedFileBytes);
      if (!bytes) {
        refuse_journal("names " + *saved + ", which is missing");
      }
      files.write_atomic(path, bytes->bytes, journal.modes[i]);
    }
    for (auto directory = journal.directories.rbegin(); directory != journal.directories.rend();
         ++directory) {
      files.remove_directory(*directory);
    }
    files.remove_file(journal_path());
    line = "an earlier run was stopped half-way: put back the " +
           std::to_string(journal.changes.size()) + " file(s) it had changed";
  }
  std::vector<std::string> swept = directories;
  swept.push_back(journal_directory());
  if (const int removed = sweep(files, swept); removed > 0 && line.empty()) {
    line = "removed " + std::to_string(removed) + " temporary file(s) an earlier run left";
  }
  return line;
}

bool recovery_needed(const HostFiles& files, const std::vector<std::string>& directories) {
  // A journal, or a state directory without a record: a run stopped before it finished.
  if (files.status(journal_directory()).kind != FileKind::kAbsent ||
      (files.status(kStateDirectory).kind != FileKind::kAbsent &&
       files.status(state_path()).kind == FileKind::kAbsent)) {
    return true;
  }
  return std::any_of(directories.begin(), directories.end(), [&files](const std::string& dir) {
    if (files.status(dir).kind != FileKind::kDirectory) {
      return false;
    }
    const auto names = files.list(dir);
    return std::any_of(names.begin(), names.end(),
                       [](const std::string& name) { return is_temporary_name(name); });
  });
}

std::vector<std::string> directories_written(const std::string& bin_dir, const std::string& config,
                                             Profile profile) {
  std::vector<std::string> directories = {bin_dir, config, parent_path(config), kStateDirectory,
                                          originals_directory()};
  if (const auto flags = profile_defaults(profile).flags_file; !flags.empty()) {
    directories.push_back(parent_path(flags));
  }
  return directories;
}

}  // namespace qcp::install
