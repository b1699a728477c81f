// check-config's verdict, row by row, against what the kubelet does with the same config (v1.36.2
// observed through its own code, kubelet-plugin-protocol.md §9-§13; 1.33 where noted). Each row
// names the kubelet rule it encodes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "layers.hpp"
#include "qcp/kube/config_check.hpp"
#include "qcp/kube/match_image.hpp"
#include "qcp/quay/provider_needs.hpp"

namespace qcp {
namespace {

// 1.34+, valid; every row changes one thing.
const std::string kBase = R"(apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: quay-credential-provider
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    matchImages:
      - quay.example.com
    defaultCacheDuration: 5m
    tokenAttributes:
      serviceAccountTokenAudience: quay
      cacheType: ServiceAccount
      requireServiceAccount: true
      requiredServiceAccountAnnotationKeys:
        - quay.io/federated-robot-account
)";

const std::string kJson =
    R"({"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[)"
    R"({"name":"quay-credential-provider","apiVersion":"credentialprovider.kubelet.k8s.io/v1",)"
    R"("matchImages":["quay.example.com"],"defaultCacheDuration":"5m","tokenAttributes":{)"
    R"("serviceAccountTokenAudience":"quay","cacheType":"ServiceAccount",)"
    R"("requireServiceAccount":true,"requiredServiceAccountAnnotationKeys":)"
    R"(["quay.io/federated-robot-account"]}}]})";

std::string with(const std::string& from, const std::string& to, std::string text = kBase) {
  const auto at = text.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "not in the config: " << from;
    return text;
  }
  return text.replace(at, from.size(), to);
}

std::string pattern(const std::string& entry) {
  return with("      - quay.example.com\n", "      - \"" + entry + "\"\n");
}

enum class Verdict {
  kStarts,        // the kubelet starts and the file is clean
  kStartsButOdd,  // the kubelet starts; a warning names the oddity
  kRefuses,       // the kubelet exits at start
  kNeverCalls,    // the kubelet starts, but never calls the provider for the image or pattern
};

struct Row {
  const char* rule;  // the kubelet's rule, as the reference states it
  std::string config;
  Verdict verdict;
  std::string says;  // a piece of the finding (empty for kStarts)
  std::optional<KubeletGeneration> kubelet = std::nullopt;
  std::vector<std::string> images = {};
  std::vector<std::string> second_file = {};
};

std::vector<Row> rows() {
  const auto v133 = KubeletGeneration::k1_33;
  const std::string no_cache_type = with("      cacheType: ServiceAccount\n", "");
  return {
      // --- decoding (§9, §13) -------------------------------------------------------------
      {"§9 a valid 1.34+ config", kBase, Verdict::kStarts, ""},
      {"§9 1.33 knows no cacheType", no_cache_type, Verdict::kStarts, "", v133},
      {"§13 JSON is decoded strictly", kJson, Verdict::kStarts, ""},
      {"§13 JSON after spaces and newlines is still JSON", " \n\t" + kJson, Verdict::kStarts, ""},
      {"§13 trailing comma in JSON", with("]}}]}", "]}},]}", kJson), Verdict::kRefuses,
       "not valid JSON"},
      {"§13 a # comment in JSON", "# comment\n" + kJson, Verdict::kStarts, ""},
      {"§13 a # comment inside JSON", with("\"providers\":[", "\"providers\":[ # x\n", kJson),
       Verdict::kRefuses, "not valid JSON"},
      {"§13 single quotes in JSON", with("\"5m\"", "'5m'", kJson), Verdict::kRefuses,
       "not valid JSON"},
      {"§13 unquoted key in JSON", with("\"kind\":", "kind:", kJson), Verdict::kRefuses,
       "not valid JSON"},
      {"§13 a BOM first makes it YAML", "\xEF\xBB\xBF" + kJson, Verdict::kStarts, ""},
      {"§9 strict: unknown top-level field", kBase + "extra: 1\n", Verdict::kRefuses,
       "unknown field"},
      {"§9 strict: field names are case-sensitive", with("providers:", "Providers:"),
       Verdict::kRefuses, "unknown field \"Providers\""},
      {"§9 strict: a duplicate key",
       with("    defaultCacheDuration: 5m\n",
            "    defaultCacheDuration: 5m\n"
            "    defaultCacheDuration: 6m\n"),
       Verdict::kRefuses, "duplicate key"},
      {"§13 merge keys are resolved",
       with("providers:\n  - name: quay-credential-provider\n",
            "x-common: &common\n  defaultCacheDuration: 5m\nproviders:\n  - name: "
            "quay-credential-provider\n    <<: *common\n",
            with("    defaultCacheDuration: 5m\n", "")),
       Verdict::kRefuses, "unknown field \"x-common\""},
      {"§13 a merge key resolves to the anchored fields",
       with("    tokenAttributes:\n", "    tokenAttributes: &attributes\n") +
           "  - name: ecr-credential-provider\n"
           "    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
           "    matchImages: [\"*.dkr.ecr.*.amazonaws.com\"]\n"
           "    defaultCacheDuration: 12h\n"
           "    tokenAttributes:\n"
           "      <<: *attributes\n",
       Verdict::kStarts, ""},
      {"§13 a merged key set twice is a duplicate",
       with("providers:\n  - name: quay-credential-provider\n",
            "providers:\n  - name: quay-credential-provider\n    <<: {defaultCacheDuration: 1m}\n"),
       Verdict::kRefuses, "duplicate key \"defaultCacheDuration\""},
      {"§13 a key brought in by a merge after it is a duplicate",
       with("    defaultCacheDuration: 5m\n",
            "    defaultCacheDuration: 5m\n    <<: {defaultCacheDuration: 1m}\n"),
       Verdict::kRefuses, "brought in by the merge key"},
      {"§13 tabs between JSON tokens", with(",\"kind\"", ",\t\"kind\"", kJson), Verdict::kStarts,
       ""},
      {"§9 YAML 1.1: defaultCacheDuration 0 is a number",
       with("defaultCacheDuration: 5m", "defaultCacheDuration: 0"), Verdict::kRefuses,
       "defaultCacheDuration"},
      {"§9 YAML 1.1: a quoted boolean is a string",
       with("requireServiceAccount: true", "requireServiceAccount: \"true\""), Verdict::kRefuses,
       "requireServiceAccount"},
      {"§9 YAML 1.1: yes is a boolean",
       with("requireServiceAccount: true", "requireServiceAccount: yes"), Verdict::kStarts, ""},
      {"§9 config apiVersion", with("kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v2"),
       Verdict::kRefuses, "apiVersion"},
      {"§9 kind", with("kind: CredentialProviderConfig", "kind: CredentialProvider"),
       Verdict::kRefuses, "kind"},
      // --- validation (§9, §11) -----------------------------------------------------------
      {"§9 at least one provider",
       "apiVersion: kubelet.config.k8s.io/v1\nkind: "
       "CredentialProviderConfig\nproviders: []\n",
       Verdict::kRefuses, "at least one provider"},
      {"§9 a provider needs a name",
       with("  - name: quay-credential-provider\n    apiVersion", "  - apiVersion"),
       Verdict::kRefuses, "name"},
      {"§9 names are unique",
       kBase,
       Verdict::kRefuses,
       "duplicate provider name",
       std::nullopt,
       {},
       {kBase}},
      {"§9 matchImages is required", with("    matchImages:\n      - quay.example.com\n", ""),
       Verdict::kRefuses, "at least one image pattern"},
      {"§9 matchImages may not be empty",
       with("    matchImages:\n      - quay.example.com\n", "    matchImages: []\n"),
       Verdict::kRefuses, "at least one image pattern"},
      {"§9 defaultCacheDuration is required", with("    defaultCacheDuration: 5m\n", ""),
       Verdict::kRefuses, "defaultCacheDuration"},
      {"§9 defaultCacheDuration is not negative",
       with("defaultCacheDuration: 5m", "defaultCacheDuration: -5m"), Verdict::kRefuses,
       "must not be negative"},
      {"§9 defaultCacheDuration is a Go duration",
       with("defaultCacheDuration: 5m", "defaultCacheDuration: 5 min"), Verdict::kRefuses,
       "defaultCacheDuration"},
      {"§9 provider apiVersion",
       with("credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v2"),
       Verdict::kRefuses, "apiVersion"},
      {"§13 tokenAttributes need provider apiVersion v1",
       with("credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1"),
       Verdict::kRefuses, "tokenAttributes"},
      {"§11 an audience is required", with("      serviceAccountTokenAudience: quay\n", ""),
       Verdict::kRefuses, "serviceAccountTokenAudience"},
      {"§11 requireServiceAccount must be explicit",
       with("      requireServiceAccount: true\n", ""), Verdict::kRefuses, "requireServiceAccount"},
      {"§11 annotation keys are qualified names",
       with("        - quay.io/federated-robot-account\n",
            "        - quay.io/federated-robot-account\n        - \"bad key!\"\n"),
       Verdict::kRefuses, "not an annotation key"},
      {"§11 required and optional keys do not overlap",
       with("        - quay.io/federated-robot-account\n",
            "        - quay.io/federated-robot-account\n"
            "      optionalServiceAccountAnnotationKeys:\n"
            "        - quay.io/federated-robot-account\n"),
       Verdict::kRefuses, "quay.io/federated-robot-account"},
      {"§13 1.34+ requires cacheType", no_cache_type, Verdict::kRefuses, "cacheType: missing",
       KubeletGeneration::k1_34_or_later},
      {"§9 1.33 refuses cacheType", kBase, Verdict::kRefuses, "cacheType: unknown field", v133},
      {"§11 cacheType values are case-sensitive",
       with("cacheType: ServiceAccount", "cacheType: serviceaccount"), Verdict::kRefuses,
       "cacheType"},
      {"§11 cacheType Token", with("cacheType: ServiceAccount", "cacheType: Token"),
       Verdict::kStarts, ""},
      {"§11 tokenAttributes only in config apiVersion v1",
       with("kubelet.config.k8s.io/v1\n", "kubelet.config.k8s.io/v1alpha1\n"), Verdict::kRefuses,
       "tokenAttributes"},
      // --- matchImages (§10, §13) ---------------------------------------------------------
      {"§10 a port must be digits", pattern("quay.example.com:*"), Verdict::kRefuses, "invalid"},
      {"§13 an unclosed [ is invalid IP-literal", pattern("quay.[a.example.com"), Verdict::kRefuses,
       "invalid IP-literal"},
      {"§13 a '[' after the first byte is invalid IP-literal", pattern("quay[0-9].example.com"),
       Verdict::kRefuses, "invalid IP-literal"},
      {"§13 brackets hold an IPv6 address only", pattern("[1.2.3.4]:5000"), Verdict::kRefuses,
       "invalid IP-literal"},
      {"§13 a missing ']'", pattern("[::1"), Verdict::kRefuses, "missing ']'"},
      {"§10 a space is not a host character", pattern("quay example.com"), Verdict::kRefuses,
       "invalid"},
      {"§13 a query is dropped, the rest matches",
       pattern("quay.example.com?x=1"),
       Verdict::kStartsButOdd,
       "query or fragment",
       std::nullopt,
       {"quay.example.com/team/app"}},
      {"§13 a fragment is dropped",
       pattern("quay.example.com#f"),
       Verdict::kStartsButOdd,
       "query or fragment",
       std::nullopt,
       {"quay.example.com/team/app"}},
      {"§13 user information is dropped",
       pattern("user@quay.example.com"),
       Verdict::kStartsButOdd,
       "user information",
       std::nullopt,
       {"quay.example.com/team/app"}},
      {"§13 a bare trailing ':' is dropped",
       pattern("quay.example.com:"),
       Verdict::kStartsButOdd,
       "without a port",
       std::nullopt,
       {"quay.example.com/team/app"}},
      {"§10 host/* is a literal path", pattern("quay.example.com/*"), Verdict::kNeverCalls,
       "never matches"},
      {"§10 a scheme never matches", pattern("https://quay.example.com"), Verdict::kNeverCalls,
       "never matches"},
      {"§10 an empty label never matches", pattern("quay..example.com"), Verdict::kNeverCalls,
       "never matches"},
      {"§10 host label globs",
       pattern("*.example.com"),
       Verdict::kStarts,
       "",
       std::nullopt,
       {"quay.example.com/team/app"}},
      {"§10 a bracketed IPv6 host with port",
       pattern("[::1]:5000"),
       Verdict::kStarts,
       "",
       std::nullopt,
       {"[::1]:5000/team/app"}},
      // --- which images the provider is called for (§10, §13) ------------------------------
      {"§10 ports must be equal",
       kBase,
       Verdict::kNeverCalls,
       "no entry matches the image",
       std::nullopt,
       {"quay.example.com:8443/team/app"}},
      {"§10 a path is a raw prefix",
       pattern("quay.example.com/team"),
       Verdict::kStarts,
       "",
       std::nullopt,
       {"quay.example.com/teamx/app"}},
      {"§10 a longer pattern path does not match",
       pattern("quay.example.com/team/"),
       Verdict::kNeverCalls,
       "no entry matches",
       std::nullopt,
       {"quay.example.com/team"}},
      {"§10 one glob is one label",
       pattern("*.io"),
       Verdict::kNeverCalls,
       "no entry matches",
       std::nullopt,
       {"k8s.gcr.io/x"}},
      {"§13 busybox is docker.io/library/busybox",
       pattern("docker.io"),
       Verdict::kStarts,
       "",
       std::nullopt,
       {"busybox"}},
      {"§13 busybox matches *.io",
       pattern("*.io"),
       Verdict::kStarts,
       "",
       std::nullopt,
       {"busybox"}},
      {"§10 index.docker.io has three labels",
       pattern("index.docker.io"),
       Verdict::kNeverCalls,
       "no entry matches",
       std::nullopt,
       {"nginx"}},
      {"§10 * matches one label only",
       pattern("*"),
       Verdict::kNeverCalls,
       "no entry matches",
       std::nullopt,
       {"nginx"}},
      {"§10 * matches a one-label host",
       pattern("*"),
       Verdict::kStarts,
       "",
       std::nullopt,
       {"localhost/foo"}},
      // --- config directories (1.34+, §13) ------------------------------------------------
      {"§13 files of a directory are merged",
       kBase,
       Verdict::kStarts,
       "",
       std::nullopt,
       {},
       {with("quay-credential-provider", "ecr-credential-provider",
             with("    tokenAttributes:\n      serviceAccountTokenAudience: quay\n      cacheType: "
                  "ServiceAccount\n      requireServiceAccount: true\n      "
                  "requiredServiceAccountAnnotationKeys:\n        - "
                  "quay.io/federated-robot-account\n",
                  ""))}},
  };
}

class KubeletVerdict : public ::testing::TestWithParam<std::size_t> {};

TEST_P(KubeletVerdict, MatchesTheKubelet) {
  const Row row = rows()[GetParam()];
  ConfigCheckSettings settings;
  settings.kubelet = row.kubelet;
  for (const auto& image : row.images) {
    settings.images.push_back(normalized_image(image));
  }
  std::vector<ConfigFile> files = {{"a.yaml", row.config}};
  for (std::size_t i = 0; i < row.second_file.size(); ++i) {
    files.push_back({"b" + std::to_string(i) + ".yaml", row.second_file[i]});
  }
  const auto report = check_provider_config(files, settings);
  std::string errors;
  std::string warnings;
  for (const auto& finding : report.findings) {
    (finding.warning ? warnings : errors) += finding.path + ": " + finding.message + "\n";
  }
  switch (row.verdict) {
    case Verdict::kStarts:
      EXPECT_EQ(errors + warnings, "") << row.rule;
      break;
    case Verdict::kStartsButOdd:
      EXPECT_EQ(errors, "") << row.rule;
      EXPECT_THAT(warnings, ::testing::HasSubstr(row.says)) << row.rule;
      break;
    case Verdict::kRefuses:
    case Verdict::kNeverCalls:
      EXPECT_THAT(errors, ::testing::HasSubstr(row.says)) << row.rule;
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, KubeletVerdict, ::testing::Range<std::size_t>(0, rows().size()));

TEST(KubeletVerdictTable, HasAtLeastSixtyRows) {
  EXPECT_GE(rows().size(), 60U);
}

}  // namespace
}  // namespace qcp
