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
#include "pki.hpp"
#include "qcp/cli/app.hpp"
#include "qcp/net/curl_http.hpp"

namespace qcp::test {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A private directory for CA files, removed at exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "qcp-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
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

// Every secret and every long-enough piece of one: none may appear in what we print.
inline std::vector<std::string> secret_fragments(const std::vector<std::string>& tokens) {
  std::vector<std::string> fragments;
  for (const auto& token : tokens) {
    fragments.push_back(token);
    std::size_t start = 0;
    while (start < token.size()) {
      const auto dot = std::min(token.find('.', start), token.size());
      const auto segment = token.substr(start, dot - start);
      // Any 16-character window of a segment is enough to recognise a leak.
      for (std::size_t i = 0; i + 16 <= segment.size(); i += 8) {
        fragments.push_back(segment.substr(i, 16));
      }
      start = dot + 1;
    }
  }
  return fragments;
}

inline void expect_no_leak(const std::string& text, const std::vector<std::string>& tokens) {
  for (const auto& fragment : secret_fragments(tokens)) {
    ASSERT_EQ(text.find(fragment), std::string::npos) << "secret fragment leaked: " << text;
  }
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("Authorization")));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("Basic ")));
}

}  // namespace qcp::test
