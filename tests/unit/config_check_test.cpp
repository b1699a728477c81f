#include "qcp/kube/config_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "layers.hpp"
#include "qcp/kube/config_directory.hpp"
#include "qcp/quay/provider_needs.hpp"

namespace qcp {
namespace {

using ::testing::HasSubstr;

// Valid for 1.34+; line numbers below refer to this text.
const std::string kValid = R"(apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: quay-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages:
      - quay.example.com
      - quay.example.com:8443
    defaultCacheDuration: 5m
    args: ["--timeout=20s"]
    env:
      - name: QUAY_CREDENTIAL_PROVIDER_LOG_LEVEL
        value: debug
    tokenAttributes:
      serviceAccountTokenAudience: quay
      cacheType: ServiceAccount
      requireServiceAccount: true
      requiredServiceAccountAnnotationKeys:
        - quay.io/federated-robot-account
      optionalServiceAccountAnnotationKeys:
        - quay.io/host
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) {
    text.replace(at, from.size(), to);
  }
  return text;
}

ConfigReport check(const std::string& text, ConfigCheckSettings settings = {}) {
  return check_provider_config(text, settings);
}

// The one finding that is not a warning, as "line: path: message".
std::string only_error(const ConfigReport& report) {
  std::string found;
  int errors = 0;
  for (const auto& finding : report.findings) {
    if (!finding.warning) {
      ++errors;
      found = std::to_string(finding.line) + ": " + finding.path + ": " + finding.message;
    }
  }
  EXPECT_EQ(errors, 1) << found;
  return found;
}

// Whether some error (not a warning) contains the text, as "line: path: message".
bool has_error(const ConfigReport& report, const std::string& text) {
  for (const auto& finding : report.findings) {
    const auto line = std::to_string(finding.line) + ": " + finding.path + ": " + finding.message;
    if (!finding.warning && line.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(CheckConfig, AcceptsAValidConfigAndInfersTheKubelet) {
  const auto report = check(kValid);
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(report.findings.empty());
  EXPECT_EQ(report.kubelet, KubeletGeneration::k1_34_or_later);
  EXPECT_EQ(report.provider_names, std::vector<std::string>{"quay-credential-provider"});
  const auto for_1_33 = check(replaced(kValid, "      cacheType: ServiceAccount\n", ""));
  EXPECT_TRUE(for_1_33.ok());
  EXPECT_EQ(for_1_33.kubelet, KubeletGeneration::k1_33);
}

TEST(CheckConfig, CacheTypeFollowsTheKubeletVersion) {
  ConfigCheckSettings v133;
  v133.kubelet = KubeletGeneration::k1_33;
  EXPECT_THAT(only_error(check(kValid, v133)),
              HasSubstr("16: providers[0].tokenAttributes.cacheType: unknown field"));
  ConfigCheckSettings v134;
  v134.kubelet = KubeletGeneration::k1_34_or_later;
  EXPECT_THAT(only_error(check(replaced(kValid, "      cacheType: ServiceAccount\n", ""), v134)),
              HasSubstr("cacheType: missing: 1.34+ kubelets require ServiceAccount or Token"));
  EXPECT_THAT(only_error(check(replaced(kValid, "cacheType: ServiceAccount", "cacheType: token"))),
              HasSubstr("\"token\" is not supported: use ServiceAccount or Token"));
  EXPECT_TRUE(check(replaced(kValid, "cacheType: ServiceAccount", "cacheType: Token")).ok());
}

TEST(CheckConfig, StrictDecodingRejectsUnknownAndMiscasedFields) {
  EXPECT_THAT(only_error(check(replaced(kValid, "    args:", "    Args:"))),
              HasSubstr("10: providers[0].Args: unknown field \"Args\" (field names are "
                        "case-sensitive: args)"));
  EXPECT_THAT(only_error(check(kValid + "extra: 1\n")), HasSubstr("extra: unknown field"));
  EXPECT_THAT(only_error(check(replaced(kValid, "cacheType:", "serviceAccountTokenCacheType:"))),
              HasSubstr("unknown field \"serviceAccountTokenCacheType\""));
  // With the unknown field gone, the 1.34 rule fires too; it is reported once.
  EXPECT_THAT(only_error(check(replaced(kValid, "        value: debug",
                                        "        value: debug\n"
                                        "        valeu: x"))),
              HasSubstr("providers[0].env[0].valeu: unknown field"));
  EXPECT_THAT(only_error(check(replaced(kValid, "    matchImages:",
                                        "    defaultCacheDuration: 1m\n"
                                        "    matchImages:"))),
              HasSubstr("duplicate key \"defaultCacheDuration\""));
}

TEST(CheckConfig, YamlTypingMistakes) {
  EXPECT_THAT(
      only_error(check(replaced(kValid, "defaultCacheDuration: 5m", "defaultCacheDuration: 0"))),
      HasSubstr("9: providers[0].defaultCacheDuration: must be a string, not a number "
                "(YAML reads \"0\" as a number; quote it)"));
  EXPECT_THAT(only_error(check(replaced(kValid, "requireServiceAccount: true",
                                        "requireServiceAccount: \"true\""))),
              HasSubstr("must be a boolean, not a string"));
  // YAML 1.1: yes is a boolean, and fine here.
  EXPECT_TRUE(
      check(replaced(kValid, "requireServiceAccount: true", "requireServiceAccount: yes")).ok());
  // Not a string, so also not our provider's name: two errors, no "missing" noise.
  const auto on = check(replaced(kValid, "name: quay-credential-provider", "name: on"));
  EXPECT_TRUE(has_error(on, "4: providers[0].name: must be a string, not a boolean"));
  EXPECT_TRUE(has_error(on, "no provider is named"));
  EXPECT_EQ(on.findings.size(), 2U);
}

TEST(CheckConfig, ProviderRules) {
  EXPECT_THAT(
      only_error(check(replaced(kValid, "defaultCacheDuration: 5m", "defaultCacheDuration: -5m"))),
      HasSubstr("must not be negative"));
  EXPECT_THAT(only_error(check(
                  replaced(kValid, "defaultCacheDuration: 5m", "defaultCacheDuration: 5 minutes"))),
              HasSubstr("is not a duration"));
  EXPECT_THAT(only_error(check(replaced(kValid, "    defaultCacheDuration: 5m\n", ""))),
              HasSubstr("defaultCacheDuration: missing"));
  const auto v2 = check(replaced(kValid, "apiVersion: credentialprovider.kubelet.k8s.io/v1",
                                 "apiVersion: credentialprovider.kubelet.k8s.io/v2"));
  EXPECT_TRUE(has_error(v2,
                        "5: providers[0].apiVersion: \"credentialprovider.kubelet.k8s.io/v2\" "
                        "is not supported"));
  EXPECT_TRUE(has_error(v2, "tokenAttributes needs the provider's apiVersion"));
  const auto old_config = check(replaced(kValid, "apiVersion: kubelet.config.k8s.io/v1",
                                         "apiVersion: kubelet.config.k8s.io/v1beta1"));
  EXPECT_THAT(only_error(old_config),
              HasSubstr("only apiVersion kubelet.config.k8s.io/v1 has tokenAttributes"));
  const auto v1beta1 = check(replaced(kValid, "apiVersion: credentialprovider.kubelet.k8s.io/v1",
                                      "apiVersion: credentialprovider.kubelet.k8s.io/v1beta1"));
  EXPECT_FALSE(v1beta1.ok());
  EXPECT_THAT(v1beta1.findings.front().message,
              HasSubstr("tokenAttributes needs the provider's apiVersion "
                        "credentialprovider.kubelet.k8s.io/v1"));
  const auto two = check(kValid + R"(  - name: quay-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages: [other.example.com]
    defaultCacheDuration: 1m
)");
  EXPECT_THAT(only_error(two), HasSubstr("22: providers[1].name: duplicate provider name"));
  const auto slash = check(replaced(kValid, "name: quay-credential-provider", "name: bin/qcp"));
  EXPECT_TRUE(has_error(slash, "4: providers[0].name: \"bin/qcp\" must not contain '/' or spaces"));
  EXPECT_THAT(only_error(check(replaced(kValid,
                                        "    matchImages:\n      - quay.example.com\n      - "
                                        "quay.example.com:8443\n",
                                        "    matchImages: []\n"))),
              HasSubstr("at least one image pattern is required"));
}

TEST(CheckConfig, MatchImagesThatFailOrNeverMatch) {
  const auto report = check(replaced(kValid, "      - quay.example.com\n",
                                     "      - quay.example.com/*\n      - \"quay.example.com:*\"\n"
                                     "      - https://quay.example.com\n"));
  ASSERT_EQ(report.findings.size(), 3U);
  EXPECT_EQ(report.findings[0].line, 7);
  EXPECT_THAT(report.findings[0].message, HasSubstr("\"quay.example.com/*\" never matches"));
  EXPECT_THAT(report.findings[1].message, HasSubstr("\"quay.example.com:*\" is invalid"));
  EXPECT_THAT(report.findings[2].message, HasSubstr("a scheme is not part of the pattern"));
}

TEST(CheckConfig, TokenAttributesRules) {
  EXPECT_THAT(only_error(check(replaced(kValid, "      serviceAccountTokenAudience: quay\n", ""))),
              HasSubstr("serviceAccountTokenAudience: missing"));
  EXPECT_THAT(only_error(check(replaced(kValid, "      requireServiceAccount: true\n", ""))),
              HasSubstr("requireServiceAccount: missing"));
  const auto not_required =
      check(replaced(kValid, "requireServiceAccount: true", "requireServiceAccount: false"));
  EXPECT_THAT(only_error(not_required),
              HasSubstr("cannot be false when requiredServiceAccountAnnotationKeys is set"));
  EXPECT_THAT(only_error(check(replaced(kValid, "        - quay.io/host",
                                        "        - quay.io/federated-robot-account"))),
              HasSubstr("listed as both required and optional"));
  EXPECT_THAT(only_error(check(replaced(kValid, "        - quay.io/host", "        - Bad Key"))),
              HasSubstr("\"Bad Key\" is not an annotation key"));
  EXPECT_THAT(only_error(check(replaced(kValid, "        - quay.io/host", "        - -x.io/host"))),
              HasSubstr("must be a DNS subdomain"));
  // Upper case is fine: the kubelet lower-cases keys before checking them.
  EXPECT_TRUE(check(replaced(kValid, "        - quay.io/host", "        - Quay.io/Host")).ok());
  EXPECT_THAT(only_error(check(replaced(kValid, "        - quay.io/host",
                                        "        - quay.io/host\n        - quay.io/host"))),
              HasSubstr("duplicate key \"quay.io/host\""));
}

TEST(CheckConfig, WhatThisProviderNeeds) {
  EXPECT_THAT(only_error(check(replaced(kValid, "name: quay-credential-provider", "name: quay"))),
              HasSubstr("no provider is named \"quay-credential-provider\""));
  ConfigCheckSettings renamed;
  renamed.provider_name = "quay";
  EXPECT_TRUE(
      check(replaced(kValid, "name: quay-credential-provider", "name: quay"), renamed).ok());

  const auto no_robot = check(replaced(kValid, "        - quay.io/federated-robot-account\n",
                                       "        - example.com/other\n"));
  EXPECT_THAT(only_error(no_robot), HasSubstr("must list quay.io/federated-robot-account"));

  const auto optional_robot =
      check(replaced(replaced(kValid,
                              "      requiredServiceAccountAnnotationKeys:\n        - "
                              "quay.io/federated-robot-account\n",
                              ""),
                     "        - quay.io/host",
                     "        - quay.io/host\n        - "
                     "quay.io/federated-robot-account"));
  EXPECT_TRUE(optional_robot.ok());
  ASSERT_EQ(optional_robot.findings.size(), 1U);
  EXPECT_TRUE(optional_robot.findings[0].warning);
  EXPECT_THAT(optional_robot.findings[0].message, HasSubstr("is optional"));

  const auto no_attributes = check(kValid.substr(0, kValid.find("    tokenAttributes:")));
  EXPECT_THAT(only_error(no_attributes), HasSubstr("tokenAttributes: missing"));
}

TEST(CheckConfig, ArgsAndEnvGoThroughThePluginsOwnParser) {
  EXPECT_THAT(only_error(check(replaced(kValid, "--timeout=20s", "--timeout=90s"))),
              HasSubstr("10: providers[0].args: the provider would refuse to start: --timeout "
                        "must be between 1ms and 55s"));
  EXPECT_THAT(only_error(check(replaced(kValid, "--timeout=20s", "--insecure"))),
              HasSubstr("the provider would refuse to start"));
  EXPECT_THAT(only_error(check(replaced(kValid, "--timeout=20s", "--help"))),
              HasSubstr("--help or --version"));
  EXPECT_THAT(only_error(check(replaced(kValid, "        value: debug", "        value: loud"))),
              HasSubstr("QUAY_CREDENTIAL_PROVIDER_LOG_LEVEL must be one of"));
  EXPECT_THAT(only_error(check(replaced(kValid, "QUAY_CREDENTIAL_PROVIDER_LOG_LEVEL",
                                        "QUAY_CREDENTIAL_PROVIDER_LOGLEVEL"))),
              HasSubstr("\"QUAY_CREDENTIAL_PROVIDER_LOGLEVEL\" is not a variable this provider "
                        "reads"));
}

TEST(CheckConfig, ImagesThisProviderMustServe) {
  ConfigCheckSettings settings;
  settings.images = {"quay.example.com:8443/team/app", "quay.example.com/team/app"};
  EXPECT_TRUE(check(kValid, settings).ok());
  settings.images = {"quay.example.com:5000/team/app"};
  EXPECT_THAT(only_error(check(kValid, settings)),
              HasSubstr("no entry matches the image \"quay.example.com:5000/team/app\""));
}

TEST(CheckConfig, DocumentLevelProblems) {
  EXPECT_THAT(only_error(check("")), HasSubstr("holds no CredentialProviderConfig"));
  EXPECT_THAT(only_error(check("- a\n- b\n")), HasSubstr("must hold a mapping"));
  EXPECT_THAT(only_error(check(kValid + "---\nkind: Other\n")),
              HasSubstr("a second YAML document"));
  EXPECT_THAT(only_error(check(replaced(kValid, "kind: CredentialProviderConfig",
                                        "kind: KubeletConfiguration"))),
              HasSubstr("\"KubeletConfiguration\" is not CredentialProviderConfig"));
  EXPECT_THAT(
      only_error(check(replaced(kValid, "apiVersion: kubelet.config.k8s.io/v1", "apiVersion: v1"))),
      HasSubstr("is not a kubelet.config.k8s.io version"));
  const auto syntax = check("providers: [\n");
  EXPECT_FALSE(syntax.ok());
  EXPECT_THAT(syntax.findings.front().message, HasSubstr("YAML syntax error"));
}

// A config directory (kubelet 1.34+): files decoded one by one, providers merged.
TEST(CheckConfig, FilesOfADirectoryAreMerged) {
  const std::string other = R"(apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: ecr-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages: ["*.dkr.ecr.*.amazonaws.com"]
    defaultCacheDuration: 12h
)";
  const std::vector<ConfigFile> files = {{"d/10-ecr.yaml", other}, {"d/20-quay.yaml", kValid}};
  const auto merged = check_provider_config(files, {});
  EXPECT_TRUE(merged.ok());
  EXPECT_EQ(merged.provider_names,
            (std::vector<std::string>{"ecr-credential-provider", "quay-credential-provider"}));

  // Our provider may sit in any file, and the name must be unique across all of them.
  const std::vector<ConfigFile> duplicated = {{"d/10-quay.yaml", kValid},
                                              {"d/20-again.yaml", kValid}};
  const auto twice = check_provider_config(duplicated, {});
  ASSERT_EQ(twice.findings.size(), 1U);
  EXPECT_EQ(twice.findings[0].file, "d/20-again.yaml");
  EXPECT_THAT(twice.findings[0].message, HasSubstr("duplicate provider name"));

  // No file holds our provider: reported once, at the first file.
  const std::vector<ConfigFile> without = {
      {"d/10-ecr.yaml", other},
      {"d/20-ecr.yaml", replaced(other, "ecr-credential", "gcr-credential")}};
  const auto missing = check_provider_config(without, {});
  ASSERT_EQ(missing.findings.size(), 1U);
  EXPECT_EQ(missing.findings[0].file, "d/10-ecr.yaml");
  EXPECT_THAT(missing.findings[0].message, HasSubstr("no provider is named"));

  // One file's cacheType decides the kubelet version for all of them.
  const std::vector<ConfigFile> mixed = {
      {"d/10-quay.yaml", kValid},
      {"d/20-other.yaml", replaced(replaced(kValid, "name: quay-credential-provider", "name: b"),
                                   "      cacheType: ServiceAccount\n", "")}};
  const auto versions = check_provider_config(mixed, {});
  ASSERT_EQ(versions.findings.size(), 1U);
  EXPECT_EQ(versions.findings[0].file, "d/20-other.yaml");
  EXPECT_THAT(versions.findings[0].message, HasSubstr("missing: 1.34+ kubelets require"));
}

TEST(CheckConfig, MessagesStayOnOneLine) {
  const auto report =
      check(replaced(kValid, "name: quay-credential-provider", "name: \"quay\\ncredential\""));
  for (const auto& finding : report.findings) {
    EXPECT_EQ(finding.message.find('\n'), std::string::npos) << finding.message;
  }
}

// The one rule check-config and install read a config directory by: *.json, *.yaml and *.yml
// only, in byte order as Go's sort.Strings puts them (upper case before lower case).
TEST(ConfigDirectory, TheKubeletReadsConfigNamesInByteOrder) {
  EXPECT_EQ(config_directory_entries(
                {"b.yaml", "a.json", "README", "c.yml", "Z.yaml", "d.yaml.bak", ".yaml"}),
            (std::vector<std::string>{".yaml", "Z.yaml", "a.json", "b.yaml", "c.yml"}));
  EXPECT_TRUE(config_directory_entries({}).empty());
}

}  // namespace
}  // namespace qcp
