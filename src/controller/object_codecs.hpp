#pragma once

// Each kind an Informer watches, decoded by overload on std::type_identity<Kind>: the one place
// that maps a kind to its LIST page and WATCH line decoders, and to how a packed one unpacks.

#include <optional>
#include <string_view>
#include <type_traits>

#include "qcp/controller/namespace.hpp"
#include "qcp/kube/objects.hpp"
#include "qcp/kube/packed_objects.hpp"
#include "qcp/kube/pod.hpp"

namespace qcp::controller {

inline std::optional<ListPage<ServiceAccount>> decode_page(
    std::type_identity<ServiceAccount> /*kind*/, std::string_view json) {
  return decode_service_account_list(json);
}
inline std::optional<ListPage<Secret>> decode_page(std::type_identity<Secret> /*kind*/,
                                                   std::string_view json) {
  return decode_secret_list(json);
}
inline std::optional<WatchEvent<ServiceAccount>> decode_event(
    std::type_identity<ServiceAccount> /*kind*/, std::string_view line) {
  return decode_service_account_event(line);
}
inline std::optional<WatchEvent<Secret>> decode_event(std::type_identity<Secret> /*kind*/,
                                                      std::string_view line) {
  return decode_secret_event(line);
}

inline std::optional<ListPage<Pod>> decode_page(std::type_identity<Pod> /*kind*/,
                                                std::string_view json) {
  return decode_pod_list(json);
}
inline std::optional<WatchEvent<Pod>> decode_event(std::type_identity<Pod> /*kind*/,
                                                   std::string_view line) {
  return decode_pod_event(line);
}

inline ServiceAccount unpack(std::type_identity<ServiceAccount> /*kind*/, std::string_view packed) {
  return unpack_service_account(packed);
}
inline Secret unpack(std::type_identity<Secret> /*kind*/, std::string_view packed) {
  return unpack_secret(packed);
}
inline Pod unpack(std::type_identity<Pod> /*kind*/, std::string_view packed) {
  return unpack_pod(packed);
}

}  // namespace qcp::controller
