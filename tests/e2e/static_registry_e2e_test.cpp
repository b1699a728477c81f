// Issue 23: static credentials through a real registry. Debian's docker-registry with fixed
// credentials (htpasswd, bcrypt) holds an image; the built binary, installed as
// static-credential-provider, answers the kubelet's request from its credentials directory, and
// skopeo pulls with the credential the kubelet's key matching picks. Without it the pull fails.
#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kubelet_keyring.hpp"
#include "registry_fixture.hpp"

namespace qcp::test {
namespace static_registry_e2e {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kUser = "builder";
constexpr const char* kPassword = "fixed-password-0123456789-for-tests";

// "user:$2b$05$...": what `htpasswd -B` writes, and all docker-registry's htpasswd reads.
std::string htpasswd_line(const std::string& user, const std::string& password) {
  const char* salt = crypt_gensalt("$2b$", 5, nullptr, 0);
  EXPECT_NE(salt, nullptr);
  crypt_data data{};
  const char* hash = crypt_r(password.c_str(), salt, &data);
  EXPECT_TRUE(hash != nullptr && std::string(hash).starts_with("$2b$"));
  return user + ":" + hash + "\n";
}

class FixedCredentialRegistry : public ::testing::Test {
 protected:
  FixedCredentialRegistry() : dir_(make_temp_dir("qcp-static-registry")) {
    registry_ =
        std::make_unique<LocalRegistry>(pki_, dir_ / "registry", htpasswd_line(kUser, kPassword));
    write(dir_ / "policy.json", R"({"default":[{"type":"insecureAcceptAnything"}]})");
    write(dir_ / "no-auth.json", "{}");
    write_tiny_image(dir_ / "layout");
    fs::create_directories(dir_ / "bin");
    fs::create_symlink(kBinary, dir_ / "bin/static-credential-provider");
    fs::create_directories(dir_ / "credentials");
    fs::permissions(dir_ / "credentials", fs::perms(0700));
    image_ = registry_->host() + "/team/app";
  }
  ~FixedCredentialRegistry() override {
    registry_.reset();
    fs::remove_all(dir_);
  }
  FixedCredentialRegistry(const FixedCredentialRegistry&) = delete;
  FixedCredentialRegistry& operator=(const FixedCredentialRegistry&) = delete;
  FixedCredentialRegistry(FixedCredentialRegistry&&) = delete;
  FixedCredentialRegistry& operator=(FixedCredentialRegistry&&) = delete;

  ProcessResult skopeo(std::vector<std::string> args) {
    args.insert(args.begin(), {"--policy", (dir_ / "policy.json").string()});
    return run_process(
        kSkopeo, args,
        {"HOME=" + (dir_ / "home").string(),
         "REGISTRY_AUTH_FILE=" + (dir_ / "no-auth.json").string(), "PATH=/usr/bin:/bin"},
        "", std::chrono::seconds{60});
  }
  // The static provider's answer, as the kubelet asks for the image.
  Json respond() {
    const auto result = run_process(
        (dir_ / "bin/static-credential-provider").string(),
        {"--credentials-dir", (dir_ / "credentials").string()}, {"PATH=/usr/bin:/bin"},
        R"({"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":")" +
            image_ + "\"}\n");
    EXPECT_EQ(result.exit_code, 0) << result.err;
    expect_no_leak(result.err, {kPassword});
    return result.exit_code == 0 ? Json::parse(result.out)["auth"] : Json::object();
  }
  ProcessResult pull(const std::string& user_password) {
    std::vector<std::string> args = {"copy", "--src-cert-dir", registry_->cert_dir().string()};
    if (!user_password.empty()) {
      args.insert(args.end(), {"--src-creds", user_password});
    }
    args.insert(args.end(),
                {"docker://" + image_ + ":v1",
                 "oci:" + (dir_ / ("pulled-" + std::to_string(++pulls_))).string() + ":v1"});
    return skopeo(args);
  }

  fs::path dir_;
  TestPki pki_;
  std::unique_ptr<LocalRegistry> registry_;
  std::string image_;
  int pulls_ = 0;
};

TEST_F(FixedCredentialRegistry, PullsWithTheStaticProvidersAnswerAndNotWithout) {
  if (!kEmulator.empty()) {
    GTEST_SKIP() << "runs the native binary under its provider name";
  }
  const auto pushed =
      skopeo({"copy", "--dest-creds", std::string(kUser) + ":" + kPassword, "--dest-cert-dir",
              registry_->cert_dir().string(), "oci:" + (dir_ / "layout").string() + ":v1",
              "docker://" + image_ + ":v1"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err << registry_->log();

  // No file for the registry: no credentials, and the registry refuses an anonymous pull.
  EXPECT_TRUE(respond().empty());
  EXPECT_NE(pull("").exit_code, 0);

  // The registry's file, by host and port, as the kubelet names the image.
  write(dir_ / "credentials" / (registry_->host() + ".json"),
        Json{{"username", kUser}, {"password", kPassword}}.dump());
  fs::permissions(dir_ / "credentials" / (registry_->host() + ".json"), fs::perms(0600));
  const Json auth = respond();
  const auto keys = kubelet_keys_for(auth, image_);
  ASSERT_EQ(keys, std::vector<std::string>{registry_->host()});
  const auto pulled = pull(auth[keys[0]]["username"].get<std::string>() + ":" +
                           auth[keys[0]]["password"].get<std::string>());
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err << registry_->log();

  // An edited file is served at the next call (no restart); a password the registry does not
  // know is refused there.
  write(dir_ / "credentials" / (registry_->host() + ".json"),
        Json{{"username", kUser}, {"password", "not-the-password"}}.dump());
  const Json rotated = respond();
  EXPECT_EQ(rotated[registry_->host()]["password"], "not-the-password");
  EXPECT_NE(pull(std::string(kUser) + ":not-the-password").exit_code, 0);
}

}  // namespace
}  // namespace static_registry_e2e
}  // namespace qcp::test
