#include "qcp/core/image.hpp"

#include <gtest/gtest.h>

#include "layers.hpp"
#include "qcp/core/failure.hpp"
#include "qcp/core/names.hpp"

namespace qcp {
namespace {

TEST(RegistryOfImage, KeepsHostAndPortExactly) {
  EXPECT_EQ(registry_of_image("quay.io/org/app"), "quay.io");
  EXPECT_EQ(registry_of_image("quay.example.com:8443/team/app"), "quay.example.com:8443");
  EXPECT_EQ(registry_of_image("reg.local:5000/ns/app@sha256:abcd"), "reg.local:5000");
  EXPECT_EQ(registry_of_image("quay.io/org/app:v1"), "quay.io");
  EXPECT_EQ(registry_of_image("Quay.Example.COM/org/app"), "Quay.Example.COM");
}

TEST(RegistryOfImage, HandlesLocalhostAndIpLiterals) {
  EXPECT_EQ(registry_of_image("localhost/x"), "localhost");
  EXPECT_EQ(registry_of_image("localhost:5000/x/y"), "localhost:5000");
  EXPECT_EQ(registry_of_image("127.0.0.1:8443/team/app"), "127.0.0.1:8443");
  EXPECT_EQ(registry_of_image("[::1]:8443/team/app"), "[::1]:8443");
  EXPECT_EQ(registry_of_image("[2001:db8::10]/team/app"), "[2001:db8::10]");
}

TEST(RegistryOfImage, NamesWithoutARegistryBelongToDockerHub) {
  EXPECT_EQ(registry_of_image("nginx"), "docker.io");
  EXPECT_EQ(registry_of_image("team/app"), "docker.io");
  EXPECT_EQ(registry_of_image("docker.io/library/nginx"), "docker.io");
}

TEST(RegistryOfImage, RejectsRegistriesThatAreNotHosts) {
  for (const char* image :
       {"[::1/x", "[zz::1]:80/x", "host:0/x", "host:65536/x", "host:80a/x", "-bad.io/x",
        "bad-.io/x", "a..b/x", "host:/x", "[::1]x/x", "a:1:2/x", "ex ample.com/x"}) {
    EXPECT_THROW(static_cast<void>(registry_of_image(image)), Failure) << image;
  }
}

TEST(IsValidHostPort, NothingHidesBehindANulInAnIpv6Literal) {
  // Found by fuzz/image_fuzz: inet_pton stopped at the NUL and accepted the rest unchecked.
  EXPECT_FALSE(is_valid_host_port(std::string("[::1\0/]", 7)));
  EXPECT_FALSE(is_valid_host_port(std::string("[2001:db8::1\0]", 15)));
  EXPECT_FALSE(is_valid_host_port(std::string("[::1\0\n]", 7)));
  EXPECT_FALSE(is_valid_host_port("[fe80::1%eth0]"));
  EXPECT_THROW(static_cast<void>(registry_of_image(std::string("[::1\0\n]/a", 9))), Failure);
  EXPECT_TRUE(is_valid_host_port("[::ffff:10.0.0.1]:443"));
}

TEST(IsValidHostPort, AcceptsNamesIpsAndPorts) {
  for (const char* good : {"quay.io", "quay.io:443", "a", "localhost:1", "10.0.0.1:65535", "[::1]",
                           "[::1]:8443", "xn--bcher-kva.example", "q-1.example.com"}) {
    EXPECT_TRUE(is_valid_host_port(good)) << good;
  }
  for (const char* bad : {"", ":443", "quay.io:", "quay.io:0443", "https://quay.io", "quay.io/path",
                          "quay.io:99999", "[::1]:", "[]", "::1", "under_score.io", "quay.io."}) {
    EXPECT_FALSE(is_valid_host_port(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_host_port(std::string(63, 'a') + ".io"));
  EXPECT_FALSE(is_valid_host_port(std::string(64, 'a') + ".io"));
}

}  // namespace
}  // namespace qcp
