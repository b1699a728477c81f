// Fuzzes what the controller reads from the API server: watch lines (one event per line, as a
// stream splits), list pages, single objects, TokenRequest answers, Leases, pending Pods and
// Status bodies.
//
// Invariants (a violation traps):
//   - no decoder throws or crashes, whatever the bytes (they return nullopt instead);
//   - a decoded object has a name (an event without one is refused);
//   - an ERROR event carries no object, a BOOKMARK none either, any other event one;
//   - a decoded TokenRequest answer has a token;
//   - a decoded Lease has a name, and encodes again (leader election writes back what it read);
//   - a decoded Pod's failed pulls each name their waiting reason.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/kube/lease.hpp"
#include "qcp/kube/objects.hpp"
#include "qcp/kube/pod.hpp"

namespace {

template <typename Event>
void check_event(const Event& event) {
  using qcp::kube::WatchEventType;
  if (event.type == WatchEventType::kError || event.type == WatchEventType::kBookmark) {
    qcp_fuzz::check(!event.object, "an ERROR or BOOKMARK event carries no object");
  } else {
    qcp_fuzz::check(event.object && !event.object->meta.name.empty(),
                    "an ADDED, MODIFIED or DELETED event carries a named object");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto event = qcp::kube::decode_service_account_event(text)) {
    check_event(*event);
  }
  if (const auto event = qcp::kube::decode_secret_event(text)) {
    check_event(*event);
  }
  if (const auto event = qcp::kube::decode_pod_event(text)) {
    check_event(*event);
  }
  if (const auto page = qcp::kube::decode_pod_list(text)) {
    for (const auto& pod : page->items) {
      qcp_fuzz::check(!pod.meta.name.empty(), "a listed pod has a name");
      for (const auto& pull : pod.failed_pulls) {
        qcp_fuzz::check(!pull.reason.empty(), "a failed pull names its waiting reason");
      }
    }
  }
  if (const auto page = qcp::kube::decode_service_account_list(text)) {
    for (const auto& account : page->items) {
      qcp_fuzz::check(!account.meta.name.empty(), "a listed service account has a name");
    }
  }
  if (const auto page = qcp::kube::decode_secret_list(text)) {
    for (const auto& secret : page->items) {
      qcp_fuzz::check(!secret.meta.name.empty(), "a listed secret has a name");
    }
  }
  if (const auto issued = qcp::kube::decode_token_request(text)) {
    qcp_fuzz::check(!issued->token.empty(), "a decoded TokenRequest answer has a token");
  }
  if (const auto lease = qcp::kube::decode_lease(text)) {
    qcp_fuzz::check(!lease->meta.name.empty(), "a decoded Lease has a name");
    qcp_fuzz::check(qcp::kube::decode_lease(qcp::kube::encode_lease(*lease)).has_value(),
                    "a Lease read encodes again");
  }
  static_cast<void>(qcp::kube::parse_status(text));
  return 0;
}
