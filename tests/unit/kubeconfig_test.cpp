// Issue 21: the controller outside a cluster reads a kubeconfig as client-go's clientcmd does,
// and refuses, by file and line, what it does not do (TLS verification off, exec plugins, ...).
#include "qcp/kube/kubeconfig.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "layers.hpp"
#include "no_leak.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/jwt.hpp"

namespace qcp::kube {
namespace {

using ::testing::HasSubstr;

constexpr const char* kToken = "kubeconfig-token-0123456789abcdefghij";

class Kubeconfig : public ::testing::Test {
 protected:
  Kubeconfig() {
    env_.read_file = [this](const std::string& path, std::size_t) {
      const auto it = files_.find(path);
      if (it == files_.end()) {
        throw Failure(ExitCode::kUsage, "cannot read " + path + ": No such file or directory");
      }
      return it->second;
    };
  }
  // A kubeconfig whose one context uses `cluster` and `user` (YAML mapping bodies).
  void write(const std::string& cluster, const std::string& user) {
    files_["/home/ops/.kube/config"] =
        "apiVersion: v1\nkind: Config\ncurrent-context: ops\ncontexts:\n"
        "- name: ops\n  context: {cluster: prod, user: ops}\n"
        "clusters:\n- name: prod\n  cluster:\n" +
        cluster + "users:\n- name: ops\n  user:\n" + user;
  }
  std::string refusal() {
    try {
      load_kubeconfig(env_, "/home/ops/.kube/config");
    } catch (const Failure& failure) {
      EXPECT_EQ(failure.code(), ExitCode::kUsage);
      test::expect_no_leak(failure.what(), {kToken});
      return failure.what();
    }
    return "no failure";
  }

  Environment env_;
  std::map<std::string, std::string> files_;
};

TEST_F(Kubeconfig, ATokenUserWithInlineCaDataNamesTheServerAndItsTrust) {
  write("    server: https://api.example.com:6443/\n    certificate-authority-data: " +
            base64_encode("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n") + "\n",
        std::string("    token: ") + kToken + "\n");
  const auto server = load_kubeconfig(env_, "/home/ops/.kube/config");
  EXPECT_EQ(server.base_url, "https://api.example.com:6443");
  EXPECT_THAT(server.trust.ca_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_EQ(server.token, kToken);
  EXPECT_TRUE(server.token_file.empty());
}

TEST_F(Kubeconfig, FilesAreReadFromTheKubeconfigsDirectoryAndATokenFileIsReReadable) {
  files_["/home/ops/.kube/ca.crt"] = "CA PEM";
  files_["/home/ops/.kube/token"] = std::string(kToken) + "\n";
  files_["/etc/pki/ops.crt"] = "CERT PEM";
  files_["/etc/pki/ops.key"] = "KEY PEM";
  write("    server: https://10.0.0.1\n    certificate-authority: ca.crt\n",
        "    tokenFile: token\n    client-certificate: /etc/pki/ops.crt\n"
        "    client-key: /etc/pki/ops.key\n");
  const auto server = load_kubeconfig(env_, "/home/ops/.kube/config");
  EXPECT_EQ(server.trust.ca_pem, "CA PEM");
  EXPECT_EQ(server.token, kToken);
  EXPECT_EQ(server.token_file, "/home/ops/.kube/token");
  EXPECT_EQ(server.client_certificate_pem, "CERT PEM");
  EXPECT_EQ(server.client_key_pem, "KEY PEM");
}

TEST_F(Kubeconfig, TlsVerificationOffIsRefusedByLine) {
  write("    server: https://10.0.0.1\n    insecure-skip-tls-verify: true\n",
        std::string("    token: ") + kToken + "\n");
  const auto message = refusal();
  EXPECT_THAT(message, HasSubstr("--kubeconfig /home/ops/.kube/config:11: "));
  EXPECT_THAT(message, HasSubstr("TLS verification is never off"));
}

TEST_F(Kubeconfig, PluginsAndPasswordsAreRefusedNotIgnored) {
  write("    server: https://10.0.0.1\n",
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n");
  EXPECT_THAT(refusal(), HasSubstr("user.exec is not supported"));
  write("    server: https://10.0.0.1\n",
        std::string("    username: admin\n    password: ") + kToken + "\n");
  EXPECT_THAT(refusal(), HasSubstr("user.username is not supported"));
}

TEST_F(Kubeconfig, APlainHttpServerAMissingContextAndAnEmptyUserAreRefused) {
  write("    server: http://10.0.0.1:8080\n", std::string("    token: ") + kToken + "\n");
  EXPECT_THAT(refusal(), HasSubstr("cluster.server must be an https:// URL"));
  write("    server: https://10.0.0.1\n", "    {}\n");
  EXPECT_THAT(refusal(), HasSubstr("the user has no token, tokenFile or client certificate"));
  files_["/home/ops/.kube/config"] = "apiVersion: v1\nkind: Config\n";
  EXPECT_THAT(refusal(), HasSubstr("has no current-context"));
  EXPECT_THAT(
      [&] {
        try {
          write("    server: https://10.0.0.1\n", std::string("    token: ") + kToken + "\n");
          load_kubeconfig(env_, "/home/ops/.kube/config", "staging");
        } catch (const Failure& failure) {
          return std::string(failure.what());
        }
        return std::string();
      }(),
      HasSubstr("no context named \"staging\" in contexts"));
}

}  // namespace
}  // namespace qcp::kube
