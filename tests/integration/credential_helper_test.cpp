// docker-credential-quay as docker, podman and skopeo call it, against a fake Quay over real
// HTTPS: `get` mints a robot token for a configured registry (from the environment or
// helper.yaml), answers "credentials not found" for others, list/store/erase/version follow the
// docker-credential-helpers protocol, and errors are one line on stdout with no token in it.
#include "qcp/workload/credential_helper.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "layers.hpp"
#include "workload_fixture.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

class CredentialHelper : public WorkloadFixture {
 protected:
  Outcome helper(const std::vector<std::string>& args, const std::string& input,
                 const std::map<std::string, std::string>& variables) {
    Environment env = clean_environment();
    env.variables["QUAY_CREDENTIAL_PROVIDER_CA_FILE"] = ca_file_;
    env.variables["HOME"] = dir_.path().string();
    for (const auto& [name, value] : variables) {
      env.variables[name] = value;
    }
    auto outcome = run_entry(&run_credential_helper, input, args, env);
    std::vector<std::string> secrets = {token_};
    if (const auto answer = Json::parse(outcome.out, nullptr, false);
        answer.is_object() && answer.contains("Secret")) {
      secrets.push_back(answer["Secret"].get<std::string>());
    }
    expect_no_leak(outcome.err, secrets);
    return outcome;
  }
  std::map<std::string, std::string> from_environment() const {
    return {{"QUAY_CREDENTIAL_PROVIDER_ROBOT", kWorkloadRobot},
            {"QUAY_CREDENTIAL_PROVIDER_TOKEN_FILE", token_file_}};
  }
  void write_config(const std::string& text) {
    std::filesystem::create_directories(dir_.path() / ".config/quay-credential-provider");
    std::ofstream(dir_.path() / ".config/quay-credential-provider/helper.yaml") << text;
  }
  void expect_answer(const Json& answer, const std::string& server_url) {
    EXPECT_EQ(answer["ServerURL"], server_url);
    EXPECT_EQ(answer["Username"], kWorkloadRobot);
    expect_robot_token(answer["Secret"].get<std::string>());
  }
};

TEST_F(CredentialHelper, GetMintsARobotTokenForWhateverFormTheServerUrlTakes) {
  for (const auto& server_url :
       {quay_.host(), "https://" + quay_.host() + "/v2/", "https://" + quay_.host()}) {
    const auto outcome = helper({"get"}, server_url + "\n", from_environment());
    ASSERT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
    EXPECT_EQ(std::count(outcome.out.begin(), outcome.out.end(), '\n'), 1);
    expect_answer(Json::parse(outcome.out), server_url);
    EXPECT_EQ(quay_.requests().back().basic_password, token_);
  }
}

TEST_F(CredentialHelper, HelperYamlMapsRegistriesAndOthersAreNotFound) {
  write_config("registries:\n  " + quay_.host() + ":\n    robot: " + kWorkloadRobot +
               "\n    tokenFile: " + token_file_ + "\n  quay.other.example:8443:\n" +
               "    robot: other+bot\n    tokenCommand: \"print-token --audience quay\"\n");
  auto outcome = helper({"get"}, quay_.host(), {});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  expect_answer(Json::parse(outcome.out), quay_.host());

  quay_.clear_requests();
  outcome = helper({"get"}, "registry.example.org", {});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "credentials not found in native keychain\n");
  EXPECT_EQ(outcome.err, "");
  EXPECT_EQ(quay_.request_count(), 0U);

  outcome = helper({"list"}, "", {});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(Json::parse(outcome.out),
            (Json{{quay_.host(), kWorkloadRobot}, {"quay.other.example:8443", "other+bot"}}));
}

TEST_F(CredentialHelper, NoConfigurationAtAllIsNotFound) {
  const auto outcome = helper({"get"}, quay_.host(), {});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "credentials not found in native keychain\n");
}

TEST_F(CredentialHelper, StoreEraseAndVersionFollowTheProtocol) {
  auto outcome = helper({"store"}, R"({"ServerURL":"x","Username":"u","Secret":"s"})", {});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(helper({"erase"}, quay_.host(), {}).exit_code, 0);
  outcome = helper({"version"}, "", {});
  EXPECT_THAT(outcome.out,
              ::testing::StartsWith("docker-credential-quay (quay-credential-provider) "));
  outcome = helper({}, "", {});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "Usage: docker-credential-quay <store|get|erase|list|version>\n");
  EXPECT_EQ(helper({"fetch"}, "", {}).out, "Unknown credential action `fetch`\n");
  EXPECT_EQ(helper({"get"}, "  \n", {}).out, "no credentials server URL\n");
}

TEST_F(CredentialHelper, ErrorsAreOneLineOnStdoutWithQuaysOwnWords) {
  auto variables = from_environment();
  variables["QUAY_CREDENTIAL_PROVIDER_ROBOT"] = "team+stranger";
  auto outcome = helper({"get"}, quay_.host(), variables);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(std::count(outcome.out.begin(), outcome.out.end(), '\n'), 1) << outcome.out;
  EXPECT_THAT(outcome.out, HasSubstr("Could not find robot with specified username"));
  expect_no_leak(outcome.out, {token_});

  write_config("registries:\n  " + quay_.host() + ":\n    robot: " + kWorkloadRobot +
               "\n    tokenFile: " + token_file_ + "\n    tokenFiel: typo\n");
  outcome = helper({"get"}, quay_.host(), {});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.out, HasSubstr("helper.yaml:5: unknown key tokenFiel"));
}

// Issue 20: the exchange and trust discovery named the plugin's flags (--ca-file) whatever the
// mode; docker-credential-quay takes no flags, so its messages name the variables.
TEST_F(CredentialHelper, MessagesNameItsVariablesNotThePluginsFlags) {
  auto variables = from_environment();
  const std::string system_bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (!std::filesystem::exists(system_bundle)) {
    GTEST_SKIP() << "needs a CA bundle without the test CA at " << system_bundle;
  }
  variables["QUAY_CREDENTIAL_PROVIDER_CA_FILE"] = system_bundle;  // not the CA that signed Quay's
  auto outcome = helper({"get"}, quay_.host(), variables);
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.out, HasSubstr("trusted CAs from QUAY_CREDENTIAL_PROVIDER_CA_FILE"));
  EXPECT_THAT(outcome.out, HasSubstr("set QUAY_CREDENTIAL_PROVIDER_CA_FILE to a file with the CA "
                                     "that signed Quay's certificate"));
  variables["QUAY_CREDENTIAL_PROVIDER_CA_FILE"] = (dir_.path() / "gone.pem").string();
  outcome = helper({"get"}, quay_.host(), variables);
  EXPECT_THAT(outcome.out, HasSubstr("QUAY_CREDENTIAL_PROVIDER_CA_FILE names "));
  for (const auto& text : {outcome.out, outcome.err}) {
    EXPECT_THAT(text, Not(HasSubstr("--ca-file"))) << text;
  }

  variables = from_environment();
  const std::string missing = (dir_.path() / "no-token").string();
  variables["QUAY_CREDENTIAL_PROVIDER_TOKEN_FILE"] = missing;
  outcome = helper({"get"}, quay_.host(), variables);
  EXPECT_THAT(outcome.out, HasSubstr("QUAY_CREDENTIAL_PROVIDER_TOKEN_FILE " + missing +
                                     ": cannot read " + missing));
  write_config("registries:\n  " + quay_.host() + ":\n    robot: " + kWorkloadRobot +
               "\n    tokenFile: " + missing + "\n");
  outcome = helper({"get"}, quay_.host(), {});
  EXPECT_THAT(outcome.out, HasSubstr("registries." + quay_.host() + ".tokenFile " + missing));
  EXPECT_THAT(outcome.out, Not(HasSubstr("--token-file")));
}

TEST_F(CredentialHelper, SpeaksItsOwnProtocolsLanguageNotTheKubelets) {
  // Issue 22, item 16: nothing about the kubelet, its requests or its decoder.
  auto outcome = helper({"get"}, std::string(70 * 1024, 'a'), from_environment());
  EXPECT_EQ(outcome.exit_code, 1);  // the protocol's one failure code
  EXPECT_THAT(outcome.out,
              HasSubstr("stdin held more than 65536 bytes: tools write one server URL"));
  write_config("registries:\n  " + quay_.host() + ":\n    robot: " + kWorkloadRobot + "\n  " +
               quay_.host() + ":\n    robot: " + kWorkloadRobot + "\n");
  outcome = helper({"get"}, quay_.host(), {});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_THAT(outcome.out, HasSubstr("duplicate key"));
  for (const auto& text : {outcome.out, outcome.err}) {
    EXPECT_THAT(text, Not(HasSubstr("kubelet"))) << text;
    EXPECT_THAT(text, Not(HasSubstr("CredentialProviderRequest"))) << text;
  }
}

}  // namespace
}  // namespace qcp::test
