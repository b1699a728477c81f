#!/usr/bin/env bash
# fetch-debian-source.sh PACKAGE SENTINEL DEST_DIR
#
# Downloads and unpacks Debian's patched source of PACKAGE (`apt-get source PACKAGE`, i.e. the
# upstream source plus every Debian security patch) into DEST_DIR, and prints the unpacked source
# directory as the last line on stdout. Everything else goes to stderr. SENTINEL is a file every
# good tree holds (e.g. CMakeLists.txt for curl), relative to the source directory.
#
# Idempotent: when DEST_DIR already holds the source of the version apt would fetch now, nothing
# is downloaded. When apt's candidate changes (a new Debian security upload after `apt-get
# update`), the old tree is replaced so the static build picks up the fix.
#
# Needs deb-src entries in the apt sources and dpkg-dev (for dpkg-source); no root needed.
# Used at configure time by cmake/StaticCurl.cmake (curl) and cmake/StaticYaml.cmake (libyaml).
set -euo pipefail

[[ $# -eq 3 && -n $1 && -n $2 && -n $3 ]] || { echo "usage: $0 PACKAGE SENTINEL DEST_DIR" >&2; exit 2; }
readonly pkg=$1 sentinel=$2
readonly marker_name=.qcp-$pkg-source   # "<dsc file> <source dir name>" of the last fetch
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly install_hint="run '${here}/install-deps.sh' (as root) to enable deb-src and install dpkg-dev"

die() {
  printf 'fetch-debian-source: error: %s\n' "$*" >&2
  exit 1
}

mkdir -p -- "$3"
dest="$(cd -- "$3" && pwd)"
cd -- "$dest"

# apt refuses to download into a directory its sandbox user (_apt) cannot write as root, and warns
# about it; the build tree is root-owned when building as root, so do not drop privileges then.
apt_opts=(-q)
if [[ $EUID -eq 0 ]]; then
  apt_opts+=(-o APT::Sandbox::User=root)
fi

# The source package apt would fetch right now (its .dsc file name carries the version). This only
# reads the local package lists; it fails when no deb-src entries are configured. Run it in an empty
# directory: apt omits the URIs of files already present in the current directory.
tmp="$(mktemp -d)"
trap 'rm -rf -- "$tmp"' EXIT
uris_err="$tmp/print-uris.err"
if ! uris="$(cd "$tmp" && apt-get "${apt_opts[@]}" source --print-uris "$pkg" 2>"$uris_err")"; then
  uris=""
fi
want_dsc="$(awk -v p="$pkg" '$1 ~ /^\047/ && $2 ~ ("^" p "_.*\\.dsc$") { print $2; exit }' <<<"$uris")"

have_dsc="" have_dir=""
if [[ -f $marker_name ]]; then
  read -r have_dsc have_dir <"$marker_name" || true
fi
have_tree() { [[ -n $have_dir && -f $dest/$have_dir/debian/changelog && -f $dest/$have_dir/$sentinel ]]; }

if [[ -z $want_dsc ]]; then
  # No source record: deb-src missing, or package lists not refreshed since enabling it.
  if have_tree; then
    # Offline / no deb-src here, but a previous fetch is available: keep building with it.
    echo "fetch-debian-source: warning: apt has no source record for '$pkg'; reusing $have_dir" >&2
    echo "$dest/$have_dir"
    exit 0
  fi
  sed 's/^/  apt: /' "$uris_err" >&2
  die "apt cannot provide the Debian source of '$pkg' (deb-src is not enabled or 'apt-get update' has not run since); ${install_hint}"
fi

if [[ $want_dsc == "$have_dsc" ]] && have_tree; then
  echo "fetch-debian-source: $pkg source $want_dsc already unpacked" >&2
  echo "$dest/$have_dir"
  exit 0
fi

command -v dpkg-source >/dev/null || die "dpkg-source not found; ${install_hint}"

# Fresh fetch: remove any older download so exactly one $pkg-* tree remains.
rm -rf -- "$marker_name" "$pkg"-*/ "$pkg"_*
echo "fetch-debian-source: downloading $want_dsc into $dest" >&2
log="$tmp/apt-get-source.log"
if ! apt-get "${apt_opts[@]}" source "$pkg" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  die "'apt-get source $pkg' failed (see above)"
fi

dirs=("$pkg"-*/)
[[ ${#dirs[@]} -eq 1 && -d ${dirs[0]} && -f ${dirs[0]}/$sentinel ]] \
  || die "unexpected result of 'apt-get source $pkg' in $dest: ${dirs[*]}"
dir="${dirs[0]%/}"
printf '%s %s\n' "$want_dsc" "$dir" >"$marker_name"
echo "$dest/$dir"
