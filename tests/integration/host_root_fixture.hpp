// A fake host root for install tests: a real directory standing for a node's file system,
// with helpers to stage files, read them back and snapshot the whole tree.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "layers.hpp"
#include "qcp/install/installer.hpp"
#include "qcp/quay/provider_needs.hpp"
#include "temp_dir.hpp"

namespace qcp::install {

namespace fs = std::filesystem;

constexpr const char* kBinDir = "/usr/local/lib/kubelet/credential-providers";
constexpr const char* kEcrConfig = R"(apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  # ECR's own, installed by the node image
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
)";

// Every entry under a root: type, mode, bytes or link target (and, with times, the mtime).
inline std::map<std::string, std::string> snapshot(const fs::path& root, bool with_times = false) {
  std::map<std::string, std::string> tree;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    struct stat status {};
    EXPECT_EQ(::lstat(entry.path().c_str(), &status), 0);
    std::string description = std::to_string(status.st_mode);
    if (with_times) {
      description += " " + std::to_string(status.st_mtim.tv_sec) + "." +
                     std::to_string(status.st_mtim.tv_nsec);
    }
    if (S_ISLNK(status.st_mode)) {
      description += " -> " + fs::read_symlink(entry.path()).string();
    } else if (S_ISREG(status.st_mode)) {
      std::ifstream in(entry.path(), std::ios::binary);
      description += " " + std::string(std::istreambuf_iterator<char>(in), {});
    }
    tree[fs::relative(entry.path(), root).string()] = description;
  }
  return tree;
}

// A HostFiles passing everything to the real one: tests override the steps they break.
class ForwardingFiles : public HostFiles {
 public:
  explicit ForwardingFiles(HostFiles& real) : real_(real) {}
  [[nodiscard]] FileStatus status(const std::string& p) const override { return real_.status(p); }
  [[nodiscard]] std::optional<FileContent> read(const std::string& p,
                                                std::size_t max) const override {
    return real_.read(p, max);
  }
  void write_atomic(const std::string& p, std::string_view bytes, mode_t mode) override {
    real_.write_atomic(p, bytes, mode);
  }
  void remove_file(const std::string& p) override { real_.remove_file(p); }
  std::vector<std::string> make_directories(const std::string& p) override {
    return real_.make_directories(p);
  }
  bool remove_directory(const std::string& p) override { return real_.remove_directory(p); }
  [[nodiscard]] std::vector<std::string> list(const std::string& p) const override {
    return real_.list(p);
  }
  [[nodiscard]] std::optional<std::string> link_target(const std::string& p) const override {
    return real_.link_target(p);
  }
  DirectoryLock lock_directory(const std::string& p,
                               std::chrono::steady_clock::time_point deadline) override {
    return real_.lock_directory(p, deadline);
  }

 private:
  HostFiles& real_;
};

class Installer : public ::testing::Test {
 protected:
  Installer() {
    root_ = test::make_temp_dir("qcp-host");
    fs::create_directories(root_ / "etc/kubernetes");
    fs::create_directories(root_ / "var/lib");
  }
  ~Installer() override { fs::remove_all(root_); }
  Installer(const Installer&) = delete;
  Installer& operator=(const Installer&) = delete;
  Installer(Installer&&) = delete;
  Installer& operator=(Installer&&) = delete;

  void write(const std::string& node_path, const std::string& bytes,
             fs::perms mode = fs::perms(0644)) {
    fs::create_directories((root_ / node_path.substr(1)).parent_path());
    std::ofstream(root_ / node_path.substr(1), std::ios::binary) << bytes;
    fs::permissions(root_ / node_path.substr(1), mode);
  }
  // A process in the fake /proc as the kernel shows it: its command line, its uids, its mount
  // namespace (a link, "mnt:[N]"; PID 1's is kNodeMountNamespace) and its executable (a link to
  // a node path, as /proc/PID/exe is).
  static constexpr const char* kNodeMountNamespace = "mnt:[4026531841]";
  void fake_process(const std::string& pid, const std::string& cmdline,
                    const std::string& executable, unsigned uid = 0,
                    const std::string& mount_namespace = kNodeMountNamespace,
                    long long start_ticks = 100) {
    const std::string u = std::to_string(uid);
    write("/proc/" + pid + "/cmdline", cmdline);
    // (comm) may hold spaces and parentheses; starttime is field 22, in ticks after boot.
    std::string stat = pid + " (kube let) S";
    for (int field = 4; field <= 21; ++field) {
      stat += " 0";
    }
    write("/proc/" + pid + "/stat", stat + " " + std::to_string(start_ticks) + " 0 0\n");
    write("/proc/" + pid + "/status",
          "Name:\tkubelet\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t" + pid + "\nUid:\t" + u +
              "\t" + u + "\t" + u + "\t" + u + "\nGid:\t0\t0\t0\t0\n");
    const auto link = [this](const std::string& node_path, const std::string& target) {
      fs::create_directories((root_ / node_path.substr(1)).parent_path());
      fs::remove(root_ / node_path.substr(1));
      fs::create_symlink(target, root_ / node_path.substr(1));
    };
    link("/proc/" + pid + "/exe", executable);
    link("/proc/" + pid + "/ns/mnt", mount_namespace);
    if (!fs::is_symlink(root_ / "proc/1/ns/mnt")) {
      link("/proc/1/ns/mnt", kNodeMountNamespace);
    }
  }
  [[nodiscard]] std::string read(const std::string& node_path) const {
    std::ifstream in(root_ / node_path.substr(1), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  InstallRequest request(const std::string& config, std::optional<KubeletGeneration> kubelet =
                                                        KubeletGeneration::k1_34_or_later) {
    InstallRequest request{.bin_dir = kBinDir,
                           .config = config,
                           .provider = {.name = "quay-credential-provider",
                                        .match_images = {"quay.example.com"},
                                        .audience = "quay",
                                        .kubelet = KubeletGeneration::k1_34_or_later,
                                        .args = {},
                                        .service_account_tokens = true},
                           .kubelet = kubelet,
                           .ask_kubelet = {},
                           .binary =
                               "\x7f"
                               "ELF the provider, version 1",
                           .static_provider = std::nullopt,
                           .profile = Profile::kGeneric,
                           .restart_kubelet = {}};
    return request;
  }
  Outcome install_with(const InstallRequest& request) {
    RootedFiles files(root_.string());
    return install(files, request);
  }
  Outcome uninstall_from(const std::string& config) {
    RootedFiles files(root_.string());
    return uninstall(files, {.bin_dir = kBinDir,
                             .config = config,
                             .provider_name = "quay-credential-provider",
                             .restart_kubelet = {}});
  }
  [[nodiscard]] ConfigReport check(const std::string& config_file) const {
    ConfigCheckSettings settings;
    return check_provider_config(read(config_file), settings);
  }

  fs::path root_;
};

}  // namespace qcp::install
