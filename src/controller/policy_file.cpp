#include "qcp/controller/policy_file.hpp"

#include "qcp/core/failure.hpp"

namespace qcp::controller {

PolicyFile::PolicyFile(Environment env, std::string path)
    : env_(std::move(env)), path_(std::move(path)) {
  text_ = env_.read_file(path_, kMaxPolicyBytes);
  auto policy = std::make_shared<const Policy>(parse_policy(text_, path_));
  robot_key_ = policy->robot_annotation;
  host_key_ = policy->host_annotation;
  policy_ = std::move(policy);
}

std::shared_ptr<const Policy> PolicyFile::current() const {
  const std::lock_guard lock(mutex_);
  return policy_;
}

std::string PolicyFile::problem() const {
  const std::lock_guard lock(mutex_);
  return problem_;
}

bool PolicyFile::reread(Log& log) {
  std::string text;
  std::shared_ptr<const Policy> policy;
  std::string error;
  try {
    text = env_.read_file(path_, kMaxPolicyBytes);
    {
      const std::lock_guard lock(mutex_);
      if (text == text_) {
        last_error_.clear();
        return false;
      }
    }
    policy = std::make_shared<const Policy>(parse_policy(text, path_));
  } catch (const Failure& failure) {
    error = failure.what();
  }
  if (policy && (policy->robot_annotation != robot_key_ || policy->host_annotation != host_key_)) {
    error = path_ + ": the annotation keys changed (robot " + policy->robot_annotation + ", host " +
            policy->host_annotation +
            "); they take effect when the controller restarts, and until then the policy read "
            "before this edit stays in force";
  }
  const std::lock_guard lock(mutex_);
  if (!error.empty()) {
    if (error != last_error_) {
      log.error("policy not changed: {}", error);
      last_error_ = error;
    }
    if (policy) {
      problem_ = error;
    }
    return false;
  }
  log.info("policy {} changed: {} rules now in force", path_, policy->rules.size());
  policy_ = std::move(policy);
  text_ = std::move(text);
  last_error_.clear();
  problem_.clear();
  return true;
}

}  // namespace qcp::controller
