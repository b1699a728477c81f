#include "qcp/core/cli_parse.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"

namespace qcp::core {
namespace {

// Short stray words ("inspectt") are shown to help; longer ones could be (part of) a token.
constexpr std::size_t kMaxShownWord = 16;

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
}

// "--flag" or "-f": a name, never a secret. For "--flag=value", the name part.
std::string_view flag_name(std::string_view arg) {
  const auto name = arg.substr(0, arg.find('='));
  constexpr std::size_t kMaxFlag = 40;
  if (name.size() < 2 || name.size() > kMaxFlag || name.front() != '-' || name == "--" ||
      !std::all_of(name.begin() + 1, name.end(), is_name_char)) {
    return {};
  }
  return name;
}

std::string describe(std::string_view arg) {
  if (const auto name = flag_name(arg); !name.empty()) {
    return std::string(name) + (name.size() < arg.size() ? "=..." : "");
  }
  const bool plain_word =
      arg.size() <= kMaxShownWord && std::all_of(arg.begin(), arg.end(), [](char c) {
        return is_name_char(c) || c == '.' || c == '_' || c == '/';
      });
  return plain_word && !arg.empty() ? "\"" + std::string(arg) + "\""
                                    : "an argument (not shown: it may be a token)";
}

// CLI11's own messages may quote the arguments: take out every one that is not a flag name.
std::string without_values(std::string message, std::span<const std::string> args) {
  std::vector<std::string> values;
  for (const auto& arg : args) {
    const auto name = flag_name(arg);
    std::string value = name.empty() ? arg : arg.substr(std::min(arg.size(), name.size() + 1));
    if (!value.empty() && value.size() > 2) {
      values.push_back(std::move(value));
    }
  }
  std::sort(values.begin(), values.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& value : values) {
    for (auto at = message.find(value); at != std::string::npos; at = message.find(value, at)) {
      message.replace(at, value.size(), "[value]");
      at += 7;
    }
  }
  return one_line(message);
}

}  // namespace

void parse_arguments(CLI::App& app, std::span<const std::string> args, std::string_view command) {
  // The plugin's own messages get the program name from the one place that prints them.
  const std::string prefix = command.empty() ? "" : std::string(command) + ": ";
  const std::string see =
      " (see " + (command.empty() ? "" : std::string(command) + " ") + "--help)";
  app.allow_extras(true);  // stray arguments are reported below, by name only
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    throw;
  } catch (const CLI::CallForVersion&) {
    throw;
  } catch (const CLI::ParseError& error) {
    throw Failure(ExitCode::kUsage, prefix + without_values(error.what(), args) + see);
  }
  const auto extras = app.remaining();
  if (!extras.empty()) {
    const std::string what = describe(extras.front());
    const bool is_flag = !flag_name(extras.front()).empty();
    std::string message = prefix + (is_flag ? "unknown flag " + what : "unexpected " + what);
    if (extras.size() > 1) {
      message += " and " + std::to_string(extras.size() - 1) + " more";
    }
    throw Failure(ExitCode::kUsage, message + see);
  }
}

bool parse_subcommand(CLI::App& app, std::string_view name, std::span<const std::string> args,
                      std::ostream& out) {
  try {
    parse_arguments(app, args, name);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    out.flush();
    return false;
  }
  return true;
}

}  // namespace qcp::core
