// install's edits of a kubelet CredentialProviderConfig: our entry added, replaced and removed,
// everything else kept as written, and the result accepted by the kubelet's rules.
#include "qcp/install/config_edit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/quay/provider_needs.hpp"

namespace qcp::install {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ProviderSettings ours(KubeletGeneration kubelet = KubeletGeneration::k1_34_or_later) {
  return {.name = "quay-credential-provider",
          .match_images = {"quay.example.com", "*.quay.example.com:8443"},
          .audience = "quay",
          .kubelet = kubelet,
          .args = {},
          .service_account_tokens = true};
}

ConfigReport checked(const std::string& text, KubeletGeneration kubelet) {
  ConfigCheckSettings settings;
  settings.kubelet = kubelet;
  return check_provider_config(text, settings);
}

void expect_accepted(const std::string& text, KubeletGeneration kubelet,
                     const std::vector<std::string>& names) {
  const auto report = checked(text, kubelet);
  for (const auto& finding : report.findings) {
    EXPECT_TRUE(finding.warning) << finding.line << ": " << finding.message << "\n" << text;
  }
  EXPECT_EQ(report.provider_names, names) << text;
}

// An EKS-style file: another provider, comments, and a key after the list.
constexpr const char* kEcrYaml = R"(# managed by nodeadm
apiVersion: kubelet.config.k8s.io/v1
providers:
  # ECR, for the AWS images
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1

kind: CredentialProviderConfig
)";

TEST(NewConfig, IsAcceptedByTheKubeletItIsWrittenFor) {
  for (const auto kubelet : {KubeletGeneration::k1_33, KubeletGeneration::k1_34_or_later}) {
    for (const auto format : {ConfigFormat::kYaml, ConfigFormat::kJson}) {
      const std::string text = new_config(ours(kubelet), format);
      expect_accepted(text, kubelet, {"quay-credential-provider"});
      EXPECT_EQ(text.find("cacheType") != std::string::npos,
                kubelet == KubeletGeneration::k1_34_or_later)
          << text;
    }
  }
}

TEST(WithProvider, AddsOurEntryAfterTheOthersAndTouchesNoOtherLine) {
  const std::string text = with_provider(kEcrYaml, ours());
  expect_accepted(text, KubeletGeneration::k1_34_or_later,
                  {"ecr-credential-provider", "quay-credential-provider"});
  // Every original line is still there, in order; ours sits before the blank line and "kind:".
  const std::string head(kEcrYaml, std::string_view(kEcrYaml).find("\nkind:"));
  EXPECT_TRUE(text.starts_with(head.substr(0, head.rfind("\n\n") + 1))) << text;
  EXPECT_TRUE(text.ends_with("\nkind: CredentialProviderConfig\n")) << text;
  EXPECT_THAT(text, HasSubstr("      - \"*.quay.example.com:8443\"\n"));
  EXPECT_THAT(text, HasSubstr("# ECR, for the AWS images"));
}

TEST(WithProvider, ReplacesItsOwnEntryInPlaceAndIsIdempotent) {
  const std::string once = with_provider(kEcrYaml, ours());
  EXPECT_EQ(with_provider(once, ours()), once);
  ProviderSettings other = ours();
  other.match_images = {"registry.example.org"};
  const std::string changed = with_provider(once, other);
  EXPECT_THAT(changed, HasSubstr("registry.example.org"));
  EXPECT_THAT(changed, ::testing::Not(HasSubstr("quay.example.com")));
  expect_accepted(changed, KubeletGeneration::k1_34_or_later,
                  {"ecr-credential-provider", "quay-credential-provider"});
}

TEST(WithoutProvider, UndoesWithProviderByteForByte) {
  EXPECT_EQ(without_provider(with_provider(kEcrYaml, ours()), "quay-credential-provider"),
            kEcrYaml);
  const std::string zero_indent =
      "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"
      "- name: gcp\n  matchImages: [\"gcr.io\"]\n  defaultCacheDuration: 1m\n"
      "  apiVersion: credentialprovider.kubelet.k8s.io/v1\n";
  const std::string added = with_provider(zero_indent, ours());
  EXPECT_THAT(added, HasSubstr("\n- name: quay-credential-provider\n  apiVersion:"));
  expect_accepted(added, KubeletGeneration::k1_34_or_later, {"gcp", "quay-credential-provider"});
  EXPECT_EQ(without_provider(added, "quay-credential-provider"), zero_indent);
  EXPECT_EQ(without_provider(kEcrYaml, "quay-credential-provider"), kEcrYaml);
}

TEST(WithProvider, FillsAnEmptyOrMissingProviderList) {
  const std::string empty =
      "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n";
  const std::string filled = with_provider(empty, ours());
  expect_accepted(filled, KubeletGeneration::k1_34_or_later, {"quay-credential-provider"});
  EXPECT_EQ(without_provider(filled, "quay-credential-provider"), empty);
  const std::string missing =
      "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig";
  expect_accepted(with_provider(missing, ours()), KubeletGeneration::k1_34_or_later,
                  {"quay-credential-provider"});
  expect_accepted(with_provider("", ours()), KubeletGeneration::k1_34_or_later,
                  {"quay-credential-provider"});
}

TEST(WithProvider, KeepsWindowsLineEnds) {
  const std::string crlf =
      "apiVersion: kubelet.config.k8s.io/v1\r\nkind: CredentialProviderConfig\r\nproviders:\r\n"
      "  - name: gcp\r\n    matchImages: [\"gcr.io\"]\r\n    defaultCacheDuration: 1m\r\n"
      "    apiVersion: credentialprovider.kubelet.k8s.io/v1\r\n";
  const std::string text = with_provider(crlf, ours());
  EXPECT_EQ(text.find("\n"), text.find("\r\n") + 1);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), std::count(text.begin(), text.end(), '\r'));
  EXPECT_EQ(without_provider(text, "quay-credential-provider"), crlf);
}

TEST(WithProvider, EditsJsonAsJsonKeepingTheOtherProviders) {
  const std::string json =
      R"({"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig",)"
      R"("providers":[{"name":"ecr-credential-provider","matchImages":["*.dkr.ecr.*.amazonaws.com"],)"
      R"("defaultCacheDuration":"12h","apiVersion":"credentialprovider.kubelet.k8s.io/v1",)"
      R"("env":[{"name":"AWS_PROFILE","value":"nodes"}]}]})";
  const std::string text = with_provider(json, ours(KubeletGeneration::k1_33));
  EXPECT_TRUE(text.starts_with("{\n  \"apiVersion\"")) << text;
  expect_accepted(text, KubeletGeneration::k1_33,
                  {"ecr-credential-provider", "quay-credential-provider"});
  EXPECT_THAT(text, HasSubstr("\"AWS_PROFILE\""));
  EXPECT_EQ(with_provider(text, ours(KubeletGeneration::k1_33)), text);
  const std::string removed = without_provider(text, "quay-credential-provider");
  EXPECT_THAT(checked(removed, KubeletGeneration::k1_33).provider_names,
              ElementsAre("ecr-credential-provider"));
}

TEST(WithProvider, RefusesShapesItCannotEditFaithfully) {
  const auto refusal = [](const std::string& text) {
    try {
      static_cast<void>(with_provider(text, ours()));
    } catch (const Failure& failure) {
      EXPECT_EQ(failure.code(), ExitCode::kUsage);
      return std::string(failure.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(refusal("apiVersion: kubelet.config.k8s.io/v1\nproviders: [{name: a, "
                      "matchImages: [x], defaultCacheDuration: 1m, apiVersion: a}]\n"),
              HasSubstr("flow style"));
  EXPECT_THAT(refusal("providers: 3\n"), HasSubstr("providers is a number, not a list"));
  EXPECT_THAT(refusal("providers:\n  - name: [\n"), HasSubstr("the kubelet would refuse it too"));
  EXPECT_THAT(refusal("{\"providers\": [,]}"), HasSubstr("not valid JSON"));
  EXPECT_THAT(refusal("- a\n- b\n"), HasSubstr("not a mapping"));
}

}  // namespace
}  // namespace qcp::install
