#!/usr/bin/env bash
# `lifeboat watch` benchmark, one command: bench/watch.sh
# 1. Detection to first step: how long from the check that declares an
#    outage (the Nth failed one) to the start of the runbook's first step, over
#    repeated outages; next to a bare shell poller doing the same (poll a file
#    every 100 ms, act after 3 failures), the floor for any daemon.
# 2. Idle cost: the daemon's CPU share and RSS while it watches 50 services
#    (50 tcp checks, one a second, against a loopback listener), next to a
#    bash loop making the same 50 checks (bash's /dev/tcp) in the same run.
# Prints markdown tables (also bench/out/watch.md); docs/benchmarks.md has the
# figures. LIFEBOAT_BIN times an already built binary.
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
mkdir -p bench/out
python3 bench/watch_bench.py "$lifeboat" "${OUTAGES:-30}" "${IDLE_SECONDS:-30}" | tee bench/out/watch.md
