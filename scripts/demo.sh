#!/usr/bin/env bash
# The main job, end to end on this machine: install what is missing, build,
# then run a failover DRILL of runbooks/web-standby-drill.toml against two
# small web servers on 127.0.0.1 (the shop's primary and standby), and print
# the RTO/RPO verdict. Exit status: lifeboat's (0 = objectives met; see the
# README's exit codes).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target lifeboat file_plugin postgres_plugin haproxy_plugin dns_plugin

lifeboat=./build/bin/lifeboat
site=/tmp/lifeboat-demo
state=$site/state
rm -rf "$site/primary" "$site/standby"
mkdir -p "$site/primary/orders" "$site/standby/orders" "$state"

# The primary took an order every 3 seconds for the last minute; the
# standby's copy lags: it lacks the orders of the last 12 seconds.
now=$(date +%s)
for ((t = now - 60; t <= now; t += 3)); do
  echo "order at $t" >"$site/primary/orders/$t"
  if ((t <= now - 12)); then cp "$site/primary/orders/$t" "$site/standby/orders/$t"; fi
done
echo ok >"$site/primary/health.txt"
echo ok >"$site/standby/health.txt"

servers=()
cleanup() { for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
/usr/bin/python3 -m http.server 18081 --bind 127.0.0.1 --directory "$site/primary" \
  >"$site/primary.log" 2>&1 &
servers+=($!)
/usr/bin/python3 -m http.server 18082 --bind 127.0.0.1 --directory "$site/standby" \
  >"$site/standby.log" 2>&1 &
servers+=($!)

echo
echo "== lifeboat validate runbooks/*.toml"
"$lifeboat" validate runbooks/*.toml
echo
echo "== lifeboat drill runbooks/web-standby-drill.toml"
status=0
"$lifeboat" drill runbooks/web-standby-drill.toml --state-dir "$state" \
  --decide approve=promote --rationale "quarterly failover drill" --approver sre-oncall ||
  status=$?
run=$("$lifeboat" runs --state-dir "$state" --output json |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["run"])')
"$lifeboat" report "$run" --state-dir "$state" --format html --out "$state/$run/report.html" >/dev/null 2>&1
"$lifeboat" report "$run" --state-dir "$state" --format junit --out "$state/$run/junit.xml" >/dev/null 2>&1
echo "  timeline: $state/$run/report.html"
echo "  JUnit:    $state/$run/junit.xml"
test -e "$site/standby/ACTIVE" && echo "warning: the drill's marker was left behind" >&2
exit "$status"
