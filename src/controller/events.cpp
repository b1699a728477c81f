#include "qcp/controller/events.hpp"

#include "qcp/core/failure.hpp"

namespace qcp::controller {

EventRecorder::EventRecorder(ApiClient& api, std::string instance, const Clock& clock, Log& log)
    : api_(api), instance_(std::move(instance)), clock_(clock), log_(log) {}

void EventRecorder::record(const ServiceAccount& about, EventType type, const std::string& reason,
                           const std::string& message) {
  record("ServiceAccount", about.meta, type, reason, message);
}

void EventRecorder::record(const Pod& about, EventType type, const std::string& reason,
                           const std::string& message) {
  record("Pod", about.meta, type, reason, message);
}

void EventRecorder::record(const char* kind, const ObjectMeta& about, EventType type,
                           const std::string& reason, const std::string& message) {
  const std::string body =
      encode_event({.api_version = "v1",
                    .kind = kind,
                    .about = about,
                    .type = type,
                    .reason = reason,
                    .message = api_.redactor().scrub(message, kMaxEventMessage),
                    .component = "quay-credential-provider",
                    .instance = instance_,
                    .at = clock_.now()});
  const std::string where = std::string(kind) + " " + about.namespace_name + "/" + about.name;
  try {
    const ApiResponse answer =
        api_.call({.method = "POST",
                   .path = "/api/v1/namespaces/" + about.namespace_name + "/events",
                   .body = body,
                   .content_type = "application/json",
                   .timeout = std::chrono::seconds{10}});
    if (answer.status != 201) {
      log_.warn("cannot record Event {} on {}: {}", reason, where, api_.refused(answer).what());
    }
  } catch (const Failure& failure) {
    log_.warn("cannot record Event {} on {}: {}", reason, where, failure.what());
  }
}

}  // namespace qcp::controller
