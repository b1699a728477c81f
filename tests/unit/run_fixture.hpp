#pragma once
// run() driven with string streams, a scripted HTTP answer and a fixed clock.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "fakes.hpp"
#include "layers.hpp"
#include "no_leak.hpp"
#include "qcp/cli/app.hpp"

namespace qcp::test {

inline const std::string kSaSignature = "U0Etc2lnbmF0dXJlLW5ldmVyLXByaW50ZWQ";
inline const std::string kSaToken = test::make_jwt({{"iss", "https://oidc.example.com"},
                                                    {"sub", "system:serviceaccount:app:puller"},
                                                    {"aud", {"quay"}},
                                                    {"exp", test::kNow + 3600}},
                                                   kSaSignature);
inline const std::string kQuaySignature = "UVVBWS1zaWduYXR1cmUtbmV2ZXItcHJpbnRlZA";
inline const std::string kQuayToken = test::make_jwt(
    {{"iss", "quay"}, {"sub", "team+puller"}, {"exp", test::kNow + 3600}}, kQuaySignature);
// Quay's answer to a good exchange.
inline const HttpResult kOk = test::json_response(200, {{"token", kQuayToken}});

inline std::string request(const std::string& image = "quay.example.com:8443/team/app",
                           const std::string& token = kSaToken,
                           const std::string& robot = "team+puller") {
  nlohmann::json json = {{"kind", "CredentialProviderRequest"},
                         {"apiVersion", "credentialprovider.kubelet.k8s.io/v1"},
                         {"image", image}};
  if (!token.empty()) {
    json["serviceAccountToken"] = token;
  }
  if (!robot.empty()) {
    json["serviceAccountAnnotations"] = {{"quay.io/federated-robot-account", robot}};
  }
  return json.dump();
}

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

inline Outcome run_with(const std::string& stdin_text, HttpResult answer,
                        std::vector<std::string> args = {"--log-level=trace"},
                        const Environment& env = test::staged_environment()) {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  test::FakeHttp http(std::move(answer));
  const int code = run(args, Streams{in, out, err}, env, http, test::FixedClock{});
  return {code, out.str(), err.str()};
}

// The unit level's leak check: the one every level uses (no_leak.hpp), over the
// service-account token and the Quay token the fake answers with.
inline void expect_no_secret(const Outcome& outcome) {
  expect_no_leak(outcome.err, {kSaToken, kQuayToken});
}

}  // namespace qcp::test
