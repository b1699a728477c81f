#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "qcp/cli/app.hpp"
#include "qcp/core/fd_input.hpp"
#include "qcp/net/curl_http.hpp"

int main(int argc, char** argv) {
  // Tokens pass through this process's memory: keep it out of core dumps and ptrace by others.
  static_cast<void>(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
  // A reader of stdout that went away is reported as EPIPE in one line, not a silent death.
  static_cast<void>(std::signal(SIGPIPE, SIG_IGN));
  std::ios::sync_with_stdio(false);

  const std::vector<std::string> args(argv + 1, argv + argc);
  const qcp::core::Environment env = qcp::core::Environment::from_process();
  if (!qcp::core::isolate_process_environment()) {
    std::cerr << "quay-credential-provider: the process environment could not be cleared\n";
    return 1;
  }
  const qcp::core::SystemClock clock;
  try {
    qcp::net::CurlHttpClient http;
    qcp::core::FdInputBuffer stdin_buffer(STDIN_FILENO);
    std::istream in(&stdin_buffer);
    const qcp::core::Streams streams{in, std::cout, std::cerr, [&stdin_buffer](auto timeout) {
                                       return stdin_buffer.wait_readable(timeout);
                                     }};
    return qcp::cli::run_program(argc > 0 ? argv[0] : "", args, streams, env, http, clock);
  } catch (const std::exception&) {
    std::cerr << "quay-credential-provider: libcurl could not be initialised\n";
    return 1;
  }
}
