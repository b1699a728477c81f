#pragma once

// The objects a controller keeps in memory for as long as it runs, each packed into one string
// (qcp/core/packing.hpp) that starts with its key, "namespace/name": a store of them is a set
// of strings ordered by that key. Unpacking gives back the object exactly as packed.

#include <string>
#include <string_view>

#include "qcp/kube/namespace.hpp"
#include "qcp/kube/objects.hpp"
#include "qcp/kube/pod.hpp"

namespace qcp::kube {

std::string pack(const ServiceAccount& account);
std::string pack(const Secret& secret);
std::string pack(const Pod& pod);

// The key a packed object starts with: key_of(its meta).
std::string_view packed_key(std::string_view packed);

ServiceAccount unpack_service_account(std::string_view packed);
Secret unpack_secret(std::string_view packed);
Pod unpack_pod(std::string_view packed);

}  // namespace qcp::kube
