// Issues 21 and 25: every `controller` flag is checked before anything is sent: a bad value is
// one line on stderr naming the flag, exit 2, no request made.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run_fixture.hpp"

namespace qcp::test {
namespace {

using ::testing::HasSubstr;

struct BadFlags {
  std::vector<std::string> args;
  std::string says;
};

class ControllerFlags : public ::testing::TestWithParam<BadFlags> {};

TEST_P(ControllerFlags, AreRefusedBeforeAnythingIsSent) {
  std::vector<std::string> args = {"controller", "--quay-host", "quay.example.com", "--kubeconfig",
                                   "/nonexistent/kubeconfig"};
  args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  FakeHttp http(HttpResponse{});
  const int code = run(args, Streams{in, out, err}, staged_environment(), http, FixedClock{});
  const std::string said = err.str();
  EXPECT_EQ(code, 2) << said;
  EXPECT_THAT(said, HasSubstr(GetParam().says));
  EXPECT_EQ(std::count(said.begin(), said.end(), '\n'), 1) << said;
  EXPECT_TRUE(out.str().empty());
  EXPECT_TRUE(http.requests.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Each, ControllerFlags,
    ::testing::Values(
        BadFlags{{"--metrics-bind-address", ":8081"}, "must differ"},
        BadFlags{{"--metrics-bind-address", "localhost:8080"}, "--metrics-bind-address"},
        BadFlags{{"--verify-interval", "30s", "--verify-only"}, "--verify-interval must be"},
        BadFlags{{"--verify-interval", "25h", "--verify-only"}, "--verify-interval must be"},
        BadFlags{{"--verify-image", "quay.example.com/team/app"}, "--verify-image needs"},
        BadFlags{{"--verify-only", "--verify-image", "team/app"}, "--verify-image must be"},
        BadFlags{{"--verify-only", "--verify-image", "quay.example.com/"}, "--verify-image must"},
        BadFlags{{"--workers", "0"}, "--workers must be from 1 to 64"},
        BadFlags{{"--renew-before", "51m"}, "--renew-before must be"}),
    [](const auto& param_info) { return "Case" + std::to_string(param_info.index); });

}  // namespace
}  // namespace qcp::test
