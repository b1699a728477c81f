#pragma once
// What the fake API server checks of an object's body before it stores it, as the real one
// does for the objects this project writes (kube-api/05f, 09b, 09c).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "https_server.hpp"

namespace qcp::test::kube_handlers {

// The answer refusing `object` of `resource` ("secrets", "leases") named `name`; nullopt when
// it may be stored.
std::optional<Reply> invalid_object(const std::string& resource, const nlohmann::json& object,
                                    const std::string& name);

}  // namespace qcp::test::kube_handlers
