// The built executable (the static one in the static preset), fed kubelet-encoded requests through
// pipes, against a fake Quay on loopback.
#include <elf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "kubelet_decoder.hpp"
#include "plugin_fixture.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;

TEST_F(PluginBinary, AnswersWithOneResponseTheKubeletAccepts) {
  const auto result = exec(kubelet_request(quay_.host() + "/team/app", token_, kRobot));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(kubelet_rejects(result.out, kV1), "");
  EXPECT_EQ(result.out.back(), '\n');
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 1);
  const auto response = nlohmann::json::parse(result.out);
  EXPECT_EQ(response["auth"][quay_.host()]["username"], kRobot);
  EXPECT_NE(response["auth"][quay_.host()]["password"], token_);
  // The Quay token is in stdout, where the kubelet reads it; neither token reaches stderr.
  const std::string password = response["auth"][quay_.host()]["password"];
  expect_no_leak(result.err, {token_, password});
}

TEST_F(PluginBinary, AnswersOlderApiVersionsInKind) {
  for (const char* version : {"credentialprovider.kubelet.k8s.io/v1beta1",
                              "credentialprovider.kubelet.k8s.io/v1alpha1"}) {
    const auto result = exec(kubelet_request(quay_.host() + "/team/app", token_, kRobot, version));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(kubelet_rejects(result.out, version), "");
  }
}

struct BadCase {
  const char* name;
  int exit_code;
  const char* message;
};

TEST_F(PluginBinary, FailuresLeaveStdoutEmptyAndSayWhyOnOneLine) {
  const std::string image = quay_.host() + "/team/app";
  const std::vector<std::pair<std::string, BadCase>> cases = {
      {"", {"empty stdin", 3, "stdin is empty"}},
      {"{\"kind\":\"CredentialProviderRequest\",\"serviceAccountToken\":\"" + token_,
       {"truncated", 3, "not valid JSON"}},
      {kubelet_request(image, "", kRobot), {"no token", 3, "no serviceAccountToken"}},
      {kubelet_request(image, token_, ""), {"no annotation", 3, "quay.io/federated-robot-account"}},
      {kubelet_request(image, token_, "Team+Puller"), {"bad robot", 3, "not a Quay robot name"}},
      {kubelet_request(image, token_, "team+nobody"), {"unknown robot", 1, "Could not find robot"}},
      {kubelet_request(image, quay_.mint_service_account_token("app", "other"), kRobot),
       {"wrong subject", 1, "Token does not match robot"}},
  };
  for (const auto& [input, expected] : cases) {
    const auto result = exec(input);
    EXPECT_EQ(result.exit_code, expected.exit_code) << expected.name << ": " << result.err;
    EXPECT_EQ(result.out, "") << expected.name;
    EXPECT_THAT(result.err, HasSubstr(expected.message)) << expected.name;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
        << expected.name << ": " << result.err;
    expect_no_leak(result.err, {token_});
  }
}

TEST_F(PluginBinary, UnknownFlagFromConfigArgsIsALoudUsageError) {
  const auto result =
      exec(kubelet_request(quay_.host() + "/team/app", token_, kRobot), {"--insecure"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr("--insecure"));
  EXPECT_EQ(quay_.request_count(), 0U);
}

TEST_F(PluginBinary, ConcurrentCopiesDoNotInterfere) {
  std::vector<std::future<ProcessResult>> runs;
  for (int i = 0; i < 6; ++i) {
    runs.push_back(std::async(std::launch::async, [this, i] {
      return exec(kubelet_request(quay_.host() + "/team/app" + std::to_string(i), token_, kRobot));
    }));
  }
  for (auto& run : runs) {
    const auto result = run.get();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(kubelet_rejects(result.out, kV1), "");
  }
  EXPECT_EQ(quay_.request_count(), 6U);
}

TEST(PluginBinaryCli, VersionAndHelpGoToStdout) {
  auto result = run_process(kBinary, {"--version"}, {}, "");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("quay-credential-provider "));
  // The commit it was built from, for a bug report: 12 hex digits in a git checkout.
  EXPECT_THAT(result.out, ::testing::ContainsRegex("\\(commit ([0-9a-f]{12}|unknown); libcurl/"));
  result = run_process(kBinary, {"--help"}, {}, "");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("--allowed-host"));
}

#ifdef QCP_STATIC_BINARY
// A fully static executable has no program interpreter and no DT_NEEDED entries: it runs on a
// node whatever its libc.
TEST(PluginBinaryCli, IsFullyStatic) {
  std::ifstream file(kBinary, std::ios::binary);
  Elf64_Ehdr header{};
  file.read(reinterpret_cast<char*>(&header), sizeof header);
  ASSERT_TRUE(file);
  ASSERT_EQ(std::string(reinterpret_cast<const char*>(header.e_ident), 4),
            "\x7f"
            "ELF");
  for (int i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr program{};
    file.seekg(static_cast<std::streamoff>(header.e_phoff +
                                           static_cast<std::uint64_t>(i) * header.e_phentsize));
    file.read(reinterpret_cast<char*>(&program), sizeof program);
    EXPECT_NE(program.p_type, static_cast<std::uint32_t>(PT_INTERP)) << "has a dynamic loader";
    EXPECT_NE(program.p_type, static_cast<std::uint32_t>(PT_DYNAMIC)) << "has a dynamic section";
  }
}

// A release names no directory of the machine that built it (reproducible builds; no paths
// leaked): every __FILE__ is mapped to a relative path.
TEST(PluginBinaryCli, EmbedsNoBuildPath) {
  std::ifstream file(kBinary, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(file), {}};
  ASSERT_GT(bytes.size(), 1000000U);
  EXPECT_EQ(bytes.find(QCP_SOURCE_DIR), std::string::npos) << QCP_SOURCE_DIR;
  EXPECT_EQ(bytes.find(QCP_BUILD_DIR), std::string::npos) << QCP_BUILD_DIR;
}
#endif

}  // namespace
}  // namespace qcp::test
