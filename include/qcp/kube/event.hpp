#pragma once

// A core/v1 Event about an object, as client-go's EventRecorder writes it (kube-api/08a): what
// `kubectl describe` shows under Events (08e).

#include <chrono>
#include <string>

#include "qcp/kube/namespace.hpp"
#include "qcp/kube/objects.hpp"

namespace qcp::kube {

enum class EventType { kNormal, kWarning };

struct EventSpec {
  std::string api_version = "v1";  // of the object the Event is about
  std::string kind;                // "ServiceAccount"
  ObjectMeta about;                // its name, namespace, uid and resourceVersion
  EventType type = EventType::kNormal;
  std::string reason;     // UpperCamelCase, what happened: "PullSecretRefreshed"
  std::string message;    // one line for a human; capped at kMaxEventMessage bytes
  std::string component;  // source.component and reportingComponent
  std::string instance;   // reportingInstance: which replica (the pod's name)
  std::chrono::system_clock::time_point at;
};

// The API server's limit on a note is 1 KiB for events.k8s.io (08d); core/v1 is kept to it too.
inline constexpr std::size_t kMaxEventMessage = 1024;

// The body of POST /api/v1/namespaces/{about.namespace}/events; the name is the object's and
// the time in hex nanoseconds, unique per object as client-go makes it.
std::string encode_event(const EventSpec& spec);

}  // namespace qcp::kube
