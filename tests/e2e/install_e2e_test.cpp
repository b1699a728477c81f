// The built binary installs itself: into a host root (a temporary tree standing for the node),
// its own bytes into the bin dir and its provider into the config, which check-config then
// accepts; a second run changes nothing, uninstall leaves the tree as it was, and usage errors
// are one line with nothing written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace qcp::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Compared 64 KiB at a time: a child's peak RSS, as wait4 reports it, starts from its parent's
// (posix_spawn shares the parent's memory until exec), so this process stays small; and the
// sanitized binary (~180 MB) took half a minute byte by byte through stream iterators at -O0.
bool same_bytes(const fs::path& a, const fs::path& b) {
  std::ifstream first(a, std::ios::binary);
  std::ifstream second(b, std::ios::binary);
  if (!first || !second) {
    return false;
  }
  std::vector<char> left(std::size_t{1} << 16);
  std::vector<char> right(left.size());
  while (first && second) {
    first.read(left.data(), static_cast<std::streamsize>(left.size()));
    second.read(right.data(), static_cast<std::streamsize>(right.size()));
    if (first.gcount() != second.gcount() ||
        !std::equal(left.begin(), left.begin() + first.gcount(), right.begin())) {
      return false;
    }
  }
  return first.eof() && second.eof();
}

std::vector<std::string> tree(const fs::path& root) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    paths.push_back(fs::relative(entry.path(), root).string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

class InstallBinary : public ::testing::Test {
 protected:
  InstallBinary() {
    root_ = test::make_temp_dir("qcp-e2e-host");
    fs::create_directories(root_ / "etc/kubernetes");
  }
  ~InstallBinary() override { fs::remove_all(root_); }
  InstallBinary(const InstallBinary&) = delete;
  InstallBinary& operator=(const InstallBinary&) = delete;
  InstallBinary(InstallBinary&&) = delete;
  InstallBinary& operator=(InstallBinary&&) = delete;

  ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--host-root", root_.string()});
    return run_process(kBinary, args, {"PATH=/usr/bin:/bin"}, "");
  }
  std::vector<std::string> paths(const std::string& command) {
    return {command, "--bin-dir", "/opt/qcp/bin", "--config",
            "/etc/kubernetes/credential-providers.yaml"};
  }
  std::vector<std::string> install_args() {
    auto args = paths("install");
    args.insert(args.end(), {"--match-image", "quay.example.com", "--kubelet-version", "1.34"});
    return args;
  }

  fs::path root_;
};

TEST_F(InstallBinary, InstallsItsOwnBytesAndAConfigTheKubeletAccepts) {
  const auto before = tree(root_);
  auto result = run(install_args());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_THAT(result.out, HasSubstr("installed /opt/qcp/bin/quay-credential-provider (sha256 "));
  EXPECT_TRUE(same_bytes(root_ / "opt/qcp/bin/quay-credential-provider", kBinary));

  const auto checked = run_process(
      kBinary,
      {"check-config", "--bin-dir", (root_ / "opt/qcp/bin").string(), "--image",
       "quay.example.com/team/app", (root_ / "etc/kubernetes/credential-providers.yaml").string()},
      {}, "");
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_THAT(checked.out, HasSubstr("OK: 1 provider (quay-credential-provider)"));

  result = run(install_args());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("nothing changed"));

  result = run(paths("uninstall"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("removed /opt/qcp/bin/quay-credential-provider"));
  EXPECT_EQ(tree(root_), before);
}

TEST_F(InstallBinary, AKubeadmProfileGetsTheKubeletFlagsAndUninstallPutsThemBack) {
  const std::string flags =
      "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/"
      "containerd.sock\"\n";
  fs::create_directories(root_ / "var/lib/kubelet");
  std::ofstream(root_ / "var/lib/kubelet/kubeadm-flags.env") << flags;
  const auto before = tree(root_);
  const fs::path original = root_.string() + ".before";
  ASSERT_EQ(run_process("/bin/cp", {"-a", root_.string(), original.string()}, {}, "").exit_code, 0);
  auto result = run({"install", "--profile", "kubeadm", "--match-image", "quay.example.com",
                     "--kubelet-version", "1.33"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("gave the kubelet the provider flags in "
                                    "/var/lib/kubelet/kubeadm-flags.env (profile kubeadm)"));
  std::ifstream in(root_ / "var/lib/kubelet/kubeadm-flags.env");
  const std::string written{std::istreambuf_iterator<char>(in), {}};
  EXPECT_THAT(written,
              HasSubstr(" --image-credential-provider-config=/etc/kubernetes/"
                        "image-credential-provider/config.yaml --image-credential-provider-bin-dir="
                        "/etc/kubernetes/image-credential-provider --feature-gates="
                        "KubeletServiceAccountTokenForCredentialProviders=true\""));
  const auto checked =
      run_process(kBinary,
                  {"check-config", "--kubelet-version", "1.33", "--bin-dir",
                   (root_ / "etc/kubernetes/image-credential-provider").string(),
                   (root_ / "etc/kubernetes/image-credential-provider/config.yaml").string()},
                  {}, "");
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  result = run({"uninstall", "--profile", "kubeadm"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(tree(root_), before);
  const auto diff = run_process("/usr/bin/diff", {"-r", original.string(), root_.string()}, {}, "");
  EXPECT_EQ(diff.exit_code, 0) << diff.out;
  fs::remove_all(original);
  std::ifstream again(root_ / "var/lib/kubelet/kubeadm-flags.env");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(again), {}), flags);
}

// Polls for a file's presence (or absence), bounded: true when it came to be so in time.
bool becomes(const fs::path& path, bool present) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (fs::exists(path) != present) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return true;
}

TEST_F(InstallBinary, WatchPutsBackWhatWasRemovedAndStopsOnSigterm) {
  auto args = install_args();
  args.insert(args.end(), {"--watch", "1s"});
  args.insert(args.begin() + 1, {"--host-root", root_.string()});
  const fs::path installed = root_ / "opt/qcp/bin/quay-credential-provider";
  bool reinstalled = false;
  std::thread remover;
  ProcessOptions options;
  options.on_spawn = [&](pid_t pid) {
    remover = std::thread([&, pid] {
      // The record is the last thing an install writes: the first one is done.
      if (becomes(root_ / "var/lib/quay-credential-provider/install.json", true)) {
        fs::remove(installed);  // as a node reset would
        reinstalled = becomes(installed, true);
      }
      ::kill(pid, SIGTERM);
    });
  };
  const auto result = run_process(kBinary, args, {"PATH=/usr/bin:/bin"}, "", options);
  remover.join();
  EXPECT_TRUE(reinstalled) << result.out << result.err;
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  const auto installs = [&result] {
    std::size_t count = 0;
    for (auto at = result.out.find("installed /opt/qcp/bin"); at != std::string::npos;
         at = result.out.find("installed /opt/qcp/bin", at + 1)) {
      ++count;
    }
    return count;
  };
  EXPECT_EQ(installs(), 2U) << result.out;
  EXPECT_THAT(result.out, HasSubstr("stopping on SIGTERM; the node keeps what is installed"));
  EXPECT_TRUE(fs::exists(installed));
}

TEST_F(InstallBinary, UsageErrorsAreOneLineAndWriteNothing) {
  const auto before = tree(root_);
  for (const auto& args : std::vector<std::vector<std::string>>{
           paths("install"),  // no --match-image
           {"install", "--bin-dir", "opt/qcp/bin", "--config", "/etc/k.yaml", "--match-image", "q"},
           {"install", "--bin-dir", "/opt/qcp/bin", "--config", "/etc/k.yaml", "--match-image", "q",
            "--kubelet-version", "1.32"},
           {"install", "--bin-dir", "/opt/qcp/bin", "--config", "/etc/k.yaml", "--match-image", "q",
            "--kubelet-version", "1.34", "--watch", "100ms"},
           {"install", "--profile", "kubeadmin", "--match-image", "q"},
           {"install", "--profile", "kind", "--match-image", "q", "--node-name", "Worker_1"},
           {"install", "--profile", "kind", "--match-image", "q", "--kubelet-version", "1.34",
            "--restart-kubelet", "--restart-timeout", "1s"},
           {"uninstall", "--bin-dir", "/opt/qcp/bin"}}) {
    const auto result = run(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
  auto result = run(install_args());
  result = run({"install", "--bin-dir", "/opt/qcp/bin", "--config", "/etc/kubernetes/x.yaml",
                "--match-image", "quay.example.com", "--kubelet-version", "1.34"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("uninstall that first"));
  EXPECT_EQ(run(paths("uninstall")).exit_code, 0);
  EXPECT_EQ(tree(root_), before);
}

TEST_F(InstallBinary, MatchImageTakesACommaListAndRefusesWhatCanNeverMatch) {
  // Issue 22, items 9 and 20: the ConfigMap carries one value, so a list is "a,b".
  const auto before = tree(root_);
  auto args = paths("install");
  args.insert(args.end(), {"--match-image", "quay.example.com,quay.example.com:8443,*.quay.io",
                           "--kubelet-version", "1.34"});
  auto result = run(args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::ifstream in(root_ / "etc/kubernetes/credential-providers.yaml");
  const std::string config{std::istreambuf_iterator<char>(in), {}};
  for (const char* entry : {"\"quay.example.com\"", "\"quay.example.com:8443\"", "\"*.quay.io\""}) {
    EXPECT_THAT(config, HasSubstr(entry)) << config;
  }
  EXPECT_EQ(run(paths("uninstall")).exit_code, 0);
  for (const char* bad : {"https://quay.example.com", "quay.example.com?x", "quay example.com",
                          "quay.example.com:08080", "quay..example.com"}) {
    auto refused = paths("install");
    refused.insert(refused.end(),
                   {"--match-image", std::string("quay.io,") + bad, "--kubelet-version", "1.34"});
    result = run(refused);
    EXPECT_EQ(result.exit_code, 2) << bad;
    EXPECT_THAT(result.err, HasSubstr("is not HOST[:PORT][/PATH]")) << bad << result.err;
  }
  EXPECT_EQ(tree(root_), before);
}

// Issue 23: the static provider installed beside ours; the config passes the kubelet's rules
// with both binaries in place; the installed copy answers as static-credential-provider.
TEST_F(InstallBinary, InstallsTheStaticProviderTooAndUninstallsBoth) {
  const auto before = tree(root_);
  auto args = install_args();
  args.insert(args.end(), {"--static-credentials-dir", "/etc/registry-credentials",
                           "--static-match-image", "registry.example.org,*.example.org"});
  auto result = run(args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("installed /opt/qcp/bin/static-credential-provider"));
  EXPECT_TRUE(same_bytes(root_ / "opt/qcp/bin/static-credential-provider", kBinary));
  const auto checked = run_process(kBinary,
                                   {"check-config", "--bin-dir", (root_ / "opt/qcp/bin").string(),
                                    (root_ / "etc/kubernetes/credential-providers.yaml").string()},
                                   {}, "");
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_THAT(checked.out,
              HasSubstr("OK: 2 providers (quay-credential-provider, static-credential-provider)"));
  if (kEmulator.empty()) {  // the installed copy, run by its name, is the static provider
    fs::create_directories(root_ / "creds");
    fs::permissions(root_ / "creds", fs::perms(0700));
    std::ofstream(root_ / "creds/example.org.json") << R"({"username":"u","password":"p"})";
    fs::permissions(root_ / "creds/example.org.json", fs::perms(0600));
    const auto answered = run_process(
        (root_ / "opt/qcp/bin/static-credential-provider").string(),
        {"--credentials-dir", (root_ / "creds").string()}, {},
        R"({"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"registry.example.org/app"})");
    EXPECT_EQ(answered.exit_code, 0) << answered.err;
    EXPECT_THAT(answered.out, HasSubstr(R"("registry.example.org":{"username":"u")"));
    fs::remove_all(root_ / "creds");
  }
  for (const std::string& half : {"--static-credentials-dir", "--static-match-image"}) {
    auto wrong = install_args();
    wrong.insert(wrong.end(), {half, half == "--static-match-image" ? "r.example.org" : "/x"});
    result = run(wrong);
    EXPECT_EQ(result.exit_code, 2) << half;
    EXPECT_THAT(result.err, HasSubstr("go together")) << result.err;
  }
  result = run(install_args());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("was installed with --static-credentials-dir"));
  result = run(paths("uninstall"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("removed /opt/qcp/bin/static-credential-provider"));
  EXPECT_EQ(tree(root_), before);
}

// Issue 23: install --policy gives the provider the node's policy, and lists its keys as its
// rules need them; check-config agrees with what was written; uninstall leaves the admin's
// policy where it is.
TEST_F(InstallBinary, InstallsOnTheNodesPolicyAndLeavesThePolicyAtUninstall) {
  const auto policy = root_ / "etc/kubernetes/credential-policy.yaml";
  std::ofstream(policy) << "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n"
                           "rules:\n  - namespaces: [team-a]\n    robots: [\"team_a+*\"]\n"
                           "    defaultRobot: team_a+puller\n";
  fs::permissions(policy, fs::perms(0644));
  const auto before = tree(root_);
  auto args = install_args();
  args.insert(args.end(), {"--policy", "/etc/kubernetes/credential-policy.yaml"});
  auto result = run(args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::ifstream written(root_ / "etc/kubernetes/credential-providers.yaml");
  const std::string config((std::istreambuf_iterator<char>(written)), {});
  EXPECT_THAT(config, HasSubstr("- \"/etc/kubernetes/credential-policy.yaml\""));
  EXPECT_THAT(config, ::testing::Not(HasSubstr("requiredServiceAccountAnnotationKeys")));
  const auto checked =
      run_process(kBinary,
                  {"check-config", "--bin-dir", (root_ / "opt/qcp/bin").string(), "--policy",
                   policy.string(), (root_ / "etc/kubernetes/credential-providers.yaml").string()},
                  {}, "");
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  result = run(paths("uninstall"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(tree(root_), before);
  for (const std::string& wrong : {"etc/policy.yaml", "/etc/../policy.yaml"}) {
    args.back() = wrong;
    result = run(args);
    EXPECT_EQ(result.exit_code, 2) << wrong;
    EXPECT_EQ(result.err,
              "quay-credential-provider: install: --policy must be an absolute node path without "
              "'..'\n");
  }
}

// --policy-source: the DaemonSet's ConfigMap, written beside the config; a broken one is one
// line and writes nothing; uninstall takes the written policy away.
TEST_F(InstallBinary, WritesThePolicySourceBesideTheConfigAndRemovesItAtUninstall) {
  const auto source = root_.parent_path() / (root_.filename().string() + "-policy.yaml");
  std::ofstream(source) << "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n"
                           "rules:\n  - namespaces: [team-a]\n    robts: []\n";
  const auto before = tree(root_);
  auto args = install_args();
  args.insert(args.end(), {"--policy-source", source.string()});
  auto result = run(args);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("install: --policy-source " + source.string() + ":5: "));
  EXPECT_EQ(tree(root_), before);
  std::ofstream(source) << "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\n"
                           "rules:\n  - namespaces: [team-a]\n    robots: [\"team_a+*\"]\n";
  result = run(args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out,
              HasSubstr("wrote the policy /etc/kubernetes/quay-credential-provider-policy.yaml"));
  EXPECT_TRUE(fs::exists(root_ / "etc/kubernetes/quay-credential-provider-policy.yaml"));
  args.insert(args.end(), {"--policy", "/etc/kubernetes/x.yaml"});
  result = run(args);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("give one of them"));
  result = run(paths("uninstall"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(tree(root_), before);
  fs::remove(source);
}

TEST_F(InstallBinary, HelpSaysTheVersionDefaultAlsoComesFromTheRunningKubelet) {
  const auto result = run_process(kBinary, {"install", "--help"}, {}, "");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("else as the running kubelet tells"));  // item 24
}

}  // namespace
}  // namespace qcp::test
