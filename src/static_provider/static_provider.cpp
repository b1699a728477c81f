#include "qcp/static_provider/static_provider.hpp"

#include <CLI/CLI.hpp>
#include <ostream>

#include "qcp/core/cli_parse.hpp"
#include "qcp/core/duration.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/image.hpp"
#include "qcp/core/names.hpp"
#include "qcp/core/redact.hpp"
#include "qcp/core/stream_output.hpp"
#include "qcp/kube/request.hpp"
#include "qcp/kube/response.hpp"
#include "qcp/static_provider/credentials_file.hpp"
#include "qcp/static_provider/namespace.hpp"
#include "qcp/version.hpp"

namespace qcp::static_provider {
namespace {

// The kubelet keeps a credential this long when its file gives no duration: an edit (a rotated
// password) reaches new pulls within it.
constexpr std::chrono::seconds kDefaultDuration{300};
// The kubelet writes its request at once; a writer that never closes stdin is not waited for.
constexpr std::chrono::seconds kStdinTimeout{10};

struct Settings {
  std::string credentials_dir;
  bool answered = false;  // --help or --version printed
};

Settings parse_flags(std::span<const std::string> args, std::ostream& out) {
  CLI::App app(
      "Kubelet image credential provider for registries with fixed credentials: answers one "
      "CredentialProviderRequest on stdin from the file for the image's registry in "
      "--credentials-dir (registry.example.org:5000.json, then example.org:5000.json, ...), "
      "read on every call. No file: no credentials (the kubelet pulls anonymously).",
      std::string(kStaticProgramName));
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.set_version_flag("--version", std::string(kStaticProgramName) + " " + std::string(kVersion));
  Settings settings;
  app.add_option("--credentials-dir", settings.credentials_dir,
                 "Directory of <registry>.json files: {\"username\", \"password\" or "
                 "\"passwordFile\", \"duration\"}, each mode 0600 (docs/policy.md)")
      ->type_name("DIR")
      ->required();
  app.footer("Documentation: docs/policy.md (static credentials).");
  try {
    parse_arguments(app, args, "");
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    settings.answered = true;
  } catch (const CLI::CallForVersion&) {
    out << kStaticProgramName << ' ' << kVersion << '\n';
    settings.answered = true;
  }
  return settings;
}

std::function<void()> stdin_waiter(const Streams& streams, const Clock& clock) {
  if (!streams.wait_for_input) {
    return {};
  }
  const auto deadline = clock.monotonic() + kStdinTimeout;
  return [&streams, &clock, deadline] {
    const auto left = std::chrono::floor<std::chrono::milliseconds>(deadline - clock.monotonic());
    if (left < std::chrono::milliseconds{1} || !streams.wait_for_input(left)) {
      throw Failure(ExitCode::kBadRequest,
                    "stdin was not closed within 10s: the kubelet writes "
                    "one request and closes stdin");
    }
  };
}

}  // namespace

int static_provider_command(std::span<const std::string> args, Streams streams,
                            const Environment& env, const Clock& clock) {
  const Settings settings = parse_flags(args, streams.out);
  if (settings.answered) {
    streams.out.flush();
    return static_cast<int>(ExitCode::kOk);
  }
  if (!env.is_directory(settings.credentials_dir)) {
    throw Failure(ExitCode::kUsage, "--credentials-dir " + one_line(settings.credentials_dir) +
                                        " is not a directory");
  }
  std::string raw = read_request(streams.in, kMaxRequestBytes, stdin_waiter(streams, clock));
  const WipeOnExit wipe_raw(raw);
  CredentialProviderRequest request = parse_request(raw);
  wipe(request.service_account_token);  // not ours to use, nor to keep
  const std::string registry = registry_of_image(request.image);
  if (!is_valid_host_port(registry)) {
    throw Failure(ExitCode::kBadRequest, "the image's registry is not HOST[:PORT]");
  }
  auto found = find_credentials(settings.credentials_dir, registry);
  Credentials credentials{
      .api_version = request.api_version,
      .auth = {},
      .cache_duration = std::chrono::seconds{0},  // a file added is seen at once
      .cache_key_type = CacheKeyType::kRegistry};
  if (found) {
    credentials.auth.push_back({registry, found->username, found->password});
    credentials.cache_duration = found->duration.value_or(kDefaultDuration);
  }
  std::string response = render_response(credentials);
  const WipeOnExit wipe_response(response);
  if (found) {
    wipe(found->password);
  }
  write_answer(streams.out, response);
  streams.err << kStaticProgramName << ": "
              << (found ? "credentials for " + registry + " from " + one_line(found->file)
                        : "no credentials file for " + registry + " in " +
                              one_line(settings.credentials_dir))
              << '\n';
  return static_cast<int>(ExitCode::kOk);
}

}  // namespace qcp::static_provider
