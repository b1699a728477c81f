#pragma once

#include <string>

#include "qcp/install/installer.hpp"
#include "qcp/install/namespace.hpp"

namespace qcp::install {

// An install the kubelet did not come up with (restarted, unhealthy, rolled back), remembered
// in a file of the installer's own, not the node's (an emptyDir in the DaemonSet): neither the
// --watch loop nor a restarted container restarts the kubelet into the same install again,
// which would take the node's kubelet down every few minutes. An attempt is this binary and
// its arguments; deleting the file (or the pod) allows it again.
class FailureRecord {
 public:
  // path "": remembers nothing.
  FailureRecord(std::string path, std::string attempt)
      : path_(std::move(path)), attempt_(std::move(attempt)) {}

  // install(), unless this attempt failed so before (then Failure saying when and why); a
  // RolledBack failure is written down before it is thrown on. The record is a private file
  // (qcp/core/private_file.hpp: never through a symlink, never another user's), its directory
  // made when missing; one that cannot be written stops the install before anything changes.
  Outcome install(HostFiles& files, const InstallRequest& request) const;

 private:
  void refuse_if_remembered() const;

  std::string path_;
  std::string attempt_;
};

}  // namespace qcp::install
