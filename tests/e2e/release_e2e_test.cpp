// The static binary's SBOM (<binary>.spdx.json, written by the build: cmake/Sbom.cmake) against
// the binary itself: its checksum, every component linked in, and the version strings the
// libraries embed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "layers.hpp"
#include "qcp/core/redact.hpp"
#include "tested_binary.hpp"

namespace qcp::test {
namespace {

#ifdef QCP_STATIC_BINARY

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// "3.5.7-1~deb13u2" -> "3.5.7", "1:1.10.0+ds-0.4" -> "1.10.0"
std::string upstream(std::string version) {
  if (const auto colon = version.find(':'); colon != std::string::npos) {
    version.erase(0, colon + 1);
  }
  return version.substr(0, version.find_first_of("-+~"));
}

class Sbom : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = read_file(kBinary);
    const std::string text = read_file(kBinary + ".spdx.json");
    ASSERT_FALSE(text.empty()) << "no " << kBinary << ".spdx.json";
    document_ = nlohmann::json::parse(text);
    for (const auto& package : document_.at("packages")) {
      versions_[package.at("name").get<std::string>()] = package.at("versionInfo");
    }
  }
  std::string binary_;
  nlohmann::json document_;
  std::map<std::string, std::string> versions_;
};

TEST_F(Sbom, DescribesThisBinaryByItsSha256) {
  EXPECT_EQ(document_.at("spdxVersion"), "SPDX-2.3");
  const auto& self = document_.at("packages").at(0);
  EXPECT_EQ(self.at("name"), "quay-credential-provider");
  EXPECT_EQ(self.at("checksums").at(0).at("algorithm"), "SHA256");
  EXPECT_EQ(self.at("checksums").at(0).at("checksumValue"), sha256_hex(binary_));
  EXPECT_EQ(document_.at("relationships").at(0).at("relationshipType"), "DESCRIBES");
}

TEST_F(Sbom, ListsEveryComponentLinkedInWithAVersionAndALicense) {
  for (const char* name : {"glibc", "libstdc++", "OpenSSL", "curl", "c-ares", "libyaml",
                           "nlohmann-json", "spdlog", "fmt", "CLI11"}) {
    ASSERT_TRUE(versions_.contains(name)) << name;
    EXPECT_THAT(versions_[name], ::testing::MatchesRegex("[0-9][0-9A-Za-z.:+~-]*")) << name;
  }
  const auto& packages = document_.at("packages");
  for (std::size_t i = 1; i < packages.size(); ++i) {
    EXPECT_NE(packages[i].at("licenseDeclared"), "NOASSERTION") << packages[i].at("name");
    EXPECT_EQ(document_.at("relationships").at(i).at("relationshipType"), "STATIC_LINK");
  }
}

TEST_F(Sbom, VersionsAreTheOnesTheLibrariesEmbed) {
  EXPECT_NE(binary_.find("OpenSSL " + upstream(versions_["OpenSSL"]) + " "), std::string::npos)
      << versions_["OpenSSL"];
  EXPECT_NE(binary_.find("libcurl/" + upstream(versions_["curl"])), std::string::npos)
      << versions_["curl"];
  EXPECT_NE(binary_.find(upstream(versions_["c-ares"])), std::string::npos) << versions_["c-ares"];
  // libstdc++ is GCC's: the compiler's ident names the same Debian version (a cross compiler's
  // packages add "cross1" to the version of the GCC source they were built from).
  const std::string gcc =
      std::regex_replace(versions_["libstdc++"], std::regex("cross[0-9]+$"), "");
  EXPECT_NE(binary_.find("GCC: (Debian " + gcc + ")"), std::string::npos) << versions_["libstdc++"];
}
#endif

}  // namespace
}  // namespace qcp::test
