#include "qcp/controller/events.hpp"

#include "qcp/core/failure.hpp"

namespace qcp::controller {

EventRecorder::EventRecorder(ApiClient& api, std::string instance, const Clock& clock, Log& log)
    : api_(api), instance_(std::move(instance)), clock_(clock), log_(log) {}

void EventRecorder::record(const ServiceAccount& about, EventType type, const std::string& reason,
                           const std::string& message) {
  const std::string body =
      encode_event({.api_version = "v1",
                    .kind = "ServiceAccount",
                    .about = about.meta,
                    .type = type,
                    .reason = reason,
                    .message = api_.redactor().scrub(message, kMaxEventMessage),
                    .component = "quay-credential-provider",
                    .instance = instance_,
                    .at = clock_.now()});
  const std::string where = about.meta.namespace_name + "/" + about.meta.name;
  try {
    const ApiResponse answer =
        api_.call({.method = "POST",
                   .path = "/api/v1/namespaces/" + about.meta.namespace_name + "/events",
                   .body = body,
                   .content_type = "application/json",
                   .timeout = std::chrono::seconds{10}});
    if (answer.status != 201) {
      log_.warn("cannot record Event {} on ServiceAccount {}: {}", reason, where,
                api_.refused(answer).what());
    }
  } catch (const Failure& failure) {
    log_.warn("cannot record Event {} on ServiceAccount {}: {}", reason, where, failure.what());
  }
}

}  // namespace qcp::controller
