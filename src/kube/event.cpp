#include "qcp/kube/event.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "qcp/core/duration.hpp"
#include "qcp/core/redact.hpp"

namespace qcp::kube {

std::string encode_event(const EventSpec& spec) {
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(spec.at.time_since_epoch()).count();
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(spec.at.time_since_epoch()).count();
  std::string message = one_line(spec.message);
  if (message.size() > kMaxEventMessage) {
    std::size_t cut = kMaxEventMessage - 3;
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0U) == 0x80U) {
      --cut;  // not inside a UTF-8 sequence
    }
    message.resize(cut);
    message += "...";
  }
  const std::string when = rfc3339(seconds);
  return nlohmann::json{{"apiVersion", "v1"},
                        {"kind", "Event"},
                        {"metadata",
                         {{"name", fmt::format("{}.{:x}", spec.about.name, nanos)},
                          {"namespace", spec.about.namespace_name}}},
                        {"involvedObject",
                         {{"apiVersion", spec.api_version},
                          {"kind", spec.kind},
                          {"namespace", spec.about.namespace_name},
                          {"name", spec.about.name},
                          {"uid", spec.about.uid},
                          {"resourceVersion", spec.about.resource_version}}},
                        {"reason", spec.reason},
                        {"message", message},
                        {"source", {{"component", spec.component}}},
                        {"firstTimestamp", when},
                        {"lastTimestamp", when},
                        {"count", 1},
                        {"type", spec.type == EventType::kWarning ? "Warning" : "Normal"},
                        {"eventTime", nullptr},
                        {"reportingComponent", spec.component},
                        {"reportingInstance", spec.instance}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace qcp::kube
