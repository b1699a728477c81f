#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qcp/core/host_files.hpp"
#include "qcp/install/config_edit.hpp"
#include "qcp/install/namespace.hpp"
#include "qcp/install/profile.hpp"

namespace qcp::install {

// Where install keeps what it needs to undo itself (node paths): install.json, the record of
// what it created and replaced, and originals/, the bytes it replaced.
inline constexpr const char* kStateDirectory = "/var/lib/quay-credential-provider";

struct InstallRequest {
  std::string bin_dir;  // the kubelet's --image-credential-provider-bin-dir
  std::string config;   // its --image-credential-provider-config: a file, or a directory (1.34+)
  ProviderSettings provider;  // its kubelet generation is install's to decide (below)
  // As given (--kubelet-version); nullopt: taken from the config's providers that use tokens,
  // else from the running kubelet, and install refuses to guess without one.
  std::optional<KubeletGeneration> kubelet;
  // Asks the running kubelet when neither the flag nor the config tells (throws Failure saying
  // why it cannot); empty: never asked.
  std::function<KubeletGeneration()> ask_kubelet;
  std::string ask_kubelet_source = "the running kubelet";  // whom ask_kubelet asks, for messages
  std::string binary;  // the executable to install: this program's own bytes
  // --static-credentials-dir: the same bytes as <bin-dir>/static-credential-provider too, and
  // its entry (no tokenAttributes) in the config; nullopt: not installed.
  std::optional<ProviderSettings> static_provider;
  // --policy: the node's credential policy, read (as the provider will read it) when the entry
  // is planned; "" for none.
  std::string policy{};
  // --policy-source: the policy's bytes, written to managed_policy_path(config) (root's, 0644)
  // in the same transaction and passed to the provider as its --policy; "" for none. Given
  // once, it stays part of every install until uninstall, which removes it.
  std::string policy_text{};
  std::string policy_source{};  // where policy_text came from, for the report
  // Where the kubelet's flags are written (kubeadm, kind, k3s) or only reported (generic).
  Profile profile = Profile::kGeneric;
  // Restarts the kubelet and waits for it to be healthy, returning the line to report or
  // throwing Failure (restart_kubelet); empty: the operator restarts it. Called only when
  // something changed, with everything in place; a failure puts it all back and restarts again.
  std::function<std::string()> restart_kubelet;
  // How long to wait for another install or uninstall on the node (they hold the state
  // directory's lock, a restart included) before giving up with nothing changed.
  std::chrono::seconds lock_wait{300};
};

struct UninstallRequest {
  std::string bin_dir;
  std::string config;
  std::string provider_name = "quay-credential-provider";
  std::function<std::string()> restart_kubelet;  // as for install
  std::chrono::seconds lock_wait{300};           // as for install
};

struct Outcome {
  bool changed = false;
  std::vector<std::string> report;  // one line each, for stdout
};

// Installs the binary into the bin dir and our provider into the config, after checking that
// the kubelet would accept the resulting config; the binary lands before the config names it.
// Either everything is done or nothing is (what was written is put back), and an install equal
// to what is there writes nothing. Throws Failure saying what stopped it.
Outcome install(HostFiles& files, const InstallRequest& request);

// Undoes install: each file install replaced gets its original back (a file changed since then
// only loses our provider entry, or, for the binary, is left alone); files and directories it
// created are removed; the state directory goes last.
Outcome uninstall(HostFiles& files, const UninstallRequest& request);

}  // namespace qcp::install
