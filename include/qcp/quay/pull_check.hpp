#pragma once

// Whether a robot credential may pull a repository, asked the way every registry client asks
// (docker/distribution's token authentication; quay-federation.md §8): GET /v2/ for the
// challenge (its realm and service), then GET realm?service=..&scope=repository:REPO:pull with
// Basic robot:token, and the granted actions read from the answer's bearer token. The realm must
// be on the registry's own host over HTTPS: the robot token goes nowhere else. Used where a
// credential is checked before a pod needs it (the controller's --verify-image).

#include <string>
#include <string_view>

#include "qcp/core/environment.hpp"
#include "qcp/core/http.hpp"
#include "qcp/quay/credential.hpp"
#include "qcp/quay/exchange.hpp"
#include "qcp/quay/namespace.hpp"

namespace qcp::quay {

struct PullCheck {
  bool granted = false;
  std::string problem;  // why not, one line: the registry's own words where it gave some
};

// `repository` is the image's path without registry, tag or digest ("team/app"). Never throws
// for what the registry answers; a transport failure is a problem too. Both requests end by the
// settings' deadline (default: now + total_timeout), so a caller that just exchanged the token
// under that deadline gets one bound for the whole walk.
PullCheck check_pull(HttpClient& http, const RobotCredential& credential,
                     std::string_view repository, const ExchangeSettings& settings,
                     const Clock& clock);

// "quay.example.com/team/app:v1" -> "team/app"; "" for a registry with an empty path.
std::string repository_of_image(std::string_view image);

}  // namespace qcp::quay
