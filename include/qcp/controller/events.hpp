#pragma once

#include <string>

#include "qcp/controller/namespace.hpp"
#include "qcp/core/environment.hpp"
#include "qcp/core/log.hpp"
#include "qcp/kube/api_client.hpp"
#include "qcp/kube/event.hpp"
#include "qcp/kube/objects.hpp"
#include "qcp/kube/pod.hpp"

namespace qcp::controller {

// What the controller did to a ServiceAccount or a Pod, told where users look: Events on it
// (`kubectl describe serviceaccount`, kube-api/08e; `kubectl describe pod`). An Event that cannot
// be written is logged and otherwise ignored: it never stops the work it reports.
class EventRecorder {
 public:
  EventRecorder(ApiClient& api, std::string instance, const Clock& clock, Log& log);
  virtual ~EventRecorder() = default;
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;
  EventRecorder(EventRecorder&&) = delete;
  EventRecorder& operator=(EventRecorder&&) = delete;

  void record(const ServiceAccount& about, EventType type, const std::string& reason,
              const std::string& message);
  void record(const Pod& about, EventType type, const std::string& reason,
              const std::string& message);

 private:
  void record(const char* kind, const ObjectMeta& about, EventType type, const std::string& reason,
              const std::string& message);

  ApiClient& api_;
  std::string instance_;
  const Clock& clock_;
  Log& log_;
};

}  // namespace qcp::controller
