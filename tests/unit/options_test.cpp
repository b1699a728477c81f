#include "qcp/quay/options.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "layers.hpp"
#include "qcp/core/failure.hpp"

namespace qcp {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

CommandLine parse(std::vector<std::string> args,
                  std::map<std::string, std::string, std::less<>> variables = {}) {
  return parse_command_line(args, test::staged_environment({}, {}, std::move(variables)));
}

std::string usage_error(std::vector<std::string> args,
                        std::map<std::string, std::string, std::less<>> variables = {}) {
  try {
    static_cast<void>(parse(std::move(args), std::move(variables)));
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code(), ExitCode::kUsage);
    return failure.what();
  }
  ADD_FAILURE() << "accepted";
  return {};
}

TEST(CommandLine, DefaultsSuitTheKubelet) {
  const auto command = parse({});
  ASSERT_TRUE(command.run_plugin);
  EXPECT_EQ(command.options.timeout, 20s);
  EXPECT_EQ(command.options.connect_timeout, 5s);
  EXPECT_EQ(command.options.cache_margin, 5min);
  EXPECT_FALSE(command.options.max_cache_duration);
  EXPECT_EQ(command.options.log_level, LogLevel::kInfo);
  EXPECT_TRUE(command.options.allowed_hosts.empty());
}

TEST(CommandLine, ReadsEveryFlag) {
  const auto command =
      parse({"--ca-file", "/ca.pem", "--ca-dir=/certs", "--timeout", "10s", "--connect-timeout",
             "2s", "--cache-margin", "10m", "--max-cache-duration", "30m", "--log-level", "trace",
             "--allowed-host", "quay.example.com", "--allowed-host=quay2.example.com:8443"});
  const auto& options = command.options;
  EXPECT_EQ(options.ca_file, "/ca.pem");
  EXPECT_EQ(options.ca_dir, "/certs");
  EXPECT_EQ(options.timeout, 10s);
  EXPECT_EQ(options.connect_timeout, 2s);
  EXPECT_EQ(options.cache_margin, 10min);
  EXPECT_EQ(options.max_cache_duration, 30min);
  EXPECT_EQ(options.log_level, LogLevel::kTrace);
  EXPECT_EQ(options.allowed_hosts,
            (std::vector<std::string>{"quay.example.com", "quay2.example.com:8443"}));
}

TEST(CommandLine, EnvironmentFillsFlagsNotGiven) {
  const auto command = parse(
      {"--timeout", "7s"}, {{"QUAY_CREDENTIAL_PROVIDER_TIMEOUT", "9s"},
                            {"QUAY_CREDENTIAL_PROVIDER_CACHE_MARGIN", "1m"},
                            {"QUAY_CREDENTIAL_PROVIDER_LOG_LEVEL", "debug"},
                            {"QUAY_CREDENTIAL_PROVIDER_ALLOWED_HOSTS", "a.example,b.example:444"}});
  EXPECT_EQ(command.options.timeout, 7s);  // the flag wins
  EXPECT_EQ(command.options.cache_margin, 1min);
  EXPECT_EQ(command.options.log_level, LogLevel::kDebug);
  EXPECT_EQ(command.options.allowed_hosts,
            (std::vector<std::string>{"a.example", "b.example:444"}));
}

TEST(CommandLine, HelpAndVersionPrintInsteadOfRunning) {
  const auto help = parse({"--help"});
  EXPECT_FALSE(help.run_plugin);
  EXPECT_THAT(help.text, HasSubstr("--cache-margin"));
  const auto version = parse({"--version"});
  EXPECT_FALSE(version.run_plugin);
  EXPECT_THAT(version.text, HasSubstr("quay-credential-provider 0."));
  EXPECT_THAT(version.text, HasSubstr("libcurl/"));
}

TEST(CommandLine, RefusesMistakesLoudly) {
  EXPECT_THAT(usage_error({"--bogus"}), HasSubstr("--bogus"));
  EXPECT_THAT(usage_error({"stray"}), HasSubstr("stray"));
  EXPECT_THAT(usage_error({"--timeout", "10"}), HasSubstr("--timeout must be a duration"));
  EXPECT_THAT(usage_error({"--timeout", "90s"}),
              HasSubstr("the kubelet kills the provider at 60s"));
  EXPECT_THAT(usage_error({"--timeout", "0s"}), HasSubstr("between 1ms and 55s"));
  EXPECT_THAT(usage_error({"--cache-margin", "-5m"}), HasSubstr("must not be negative"));
  EXPECT_THAT(usage_error({"--cache-margin", "1h"}), HasSubstr("shorter than 1h"));
  EXPECT_THAT(usage_error({"--log-level", "verbose"}), HasSubstr("trace, debug, info"));
  EXPECT_THAT(usage_error({"--allowed-host", "https://quay.io"}), HasSubstr("is not HOST[:PORT]"));
  EXPECT_THAT(usage_error({}, {{"QUAY_CREDENTIAL_PROVIDER_TIMEOUT", "soon"}}),
              HasSubstr("QUAY_CREDENTIAL_PROVIDER_TIMEOUT must be a duration"));
  EXPECT_THAT(usage_error({"--allowed-host", "a.io", "b.io"}), HasSubstr("b.io"));
}

}  // namespace
}  // namespace qcp
