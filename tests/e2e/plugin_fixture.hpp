#pragma once
// The built binary, run as the kubelet runs it, against a fake Quay on loopback.

#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_quay.hpp"
#include "no_leak.hpp"
#include "pki.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace qcp::test {

inline constexpr const char* kV1 = "credentialprovider.kubelet.k8s.io/v1";

// The kubelet's encoding: compact, kind and apiVersion first, then a newline (protocol §3).
inline std::string kubelet_request(const std::string& image, const std::string& token,
                                   const std::string& robot, const std::string& api_version = kV1) {
  nlohmann::ordered_json json;
  json["kind"] = "CredentialProviderRequest";
  json["apiVersion"] = api_version;
  json["image"] = image;
  if (!token.empty()) {
    json["serviceAccountToken"] = token;
  }
  if (!robot.empty()) {
    json["serviceAccountAnnotations"] = {{"quay.io/federated-robot-account", robot}};
  }
  return json.dump() + "\n";
}

class PluginBinary : public ::testing::Test {
 protected:
  PluginBinary() {
    dir_ = test::make_temp_dir("qcp-e2e");
    ca_file_ = pki_.write_ca(dir_).string();
    quay_.add_robot(kRobot, {{quay_.issuer_url(), "system:serviceaccount:app:puller", {}}});
    token_ = quay_.mint_service_account_token("app", "puller");
  }
  ~PluginBinary() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  PluginBinary(const PluginBinary&) = delete;
  PluginBinary& operator=(const PluginBinary&) = delete;
  PluginBinary(PluginBinary&&) = delete;
  PluginBinary& operator=(PluginBinary&&) = delete;

  // argv and env as a provider config would give them; no SSL_CERT_* from the test runner.
  ProcessResult exec(const std::string& input, std::vector<std::string> args = {},
                     const ProcessOptions& options = {},
                     std::vector<std::string> environment = {}) {
    args.insert(args.begin(), {"--ca-file", ca_file_});
    environment.emplace_back("PATH=/usr/bin:/bin");
    return run_process(kBinary, args, environment, input, options);
  }
  [[nodiscard]] std::string request() const {
    return kubelet_request(quay_.host() + "/team/app", token_, kRobot);
  }

  std::filesystem::path dir_;
  TestPki pki_;
  std::string ca_file_;
  FakeQuay quay_{pki_};
  std::string token_;
};

}  // namespace qcp::test
