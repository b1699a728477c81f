#include "qcp/core/token_source.hpp"

#include <algorithm>
#include <functional>

#include "qcp/core/failure.hpp"
#include "qcp/core/jwt.hpp"
#include "qcp/core/process.hpp"
#include "qcp/core/redact.hpp"

namespace qcp::core {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

std::string from_command(const TokenSource& source, const std::vector<std::string>& environment,
                         std::chrono::steady_clock::time_point deadline) {
  ProcessSpec spec;
  spec.argv = source.command;
  spec.environment = environment;
  for (const auto& variable : environment) {
    if (variable.starts_with("PATH=")) {
      spec.search_path = variable.substr(5);
    }
  }
  spec.deadline = std::min(deadline, std::chrono::steady_clock::now() + kTokenCommandTimeout);
  spec.max_stdout = kMaxTokenBytes;
  const auto result = run_process(spec);
  if (!result.succeeded()) {
    Redactor redactor;
    redactor.add_secret(result.out);
    throw Failure(ExitCode::kLookupFailed,
                  source.command_name + " " + one_line(source.command.front()) + " failed (" +
                      result.describe() + ")" +
                      (result.err.empty() ? "" : ": " + redactor.scrub(trimmed(result.err))));
  }
  return result.out;
}

// The file the settings name. One that cannot be read is the token source failing (exit 1, as a
// failing token command is), not a usage error: the settings were well formed.
std::string from_file(const std::string& path, const std::string& origin) {
  try {
    return read_whole_file(path, kMaxTokenBytes);
  } catch (const Failure& failure) {
    throw Failure(ExitCode::kLookupFailed, origin + ": " + failure.what());
  }
}

}  // namespace

std::vector<std::string> split_command(std::string_view text, std::string_view name) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (const char c : text) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) {
    throw Failure(ExitCode::kUsage,
                  std::string(name) + " has an unclosed " + std::string(1, quote));
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  if (words.empty() || words.front().empty()) {
    throw Failure(ExitCode::kUsage, std::string(name) + " names no program");
  }
  return words;
}

std::string read_token(const TokenSource& source, const std::vector<std::string>& environment,
                       std::chrono::steady_clock::time_point deadline, const Clock& clock,
                       const std::function<void(const std::string&)>& warn) {
  const std::string origin = source.command.empty()
                                 ? source.file_name + " " + one_line(source.file)
                                 : source.command_name + " " + one_line(source.command.front());
  std::string raw = source.command.empty() ? from_file(source.file, origin)
                                           : from_command(source, environment, deadline);
  WipeOnExit wipe_raw(raw);
  std::string token = trimmed(raw);
  const auto claims = decode_jwt_claims(token);
  if (!claims || std::any_of(token.begin(), token.end(), is_space)) {
    wipe(token);
    throw Failure(ExitCode::kLookupFailed, origin + " gave no JWT (header.payload.signature)");
  }
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  // Quay judges exp on its own clock (with 30 s of leeway), which may be hours off this one:
  // a token that looks expired here is still sent, as the plugin sends the kubelet's.
  if (claims->exp && *claims->exp <= now && warn) {
    warn(origin + " gave a JWT that looks expired by this machine's clock (" +
         std::to_string(now - *claims->exp) + "s ago, exp " + std::to_string(*claims->exp) +
         "); sending it anyway: Quay decides on its own clock");
  }
  return token;
}

}  // namespace qcp::core
