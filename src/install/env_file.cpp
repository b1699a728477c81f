#include "install/env_file.hpp"

#include <algorithm>

#include "qcp/core/failure.hpp"
#include "qcp/core/text.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {
namespace {

constexpr std::string_view kBlank = " \t";

bool is_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// The value as systemd reads it, when this reading cannot differ from its own; nullopt else.
std::optional<std::string> plain_value(std::string_view value) {
  const auto end = value.find_last_not_of(kBlank);
  value = end == std::string_view::npos ? std::string_view() : value.substr(0, end + 1);
  if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
    const char quote = value.front();
    if (value.size() < 2 || value.back() != quote) {
      return std::nullopt;  // open: systemd reads on into the next line
    }
    value = value.substr(1, value.size() - 2);
    if (value.find_first_of("\"'\\") != std::string_view::npos) {
      return std::nullopt;
    }
    return std::string(value);
  }
  if (value.find_first_of("\"'\\") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace

EnvFile::EnvFile(std::string_view text, std::string_view key, const std::string& file)
    : lines_(split(text, '\n')), key_(key), file_(file) {
  const auto refuse = [&file](std::size_t index, const std::string& why) {
    throw Failure(ExitCode::kUsage, "install: " + file + ":" + std::to_string(index + 1) + " " +
                                        why +
                                        "; install edits this file only where systemd "
                                        "reads it line by line (systemd.exec(5) EnvironmentFile=)");
  };
  for (std::size_t index = 0; index < lines_.size(); ++index) {
    const std::string_view line = lines_[index];
    if (line.find('\r') != std::string_view::npos) {
      refuse(index, "has a CR line end (\\r\\n): write it with \\n only");
    }
    if (line.ends_with('\\')) {
      refuse(index, "ends in a backslash, which joins the next line to it");
    }
    const auto start = line.find_first_not_of(kBlank);
    if (start == std::string_view::npos || line[start] == '#' || line[start] == ';') {
      continue;
    }
    const auto equals = line.find('=');
    auto name_end = start;
    while (name_end < line.size() && is_key_char(line[name_end])) {
      ++name_end;
    }
    const std::string_view name = line.substr(start, name_end - start);
    if (equals == std::string_view::npos) {
      continue;  // systemd ignores a line without '=' (and so does this reading)
    }
    if (name == key_ && (start != 0 || name_end != equals)) {
      refuse(index, "sets " + key_ + " in a form install does not rewrite: write it as " + key_ +
                        "=\"...\" at the start of the line");
    }
    if (!plain_value(line.substr(equals + 1))) {
      refuse(index, "has a value with a quote or backslash inside it, or a quote left open");
    }
    if (name == key_) {
      if (assignment_) {
        refuse(index, "sets " + key_ + " again (also line " + std::to_string(*assignment_ + 1) +
                          "; systemd uses the last): keep one");
      }
      assignment_ = index;
    }
  }
}

std::vector<std::string> EnvFile::words() const {
  std::vector<std::string> words;
  if (!assignment_) {
    return words;
  }
  const std::string value =
      *plain_value(std::string_view(lines_[*assignment_]).substr(key_.size() + 1));
  std::size_t start = 0;
  while ((start = value.find_first_not_of(kBlank, start)) != std::string::npos) {
    const auto end = std::min(value.find_first_of(kBlank, start), value.size());
    words.push_back(value.substr(start, end - start));
    start = end;
  }
  return words;
}

std::string EnvFile::with_words(const std::vector<std::string>& words) const {
  for (const auto& word : words) {
    if (word.empty() || word.find_first_of(" \t\"'\\\n") != std::string::npos) {
      throw Failure(ExitCode::kUsage, "install: cannot write \"" + word + "\" into " + key_ +
                                          " in " + file_ +
                                          ": a kubelet flag there is one word without quotes");
    }
  }
  std::string value;
  for (const auto& word : words) {
    value += (value.empty() ? "" : " ") + word;
  }
  auto lines = lines_;
  const std::string assignment = key_ + "=\"" + value + "\"";
  if (assignment_) {
    lines[*assignment_] = assignment;
  } else {
    lines.push_back(assignment);
  }
  std::string text;
  for (const auto& line : lines) {
    text += line + "\n";
  }
  return text;
}

}  // namespace qcp::install
