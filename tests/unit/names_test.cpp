// core/names: the one validator each for ports, IPv6 literals, DNS names, host[:port] and
// Kubernetes object names, and the places that had their own copies and disagreed (issue 20):
// the proxy parser took port 08080 and host names such as a..b, login took namespace a..b, and
// --kubelet-healthz took port 010248.
#include "qcp/core/names.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/proxy.hpp"
#include "qcp/install/kubelet_restart.hpp"

namespace qcp {
namespace {

TEST(Names, APortIsOneTo65535InDigitsWithoutALeadingZero) {
  for (const auto* good : {"1", "80", "443", "8443", "65535"}) {
    EXPECT_TRUE(is_port(good)) << good;
  }
  for (const auto* bad :
       {"", "0", "00", "08080", "65536", "99999", "123456", "+80", "-1", "8 0", "0x50", "80a"}) {
    EXPECT_FALSE(is_port(bad)) << bad;
  }
}

TEST(Names, AnIpv6LiteralIsWhatInetPtonTakesWithoutBracketsOrZone) {
  for (const auto* good : {"::1", "fd00:10:96::1", "2001:db8::8a2e:370:7334", "::ffff:10.0.0.1"}) {
    EXPECT_TRUE(is_ipv6_literal(good)) << good;
  }
  for (const auto* bad : {"", "[::1]", "fe80::1%eth0", "1.2.3.4", "::g", ":::", "localhost"}) {
    EXPECT_FALSE(is_ipv6_literal(bad)) << bad;
  }
  EXPECT_FALSE(is_ipv6_literal(std::string_view("::1\0::2", 7)));
}

TEST(Names, ADnsNameIsLabelsOfLettersDigitsAndHyphens) {
  for (const auto* good : {"quay.io", "Quay.Example.COM", "10.0.0.1", "localhost", "a-b.c"}) {
    EXPECT_TRUE(is_dns_name(good)) << good;
  }
  const std::string label64(64, 'a');
  for (const auto& bad :
       std::vector<std::string>{"", "a..b", ".a", "a.", "-a", "a-", "a_b", "a b", label64}) {
    EXPECT_FALSE(is_dns_name(bad)) << bad;
  }
  EXPECT_FALSE(is_dns_name(std::string(254, 'a')));
}

TEST(Names, AHostPortIsADnsNameOrBracketedIpv6WithAnOptionalPort) {
  for (const auto* good : {"quay.io", "quay.io:8443", "[::1]", "[::1]:443", "10.0.0.1:5000"}) {
    EXPECT_TRUE(is_valid_host_port(good)) << good;
  }
  for (const auto* bad : {"quay.io:", "quay.io:08443", "::1", "[::1]443", "[::1]:", "a..b:1",
                          "quay.io:1:2", "[fe80::1%25eth0]:1"}) {
    EXPECT_FALSE(is_valid_host_port(bad)) << bad;
  }
}

TEST(Names, AKubernetesObjectNameIsALowerCaseDns1123Subdomain) {
  for (const auto* good : {"a", "worker-1", "quay-team.robot", "0a"}) {
    EXPECT_TRUE(is_dns_subdomain(good)) << good;
  }
  for (const auto* bad : {"", "a..b", "A", "-a", "a-", "a_b", ".a", "a."}) {
    EXPECT_FALSE(is_dns_subdomain(bad)) << bad;
  }
  EXPECT_TRUE(is_dns_subdomain(std::string(253, 'a')));
  EXPECT_FALSE(is_dns_subdomain(std::string(254, 'a')));
}

// The disagreements, each where it was.
TEST(Names, TheProxyUrlFollowsTheSameHostAndPortRules) {
  EXPECT_EQ(parse_proxy_url("http://proxy.corp:3128", "HTTPS_PROXY").display,
            "http://proxy.corp:3128");
  EXPECT_EQ(parse_proxy_url("http://[fd00::1]:3128", "HTTPS_PROXY").display,
            "http://[fd00::1]:3128");
  for (const auto* bad : {"http://proxy.corp:08080", "http://a..b:3128", "http://-proxy:3128",
                          "http://proxy.corp:0", "http://[fd00::1%eth0]:3128"}) {
    EXPECT_THROW(parse_proxy_url(bad, "HTTPS_PROXY"), Failure) << bad;
  }
}

TEST(Names, TheKubeletHealthzPortFollowsThePortRule) {
  EXPECT_TRUE(install::parse_healthz_url("http://127.0.0.1:10248/healthz"));
  EXPECT_FALSE(install::parse_healthz_url("http://127.0.0.1:010248/healthz"));
  EXPECT_FALSE(install::parse_healthz_url("http://127.0.0.1:0/healthz"));
}

}  // namespace
}  // namespace qcp
