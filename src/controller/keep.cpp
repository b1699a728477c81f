#include <algorithm>

#include "controller/controller_impl.hpp"

namespace qcp::controller {
namespace {

// Drops every entry but `keys`: a ServiceAccount's or Secret's other labels and annotations
// (a kubectl last-applied-configuration can be kilobytes) are never read.
void only(std::map<std::string, std::string, std::less<>>& entries,
          std::initializer_list<std::string_view> keys) {
  std::erase_if(entries, [&](const auto& entry) {
    return std::find(keys.begin(), keys.end(), entry.first) == keys.end();
  });
}

}  // namespace

bool keep_service_account(ServiceAccount& account, const PolicyFile* policy) {
  if (policy != nullptr) {
    // A rule's defaultRobot may give any ServiceAccount a robot, now or after the next edit.
    only(account.meta.annotations,
         {policy->robot_key(), policy->host_key(), kSecretNameAnnotation, kVerifyImageAnnotation});
    account.meta.labels.clear();
    return true;
  }
  if (!account.meta.annotations.contains(kRobotAnnotation)) {
    return false;
  }
  only(account.meta.annotations,
       {kRobotAnnotation, kHostAnnotation, kSecretNameAnnotation, kVerifyImageAnnotation});
  account.meta.labels.clear();
  return true;
}

bool keep_secret(Secret& secret) {
  if (label_of(secret).empty()) {
    return false;
  }
  only(secret.meta.labels, {kManagedByLabel, kServiceAccountLabel});
  only(secret.meta.annotations, {kRobotKey, kExpiresKey});
  return true;
}

}  // namespace qcp::controller
