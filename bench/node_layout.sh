#!/usr/bin/env bash
# node_layout.sh LAYOUT CA_PEM COMMAND [ARGS...]
#
# Runs COMMAND in a private mount namespace whose /etc holds the trust store of a real node, with
# CA_PEM added to it the way that distribution's own tool adds a CA:
#   debian  Debian/Ubuntu: update-ca-certificates itself (run into the namespace's /etc) writes
#           /etc/ssl/certs/ca-certificates.crt and the hashed links in /etc/ssl/certs.
#   rhel    RHEL/Fedora: /etc/pki/tls/certs/ca-bundle.crt in update-ca-trust's extracted format
#           (a "# label" line before each certificate), /etc/ssl/certs a symlink to that
#           directory, no hash links, no Debian bundle.
# The CAs are the machine's Mozilla set (/usr/share/ca-certificates/mozilla, package
# ca-certificates) plus CA_PEM. The real /etc is never changed: the namespace's /etc is an overlay
# (or a copy where overlayfs is unavailable). Needs root, for unshare -m.
set -euo pipefail

if [[ ${1:-} != --inside ]]; then
  [[ $# -ge 3 ]] || { echo "usage: $0 debian|rhel CA_PEM COMMAND [ARGS...]" >&2; exit 2; }
  [[ $EUID -eq 0 ]] || { echo "node_layout: needs root (a private mount namespace)" >&2; exit 77; }
  exec unshare --mount --propagation private -- "$0" --inside "$@"
fi
shift
layout=$1 ca=$(readlink -f "$2")
shift 2
mozilla=/usr/share/ca-certificates/mozilla
[[ -d $mozilla ]] || { echo "node_layout: $mozilla missing (install ca-certificates)" >&2; exit 1; }

scratch=$(mktemp -d)
mkdir -p "$scratch/upper" "$scratch/work"
if ! mount -t overlay overlay -o "lowerdir=/etc,upperdir=$scratch/upper,workdir=$scratch/work" /etc \
  2>/dev/null; then
  mkdir "$scratch/etc" && cp -a /etc/. "$scratch/etc/" && mount --bind "$scratch/etc" /etc
fi

case $layout in
  debian)
    rm -rf /etc/ssl/certs && mkdir -p /etc/ssl/certs "$scratch/local/quay" "$scratch/hooks"
    cp "$ca" "$scratch/local/quay/quay-ca.crt"
    # The stock configuration: every Mozilla CA enabled.
    (cd /usr/share/ca-certificates && find mozilla -name '*.crt' | sort) >"$scratch/ca-certificates.conf"
    update-ca-certificates --fresh --etccertsdir /etc/ssl/certs --localcertsdir "$scratch/local" \
      --certsconf "$scratch/ca-certificates.conf" --hooksdir "$scratch/hooks" >/dev/null
    ;;
  rhel)
    rm -rf /etc/ssl /etc/pki && mkdir -p /etc/pki/tls/certs /etc/ssl
    for crt in "$mozilla"/*.crt "$ca"; do
      printf '# %s\n' "$(basename "$crt" .crt | tr '_' ' ')"
      cat "$crt"
      printf '\n'
    done >/etc/pki/tls/certs/ca-bundle.crt
    ln -s ../pki/tls/certs /etc/ssl/certs
    ;;
  *)
    echo "node_layout: unknown layout '$layout' (debian or rhel)" >&2
    exit 2
    ;;
esac
exec "$@"
