#pragma once
// Workload mode against a fake Quay: a robot federated with a CI service account, that
// account's token in a file, and a check that a robot token is one the fake signed for it.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "harness.hpp"
#include "jwt.hpp"

namespace qcp::test {

inline constexpr const char* kWorkloadRobot = "team+builder";

class WorkloadFixture : public ::testing::Test {
 protected:
  WorkloadFixture() : ca_file_(pki_.write_ca(dir_.path()).string()) {
    quay_.add_robot(kWorkloadRobot,
                    {{quay_.issuer_url(), "system:serviceaccount:ci:builder", {"quay"}}});
    token_ = quay_.mint_service_account_token("ci", "builder");
    token_file_ = (dir_.path() / "token").string();
    std::ofstream(token_file_) << token_ << "\n";
  }

  // A robot token the fake Quay signed for the robot.
  void expect_robot_token(const std::string& token) const {
    const auto claims = RsaSigner::verify(token, quay_.instance_signer());
    ASSERT_TRUE(claims);
    EXPECT_EQ((*claims)["sub"], kWorkloadRobot);
  }

  TempDir dir_;
  TestPki pki_;
  std::string ca_file_;
  FakeQuay quay_{pki_};
  std::string token_;
  std::string token_file_;
};

}  // namespace qcp::test
