// Issue 23: several robots through a real registry. Two Quay organisations each hold an image;
// a service account the policy lets use both organisations' robots gets one credential per
// organisation, and skopeo, handed the credential the kubelet would pick for each image (its
// auth-key matching), pulls both. The other organisation's credential is refused: the keys'
// scoping is what makes the pulls work.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kubelet_keyring.hpp"
#include "registry_fixture.hpp"

namespace qcp::test {
namespace policy_registry_e2e {
namespace {

using Json = nlohmann::json;

class OrganisationRegistry : public RealRegistry {
 protected:
  OrganisationRegistry() {
    for (const std::string org : {"team_a", "team_b"}) {
      quay_.add_robot(org + "+pusher",
                      {{quay_.issuer_url(), "system:serviceaccount:ci:pusher", {}}});
      quay_.allow_push(org + "+pusher");
      quay_.add_robot(org + "+puller",
                      {{quay_.issuer_url(), "system:serviceaccount:ci:builder", {}}});
    }
    write(dir_ / "credential-policy.yaml",
          "apiVersion: quay-credential-provider/v1\nkind: CredentialPolicy\nrules:\n"
          "  - namespaces: [ci]\n    serviceAccounts: [builder]\n"
          "    robots: [team_a+puller, team_b+puller]\n");
  }

  void push_to(const std::string& org) {
    const auto authfile = dir_ / (org + "-pusher.json");
    const auto logged_in = login((org + "+pusher").c_str(), authfile);
    ASSERT_EQ(logged_in.exit_code, 0) << logged_in.err;
    const auto pushed =
        skopeo({"copy", "--dest-authfile", authfile.string(), "--dest-cert-dir",
                registry_->cert_dir().string(), "oci:" + (dir_ / "layout").string() + ":v1",
                "docker://" + registry_->host() + "/" + org + "/app:v1"});
    ASSERT_EQ(pushed.exit_code, 0) << pushed.err << registry_->log();
  }

  // The plugin's answer for the builder, as the kubelet asks for `image`.
  Json respond(const std::string& image) {
    Json request = Json::parse(kubelet_request(
        image, quay_.mint_service_account_token("ci", "builder"), "team_a+puller,team_b+puller"));
    request["serviceAccountAnnotations"]["quay.io/host"] = quay_.host();
    const auto result =
        run_process(kBinary,
                    {"--ca-file", ca_file_, "--allowed-host", quay_.host(), "--cache-margin", "1s",
                     "--policy", (dir_ / "credential-policy.yaml").string()},
                    {"PATH=/usr/bin:/bin"}, request.dump() + "\n");
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.exit_code == 0 ? Json::parse(result.out)["auth"] : Json::object();
  }

  static Credential credential_of(const Json& entry) {
    return {.user_password =
                entry["username"].get<std::string>() + ":" + entry["password"].get<std::string>(),
            .authfile = {}};
  }
};

TEST_P(OrganisationRegistry, EachOrganisationsImageIsPulledWithItsOwnRobot) {
  push_to("team_a");
  push_to("team_b");
  for (const std::string org : {"team_a", "team_b"}) {
    image_ = registry_->host() + "/" + org + "/app";
    const Json auth = respond(image_);
    ASSERT_EQ(auth.size(), 2U) << auth.dump();
    const auto keys = kubelet_keys_for(auth, image_);
    ASSERT_EQ(keys, std::vector<std::string>{registry_->host() + "/" + org + "/"});
    EXPECT_EQ(auth[keys[0]]["username"], org + "+puller");
    const auto pulled = pull(credential_of(auth[keys[0]]));
    EXPECT_EQ(pulled.exit_code, 0) << org << ": " << pulled.err << registry_->log();

    // The other organisation's robot may not read this image: a key that bled across
    // organisations would hand the kubelet a credential that fails.
    const std::string other = org == "team_a" ? "team_b" : "team_a";
    const auto refused = pull(credential_of(auth[registry_->host() + "/" + other + "/"]));
    EXPECT_NE(refused.exit_code, 0) << org;
  }
}

INSTANTIATE_TEST_SUITE_P(Clients, OrganisationRegistry, ::testing::Values(Tool::kSkopeo),
                         [](const auto&) { return std::string("skopeo"); });

}  // namespace
}  // namespace policy_registry_e2e
}  // namespace qcp::test
