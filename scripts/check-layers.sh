#!/usr/bin/env bash
# check-layers.sh: every #include "…" in src/ and include/qcp/ points into its own layer or a
# lower one, and never from one mode (or from net/ or kube/) into its sibling:
#
#   core/  <  net/, kube/  <  quay/  <  modes (plugin/, diagnostics/, install/, workload/, …)  <  cli/
#
# A layer is the first folder under src/ or include/qcp/; qcp/version.hpp (generated) counts as
# core. Includes outside the project ("<…>") are not looked at. scripts/layers-known.txt lists the
# violations not yet removed (issue 20): one that is not listed fails, and so does a listed one
# that no longer occurs, so the list only shrinks. It also checks that each folder's files declare
# their names in that folder's namespace (qcp::core, …). Prints each violation; exits 1 if any fails.
set -euo pipefail
cd "$(dirname "$0")/.."

rank() {
  case $1 in
    core | version.hpp) echo 0 ;;
    net | kube) echo 1 ;;
    quay) echo 2 ;;
    cli | main.cpp | static_terminate.cpp) echo 4 ;;
    *) echo 3 ;;  # a mode
  esac
}

layer_of() {  # a path under src/ or include/qcp/, or an include's text -> its layer
  local path=${1#include/qcp/}
  path=${path#src/}
  path=${path#qcp/}
  echo "${path%%/*}"
}

found=$(mktemp)
trap 'rm -f -- "$found"' EXIT
while IFS=: read -r file _ text; do
  target=$(sed -E 's/^#include "([^"]+)".*/\1/' <<<"$text")
  from=$(layer_of "$file")
  to=$(layer_of "$target")
  [[ $from == "$to" ]] && continue
  if (($(rank "$to") >= $(rank "$from"))); then
    echo "$file -> $target" >>"$found"
  fi
done < <(grep -rnE '^#include "' src include/qcp --include='*.cpp' --include='*.hpp' | sort)

known=scripts/layers-known.txt
status=0
while IFS= read -r line; do
  if ! grep -qxF -- "$line" "$known"; then
    echo "check-layers: $line: an include from a layer into a higher one or a sibling" >&2
    status=1
  fi
done <"$found"
while IFS= read -r line; do
  [[ -z $line || $line == \#* ]] && continue
  if ! grep -qxF -- "$line" "$found"; then
    echo "check-layers: $line is gone: take it off $known" >&2
    status=1
  fi
done <"$known"
# One namespace per folder: a file of layer L declares its names in qcp::L (or a namespace nested
# in it, such as qcp::core::yaml). L/namespace.hpp alone names the lower layers' namespaces.
# A lower layer's namespace may be opened for a forward declaration only (struct X; on the next
# line).
while IFS=: read -r file line text; do
  layer=$(layer_of "$file")
  name=$(sed -E 's/^namespace ([a-z:_]+).*/\1/' <<<"$text")
  [[ $name == "qcp::$layer" || $name == "qcp::$layer::"* ]] && continue
  [[ $file == */namespace.hpp && $text =~ ^namespace\ qcp::[a-z_]+\ \{\}$ ]] && continue
  other=${name#qcp::}
  other=${other%%::*}
  if (($(rank "$other") < $(rank "$layer"))) &&
    sed -n "$((line + 1))p" "$file" | grep -qE '^(struct|class) [A-Za-z_]+;$'; then
    continue
  fi
  echo "check-layers: $file declares namespace $name, not qcp::$layer" >&2
  status=1
done < <(grep -rnE '^namespace qcp' src include/qcp --include='*.cpp' --include='*.hpp' | sort)

if ((status == 0)); then
  echo "check-layers: $(wc -l <"$found") known violations left, none new ($known); one namespace per folder"
fi
exit $status
