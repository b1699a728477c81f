#include <sys/prctl.h>

#include <iostream>
#include <string>
#include <vector>

#include "qcp/app.hpp"
#include "qcp/curl_http.hpp"

int main(int argc, char** argv) {
  // Tokens pass through this process's memory: keep it out of core dumps and ptrace by others.
  static_cast<void>(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
  std::ios::sync_with_stdio(false);

  const std::vector<std::string> args(argv + 1, argv + argc);
  const qcp::Environment env = qcp::Environment::from_process();
  const qcp::SystemClock clock;
  try {
    qcp::CurlHttpClient http;
    return qcp::run(args, qcp::Streams{std::cin, std::cout, std::cerr}, env, http, clock);
  } catch (const std::exception&) {
    std::cerr << "quay-credential-provider: libcurl could not be initialised\n";
    return 1;
  }
}
