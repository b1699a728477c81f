#include "qcp/cli/app.hpp"

#include <exception>
#include <functional>
#include <new>
#include <ostream>

#include "cli/commands.hpp"
#include "qcp/cli/namespace.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/plugin/plugin.hpp"
#include "qcp/static_provider/static_provider.hpp"
#include "qcp/version.hpp"
#include "qcp/workload/credential_helper.hpp"

namespace qcp::cli {
namespace {

// How a program reports a failure in its protocol's language; returns the exit code.
using Reporter = std::function<int(std::string_view message, ExitCode kind)>;

// The one catch ladder: deep code raises a Failure of some kind; anything else is an internal
// error whose text is scrubbed, in case it quotes data it should not.
int guarded(const std::function<int()>& body, const Reporter& report) {
  try {
    return body();
  } catch (const Failure& failure) {
    return report(failure.what(), failure.code());
  } catch (const std::bad_alloc&) {
    return report("out of memory", ExitCode::kLookupFailed);
  } catch (const std::exception& error) {
    return report("internal error: " + Redactor{}.scrub(error.what()), ExitCode::kLookupFailed);
  } catch (...) {
    return report("internal error", ExitCode::kLookupFailed);
  }
}

void write_line(std::ostream& out, std::string_view prefix, std::string_view line) {
  out << prefix << line << '\n';
  out.flush();
}

}  // namespace

int run(std::span<const std::string> args, Streams streams, const Environment& env,
        HttpClient& http, const Clock& clock) {
  const cli::Context context{streams, env, http, clock};
  return guarded(
      [&] {
        // The kubelet passes only the config's args, all flags: a leading word is a subcommand.
        if (const auto* command = cli::find_command(args)) {
          return command->run(args.subspan(1), context);
        }
        return plugin_command(args, streams, env, http, clock, cli::commands_help());
      },
      [&streams](std::string_view message, ExitCode kind) {
        write_line(streams.err, std::string(kProgramName) + ": ", one_line(message));
        return static_cast<int>(kind);
      });
}

int run_credential_helper(std::span<const std::string> args, Streams streams,
                          const Environment& env, HttpClient& http, const Clock& clock) {
  return guarded([&] { return credential_helper_command(args, streams, env, http, clock); },
                 [&streams](std::string_view message, ExitCode) {
                   // The protocol's error channel is stdout; stderr gets the same line for logs.
                   const std::string line = one_line(message);
                   write_line(streams.out, "", line);
                   write_line(streams.err, std::string(kHelperProgramName) + ": ", line);
                   return 1;
                 });
}

int run_static_provider(std::span<const std::string> args, Streams streams, const Environment& env,
                        const Clock& clock) {
  return guarded([&] { return static_provider_command(args, streams, env, clock); },
                 [&streams](std::string_view message, ExitCode kind) {
                   write_line(streams.err, std::string(kStaticProgramName) + ": ",
                              one_line(message));
                   return static_cast<int>(kind);
                 });
}

int run_program(std::string_view invoked, std::span<const std::string> args, Streams streams,
                const Environment& env, HttpClient& http, const Clock& clock) {
  const auto name = invoked.substr(invoked.rfind('/') + 1);
  if (name == kHelperProgramName) {
    return run_credential_helper(args, streams, env, http, clock);
  }
  if (name == kStaticProgramName) {
    return run_static_provider(args, streams, env, clock);
  }
  return run(args, streams, env, http, clock);
}

}  // namespace qcp::cli
