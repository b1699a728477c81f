// Issue 25: the controller keeps what its informers hold packed, one string per object. What
// goes in must come out field for field, or a renewal would act on a different object than the
// API server sent.
#include "qcp/core/packing.hpp"

#include <gtest/gtest.h>

#include <set>

#include "layers.hpp"
#include "qcp/kube/packed_objects.hpp"

namespace qcp::packing_test {
namespace {

using core::Packer;
using core::Unpacker;

TEST(Packing, FieldsComeBackInOrderWhateverTheirLengthAndBytes) {
  const std::string long_text(70000, 'x');  // a length of three LEB128 bytes
  const std::string binary("a\0b\x80\xff", 5);
  std::string packed = Packer().text("").text(long_text).count(300).flag(true).text(binary).take();
  Unpacker unpacker(packed);
  EXPECT_EQ(unpacker.text(), "");
  EXPECT_EQ(unpacker.text(), long_text);
  EXPECT_EQ(unpacker.count(), 300U);
  EXPECT_TRUE(unpacker.flag());
  EXPECT_EQ(unpacker.text(), binary);
}

TEST(Packing, LowerCaseHexTakesHalfItsLengthAndComesBackAsIs) {
  const std::string digest(64, 'f');
  const auto as_bytes = Packer().hex(digest).take();
  EXPECT_LT(as_bytes.size(), 40U);
  EXPECT_EQ(Unpacker(as_bytes).hex(), digest);
  for (const std::string other : {"", "ABCD", "abc", "0g", "6fe4-21"}) {
    EXPECT_EQ(Unpacker(Packer().hex(other).take()).hex(), other) << other;
  }
}

TEST(Packing, ReadingPastTheEndGivesEmptyValuesNotOtherBytes) {
  const auto packed = Packer().text("abc").take();
  // A length that claims more than is there is cut to what is there.
  Unpacker cut(std::string_view(packed).substr(0, 2));
  EXPECT_EQ(cut.text(), "a");
  EXPECT_EQ(cut.text(), "");
  EXPECT_EQ(cut.count(), 0U);
  EXPECT_FALSE(cut.flag());
  EXPECT_EQ(cut.hex(), "");
  const std::string endless(20, '\xff');  // a count that never ends stops at 64 bits
  Unpacker runaway(endless);
  static_cast<void>(runaway.count());
  EXPECT_EQ(runaway.text(), "");
}

kube::ObjectMeta meta_of(std::string name, std::string namespace_name) {
  return {.name = std::move(name),
          .namespace_name = std::move(namespace_name),
          .uid = "6fe4a1d2-0c55-4b8e-9d3a-1f2e3d4c5b6a",
          .resource_version = "4711",
          .labels = {{"app.kubernetes.io/managed-by", "quay-credential-provider"}},
          .annotations = {{"quay.io/federated-robot-account", "team_a+puller"},
                          {"quay.io/host", "quay.example.com"}},
          .deleting = true};
}

void expect_same(const kube::ObjectMeta& a, const kube::ObjectMeta& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.namespace_name, b.namespace_name);
  EXPECT_EQ(a.uid, b.uid);
  EXPECT_EQ(a.resource_version, b.resource_version);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.annotations, b.annotations);
  EXPECT_EQ(a.deleting, b.deleting);
}

TEST(PackedObjects, AServiceAccountComesBackFieldForFieldAndStartsWithItsKey) {
  const kube::ServiceAccount account{.meta = meta_of("puller", "team-a"),
                                     .image_pull_secrets = {"other", "", "puller-quay-pull"}};
  const auto packed = kube::pack(account);
  EXPECT_EQ(kube::packed_key(packed), "team-a/puller");
  const auto back = kube::unpack_service_account(packed);
  expect_same(back.meta, account.meta);
  EXPECT_EQ(back.image_pull_secrets, account.image_pull_secrets);
}

TEST(PackedObjects, ASecretComesBackWithItsOwnersAndDigest) {
  kube::Secret secret{.meta = meta_of("puller-quay-pull", "team-a"),
                      .type = "kubernetes.io/dockerconfigjson",
                      .owners = {{.api_version = "v1",
                                  .kind = "ServiceAccount",
                                  .name = "puller",
                                  .uid = "21050a1d",
                                  .controller = true},
                                 {.api_version = "apps/v1",
                                  .kind = "Deployment",
                                  .name = "web",
                                  .uid = "9",
                                  .controller = false}},
                      .dockerconfigjson_sha256 = std::string(32, 'a') + std::string(32, '0')};
  const auto back = kube::unpack_secret(kube::pack(secret));
  expect_same(back.meta, secret.meta);
  EXPECT_EQ(back.type, secret.type);
  EXPECT_EQ(back.dockerconfigjson_sha256, secret.dockerconfigjson_sha256);
  ASSERT_EQ(back.owners.size(), 2U);
  EXPECT_EQ(back.owners[0].kind, "ServiceAccount");
  EXPECT_EQ(back.owners[0].uid, "21050a1d");
  EXPECT_TRUE(back.owners[0].controller);
  EXPECT_EQ(back.owners[1].api_version, "apps/v1");
  EXPECT_FALSE(back.owners[1].controller);
  secret.dockerconfigjson_sha256.clear();  // a Secret without the key
  EXPECT_EQ(kube::unpack_secret(kube::pack(secret)).dockerconfigjson_sha256, "");
}

TEST(PackedObjects, APodComesBackWithItsFailedPulls) {
  const kube::Pod pod{
      .meta = meta_of("web-7d4b9", "team-a"),
      .service_account = "puller",
      .image_pull_secrets = {"puller-quay-pull"},
      .controlled = true,
      .phase = "Pending",
      .failed_pulls = {{.image = "quay.example.com/team_a/web:1", .reason = "ErrImagePull"},
                       {.image = "quay.example.com/team_a/init:1", .reason = "ImagePullBackOff"}}};
  const auto back = kube::unpack_pod(kube::pack(pod));
  expect_same(back.meta, pod.meta);
  EXPECT_EQ(back.service_account, "puller");
  EXPECT_EQ(back.image_pull_secrets, pod.image_pull_secrets);
  EXPECT_TRUE(back.controlled);
  EXPECT_EQ(back.phase, "Pending");
  ASSERT_EQ(back.failed_pulls.size(), 2U);
  EXPECT_EQ(back.failed_pulls[1].image, "quay.example.com/team_a/init:1");
  EXPECT_EQ(back.failed_pulls[1].reason, "ImagePullBackOff");
}

// The informer's store orders packed objects by key, so "ns/" finds a namespace's objects and
// nothing of a namespace whose name merely starts the same.
TEST(PackedObjects, PackedObjectsOrderByKeyAsTheKeysDo) {
  std::set<std::string> keys;
  std::vector<std::string> packed;
  for (const auto& [ns, name] : std::vector<std::pair<std::string, std::string>>{
           {"team-a", "z"}, {"team-a2", "a"}, {"team-a", "a"}, {"b", "x"}}) {
    packed.push_back(
        kube::pack(kube::ServiceAccount{.meta = meta_of(name, ns), .image_pull_secrets = {}}));
    keys.insert(ns + "/" + name);
  }
  std::sort(packed.begin(), packed.end(), [](const std::string& a, const std::string& b) {
    return kube::packed_key(a) < kube::packed_key(b);
  });
  std::vector<std::string> order;
  for (const auto& one : packed) {
    order.emplace_back(kube::packed_key(one));
  }
  EXPECT_EQ(order, std::vector<std::string>(keys.begin(), keys.end()));
}

}  // namespace
}  // namespace qcp::packing_test
