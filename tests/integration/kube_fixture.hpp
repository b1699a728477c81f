#pragma once
// The fake API server and the fake Quay side by side, the controller's identity at the one and
// TokenRequests signed by the other's issuer, and the product's ApiClient pointed at the API
// server over real HTTPS: what the controller's integration tests start from.

#include <gtest/gtest.h>

#include "fake_clock.hpp"
#include "fake_kube_api.hpp"
#include "fake_quay.hpp"
#include "layers.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/net/curl_http.hpp"

namespace qcp::test {

inline constexpr const char* kControllerToken = "controller-token-0123456789abcdef";
inline constexpr const char* kController = "system:serviceaccount:qcp-system:qcp-controller";

class KubeFixture : public ::testing::Test {
 protected:
  explicit KubeFixture(FakeQuayOptions quay_options = {}) : quay_(pki_, quay_options) {
    api_.add_user(kControllerToken, kController);
    api_.allow_controller(kController);
    api_.sign_tokens_with(quay_.issuer_signer(), quay_.issuer_url());
  }
  static kube::ApiServer server_of(const FakeKubeApi& api, const TestPki& pki) {
    kube::ApiServer server;
    server.base_url = api.base_url();
    server.token = kControllerToken;
    server.trust = {.ca_file = "", .ca_dir = "", .ca_pem = pki.ca_pem(), .source = "test CA"};
    return server;
  }

  TestPki pki_;
  FakeQuay quay_;
  FakeKubeApi api_{pki_};
  net::CurlHttpClient http_;
  SteppedClock clock_;  // the system's clocks, until a test steps the wall clock
  kube::ApiClient client_{http_, server_of(api_, pki_), Environment{}, clock_, "controller"};
};

}  // namespace qcp::test
