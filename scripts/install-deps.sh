#!/usr/bin/env bash
# install-deps.sh: installs everything needed to build, test and package quay-credential-provider
# on Debian 12 (bookworm). The README and CI call this; it is safe to run repeatedly.
#
#   1. apt-get update
#   2. enables deb-src for the Debian archive entries (the static build compiles curl from
#      Debian's patched source, fetched with `apt-get source curl` by scripts/fetch-debian-source.sh),
#      and runs apt-get update again if that changed anything. (OpenSSL 3.5 comes from Debian 13's
#      source through a private apt state at build time; the machine's sources are not changed.)
#   3. adds the arm64 architecture to dpkg (multiarch), for the linux/arm64 release build's
#      target libraries (libc6-dev:arm64, libc-ares-dev:arm64, ...), and runs apt-get update again
#      if that was new
#   4. installs the build/test packages that are not installed yet
#
# Must run as root; re-executes itself with sudo when possible.
#
# Options:
#   --deb-src-only   only do step 2's file edit (no apt-get); prints "changed" or "unchanged"
# Environment (for testing and unusual setups):
#   QCP_APT_ETC          apt configuration directory holding sources.list and sources.list.d
#                        (default /etc/apt); with --deb-src-only and a non-default value, root
#                        is not required
#   QCP_DEB_SRC_MATCH    extended regex; only source entries whose URIs or Signed-By match it get
#                        deb-src (default: Debian's own archive; third-party repositories often
#                        publish no sources and would break apt-get update)
set -euo pipefail

readonly packages=(
  build-essential cmake ninja-build pkg-config git file ca-certificates curl dpkg-dev
  nlohmann-json3-dev libcurl4-openssl-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libcli11-dev libc-ares-dev libssl-dev libyaml-dev libbenchmark-dev
  clang libclang-rt-14-dev
  openssl time strace valgrind perl debian-archive-keyring
  # linux/arm64: Debian's cross compiler, the target's libraries (multiarch), qemu-user for tests
  crossbuild-essential-arm64 qemu-user-static
  libc6-dev:arm64 libc-ares-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64
  libfmt-dev:arm64 libspdlog-dev:arm64
  # the OCI image
  buildah skopeo jq
  # workload mode's tests: a real registry (docker/distribution) and real clients
  docker-registry podman
  # install's tests read kubeadm-flags.env with systemd's own EnvironmentFile= parser
  systemd
)

apt_etc="${QCP_APT_ETC:-/etc/apt}"
deb_src_match="${QCP_DEB_SRC_MATCH:-debian\\.org|debian-archive-keyring}"

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

deb_src_only=false
case "${1:-}" in
  "") ;;
  --deb-src-only) deb_src_only=true ;;
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac

if [[ $EUID -ne 0 ]] && ! { $deb_src_only && [[ $apt_etc != /etc/apt ]]; }; then
  if command -v sudo >/dev/null 2>&1; then
    log "not root; re-running with sudo"
    exec sudo -- bash "$(readlink -f -- "$0")" "$@"
  fi
  die "must run as root (and sudo is not available)"
fi

# Rewrites $1 in place with the output of the command in $2..., keeping its owner and mode.
# Returns 0 when the content changed.
rewrite_if_changed() {
  local file=$1 tmp
  shift
  tmp="$(mktemp)"
  # Explicit checks: set -e is not in effect here (callers use `&&`), and an empty rewrite of a
  # sources file must never happen.
  if ! "$@" "$file" >"$tmp" || { [[ ! -s $tmp ]] && [[ -s $file ]]; }; then
    rm -f -- "$tmp"
    die "failed to rewrite $file"
  fi
  if cmp -s -- "$tmp" "$file"; then
    rm -f -- "$tmp"
    return 1
  fi
  cat -- "$tmp" >"$file"
  rm -f -- "$tmp"
  log "enabled deb-src in $file"
}

# deb822 (*.sources, Debian 12's default /etc/apt/sources.list.d/debian.sources): in each stanza
# whose URIs/Signed-By match, turn "Types: deb" into "Types: deb deb-src".
deb822_add_deb_src() {
  QCP_RE="$deb_src_match" awk '
    BEGIN { match_re = ENVIRON["QCP_RE"] }
    function flush(   i, qualifies) {
      qualifies = 0
      for (i = 1; i <= n; i++)
        if (tolower(lines[i]) ~ /^(uris|signed-by):/ && lines[i] ~ match_re) qualifies = 1
      for (i = 1; i <= n; i++) {
        if (qualifies && tolower(lines[i]) ~ /^types:/ && lines[i] ~ /[: \t]deb([ \t]|$)/ \
            && lines[i] !~ /[: \t]deb-src([ \t]|$)/) {
          sub(/[ \t]+$/, "", lines[i])
          lines[i] = lines[i] " deb-src"
        }
        print lines[i]
      }
      n = 0
    }
    /^[ \t]*$/ { flush(); print; next }
    { lines[++n] = $0 }
    END { flush() }
  ' "$1"
}

# One-line format (sources.list, *.list): for each active "deb [opts] URI SUITE COMPONENTS" line
# that matches and has no active deb-src twin, uncomment a "# deb-src <same>" line if the file has
# one, otherwise add "deb-src <same>" right after the deb line.
oneline_add_deb_src() {
  QCP_RE="$deb_src_match" awk '
    BEGIN { match_re = ENVIRON["QCP_RE"] }
    function rest(line) { sub(/^[ \t]*#?[ \t]*deb(-src)?[ \t]+/, "", line); gsub(/[ \t]+/, " ", line); sub(/ $/, "", line); return line }
    NR == FNR {
      if ($0 ~ /^[ \t]*deb-src[ \t]/) active_src[rest($0)] = 1
      else if ($0 ~ /^[ \t]*#[ \t]*deb-src[ \t]/) commented_src[rest($0)] = 1
      else if ($0 ~ /^[ \t]*deb[ \t]/ && $0 ~ match_re) wanted[rest($0)] = 1
      next
    }
    $0 ~ /^[ \t]*#[ \t]*deb-src[ \t]/ {
      r = rest($0)
      if ((r in wanted) && !(r in active_src)) { print "deb-src " r; active_src[r] = 1; next }
    }
    { print }
    $0 ~ /^[ \t]*deb[ \t]/ {
      r = rest($0)
      if ((r in wanted) && !(r in active_src) && !(r in commented_src)) {
        print "deb-src " r; active_src[r] = 1
      }
    }
  ' "$1" "$1"
}

# Enables deb-src in every apt source file; returns 0 when at least one file changed.
enable_deb_src() {
  local f changed=1
  shopt -s nullglob
  for f in "$apt_etc"/sources.list.d/*.sources; do
    rewrite_if_changed "$f" deb822_add_deb_src && changed=0
  done
  for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    rewrite_if_changed "$f" oneline_add_deb_src && changed=0
  done
  shopt -u nullglob
  return $changed
}

if $deb_src_only; then
  if enable_deb_src; then echo changed; else echo unchanged; fi
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_quiet=(-qq -o Dpkg::Use-Pty=0)

log "apt-get update"
apt-get "${apt_quiet[@]}" update

if enable_deb_src; then
  log "apt-get update (deb-src enabled)"
  apt-get "${apt_quiet[@]}" update
fi

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  log "dpkg --add-architecture arm64; apt-get update"
  dpkg --add-architecture arm64
  apt-get "${apt_quiet[@]}" update
fi

# Whether package $1 ("name" for the native architecture, or "name:arch") is installed; with
# multiarch, dpkg-query lists every architecture's instance of a bare name.
native_arch=$(dpkg --print-architecture)
is_installed() {
  local name=${1%%:*} arch=$native_arch
  [[ $1 == *:* ]] && arch=${1#*:}
  dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$name" 2>/dev/null \
    | grep -qE "^($arch|all) installed$"
}

missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#packages[@]} packages already installed"
else
  log "installing: ${missing[*]}"
  install_log="$(mktemp)"
  if ! apt-get "${apt_quiet[@]}" install -y --no-install-recommends "${missing[@]}" >"$install_log" 2>&1; then
    tail -n 40 "$install_log" >&2
    rm -f -- "$install_log"
    die "apt-get install failed (last lines above)"
  fi
  rm -f -- "$install_log"
fi

# The static build needs the Debian curl source; fail here rather than at cmake time.
if ! apt-get -qq source --print-uris curl >/dev/null 2>&1; then
  die "apt still has no source record for curl; add deb-src entries for your Debian mirror to ${apt_etc}/sources.list.d (set QCP_DEB_SRC_MATCH if the mirror is not *.debian.org) and re-run"
fi
log "done"
