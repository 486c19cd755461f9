#!/usr/bin/env bash
# Execution-engine benchmark, one command: bench/engine.sh
# Times `lifeboat drill` of runbooks of 100 and 1,000 `exec` steps that run
# /bin/true -- chained one after the other, and independent under
# max_parallel 2 and 8 -- next to peers measured in the same run: a shell loop
# running /bin/true as often (the physical floor), `xargs -P` and `make -j`
# for the parallel shapes, and `ansible-playbook` with the same tasks (100
# only: Ansible needs seconds per 100 tasks). Each agent shape runs twice:
# with its state directory on the repository's file system (the journal's
# fsyncs hit the disk) and on tmpfs (/dev/shm: fsync costs nothing), so the
# difference is what durability costs. Also the agent's peak RSS, idle and for
# 1,000 steps, and this disk's fsync latency during the run.
#
# Prints a markdown table (also written to bench/out/engine.md); docs/benchmarks.md
# has the figures and what they mean. Set LIFEBOAT_BIN to time an already built
# binary instead of building build/bin/lifeboat; ANSIBLE_RUNS (default 3) for
# fewer Ansible runs on a slow machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${LIFEBOAT_BIN:-}" ]]; then
  lifeboat=$(realpath "$LIFEBOAT_BIN")
else
  ./scripts/install-deps.sh
  cmake --preset default >/dev/null
  cmake --build --preset default --target lifeboat
  lifeboat=$PWD/build/bin/lifeboat
fi
if ! command -v ansible-playbook >/dev/null; then
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd=sudo
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends ansible-core
fi
for tool in hyperfine make xargs python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "engine.sh: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done

# Generated runbooks, makefiles and hyperfine results live in a temp dir; the
# state directories (one on this repository's file system, one on tmpfs) are
# emptied before every timed run and removed at the end.
mkdir -p bench/out
work=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-engine-bench.XXXXXX")
disk_root=$(mktemp -d "$PWD/bench/out/engine-state.XXXXXX")
shm_root=$(mktemp -d /dev/shm/lifeboat-engine-bench.XXXXXX)
trap 'rm -rf "$work" "$disk_root" "$shm_root"' EXIT
if [[ $(stat -f -c %T "$disk_root") == tmpfs ]]; then
  echo "engine.sh: warning: $disk_root is on tmpfs, the disk rows will not show fsync costs" >&2
fi
if [[ $(stat -f -c %T "$shm_root") != tmpfs ]]; then
  echo "engine.sh: warning: /dev/shm is not tmpfs here, the tmpfs rows do fsync" >&2
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)

for steps in 100 1000; do
  python3 bench/gen_exec_runbook.py "$steps" chain "$work/chain-$steps.toml" \
    --playbook "$work/playbook-$steps.yml"
  for parallel in 2 8; do
    python3 bench/gen_exec_runbook.py "$steps" independent "$work/parallel$parallel-$steps.toml" \
      --max-parallel "$parallel" --makefile "$work/independent-$steps.mk"
  done
  seq "$steps" > "$work/args-$steps"
done
python3 bench/gen_exec_runbook.py 1 chain "$work/chain-1.toml"
# A broken runbook or a failing drill must stop the benchmark, not be timed.
if ! "$lifeboat" drill "$work/chain-100.toml" --state-dir "$shm_root/check" \
    >"$work/check.log" 2>&1; then
  echo "engine.sh: lifeboat drill of the generated 100-step runbook failed:" >&2
  tail -n 20 "$work/check.log" >&2
  exit 1
fi

# One hyperfine run per command, so each gets the number of runs that fits
# its duration. rows.tsv: json file, steps, shape, label.
mkdir -p "$work/results"
row=0
measure() {  # STEPS SHAPE LABEL RUN-OPTIONS COMMAND [PREPARE]
  local steps=$1 shape=$2 label=$3 runs=$4 command=$5 prepare=${6:-}
  row=$((row + 1))
  local json="$work/results/$row.json"
  local args=(-N --export-json "$json" --command-name "$label ($steps, $shape)")
  # shellcheck disable=SC2206 # RUN-OPTIONS is a list of options on purpose.
  args+=($runs)
  [[ -n "$prepare" ]] && args+=(--prepare "$prepare")
  hyperfine "${args[@]}" "$command"
  printf '%s\t%s\t%s\t%s\n' "$json" "$steps" "$shape" "$label" >> "$work/rows.tsv"
}
fast="--warmup 2 --min-runs 5 --max-runs 10"
slow="--runs 3"

export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
for steps in 100 1000; do
  # 1,000 chained steps on a slow disk take seconds per run: 3 runs only.
  disk_runs=$fast; [[ $steps -eq 1000 ]] && disk_runs=$slow
  measure "$steps" sequential "shell loop: /bin/true" "$fast" \
    "bash -c 'for ((i = 0; i < $steps; i++)); do /bin/true; done'"
  measure "$steps" sequential "lifeboat drill, state on disk" "$disk_runs" \
    "$lifeboat drill $work/chain-$steps.toml --state-dir $disk_root/state" "rm -rf $disk_root/state"
  measure "$steps" sequential "lifeboat drill, state on tmpfs" "$fast" \
    "$lifeboat drill $work/chain-$steps.toml --state-dir $shm_root/state" "rm -rf $shm_root/state"
  if [[ $steps -eq 100 ]]; then
    measure "$steps" sequential "ansible-playbook, connection local" "--runs ${ANSIBLE_RUNS:-3}" \
      "ansible-playbook -i localhost, $work/playbook-$steps.yml"
  fi
  for parallel in 2 8; do
    measure "$steps" "parallel $parallel" "xargs -P $parallel" "$fast" \
      "xargs -n 1 -P $parallel -a $work/args-$steps /bin/true"
    measure "$steps" "parallel $parallel" "make -j$parallel" "$fast" \
      "make -s -j$parallel -f $work/independent-$steps.mk"
    measure "$steps" "parallel $parallel" "lifeboat drill, state on disk" "$disk_runs" \
      "$lifeboat drill $work/parallel$parallel-$steps.toml --state-dir $disk_root/state" \
      "rm -rf $disk_root/state"
    measure "$steps" "parallel $parallel" "lifeboat drill, state on tmpfs" "$fast" \
      "$lifeboat drill $work/parallel$parallel-$steps.toml --state-dir $shm_root/state" \
      "rm -rf $shm_root/state"
  done
done

# Peak RSS (KiB). The 1,000-step runs use tmpfs: the state directory's file
# system changes how long a run waits, not what it holds in memory.
rss() {  # LABEL COMMAND...
  local label=$1; shift
  rm -rf "$shm_root/rss"
  local kib
  kib=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1)
  printf '%s\t%s\n' "$label" "$kib" >> "$work/rss.tsv"
}
rss "lifeboat version (idle: binary and libraries loaded)" "$lifeboat" version
rss "lifeboat drill, 1 step" "$lifeboat" drill "$work/chain-1.toml" --state-dir "$shm_root/rss"
rss "lifeboat drill, 1,000 steps sequential" \
  "$lifeboat" drill "$work/chain-1000.toml" --state-dir "$shm_root/rss"
rss "lifeboat drill, 1,000 steps, max_parallel 8" \
  "$lifeboat" drill "$work/parallel8-1000.toml" --state-dir "$shm_root/rss"
rss "ansible-playbook, 100 tasks (peer)" ansible-playbook -i localhost, "$work/playbook-100.yml"

# What one fsync of a small append costs on the disk right now, and how many
# the agent issues for a 100-step chained drill (strace, if installed).
python3 - "$disk_root" > "$work/fsync.txt" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
samples = []
for _ in range(200):
    os.write(fd, b"x" * 200 + b"\n")
    start = time.perf_counter()
    os.fsync(fd)
    samples.append(time.perf_counter() - start)
os.close(fd)
os.unlink(path)
samples.sort()
print(f"{samples[len(samples) // 2] * 1e3:.2f}\t{samples[len(samples) * 9 // 10] * 1e3:.2f}")
PY
fsyncs="n/a"
if command -v strace >/dev/null; then
  rm -rf "$shm_root/strace"
  strace -f -c -e trace=fsync,fdatasync,sync_file_range -o "$work/strace.txt" \
    "$lifeboat" drill "$work/chain-100.toml" --state-dir "$shm_root/strace" >/dev/null 2>&1
  fsyncs=$(awk '$NF == "total" {print $4}' "$work/strace.txt")  # % time, seconds, usecs/call, calls
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work" "$fsyncs" "$load_before" "$load_after" "$(($(date +%s) - started))" \
  "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)" \
  "$("$lifeboat" version)" "$(hyperfine --version)" <<'PY' | tee bench/out/engine.md
import json, os, sys

work, fsyncs, load_before, load_after, seconds, cores, cpu, version, hyperfine = sys.argv[1:]
rows = []
with open(os.path.join(work, "rows.tsv")) as handle:
    for line in handle:
        path, steps, shape, label = line.rstrip("\n").split("\t")
        result = json.load(open(path))["results"][0]
        rows.append((int(steps), shape, label, result))

floor = {steps: r["mean"] for steps, shape, label, r in rows if label.startswith("shell loop")}
by_label = {(steps, shape, label): r["mean"] for steps, shape, label, r in rows}


def span(seconds, scale=None):
    """Milliseconds below 10 s, else seconds; `scale` picks the unit by another value."""
    if (scale if scale is not None else seconds) < 10:
        return f"{seconds * 1e3:,.0f} ms"
    return f"{seconds:,.1f} s"


print(f"{version}, {hyperfine}; {cores} cores ({cpu}); load average {load_before} before, "
      f"{load_after} after; {seconds} s in all.")
print()
print("| steps | shape | command | runs | mean ± σ | min | CPU (user+sys) | per step | "
      "× shell loop |")
print("|---:|---|---|---:|---:|---:|---:|---:|---:|")
for steps, shape, label, r in rows:
    ratio = r["mean"] / floor[steps]
    print(f"| {steps:,} | {shape} | {label} | {len(r['times'])} | "
          f"{span(r['mean'])} ± {span(r['stddev'] or 0, r['mean'])} | {span(r['min'])} | "
          f"{span(r['user'] + r['system'])} | {r['mean'] / steps * 1e3:.2f} ms | {ratio:.2f} |")

print()
print("| what fsync costs | figure |")
print("|---|---:|")
median, p90 = open(os.path.join(work, "fsync.txt")).read().split()
print(f"| fsync of a 200-byte append on the state directory's disk, median / p90 | "
      f"{median} / {p90} ms |")
print(f"| fsync calls in one 100-step chained drill (strace) | {fsyncs} |")
for steps in (100, 1000):
    for shape in ("sequential", "parallel 2", "parallel 8"):
        disk = by_label.get((steps, shape, "lifeboat drill, state on disk"))
        shm = by_label.get((steps, shape, "lifeboat drill, state on tmpfs"))
        if disk is not None and shm is not None:
            print(f"| {steps:,} steps {shape}: disk − tmpfs, per step | "
                  f"{(disk - shm) / steps * 1e3:.2f} ms |")

print()
print("| peak RSS (`/usr/bin/time -f %M`) | KiB |")
print("|---|---:|")
with open(os.path.join(work, "rss.tsv")) as handle:
    for line in handle:
        label, kib = line.rstrip("\n").split("\t")
        print(f"| {label} | {int(kib):,} |")
PY
