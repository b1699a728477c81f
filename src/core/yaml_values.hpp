#pragma once

#include <yaml.h>

#include <string_view>

#include "qcp/core/yaml.hpp"

// What the reader (yaml.cpp) builds on: a plain scalar's implicit type, and libyaml's events.
namespace qcp::core::yaml {

struct Resolved {
  Node::Kind kind = Node::Kind::kString;
  bool boolean = false;
};

// YAML 1.1 implicit typing of a plain scalar, as go-yaml v2 resolves it.
Resolved resolve_plain(std::string_view text);

inline std::string_view view(const yaml_char_t* text) {
  return text == nullptr ? std::string_view{}
                         : std::string_view(reinterpret_cast<const char*>(text));
}

// Owns one libyaml event.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&&) = delete;
  Event& operator=(Event&&) = delete;
  ~Event() { reset(); }
  void reset() {
    if (filled_) {
      yaml_event_delete(&event_);
      filled_ = false;
    }
  }
  yaml_event_t* fill() {
    reset();
    filled_ = true;
    return &event_;
  }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  yaml_event_t event_{};
  bool filled_ = false;
};

}  // namespace qcp::core::yaml
