#include <algorithm>

#include "controller/api_calls.hpp"
#include "controller/reasons.hpp"
#include "qcp/controller/provision.hpp"
#include "qcp/controller/reconciler.hpp"
#include "qcp/core/failure.hpp"

namespace qcp::controller {
namespace {

std::string delete_options(std::string_view resource_version) {
  // kube-api/05g: a precondition on the version read; a stale one is 409 and nothing goes.
  return R"({"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":")" +
         std::string(resource_version) + R"("}})";
}

bool labelled(const Secret& secret, std::string_view account_name) {
  const auto it = secret.meta.labels.find(kServiceAccountLabel);
  return it != secret.meta.labels.end() && it->second == account_name;
}

bool managed(const Secret& secret) {
  const auto it = secret.meta.labels.find(kManagedByLabel);
  return it != secret.meta.labels.end() && it->second == kManagedBy;
}

void delete_secret(ApiClient& api, Secret secret, const std::string& subject,
                   const ProvisionSettings& settings) {
  const std::string path = secret_path(secret.meta.namespace_name, secret.meta.name);
  for (int attempt = 1;; ++attempt) {
    const ApiResponse answer = checked(api,
                                       {.method = "DELETE",
                                        .path = path,
                                        .body = delete_options(secret.meta.resource_version),
                                        .content_type = "application/json",
                                        .timeout = settings.api_timeout},
                                       {200}, subject);
    if (answer.status != 409) {
      return;  // deleted, or already gone (404)
    }
    if (attempt >= settings.write_attempts) {
      throw Failure(ExitCode::kLookupFailed,
                    subject + ": Secret " + secret.meta.name +
                        " kept changing while it was deleted: " + api.refused(answer).what());
    }
    const ApiResponse fresh = read(api, path, settings.api_timeout, subject);
    auto reread = fresh.status == 200 ? decode_secret(fresh.body) : std::nullopt;
    if (!reread || !managed(*reread)) {
      return;  // gone, or someone else's now: not ours to delete
    }
    secret = std::move(*reread);
  }
}

std::optional<ServiceAccount> drop_reference(ApiClient& api, const std::string& namespace_name,
                                             const std::string& account_name,
                                             const std::string& secret_name,
                                             const ProvisionSettings& settings) {
  const std::string subject = who(namespace_name, account_name);
  const std::string path = account_path(namespace_name, account_name);
  for (int attempt = 1;; ++attempt) {
    const ApiResponse fresh = read(api, path, settings.api_timeout, subject);
    auto account = fresh.status == 200 ? decode_service_account(fresh.body) : std::nullopt;
    if (!account) {
      return std::nullopt;  // the ServiceAccount is gone: nothing refers to the Secret
    }
    auto names = account->image_pull_secrets;
    const auto kept = std::remove(names.begin(), names.end(), secret_name);
    if (kept == names.end()) {
      return account;
    }
    names.erase(kept, names.end());
    const ApiResponse patched =
        checked(api,
                {.method = "PATCH",
                 .path = path,
                 .body = encode_image_pull_secrets_patch(names, account->meta.resource_version),
                 .content_type = "application/merge-patch+json",
                 .timeout = settings.api_timeout},
                {200}, subject);
    if (patched.status == 200) {
      return decode_service_account(patched.body);
    }
    if (patched.status == 404) {
      return std::nullopt;
    }
    if (attempt >= settings.write_attempts) {
      throw Failure(ExitCode::kLookupFailed,
                    subject + ": cannot take " + secret_name +
                        " out of its imagePullSecrets: " + api.refused(patched).what());
    }
  }
}

}  // namespace

std::optional<ServiceAccount> withdraw(ApiClient& api, const Secret& secret,
                                       const std::string& account_name,
                                       const ProvisionSettings& settings) {
  const std::string subject = who(secret.meta.namespace_name, account_name);
  delete_secret(api, secret, subject, settings);
  return drop_reference(api, secret.meta.namespace_name, account_name, secret.meta.name, settings);
}

// The annotation is gone, the policy refuses it, or the ServiceAccount is gone: every Secret
// made for it goes too.
std::optional<Reconciler::TimePoint> Reconciler::withdraw_all(const std::string& key,
                                                              const std::string& why) {
  {
    const std::lock_guard lock(mutex_);
    written_.erase(key);
  }
  outage_.forget(key);
  const auto slash = key.find('/');
  const std::string account_name = key.substr(slash + 1);
  for (const auto& secret : parts_.secrets(key.substr(0, slash))) {
    if (!labelled(secret, account_name)) {
      continue;
    }
    try {
      const auto account = withdraw(parts_.api, secret, account_name, provision_);
      parts_.log.info("{}: Secret {} removed: {}", who(secret.meta.namespace_name, account_name),
                      secret.meta.name, why);
      count(counts_.writes, WriteReason::kRemoved);
      if (account) {
        parts_.events.record(*account, EventType::kNormal, event_reason(WriteReason::kRemoved),
                             "Secret " + secret.meta.name + " removed: " + why);
      }
    } catch (const Failure& failure) {
      ServiceAccount subject;
      subject.meta.name = account_name;
      subject.meta.namespace_name = secret.meta.namespace_name;
      return retry_later(subject, FailureReason::kApi, failure.what(), false);
    }
  }
  const std::lock_guard lock(mutex_);
  failures_.erase(key);
  return std::nullopt;
}

}  // namespace qcp::controller
