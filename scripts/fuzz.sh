#!/usr/bin/env bash
# Bounded libFuzzer run for CI: builds the fuzzers (preset "fuzz": clang, ASan + UBSan) and runs
# each one for SECONDS_PER_TARGET seconds (default 60) on a copy of its seed corpus, as many at
# once as there are cores (QCP_FUZZ_JOBS).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# Prints one line per target:
#   fuzz <target>: <execs> execs in <N>s, <corpus size> corpus entries, no crash
# and exits non-zero if any target crashed (libFuzzer exit code != 0: a sanitizer report, a failed
# invariant, an uncaught exception, a timeout or running out of memory). For a crash it prints the
# end of libFuzzer's log (the stack), the artifact's path, a hexdump of its first 256 bytes and its
# base64, so the input can be recovered from the CI log alone:
#   base64 -d > crash.bin <<< '<base64>' && build/fuzz/fuzz/<target> crash.bin
#
# Nothing is written into the repository except the build tree: corpora are copied into a temp
# directory, which is removed after a clean run and kept (its path printed) after a crash.
#
# QCP_FUZZ_BIN_DIR=<dir> skips the build and runs the fuzzers found in <dir>.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ "${seconds}" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET]  (a positive whole number, default 60)" >&2
  exit 2
fi

targets=(request_fuzz jwt_fuzz image_fuzz config_fuzz answer_fuzz bundle_fuzz kube_fuzz)

# --- Build ----------------------------------------------------------------------------------------
if [[ -n "${QCP_FUZZ_BIN_DIR:-}" ]]; then
  bin_dir="${QCP_FUZZ_BIN_DIR}"
else
  cmake --preset fuzz
  cmake --build --preset fuzz
  bin_dir="build/fuzz/fuzz"
fi
for target in "${targets[@]}"; do
  if [[ ! -x "${bin_dir}/${target}" ]]; then
    echo "fuzz: ${bin_dir}/${target} was not built" >&2
    exit 2
  fi
done

# --- Run ------------------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/qcp-fuzz.XXXXXX")"
crashed=0
# Remove the scratch directory unless it holds a crash artifact worth keeping.
cleanup() {
  if [[ "${crashed}" -eq 0 ]]; then
    rm -rf "${work}"
  else
    echo "fuzz: crash artifacts and logs kept in ${work}" >&2
  fi
}
trap cleanup EXIT

# Symbolized stacks for ASan and UBSan reports; UBSan prints no stack by default.
if symbolizer="$(command -v llvm-symbolizer)"; then
  export ASAN_SYMBOLIZER_PATH="${symbolizer}"
fi
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:${UBSAN_OPTIONS}}"

# One fuzzer per core at a time (QCP_FUZZ_JOBS, default: the number of cores): the run's wall
# time is what CI pays, and each fuzzer is single-threaded.
jobs="${QCP_FUZZ_JOBS:-$(nproc)}"
run_target() {
  local target=$1 name="${1%_fuzz}"  # request, jwt, ...: the corpus directory under fuzz/corpus
  local dir="${work}/${target}"
  mkdir -p "${dir}/corpus" "${dir}/artifacts"
  # A copy: libFuzzer adds the inputs it finds to its corpus directory.
  cp -R "fuzz/corpus/${name}/." "${dir}/corpus/"
  local args=(
    "-max_total_time=${seconds}"
    -timeout=10
    -rss_limit_mb=2048
    -print_final_stats=1
    "-artifact_prefix=${dir}/artifacts/"
  )
  if [[ -f "fuzz/${name}.dict" ]]; then
    args+=("-dict=fuzz/${name}.dict")
  fi
  local status=0
  "${bin_dir}/${target}" "${args[@]}" "${dir}/corpus" >"${dir}/libfuzzer.log" 2>&1 || status=$?
  echo "${status}" >"${dir}/status"
}
running=0
for target in "${targets[@]}"; do
  run_target "${target}" &
  running=$((running + 1))
  if [[ "${running}" -ge "${jobs}" ]]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

for target in "${targets[@]}"; do
  dir="${work}/${target}"
  log="${dir}/libfuzzer.log"
  status="$(cat "${dir}/status")"

  # libFuzzer's final stats: "stat::number_of_executed_units: 123456".
  execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' "${log}" | tail -n 1)"
  entries="$(find "${dir}/corpus" -type f | wc -l | tr -d ' ')"

  if [[ "${status}" -eq 0 && -n "${execs}" ]]; then
    echo "fuzz ${target}: ${execs} execs in ${seconds}s, ${entries} corpus entries, no crash"
    continue
  fi

  crashed=1
  echo "fuzz ${target}: FAILED (libFuzzer exit code ${status}) after ${execs:-?} execs" \
       "in at most ${seconds}s"
  echo "---- last 80 lines of ${log}"
  tail -n 80 "${log}"
  echo "----"
  # crash-*, leak-*, timeout-*, oom-* or slow-unit-*: libFuzzer writes one file per finding.
  artifact="$(find "${dir}/artifacts" -type f -printf '%T@ %p\n' | sort -n | tail -n 1 |
              cut -d' ' -f2-)"
  if [[ -n "${artifact}" ]]; then
    echo "fuzz ${target}: artifact ${artifact} ($(wc -c <"${artifact}" | tr -d ' ') bytes)"
    echo "first 256 bytes:"
    head -c 256 "${artifact}" | od -A x -t x1z -v
    echo "base64 (first 64 KiB):"
    head -c 65536 "${artifact}" | base64 -w 0
    echo
  else
    echo "fuzz ${target}: no artifact written (see the log above)"
  fi
done

if [[ "${crashed}" -ne 0 ]]; then
  echo "fuzz: at least one target failed" >&2
  exit 1
fi
