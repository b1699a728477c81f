// Workload mode through the built binary: invoked as docker-credential-quay (a symlink, as
// installed next to docker or podman) it speaks the credential-helper protocol, with a real
// exchange at a fake Quay; `login --authfile` writes an auth file tools read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "plugin_fixture.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class WorkloadBinary : public PluginBinary {
 protected:
  WorkloadBinary() {
    helper_ = dir_ / "docker-credential-quay";
    std::filesystem::create_symlink(kBinary, helper_);
    token_file_ = (dir_ / "token").string();
    std::ofstream(token_file_) << token_ << "\n";
  }
  // The helper as a tool runs it: by its name, with the action as its only argument.
  ProcessResult helper(const std::string& action, const std::string& input,
                       std::vector<std::string> environment) {
    environment.emplace_back("PATH=/usr/bin:/bin");
    environment.emplace_back("QUAY_CREDENTIAL_PROVIDER_CA_FILE=" + ca_file_);
    if (kEmulator.empty()) {
      return run_process(helper_.string(), {action}, environment, input);
    }
    return run_process(kEmulator, {helper_.string(), action}, environment, input);
  }

  std::filesystem::path helper_;
  std::string token_file_;
};

TEST_F(WorkloadBinary, AsDockerCredentialQuayItAnswersGetWithAFreshRobotToken) {
  const auto result = helper("get", "https://" + quay_.host() + "/v2/\n",
                             {"QUAY_CREDENTIAL_PROVIDER_ROBOT=" + std::string(kRobot),
                              "QUAY_CREDENTIAL_PROVIDER_TOKEN_FILE=" + token_file_});
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  const Json answer = Json::parse(result.out);
  EXPECT_EQ(answer["Username"], kRobot);
  EXPECT_TRUE(RsaSigner::verify(answer["Secret"].get<std::string>(), quay_.instance_signer()));
  EXPECT_EQ(quay_.requests().back().basic_password, token_);
  EXPECT_THAT(result.err, ::testing::Not(HasSubstr(token_.substr(0, 24))));
}

TEST_F(WorkloadBinary, AsDockerCredentialQuayItFollowsTheProtocolsConventions) {
  auto result = helper("get", "registry.example.org\n", {"HOME=" + dir_.string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "credentials not found in native keychain\n");
  result = helper("version", "", {});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out,
              ::testing::StartsWith("docker-credential-quay (quay-credential-provider) "));
  result = helper("store", R"({"ServerURL":"a","Username":"b","Secret":"c"})", {});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "");
}

TEST_F(WorkloadBinary, LoginWritesAnAuthFile) {
  const auto authfile = dir_ / "auth.json";
  const auto result =
      run_process(kBinary,
                  {"login", "--robot", kRobot, "--registry", quay_.host(), "--token-file",
                   token_file_, "--authfile", authfile.string(), "--ca-file", ca_file_},
                  {"PATH=/usr/bin:/bin"}, "");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "");
  std::ifstream in(authfile);
  EXPECT_TRUE(Json::parse(in)["auths"].contains(quay_.host()));
}

}  // namespace
}  // namespace qcp::test
