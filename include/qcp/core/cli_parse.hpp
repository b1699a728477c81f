#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace qcp::core {

// Parses `args` into `app`. A usage error names flags but never quotes a value that could be a
// token (a stray argument, a flag's value) and is one printable line. CLI::CallForHelp and
// CLI::CallForVersion pass through for the caller to answer.
void parse_arguments(CLI::App& app, std::span<const std::string> args, std::string_view command);

// parse_arguments for a subcommand that answers --help itself: prints the help on `out` and
// returns false then.
bool parse_subcommand(CLI::App& app, std::string_view name, std::span<const std::string> args,
                      std::ostream& out);

}  // namespace qcp::core
