#pragma once
// A real registry for end-to-end tests: Debian's docker-registry on loopback over TLS with
// token auth at the fake Quay's /v2/auth (as Quay's own registry does), a tiny image to push,
// and skopeo and podman to pull it with whatever credential a test hands them.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "layers.hpp"
#include "local_registry.hpp"
#include "plugin_fixture.hpp"
#include "qcp/core/redact.hpp"
#include "temp_dir.hpp"

namespace qcp::test {

constexpr const char* kSkopeo = "/usr/bin/skopeo";
constexpr const char* kPodman = "/usr/bin/podman";
constexpr const char* kPusher = "team+pusher";
constexpr const char* kPuller = "team+puller";

inline void write(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Writes a one-layer OCI image layout (tag v1) holding hello.txt; returns the config's digest,
// which names the image wherever it is copied (a registry compresses the layer, not the config).
inline std::string write_tiny_image(const std::filesystem::path& layout) {
  const std::string file = "hello from quay-credential-provider's tests\n";
  // A ustar archive of one regular file, by hand: the layer's bytes are the test's own.
  std::string header(512, '\0');
  const auto put = [&header](std::size_t at, const std::string& text) {
    header.replace(at, text.size(), text);
  };
  char size[13];
  std::snprintf(size, sizeof size, "%011o", static_cast<unsigned>(file.size()));
  put(0, "hello.txt");
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  put(124, size);
  put(136, "00000000000");
  put(148, "        ");
  put(156, "0");
  put(257, "ustar");
  put(263, "00");
  unsigned checksum = 0;
  for (const char c : header) {
    checksum += static_cast<unsigned char>(c);
  }
  char sum[8];
  std::snprintf(sum, sizeof sum, "%06o", checksum);
  header.replace(148, 7, std::string(sum, 6) + '\0');
  std::string layer =
      header + file + std::string(512 - file.size() % 512, '\0') + std::string(1024, '\0');
  const std::string layer_digest = "sha256:" + sha256_hex(layer);
  const std::string config = nlohmann::json{
      {"architecture", "amd64"},
      {"os", "linux"},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {layer_digest}}}},
      {"config",
       nlohmann::json::object()}}.dump();
  const std::string config_digest = "sha256:" + sha256_hex(config);
  const std::string manifest = nlohmann::json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
        {"digest", config_digest},
        {"size", config.size()}}},
      {"layers",
       {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
         {"digest", layer_digest},
         {"size", layer.size()}}}}}.dump();
  const std::string manifest_digest = "sha256:" + sha256_hex(manifest);
  for (const auto& [digest, bytes] :
       {std::pair{layer_digest, layer}, std::pair{config_digest, config},
        std::pair{manifest_digest, manifest}}) {
    write(layout / "blobs/sha256" / digest.substr(7), bytes);
  }
  write(layout / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  write(layout / "index.json",
        nlohmann::json{{"schemaVersion", 2},
                       {"manifests",
                        {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                          {"digest", manifest_digest},
                          {"size", manifest.size()},
                          {"annotations", {{"org.opencontainers.image.ref.name", "v1"}}}}}}}
            .dump());
  return config_digest;
}

enum class Tool { kSkopeo, kPodman };

// docker-credential-quay as a tool finds it on PATH: a symlink to the binary, or, when the
// binary is another architecture's run under qemu-user (no binfmt_misc here), a script that
// starts it through the emulator under that name (-0 sets the guest's argv[0]).
inline void install_helper(const std::filesystem::path& path) {
  if (kEmulator.empty()) {
    std::filesystem::create_symlink(kBinary, path);
    return;
  }
  write(path,
        "#!/bin/sh\nexec " + kEmulator + " -0 " + path.string() + " " + kBinary + " \"$@\"\n");
  std::filesystem::permissions(path, std::filesystem::perms(0755));
}

// How a pull is given its credential: a user:password pair, or an auth file.
struct Credential {
  std::string user_password;
  std::string authfile;
};

class RealRegistry : public ::testing::TestWithParam<Tool> {
 protected:
  static FakeQuayOptions short_lived() {
    FakeQuayOptions options;
    options.token_lifetime = std::chrono::seconds{6};
    options.clock_skew = std::chrono::seconds{0};  // a token is dead the second it expires
    return options;
  }

  RealRegistry() {
    dir_ = test::make_temp_dir("qcp-registry");
    ca_file_ = pki_.write_ca(dir_).string();
    for (const char* robot : {kPusher, kPuller}) {
      quay_.add_robot(robot, {{quay_.issuer_url(),
                               "system:serviceaccount:ci:" +
                                   std::string(robot).substr(std::string(robot).find('+') + 1),
                               {}}});
    }
    quay_.allow_push(kPusher);
    registry_ = std::make_unique<LocalRegistry>(quay_, pki_, dir_ / "registry");
    image_ = registry_->host() + "/team/app";
    write(dir_ / "policy.json", R"({"default":[{"type":"insecureAcceptAnything"}]})");
    write(dir_ / "no-auth.json", "{}");
    for (const char* robot : {kPusher, kPuller}) {
      const std::string name = std::string(robot).substr(std::string(robot).find('+') + 1);
      write(dir_ / (name + ".token"), quay_.mint_service_account_token("ci", name));
    }
    config_digest_ = write_tiny_image(dir_ / "layout");
  }
  ~RealRegistry() override {
    registry_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  RealRegistry(const RealRegistry&) = delete;
  RealRegistry& operator=(const RealRegistry&) = delete;
  RealRegistry(RealRegistry&&) = delete;
  RealRegistry& operator=(RealRegistry&&) = delete;

  [[nodiscard]] std::string token_file(const char* robot) const {
    return (dir_ / (std::string(robot).substr(std::string(robot).find('+') + 1) + ".token"))
        .string();
  }
  ProcessResult login(const char* robot, const std::filesystem::path& authfile,
                      std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "login",           "--robot",    robot,          "--registry",      registry_->host(),
        "--quay-host",     quay_.host(), "--token-file", token_file(robot), "--authfile",
        authfile.string(), "--ca-file",  ca_file_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_process(kBinary, args, {"PATH=/usr/bin:/bin"}, "");
  }
  // skopeo, with the registry's CA and nothing of the machine's configuration.
  ProcessResult skopeo(std::vector<std::string> args, std::vector<std::string> environment = {}) {
    args.insert(args.begin(), {"--policy", (dir_ / "policy.json").string()});
    environment.emplace_back("HOME=" + (dir_ / "home").string());
    environment.emplace_back("REGISTRY_AUTH_FILE=" + (dir_ / "no-auth.json").string());
    if (std::none_of(environment.begin(), environment.end(),
                     [](const std::string& v) { return v.starts_with("PATH="); })) {
      environment.emplace_back("PATH=/usr/bin:/bin");
    }
    return run_process(kSkopeo, args, environment, "", std::chrono::seconds{60});
  }
  ProcessResult push() {
    const auto authfile = dir_ / "pusher-auth.json";
    const auto logged_in = login(kPusher, authfile);
    EXPECT_EQ(logged_in.exit_code, 0) << logged_in.err;
    return skopeo({"copy", "--dest-authfile", authfile.string(), "--dest-cert-dir",
                   registry_->cert_dir().string(), "oci:" + (dir_ / "layout").string() + ":v1",
                   "docker://" + image_ + ":v1"});
  }
  // Pulls the image with the test's tool; checks, when it succeeds, that the image arrived.
  ProcessResult pull(const Credential& credential, std::vector<std::string> environment = {}) {
    return GetParam() == Tool::kSkopeo ? pull_with_skopeo(credential, std::move(environment))
                                       : pull_with_podman(credential, std::move(environment));
  }
  ProcessResult pull_with_skopeo(const Credential& credential,
                                 std::vector<std::string> environment) {
    const auto out = dir_ / ("pulled-" + std::to_string(++pulls_));
    std::vector<std::string> args = {"copy", "--src-cert-dir", registry_->cert_dir().string()};
    if (!credential.user_password.empty()) {
      args.insert(args.end(), {"--src-creds", credential.user_password});
    }
    if (!credential.authfile.empty()) {
      args.insert(args.end(), {"--src-authfile", credential.authfile});
    }
    args.insert(args.end(), {"docker://" + image_ + ":v1", "oci:" + out.string() + ":v1"});
    auto result = skopeo(args, std::move(environment));
    if (result.exit_code == 0) {
      EXPECT_TRUE(std::filesystem::exists(out / "blobs/sha256" / config_digest_.substr(7)));
    }
    return result;
  }
  // podman with storage of its own (vfs: no kernel overlay needed), a fresh one per pull.
  ProcessResult pull_with_podman(const Credential& credential,
                                 std::vector<std::string> environment) {
    const auto storage = dir_ / ("podman-" + std::to_string(++pulls_));
    std::vector<std::string> args = {"--root",
                                     (storage / "root").string(),
                                     "--runroot",
                                     (storage / "run").string(),
                                     "--storage-driver",
                                     "vfs",
                                     "--cgroup-manager",
                                     "cgroupfs",
                                     "--events-backend",
                                     "none",
                                     "pull",
                                     "--quiet",
                                     "--cert-dir",
                                     registry_->cert_dir().string(),
                                     "--signature-policy",
                                     (dir_ / "policy.json").string()};
    if (!credential.user_password.empty()) {
      args.insert(args.end(), {"--creds", credential.user_password});
    }
    args.insert(args.end(),
                {"--authfile", credential.authfile.empty() ? (dir_ / "no-auth.json").string()
                                                           : credential.authfile});
    args.push_back(image_ + ":v1");
    environment.emplace_back("HOME=" + (dir_ / "home").string());
    environment.emplace_back("XDG_RUNTIME_DIR=" + (storage / "xdg").string());
    if (std::none_of(environment.begin(), environment.end(),
                     [](const std::string& v) { return v.starts_with("PATH="); })) {
      environment.emplace_back("PATH=/usr/bin:/bin");
    }
    auto result = run_process(kPodman, args, environment, "", std::chrono::seconds{120});
    if (result.exit_code == 0) {
      EXPECT_EQ(result.out, config_digest_.substr(7) + "\n");  // the image ID
    }
    return result;
  }

  std::filesystem::path dir_;
  TestPki pki_;
  std::string ca_file_;
  FakeQuay quay_{pki_, short_lived()};
  std::unique_ptr<LocalRegistry> registry_;
  std::string image_;
  std::string config_digest_;
  int pulls_ = 0;
};

}  // namespace qcp::test
