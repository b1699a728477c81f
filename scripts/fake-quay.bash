# Sourced by the demo, the benchmark and the chroot test: runs tests/support's fake-quay in the
# background for the lifetime of the calling script.
#   start_fake_quay FAKE_QUAY_BINARY WORK_DIR [fake-quay args...]
# On return WORK_DIR holds ca.pem, host and sa-token; the server stops when the script exits and
# WORK_DIR is removed.

start_fake_quay() {
  local binary=$1 dir=$2
  shift 2
  "$binary" --dir "$dir" "$@" 2>"$dir/quay.log" &
  _fake_quay_pid=$!
  _fake_quay_dir=$dir
  trap _stop_fake_quay EXIT
  for _ in $(seq 200); do
    [[ -f $dir/ready ]] && return 0
    sleep 0.05
  done
  echo "fake-quay did not start:" >&2
  cat "$dir/quay.log" >&2
  exit 1
}

_stop_fake_quay() {
  if [[ -n ${_fake_quay_pid:-} ]]; then
    kill "$_fake_quay_pid" 2>/dev/null && wait "$_fake_quay_pid" 2>/dev/null
  fi
  rm -rf "${_fake_quay_dir:?}"
}
