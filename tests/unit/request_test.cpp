#include "qcp/kube/request.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kSecret = "eyJhbGciOiJSUzI1NiJ9.eyJzZWNyZXQiOjF9.c2VjcmV0LXNpZ25hdHVyZQ";

std::string request_json(const std::string& fields) {
  return R"({"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1",)" +
         fields + "}";
}

// Expects a Failure with the bad-request exit code whose message never quotes the token.
void expect_rejected(const std::string& json, const std::string& why) {
  try {
    static_cast<void>(parse_request(json));
    FAIL() << "accepted: " << why;
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kBadRequest) << why;
    EXPECT_THAT(failure.what(), HasSubstr(why));
    EXPECT_THAT(failure.what(), Not(HasSubstr("eyJ")));
  }
}

TEST(ParseRequest, ReadsTheKubeletsV1Request) {
  const auto request = parse_request(request_json(
      R"("image":"quay.example.com:8443/team/app","serviceAccountToken":"tok",)"
      R"("serviceAccountAnnotations":{"quay.io/federated-robot-account":"team+puller"})"));
  EXPECT_EQ(request.api_version, "credentialprovider.kubelet.k8s.io/v1");
  EXPECT_EQ(request.image, "quay.example.com:8443/team/app");
  EXPECT_EQ(request.service_account_token, "tok");
  ASSERT_EQ(request.service_account_annotations.size(), 1U);
  EXPECT_EQ(request.service_account_annotations.at("quay.io/federated-robot-account"),
            "team+puller");
}

TEST(ParseRequest, AcceptsEveryReleasedApiVersion) {
  for (const char* version : {"v1", "v1beta1", "v1alpha1"}) {
    const std::string json = std::string(R"({"kind":"CredentialProviderRequest","apiVersion":)") +
                             "\"credentialprovider.kubelet.k8s.io/" + version +
                             R"(","image":"quay.io/a/b"})";
    EXPECT_EQ(parse_request(json).api_version,
              std::string("credentialprovider.kubelet.k8s.io/") + version);
  }
}

TEST(ParseRequest, IgnoresUnknownFieldsAndTreatsNullAsAbsent) {
  const auto request = parse_request(
      request_json(R"("image":"quay.io/a/b","futureField":{"x":[1,2]},"serviceAccountToken":null,)"
                   R"("serviceAccountAnnotations":null)"));
  EXPECT_TRUE(request.service_account_token.empty());
  EXPECT_TRUE(request.service_account_annotations.empty());
}

TEST(ParseRequest, RejectsMalformedRequestsWithoutEchoingThem) {
  const std::string token = std::string(kSecret);
  expect_rejected("", "stdin is empty");
  expect_rejected("  \n", "stdin is empty");
  expect_rejected("{\"serviceAccountToken\":\"" + token + "\"", "not valid JSON");
  expect_rejected("[\"" + token + "\"]", "not a JSON object");
  expect_rejected(
      R"({"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a/b","serviceAccountToken":")" +
          token + "\"}",
      "missing \"kind\"");
  expect_rejected(
      R"({"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a/b"})",
      "\"kind\" is not CredentialProviderRequest");
  expect_rejected(R"({"kind":"CredentialProviderRequest","image":"a/b"})",
                  "\"apiVersion\" must be");
  expect_rejected(
      R"({"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"a/b"})",
      "\"apiVersion\" must be");
  expect_rejected(R"({"kind":"CredentialProviderRequest","apiVersion":"v1","image":"a/b"})",
                  "\"apiVersion\" must be");
  expect_rejected(request_json(R"("serviceAccountToken":")" + token + "\""),
                  "missing or empty \"image\"");
  expect_rejected(request_json(R"("image":"")"), "missing or empty \"image\"");
  expect_rejected(request_json(R"("image":42)"), "field \"image\" must be a string");
  expect_rejected(request_json(R"("image":"a/b","serviceAccountToken":{"t":")" + token + "\"}"),
                  "field \"serviceAccountToken\" must be a string");
  expect_rejected(request_json(R"("image":"a/b","serviceAccountAnnotations":["x"])"),
                  "\"serviceAccountAnnotations\" must be an object of strings");
  expect_rejected(request_json(R"("image":"a/b","serviceAccountAnnotations":{"k":true})"),
                  "\"serviceAccountAnnotations\" must be an object of strings");
  expect_rejected(request_json(R"("image":"a/b","kind":5)"), "field \"kind\" must be a string");
}

TEST(ReadRequest, ReadsToEndOfInput) {
  std::istringstream in(std::string(40000, ' ') + "{}");
  EXPECT_EQ(read_request(in).size(), 40002U);
}

TEST(ReadRequest, RefusesMoreThanTheCap) {
  std::istringstream in(std::string(2048, 'x'));
  EXPECT_THROW(static_cast<void>(read_request(in, 1024)), Failure);
  std::istringstream exact(std::string(1024, 'x'));
  EXPECT_EQ(read_request(exact, 1024).size(), 1024U);
}

}  // namespace
}  // namespace qcp
