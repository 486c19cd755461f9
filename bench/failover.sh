#!/usr/bin/env bash
# Failover benchmark, one command: bench/failover.sh
# The same PostgreSQL 15 pair (fresh primary, streaming standby) per round and
# contender, a client writing through the service endpoint every 20 ms, the
# primary's postmaster and children SIGKILLed; client-observed RTO (last
# acknowledged write before the kill -> first one after it) for:
#   - Lifeboat: `lifeboat watch` on runbooks/postgres-failover.toml (checks every
#     1 s and every 200 ms, 3 failures), with its phase timeline from the journal;
#   - a bare script (bench/failover/bare.sh): pg_isready, pg_ctl promote, HAProxy;
#   - Patroni 3.0.2 on etcd, defaults and tight timings, PostgreSQL killed with
#     Patroni alive, and Patroni killed too (the host dies).
# Everything on loopback (ports 20000-32000), in a temp folder per round, all
# stopped and removed at the end of each round (also on Ctrl-C or an error).
# Knobs: ROUNDS (5), CONTENDERS (comma list, default all: see
# bench/failover_bench.py), SETTLE (seconds of steady writes and checks before
# the kill, 2), KEEP=1 (keep each round's folder for debugging),
# LIFEBOAT_BIN (time an already built binary; the plugins are looked up beside it).
# Prints markdown tables (also bench/out/failover.md, raw figures in
# bench/out/failover.json); docs/benchmarks.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "failover.sh: run as root (PostgreSQL and Patroni are started as user postgres with runuser)" >&2
  exit 2
fi
if [[ -n "${LIFEBOAT_BIN:-}" ]]; then
  lifeboat=$(realpath "$LIFEBOAT_BIN")
else
  ./scripts/install-deps.sh
  cmake --preset default >/dev/null
  cmake --build --preset default --target lifeboat lifeboat-pg-canary postgres_plugin haproxy_plugin dns_plugin
  lifeboat=$PWD/build/bin/lifeboat
fi
mkdir -p bench/out
# The Debian python (psycopg2, Patroni's modules), not a pyenv one first on PATH.
LIFEBOAT_BIN=$lifeboat /usr/bin/python3 bench/failover_bench.py run bench/out | tee bench/out/failover.md
