#!/usr/bin/env bash
# The main job, end to end on this machine: install what is missing, build,
# validate every sample runbook and show the plan of a failover drill.
# (Executing the drill arrives with the execution engine.)
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target lifeboat file_plugin

lifeboat=./build/bin/lifeboat
echo
echo "== lifeboat validate runbooks/*.toml"
"$lifeboat" validate runbooks/*.toml
echo
echo "== lifeboat plan runbooks/web-region-failover.toml"
"$lifeboat" plan runbooks/web-region-failover.toml
echo
echo "== lifeboat plan --drill runbooks/drill-config-restore.toml"
"$lifeboat" plan --drill runbooks/drill-config-restore.toml
