// Issue 23: the built binary installed as static-credential-provider (the kubelet execs
// <bin-dir>/<name>, so the file name is the provider's), fed a kubelet request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kubelet_decoder.hpp"
#include "kubelet_keyring.hpp"
#include "no_leak.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace qcp::test {
namespace static_provider_e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kV1 = "credentialprovider.kubelet.k8s.io/v1";

class StaticProviderBinary : public ::testing::Test {
 protected:
  StaticProviderBinary() : dir_(make_temp_dir("qcp-static-e2e")) {
    fs::create_directories(dir_ / "bin");
    fs::create_directories(dir_ / "credentials");
    fs::permissions(dir_ / "credentials", fs::perms(0700));
    const auto program = dir_ / "bin/static-credential-provider";
    if (kEmulator.empty()) {
      fs::create_symlink(kBinary, program);
    } else {  // another architecture's binary under qemu-user: -0 sets its argv[0]
      std::ofstream(program) << "#!/bin/sh\nexec " << kEmulator << " -0 " << program.string() << " "
                             << kBinary << " \"$@\"\n";
      fs::permissions(program, fs::perms(0755));
    }
    program_ = program.string();
  }
  ~StaticProviderBinary() override { fs::remove_all(dir_); }
  StaticProviderBinary(const StaticProviderBinary&) = delete;
  StaticProviderBinary& operator=(const StaticProviderBinary&) = delete;
  StaticProviderBinary(StaticProviderBinary&&) = delete;
  StaticProviderBinary& operator=(StaticProviderBinary&&) = delete;

  void put(const std::string& name, const std::string& text) const {
    const auto path = dir_ / "credentials" / name;
    std::ofstream(path) << text;
    fs::permissions(path, fs::perms(0600));
  }
  [[nodiscard]] ProcessResult call(const std::string& image) const {
    nlohmann::ordered_json request;
    request["kind"] = "CredentialProviderRequest";
    request["apiVersion"] = kV1;
    request["image"] = image;
    return run_process(program_, {"--credentials-dir", (dir_ / "credentials").string()},
                       {"PATH=/usr/bin:/bin"}, request.dump() + "\n");
  }

  fs::path dir_;
  std::string program_;
};

TEST_F(StaticProviderBinary, AnswersTheKubeletFromTheRegistrysFile) {
  put("example.org:5000.json",
      R"({"username": "builder", "password": "pw-0123456789abcdef-secret", "duration": "10m"})");
  const auto result = call("registry.example.org:5000/team/app");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(kubelet_rejects(result.out, kV1), "");
  const auto response = nlohmann::json::parse(result.out);
  EXPECT_EQ(response["cacheDuration"], "600s");
  EXPECT_EQ(kubelet_keys_for(response["auth"], "registry.example.org:5000/team/app"),
            std::vector<std::string>{"registry.example.org:5000"});
  EXPECT_EQ(response["auth"]["registry.example.org:5000"]["password"],
            "pw-0123456789abcdef-secret");
  expect_no_leak(result.err, {"pw-0123456789abcdef-secret"});
}

TEST_F(StaticProviderBinary, NoFileMeansAnEmptyAnswerTheKubeletAccepts) {
  const auto result = call("other.example.com/app");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(kubelet_rejects(result.out, kV1), "");
  EXPECT_TRUE(nlohmann::json::parse(result.out)["auth"].empty());
}

TEST_F(StaticProviderBinary, AFileOthersCanReadFailsLoudlyWithoutTheQuayProvidersName) {
  put("example.org.json", R"({"username": "u", "password": "pw-0123456789abcdef-secret"})");
  fs::permissions(dir_ / "credentials/example.org.json", fs::perms(0604));
  const auto result = call("example.org/app");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr("static-credential-provider: credentials file "));
  EXPECT_THAT(result.err, HasSubstr("(mode 0604)"));
  expect_no_leak(result.err, {"pw-0123456789abcdef-secret"});
}

}  // namespace
}  // namespace static_provider_e2e
}  // namespace qcp::test
