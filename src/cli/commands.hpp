#pragma once

#include <span>
#include <string>
#include <string_view>

#include "qcp/cli/namespace.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/streams.hpp"

namespace qcp::cli {

// What every command gets: the seams main() fills and tests replace.
struct Context {
  Streams streams;
  const Environment& env;
  HttpClient& http;
  const Clock& clock;
};

// One subcommand of quay-credential-provider: `name` is args[0]; `usage` and `summary` make its
// line in --help; `group` the heading it is listed under. run() gets the args after the name
// and throws Failure for whatever stops it.
struct Command {
  std::string_view name;
  std::string_view usage;
  std::string_view summary;
  std::string_view group;
  int (*run)(std::span<const std::string> args, const Context& context);
};

// Every subcommand, in --help's order.
std::span<const Command> commands();

// nullptr when args[0] names no subcommand (then the args are the kubelet plugin's flags).
const Command* find_command(std::span<const std::string> args);

// The commands for --help, grouped under their headings, ending in a blank line.
std::string commands_help();

}  // namespace qcp::cli
