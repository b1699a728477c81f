#pragma once
// Drives qcp::run() with the real libcurl client against a FakeQuay on loopback.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fake_quay.hpp"
#include "layers.hpp"
#include "no_leak.hpp"
#include "pki.hpp"
#include "qcp/cli/app.hpp"
#include "qcp/net/curl_http.hpp"
#include "temp_dir.hpp"

namespace qcp::test {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string make_request(
    const std::string& image, const std::string& token, const nlohmann::json& annotations,
    const std::string& api_version = "credentialprovider.kubelet.k8s.io/v1") {
  nlohmann::json json = {
      {"kind", "CredentialProviderRequest"}, {"apiVersion", api_version}, {"image", image}};
  if (!token.empty()) {
    json["serviceAccountToken"] = token;
  }
  if (!annotations.is_null()) {
    json["serviceAccountAnnotations"] = annotations;
  }
  return json.dump();
}

// The process environment minus anything that could change trust or routing behind our back.
inline Environment clean_environment() {
  Environment env = Environment::from_process();
  env.variables.clear();
  return env;
}

// The entry points behind main(): run() (plugin and subcommands), run_credential_helper().
using EntryPoint = int (*)(std::span<const std::string>, Streams, const Environment&, HttpClient&,
                           const Clock&);

// One entry point with string streams, the real libcurl client and the system clock.
inline Outcome run_entry(EntryPoint entry, const std::string& stdin_text,
                         const std::vector<std::string>& args, const Environment& env) {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  CurlHttpClient http;
  const SystemClock clock;
  Outcome outcome;
  outcome.exit_code = entry(args, Streams{in, out, err}, env, http, clock);
  outcome.out = out.str();
  outcome.err = err.str();
  return outcome;
}

inline Outcome run_plugin(const std::string& stdin_text, const std::vector<std::string>& args,
                          const Environment& env = clean_environment()) {
  return run_entry(&run, stdin_text, args, env);
}

}  // namespace qcp::test
