#!/usr/bin/env bash
# Coordinator under load, one command: bench/coordinator.sh (as root)
# For N = 1,000 and 10,000 agents: a fresh `lifeboat-coordinator serve` (temp
# config, certificates from `certs init`, its SQLite database in a temp folder
# on the disk), then `lifeboat-coordinator-load run` against it: N mutual-TLS
# websocket agents, each with its own certificate, through the phases connect,
# idle hold (coordinator RSS per connection), sustained streaming at RATE
# events/s (events/s acknowledged = stored, p50/p99/max ack latency), a
# reconnect storm (every connection reset at once, then all back at once,
# resending what was not acknowledged) and a check of the SQLite file (every
# event exactly once). Then the same load against the peer measured in the
# same run: `lifeboat-coordinator-load baseline`, the same TLS and websocket
# stack that decodes and acknowledges each batch without storing it.
# Everything on 127.0.0.1; every process started here is stopped at the end
# (also on Ctrl-C or an error) and the temp folders removed.
# Knobs: CONNECTIONS ("1000 10000"), RATE (50000 events/s offered), BATCH (10
# events per batch), DURATION (30 s of streaming), IDLE (10 s), STORM_GAP (2 s
# of events made while disconnected), PEER (1: also the baseline), KEEP=1 (keep
# the temp folders), BIN_DIR (use binaries already built there), OUT_DIR
# (bench/out), DB_DIR (where the temp folders with the databases go: /tmp).
# Prints a markdown table (also OUT_DIR/coordinator.md; every run's JSON
# line in OUT_DIR/coordinator.jsonl); docs/benchmarks.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "coordinator.sh: run as root (it raises the open-file limit for 10,000 connections)" >&2
  exit 2
fi
CONNECTIONS=${CONNECTIONS:-"1000 10000"}
RATE=${RATE:-50000}
BATCH=${BATCH:-10}
DURATION=${DURATION:-30}
IDLE=${IDLE:-10}
STORM_GAP=${STORM_GAP:-2}
PEER=${PEER:-1}

if [[ -n "${BIN_DIR:-}" ]]; then
  bin=$(realpath "$BIN_DIR")
else
  ./scripts/install-deps.sh
  cmake --preset default >/dev/null
  cmake --build --preset default --target lifeboat-coordinator lifeboat-coordinator-load
  bin=$PWD/build/bin
fi
coordinator=$bin/lifeboat-coordinator
load=$bin/lifeboat-coordinator-load
for binary in "$coordinator" "$load"; do
  [[ -x $binary ]] || { echo "coordinator.sh: $binary is missing" >&2; exit 2; }
done

# One descriptor per connection plus the store's and the listeners': the
# hard limit is what this machine allows (20,000 here).
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < 12000 )); then
  echo "coordinator.sh: only $(ulimit -n) open files allowed; 10,000 connections need ~10,100" >&2
  exit 1
fi

out_dir=${OUT_DIR:-bench/out}
mkdir -p "$out_dir"
results=$out_dir/coordinator.jsonl
: > "$results"
server_pid=""
work=""
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  if [[ -n $work && ${KEEP:-0} != 1 ]]; then
    rm -rf "$work"
  fi
}
trap cleanup EXIT INT TERM

# Starts "$@" in the background with its output in $1's log, waits for its
# "listening: agents wss://..." line and sets server_pid and agents_url.
start_server() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 200); do
    agents_url=$(sed -n 's/^listening: agents \(wss:[^ ,]*\).*/\1/p' "$log" | head -1)
    [[ -n $agents_url ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "coordinator.sh: the server did not start listening; its log ($log):" >&2
  cat "$log" >&2
  exit 1
}

run_load() {  # label connections [extra options...]
  local label=$1 n=$2
  shift 2
  echo "== $label, $n connections" >&2
  "$load" run --url "$agents_url" --ca "$work/tls/ca.pem" --ca-key "$work/tls/ca-key.pem" \
    --connections "$n" --rate "$RATE" --batch "$BATCH" --duration "$DURATION" --idle "$IDLE" \
    --storm-gap "$STORM_GAP" --coordinator-pid "$server_pid" --label "$label" \
    --json-out "$results" "$@" || echo "coordinator.sh: $label with $n connections missed (see above)" >&2
}

for n in $CONNECTIONS; do
  work=$(mktemp -d "${DB_DIR:-/tmp}/lifeboat-coordinator-bench.XXXXXX")
  "$coordinator" certs init "$work/tls" >/dev/null
  cat >"$work/coordinator.toml" <<EOF
database = "$work/events.db"

[agents]
listen = "127.0.0.1:0"
cert_file = "tls/coordinator.pem"
key_file = "tls/coordinator-key.pem"
client_ca_file = "tls/ca.pem"

[api]
listen = "127.0.0.1:0"
cert_file = "tls/coordinator.pem"
key_file = "tls/coordinator-key.pem"
EOF
  start_server "$work/coordinator.log" "$coordinator" serve --config "$work/coordinator.toml"
  run_load coordinator "$n" --database "$work/events.db"
  echo "   database: $(du -sh "$work"/events.db{,-wal,-shm} 2>/dev/null | awk '{print $1}' | paste -sd+) (db+wal+shm)" >&2
  cleanup

  if [[ $PEER == 1 ]]; then
    work=$(mktemp -d "${DB_DIR:-/tmp}/lifeboat-coordinator-bench.XXXXXX")
    "$coordinator" certs init "$work/tls" >/dev/null
    start_server "$work/baseline.log" "$load" baseline --listen 127.0.0.1:0 \
      --cert "$work/tls/coordinator.pem" --key "$work/tls/coordinator-key.pem" \
      --client-ca "$work/tls/ca.pem"
    run_load "baseline (ack only)" "$n"
    cleanup
  fi
done

/usr/bin/python3 - "$results" <<'PY' | tee "$out_dir/coordinator.md"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def f(v, d=0):
    return f"{v:,.{d}f}"
print("| server | N | connect s (handshakes/s, failures) | RSS before → N held (per conn.) | events/s acked (offered) | ack p50 / p99 / max ms | server CPU streaming | storm: events resent, all back in s / all acked in s | store: missing / duplicates | ok |")
print("|---|---:|---|---|---|---|---:|---|---|---|")
for r in rows:
    c, i, s, st, v = r["connect"], r["idle"], r["stream"], r["storm"], r["verify"]
    store = f'{v["missing"]} / {v["duplicates"]}' if v["store_checked"] else "not stored"
    print(f'| {r["label"]} | {f(r["connections"])} | {c["seconds"]:.1f} ({f(c["handshakes_per_s"])}, {c["failures"]}) '
          f'| {i["rss_before_kb"]/1024:.0f} → {i["rss_connected_kb"]/1024:.0f} MiB ({i["rss_per_connection_kb"]:.1f} KiB) '
          f'| {f(s["events_per_s"])} ({f(s["offered_events_per_s"])}) '
          f'| {s["ack_p50_ms"]:.1f} / {s["ack_p99_ms"]:.1f} / {s["ack_max_ms"]:.1f} '
          f'| {s["server_cpu_percent"]:.0f} % '
          f'| {f(st["events_to_resend"])}, {st["seconds_all_reconnected"]:.1f} / {st["seconds_all_acked"]:.1f} '
          f'| {store} | {"yes" if r["ok"] else "NO"} |')
PY
