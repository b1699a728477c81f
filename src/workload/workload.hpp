#pragma once

#include <string>
#include <string_view>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/core/log.hpp"
#include "qcp/core/token_source.hpp"
#include "qcp/quay/credential.hpp"
#include "qcp/quay/options.hpp"
#include "qcp/workload/namespace.hpp"

namespace qcp::workload {

// What a workload asks for: a robot's token for one registry, from its own identity token.
struct WorkloadTarget {
  std::string robot;      // org+name
  std::string registry;   // HOST[:PORT]: where the token is used
  std::string quay_host;  // the Quay that mints it: the registry itself when ""
  TokenSource source;
};

// Robot and registry well-formed, exactly one token source; throws Failure (kUsage) prefixed
// with `command`. Checked before anything is read or sent.
void check_target(const WorkloadTarget& target, std::string_view command);

// identity token -> exchange at the registry's Quay -> robot credential, under options.timeout
// (the token command's time included). Throws Failure with Quay's own words.
RobotCredential obtain_credential(const WorkloadTarget& target, const Options& options,
                                  const Environment& env, HttpClient& http, const Clock& clock,
                                  Log& log);

}  // namespace qcp::workload
