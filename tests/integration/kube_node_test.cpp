// The installer reads the kubelet's version from its own Node object: the pod's in-cluster
// credentials (KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA) against a fake
// kube-apiserver over real HTTPS on loopback that answers as kube-api/ recorded a real one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fake_kube_api.hpp"
#include "harness.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/kube/node.hpp"
#include "qcp/net/curl_http.hpp"

namespace qcp::test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kInstaller = "system:serviceaccount:quay-credential-provider:node-installer";
// Shaped like a bound service-account token: three base64url parts.
const std::string kToken =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vZGUtaW5zdGFsbGVyIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291"
    "bnQ6cXVheS1jcmVkZW50aWFsLXByb3ZpZGVyOm5vZGUtaW5zdGFsbGVyIn0.c2lnbmF0dXJlLWJ5dGVzLW9mLXRo"
    "ZS1hcGlzZXJ2ZXI";
constexpr std::chrono::milliseconds kTimeout{10'000};

class NodeVersion : public ::testing::Test {
 protected:
  NodeVersion() : api_(pki_) {
    api_.add_user(kToken, kInstaller);
    api_.add_node("worker-1", "v1.36.2");
    write("token", kToken);
    write("ca.crt", pki_.ca_pem());
    env_ = clean_environment();
    env_.variables["KUBERNETES_SERVICE_HOST"] = api_.service_host();
    env_.variables["KUBERNETES_SERVICE_PORT"] = std::to_string(api_.port());
  }

  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_.path() / name, std::ios::binary) << bytes;
  }

  // The version, or the failure's code and message.
  std::pair<std::string, std::string> ask(const std::string& node = "worker-1") {
    try {
      const auto server =
          kube::in_cluster_api_server(env_, "install --node-name", dir_.path().string());
      CurlHttpClient http;
      return {kube::node_kubelet_version(http, server, node, kTimeout), ""};
    } catch (const Failure& failure) {
      const std::string message = failure.what();
      expect_no_leak(message, {kToken});
      return {std::to_string(static_cast<int>(failure.code())), message};
    }
  }

  TestPki pki_;
  FakeKubeApi api_;
  TempDir dir_;
  Environment env_;
};

TEST_F(NodeVersion, IsWhatTheKubeletReportsInItsNodeObject) {
  api_.allow(kInstaller, "get", "nodes");
  const auto [version, message] = ask();
  EXPECT_EQ(version, "v1.36.2") << message;
  const auto requests = api_.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().method, "GET");
  EXPECT_EQ(requests.back().target, "/api/v1/nodes/worker-1");
  EXPECT_EQ(requests.back().header("Authorization"), "Bearer " + kToken);
  EXPECT_EQ(requests.back().header("Accept"), "application/json");
}

TEST_F(NodeVersion, WithoutGetNodesTheApiServersForbiddenIsPassedOnWithTheRuleItTakes) {
  const auto [code, message] = ask();
  EXPECT_EQ(code, "1");
  EXPECT_THAT(message, HasSubstr("reading Node worker-1"));
  EXPECT_THAT(message,
              HasSubstr("User \"" + std::string(kInstaller) + "\" cannot get resource \"nodes\""));
  EXPECT_THAT(message, HasSubstr("(HTTP 403); the pod's service account needs a ClusterRole"));
}

TEST_F(NodeVersion, AnUnknownTokenIsTheApiServers401AndNeverShown) {
  write("token", kToken + "x");
  const auto [code, message] = ask();
  EXPECT_EQ(code, "1");
  EXPECT_THAT(message, HasSubstr("did not accept this pod's service-account token (HTTP 401: "
                                 "Unauthorized)"));
}

TEST_F(NodeVersion, AMissingNodeIsTheApiServersNotFound) {
  api_.allow(kInstaller, "get", "nodes");
  const auto [code, message] = ask("worker-9");
  EXPECT_EQ(code, "1");
  EXPECT_THAT(message, HasSubstr("answered HTTP 404: nodes \"worker-9\" not found"));
}

TEST_F(NodeVersion, ALoadSheddingAnswerIsTriedAgainAfterRetryAfterWithinTheDeadline) {
  api_.allow(kInstaller, "get", "nodes");
  api_.shed_next(1, 1);
  EXPECT_EQ(ask().first, "v1.36.2");
  EXPECT_EQ(api_.requests().size(), 2U);
}

TEST_F(NodeVersion, ALoadSheddingWaitPastTheDeadlineFailsAtOnceWithTheApiServersWords) {
  api_.allow(kInstaller, "get", "nodes");
  api_.shed_next(1, 60);
  const auto started = std::chrono::steady_clock::now();
  const auto [code, message] = ask();
  EXPECT_LT(std::chrono::steady_clock::now() - started, kTimeout);
  EXPECT_EQ(code, "1");
  EXPECT_THAT(message, HasSubstr("is shedding load (HTTP 429: Too many requests, please try "
                                 "again later."));
  EXPECT_EQ(api_.requests().size(), 1U);
}

TEST_F(NodeVersion, AnApiServerCertificateNotFromTheClusterCaIsRefused) {
  const TestPki other;
  write("ca.crt", other.ca_pem());
  const auto [code, message] = ask();
  EXPECT_EQ(code, "1");
  EXPECT_THAT(message, HasSubstr("TLS certificate problem with the API server at https://"));
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(NodeVersion, BadInClusterSettingsAreRefusedBeforeAnyRequest) {
  const auto refused = [this](const std::string& expected) {
    const auto [code, message] = ask();
    EXPECT_EQ(code, "2") << message;
    EXPECT_THAT(message, HasSubstr(expected));
  };
  write("token", "two words");
  refused("is empty or holds spaces or control characters");
  write("token", kToken + "\r\nX-Injected: 1");
  refused("is empty or holds spaces or control characters");
  write("token", kToken);
  env_.variables["KUBERNETES_SERVICE_PORT"] = "0443";
  refused("which is not HOST:PORT");
  env_.variables.erase("KUBERNETES_SERVICE_HOST");
  refused("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set");
  env_.variables["KUBERNETES_SERVICE_HOST"] = api_.service_host();
  env_.variables["KUBERNETES_SERVICE_PORT"] = std::to_string(api_.port());
  fs::remove(dir_.path() / "token");
  refused("automountServiceAccountToken");
  write("token", kToken);
  const auto [code, message] = ask("Worker_1");
  EXPECT_EQ(code, "2");
  EXPECT_THAT(message, HasSubstr("is not a Kubernetes object name"));
  EXPECT_TRUE(api_.requests().empty());
}

TEST_F(NodeVersion, AnIpv6ServiceAddressGetsBrackets) {
  env_.variables["KUBERNETES_SERVICE_HOST"] = "fd00:10:96::1";
  env_.variables["KUBERNETES_SERVICE_PORT"] = "443";
  EXPECT_EQ(kube::in_cluster_api_server(env_, "test", dir_.path().string()).base_url,
            "https://[fd00:10:96::1]:443");
}

}  // namespace
}  // namespace qcp::test
