#!/usr/bin/env bash
# Fuzzes with libFuzzer, built by the `fuzz` CMake preset (clang):
#   runbook  the runbook load path (input guard, toml++, model, validation):
#            fuzz/runbook_fuzzer.cpp
#   event    what the coordinator reads from agents (stream batches, event
#            lines, timestamps) and the agent's reading of replies:
#            fuzz/event_fuzzer.cpp
#   plan     the coordinator's communication plan (input guard, toml++,
#            checks, templates): fuzz/plan_fuzzer.cpp
#
#   scripts/fuzz.sh [runbook|event|plan] [SECONDS]      default: runbook, 600
#
# FUZZ_WORKERS=N runs N processes in libFuzzer's fork mode (default 2; 1 runs a
# single process). Installs nothing: it needs clang and libclang-rt-14-dev
# (scripts/install-deps.sh). The corpus grows in fuzz/corpus-work/ (git-ignored)
# and is kept between runs; crash files and the log go to
# build-fuzz/fuzz-artifacts/<time>/. Exits non-zero when a crash file appears.
set -euo pipefail

target=runbook
if [[ ${1:-} == runbook || ${1:-} == event || ${1:-} == plan ]]; then
  target=$1
  shift
fi
seconds=${1:-600}
workers=${FUZZ_WORKERS:-2}
if [[ ! $seconds =~ ^[1-9][0-9]*$ || ! $workers =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [runbook|event|plan] [SECONDS]   (SECONDS and FUZZ_WORKERS are positive integers)" >&2
  exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${target}_fuzzer" --parallel 2
fuzzer=build-fuzz/bin/${target}_fuzzer

# Seeds, named by content so that a rerun adds nothing twice: every runbook we
# ship or test with; for events, the event lines of fuzz/events.seed, one
# file each, and the whole file as one batch.
corpus=fuzz/corpus-work
[[ $target == event ]] && corpus=fuzz/corpus-event-work
[[ $target == plan ]] && corpus=fuzz/corpus-plan-work
mkdir -p "$corpus"
shopt -s nullglob globstar
seeds=0
if [[ $target == runbook ]]; then
  dict=fuzz/toml.dict
  for seed in runbooks/*.toml tests/**/*.toml; do
    cp "$seed" "$corpus/seed-$(sha1sum <"$seed" | cut -c1-16).toml"
    seeds=$((seeds + 1))
  done
elif [[ $target == plan ]]; then
  dict=fuzz/toml.dict
  for seed in coordinator/examples/*.toml; do
    cp "$seed" "$corpus/seed-$(sha1sum <"$seed" | cut -c1-16).toml"
    seeds=$((seeds + 1))
  done
else
  dict=fuzz/event.dict
  while IFS= read -r line; do
    printf '%s' "$line" >"$corpus/seed-$(printf '%s' "$line" | sha1sum | cut -c1-16)"
    seeds=$((seeds + 1))
  done <fuzz/events.seed
  cp fuzz/events.seed "$corpus/seed-batch"
  seeds=$((seeds + 1))
fi

artifacts=build-fuzz/fuzz-artifacts/$(date +%Y%m%d-%H%M%S)
mkdir -p "$artifacts"
log=$artifacts/fuzz.log
args=(
  -max_total_time="$seconds"
  -max_len=65536
  -dict="$dict"
  -rss_limit_mb=2048
  -timeout=10
  -print_final_stats=1
  -artifact_prefix="$artifacts/"
)
if ((workers > 1)); then
  args+=(-fork="$workers")
fi

echo "fuzzing for ${seconds}s with ${workers} worker(s), ${seeds} seed files; log: $log"
set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
  "$fuzzer" "${args[@]}" "$corpus" >"$log" 2>&1
status=$?
set -e

echo "--- final stats"
grep -aE '^(#[0-9]+|stat::|Done |INFO: (fuzzed|exiting)|SUMMARY|==[0-9]+==ERROR)' "$log" | tail -n 12 || true
echo "--- corpus: $(find "$corpus" -type f | wc -l) files in $corpus"

found=("$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*)
if ((${#found[@]} > 0)); then
  echo "FAILED: the fuzzer left ${#found[@]} finding(s):" >&2
  printf '  %s\n' "${found[@]}" >&2
  echo "reproduce with: $fuzzer ${found[0]}" >&2
  exit 1
fi
if ((status != 0)); then
  echo "FAILED: the fuzzer exited with status $status (see $log)" >&2
  exit "$status"
fi
echo "OK: no crash in ${seconds}s"
