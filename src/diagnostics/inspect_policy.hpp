#pragma once
// inspect --policy: what the credential policy decides for the token's service account.

#include <string>
#include <string_view>
#include <vector>

#include "qcp/core/jwt.hpp"
#include "qcp/diagnostics/namespace.hpp"
#include "qcp/quay/policy.hpp"

namespace qcp::diagnostics {

struct PolicyVerdict {
  std::string text;                   // several lines, ending in a newline
  std::vector<std::string> refusals;  // why the provider would refuse (also in text)
};

// The rule that applies and what it allows; with `robot` ("org+name", or a comma-separated list
// as an annotation gives it), whether the rule allows each.
PolicyVerdict inspect_policy(const Policy& policy, const JwtClaims& claims, std::string_view robot);

}  // namespace qcp::diagnostics
