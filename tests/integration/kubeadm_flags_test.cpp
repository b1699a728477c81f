// Issue 22, item 5: kubeadm-flags.env is a systemd EnvironmentFile=. What install writes is
// checked against systemd's own parser: systemd's environment.d generator reads its files with
// the same code as EnvironmentFile= (load_env_file), so running it on the result shows what the
// kubelet's unit would get. Files whose meaning a line-by-line edit could change are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/process.hpp"
#include "qcp/install/profile.hpp"
#include "temp_dir.hpp"

namespace qcp::install {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kGenerator =
    "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator";

const KubeletFlags kFlags{.bin_dir = "/etc/kubernetes/image-credential-provider",
                          .config = "/etc/kubernetes/image-credential-provider/config.yaml",
                          .enable_token_gate = false};

// What systemd makes of an environment file: NAME -> value.
std::map<std::string, std::string> systemd_reads(const std::string& text) {
  const fs::path dir = test::make_temp_dir("qcp-envd");
  fs::create_directories(dir / "environment.d");
  std::ofstream(dir / "environment.d/10-kubeadm.conf") << text;
  ProcessSpec spec;
  spec.argv = {kGenerator};
  spec.environment = {"XDG_CONFIG_HOME=" + dir.string(), "HOME=" + dir.string()};
  spec.deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  const auto result = run_process(spec);
  fs::remove_all(dir);
  EXPECT_TRUE(result.succeeded()) << result.err;
  std::map<std::string, std::string> variables;
  std::istringstream in(result.out);
  for (std::string line; std::getline(in, line);) {
    const auto equals = line.find('=');
    variables[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return variables;
}

// The words ExecStart=$KUBELET_KUBEADM_ARGS passes: the value split at whitespace.
std::vector<std::string> words_of(std::string value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);  // the generator prints values with spaces quoted
  }
  std::vector<std::string> words;
  std::istringstream in(value);
  for (std::string word; in >> word;) {
    words.push_back(word);
  }
  return words;
}

class KubeadmFlags : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kGenerator)) {
      GTEST_SKIP() << "systemd's environment.d generator is not installed (Debian's systemd)";
    }
  }
};

TEST_F(KubeadmFlags, WhatInstallWritesIsWhatSystemdReadsWithEveryOtherFlagKept) {
  for (const std::string& original :
       {std::string(
            "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/"
            "containerd.sock --node-ip=10.0.0.5 --pod-infra-container-image=pause:3.10\"\n"),
        std::string("# written by kubeadm\nKUBELET_KUBEADM_ARGS='--node-ip=10.0.0.5'\nOTHER=1\n"),
        std::string("OTHER=\"a b\"\n\nKUBELET_KUBEADM_ARGS=--node-ip=10.0.0.5\n; note\n"),
        std::string("KUBELET_EXTRA_ARGS=--v=2\n")}) {
    const auto before = systemd_reads(original);
    const auto written = with_kubelet_flags(Profile::kKubeadm, original, kFlags);
    auto after = systemd_reads(written);
    auto expected = words_of(
        before.count("KUBELET_KUBEADM_ARGS") != 0U ? before.at("KUBELET_KUBEADM_ARGS") : "");
    expected.push_back("--image-credential-provider-config=" + kFlags.config);
    expected.push_back("--image-credential-provider-bin-dir=" + kFlags.bin_dir);
    EXPECT_EQ(words_of(after["KUBELET_KUBEADM_ARGS"]), expected) << written;
    after.erase("KUBELET_KUBEADM_ARGS");
    auto others = before;
    others.erase("KUBELET_KUBEADM_ARGS");
    EXPECT_EQ(after, others) << "another variable changed:\n" << written;
    // And back: uninstall's edit of a changed file leaves what systemd read before.
    const auto removed = without_kubelet_flags(Profile::kKubeadm, written, kFlags);
    ASSERT_TRUE(removed);
    auto round_trip = systemd_reads(*removed);
    EXPECT_EQ(
        words_of(round_trip["KUBELET_KUBEADM_ARGS"]),
        words_of(before.count("KUBELET_KUBEADM_ARGS") != 0U ? before.at("KUBELET_KUBEADM_ARGS")
                                                            : ""));
  }
}

TEST_F(KubeadmFlags, FilesALineByLineEditWouldMisreadAreRefusedWithTheLine) {
  const std::string args = "KUBELET_KUBEADM_ARGS=\"--node-ip=10.0.0.5\"\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"  KUBELET_KUBEADM_ARGS=\"--node-ip=10.0.0.5\"\n", ":1 sets KUBELET_KUBEADM_ARGS in a form"},
      {"KUBELET_KUBEADM_ARGS = \"--node-ip=10.0.0.5\"\n", ":1 sets KUBELET_KUBEADM_ARGS in a form"},
      {"A=1 \\\n" + args, ":1 ends in a backslash"},
      {"# note \\\n" + args, ":1 ends in a backslash"},
      {"KUBELET_KUBEADM_ARGS=\"--node-ip=10.0.0.5\"\r\n", ":1 has a CR line end"},
      {args + "KUBELET_KUBEADM_ARGS=\"--v=2\"\n",
       ":2 sets KUBELET_KUBEADM_ARGS again (also line 1"},
      {"A=\"open\n" + args + "\"\n", ":1 has a value with a quote or backslash inside it"},
      {"KUBELET_KUBEADM_ARGS=\"--a=\\\"b\\\"\"\n", ":1 has a value with a quote or backslash"},
  };
  for (const auto& [text, expected] : cases) {
    try {
      static_cast<void>(with_kubelet_flags(Profile::kKubeadm, text, kFlags));
      ADD_FAILURE() << "edited:\n" << text;
    } catch (const Failure& failure) {
      EXPECT_THAT(failure.what(), HasSubstr("/var/lib/kubelet/kubeadm-flags.env" + expected))
          << text;
    }
  }
  // Each of these would have changed what the kubelet gets: systemd reads them so.
  EXPECT_EQ(words_of(systemd_reads(args +
                                   "  KUBELET_KUBEADM_ARGS = \"--v=2\"\n")["KUBELET_KUBEADM_ARGS"]),
            std::vector<std::string>{"--v=2"});
  EXPECT_EQ(systemd_reads("# note \\\n" + args).count("KUBELET_KUBEADM_ARGS"), 0U);
}

}  // namespace
}  // namespace qcp::install
