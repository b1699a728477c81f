#!/usr/bin/env bash
# fetch-debian-source.sh [--suite SUITE] PACKAGE SENTINEL DEST_DIR
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
# --suite SUITE takes the source from another Debian release (e.g. trixie, for OpenSSL 3.5)
# through a private apt state in DEST_DIR/.apt-SUITE: deb-src entries for SUITE, SUITE-updates
# and SUITE-security, signed by the machine's debian-archive-keyring. The machine's own apt
# sources are never touched. Its package lists are refreshed when older than a day. A mirror may
# lack the newest upload's files for a while: then the newest version that downloads is taken,
# with a warning.
#
# Needs deb-src entries in the apt sources (without --suite) and dpkg-dev (for dpkg-source); no
# root needed. Used at configure time by cmake/StaticCurl.cmake (curl), cmake/StaticYaml.cmake
# (libyaml) and cmake/StaticOpenSsl.cmake (openssl, --suite trixie).
set -euo pipefail

suite=""
if [[ ${1:-} == --suite ]]; then
  suite=${2:-}
  shift 2 || true
fi
[[ $# -eq 3 && -n $1 && -n $2 && -n $3 ]] || { echo "usage: $0 [--suite SUITE] PACKAGE SENTINEL DEST_DIR" >&2; exit 2; }
[[ -z $suite || $suite =~ ^[a-z]+$ ]] || { echo "fetch-debian-source: bad suite '$suite'" >&2; exit 2; }
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

# --suite: apt reads only the private sources list and state below.
if [[ -n $suite ]]; then
  apt_dir="$dest/.apt-$suite"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" \
    "$apt_dir/preferences.d"
  : >"$apt_dir/sources.list"
  : >"$apt_dir/preferences"
  cat >"$apt_dir/sources.list.d/$suite.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_opts+=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::Etc::Preferences=$apt_dir/preferences"
    -o "Dir::Etc::PreferencesParts=$apt_dir/preferences.d"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::State::Status=/dev/null")
  stamp="$apt_dir/updated"
  if [[ ! -f $stamp || -n $(find "$stamp" -mmin +1440) ]]; then
    echo "fetch-debian-source: refreshing $suite's source lists" >&2
    if apt-get "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1; then
      touch "$stamp"
    else
      tail -n 5 "$apt_dir/update.log" >&2
      echo "fetch-debian-source: warning: apt-get update for $suite failed; using older lists if any" >&2
    fi
  fi
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

# Downloads PACKAGE[=VERSION] into a scratch directory; the tree in DEST_DIR is replaced only
# after a download succeeded.
log="$tmp/apt-get-source.log"
download() {
  rm -rf -- "$tmp/get" && mkdir "$tmp/get"
  (cd "$tmp/get" && apt-get "${apt_opts[@]}" source "$pkg${1:+=$1}") >"$log" 2>&1
}
install_download() {  # DSC
  local got=("$tmp/get/$pkg"-*/)
  [[ ${#got[@]} -eq 1 && -d ${got[0]} && -f ${got[0]}/$sentinel ]] \
    || die "unexpected result of 'apt-get source $pkg': ${got[*]}"
  rm -rf -- "$marker_name" "$pkg"-*/ "$pkg"_*
  local name
  name=$(basename "${got[0]}")
  mv -- "$tmp/get"/* "$dest"/
  printf '%s %s\n' "$1" "$name" >"$marker_name"
  echo "$dest/$name"
}

echo "fetch-debian-source: downloading $want_dsc into $dest" >&2
if download ""; then
  install_download "$want_dsc"
  exit 0
fi
if [[ -z $suite ]]; then
  tail -n 30 "$log" >&2
  die "'apt-get source $pkg' failed (see above)"
fi
# --suite: the mirror may not carry the newest upload's files yet; take the newest that it does.
tail -n 3 "$log" | sed 's/^/  apt: /' >&2
mapfile -t versions < <(apt-cache "${apt_opts[@]}" showsrc "$pkg" 2>/dev/null \
  | awk -v p="$pkg" '/^Package: / { mine = ($2 == p) } mine && /^Version: / { print $2 }' | sort -u)
for ((i = 0; i < ${#versions[@]}; i++)); do  # newest first, in Debian's version order
  for ((j = i + 1; j < ${#versions[@]}; j++)); do
    if dpkg --compare-versions "${versions[j]}" gt "${versions[i]}"; then
      t=${versions[i]} versions[i]=${versions[j]} versions[j]=$t
    fi
  done
done
for version in "${versions[@]}"; do
  dsc="${pkg}_${version#*:}.dsc"
  [[ $dsc == "$want_dsc" ]] && continue
  if [[ $dsc == "$have_dsc" ]] && have_tree; then
    echo "fetch-debian-source: warning: $want_dsc cannot be downloaded; reusing $have_dir" >&2
    echo "$dest/$have_dir"
    exit 0
  fi
  if download "$version"; then
    echo "fetch-debian-source: warning: $want_dsc cannot be downloaded; took $dsc" >&2
    install_download "$dsc"
    exit 0
  fi
done
tail -n 30 "$log" >&2
die "no version of '$pkg' in $suite could be downloaded (see above)"
