#!/usr/bin/env bash
# The main job, end to end on this machine: install what is missing, build,
# start a local coordinator (mutual TLS, certificates from `certs init`), then
# run a failover DRILL of runbooks/web-standby-drill.toml against two small
# web servers on 127.0.0.1 (the shop's primary and standby), streaming every
# event to the coordinator, and print the RTO/RPO verdict, then what the
# coordinator stored and the drill's messages per audience (the
# coordinator's comms plan sends them to a webhook receiver on 127.0.0.1,
# tests/comms_channels/receiver.py). Exit status: lifeboat's (0 = objectives met; see the
# README's exit codes). DEMO_KEEP_COORDINATOR=1 leaves the coordinator
# running afterwards so the dashboard can be looked at.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target lifeboat lifeboat-coordinator file_plugin postgres_plugin haproxy_plugin dns_plugin

lifeboat=./build/bin/lifeboat
coordinator_bin=./build/bin/lifeboat-coordinator
site=/tmp/lifeboat-demo
state=$site/state
rm -rf "$site/primary" "$site/standby" "$site/coordinator" "$site/comms"
mkdir -p "$site/primary/orders" "$site/standby/orders" "$state" "$site/coordinator" "$site/comms"

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
coordinator_pid=
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n $coordinator_pid && ${DEMO_KEEP_COORDINATOR:-0} != 1 ]]; then
    kill "$coordinator_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
/usr/bin/python3 -m http.server 18081 --bind 127.0.0.1 --directory "$site/primary" \
  >"$site/primary.log" 2>&1 &
servers+=($!)
/usr/bin/python3 -m http.server 18082 --bind 127.0.0.1 --directory "$site/standby" \
  >"$site/standby.log" 2>&1 &
servers+=($!)

# Where the drill's messages go: a webhook receiver on 127.0.0.1 (a port the
# kernel picks; it checks each request's HMAC signature and records it). It
# exits when its stdin closes, that is when this script ends.
export DEMO_WEBHOOK_KEY=demo-$RANDOM$RANDOM$RANDOM
mkfifo "$site/comms/receiver.in"
/usr/bin/python3 tests/comms_channels/receiver.py --record "$site/comms/received.jsonl" \
  --webhook-key "$DEMO_WEBHOOK_KEY" <"$site/comms/receiver.in" >"$site/comms/receiver.port" \
  2>"$site/comms/receiver.log" &
servers+=($!)
exec 7>"$site/comms/receiver.in"
for _ in $(seq 100); do
  [[ -s $site/comms/receiver.port ]] && break
  sleep 0.1
done
[[ -s $site/comms/receiver.port ]] || {
  cat "$site/comms/receiver.log" >&2
  exit 1
}
receiver="http://127.0.0.1:$(head -n 1 "$site/comms/receiver.port")"

# The coordinator's communication plan for the demo (docs/communications.md):
# customers hear on the status page, in drills on a drill webhook instead;
# engineers hear for real even in drills; executives' drill messages are
# held and only listed.
cat >"$site/coordinator/comms.toml" <<PLAN
[services.shop-web]
display_name = "Example shop"
impact = "Shoppers cannot browse or order."

[channels.drill_hook]
kind = "webhook"
url = "$receiver/webhook/drill-observers"
secret = "\${secret:env:DEMO_WEBHOOK_KEY}"

[channels.engineers_hook]
kind = "webhook"
url = "$receiver/webhook/engineers"
secret = "\${secret:env:DEMO_WEBHOOK_KEY}"

[channels.executives_hook]
kind = "webhook"
url = "$receiver/webhook/executives"
secret = "\${secret:env:DEMO_WEBHOOK_KEY}"

[roles.incident_commander]
person = "Demo on-call"
channels = ["engineers_hook"]

[audiences.customers]
channels = ["status_page"]
drill_channels = ["drill_hook"]
external = true

[audiences.engineers]
channels = ["engineers_hook"]
drill = "real"

[audiences.executives]
channels = ["executives_hook"]
drill = "held"

[templates.opened]
subject = "{{service_name}}: failing over"
body = "{{impact}} Expected back by {{eta}}."

[templates.decision]
subject = "[{{service}}] decision needed: {{decision}}"
body = "Options: {{options}}."

[templates.restored]
subject = "{{service_name}} works again"
body = "Restored after {{elapsed}}."

[templates.notify]
subject = "[{{service}}] {{message}}"
body = "{{message}}"

[templates.resolved]
subject = "Resolved: {{service_name}}"
body = "RTO {{rto_measured}} (target {{rto_target}}), RPO {{rpo_measured}} (target {{rpo_target}})."

[[rules]]
on = "opened"
audiences = ["customers", "engineers", "executives"]
template = "opened"

[[rules]]
on = "decision"
audiences = ["engineers"]
template = "decision"

[[rules]]
on = "restored"
audiences = ["customers", "engineers", "executives"]
template = "restored"

[[rules]]
on = "notify"
audiences = ["engineers"]
template = "notify"

[[rules]]
on = "resolved"
audiences = ["customers", "engineers", "executives"]
template = "resolved"
PLAN

# The coordinator: a dev CA and certificates, a viewer token, the agents'
# endpoint and the API on loopback, and the comms plan above.
tls=$site/coordinator/tls
"$coordinator_bin" certs init "$tls" --agent demo-agent >/dev/null
"$coordinator_bin" token viewer demo >"$site/coordinator/token.txt"
token=$(head -n 1 "$site/coordinator/token.txt")
cat >"$site/coordinator/coordinator.toml" <<CONFIG
database = "events.db"

[agents]
listen = "127.0.0.1:18443"
cert_file = "tls/coordinator.pem"
key_file = "tls/coordinator-key.pem"
client_ca_file = "tls/ca.pem"

[api]
listen = "127.0.0.1:18444"
cert_file = "tls/coordinator.pem"
key_file = "tls/coordinator-key.pem"

$(tail -n +4 "$site/coordinator/token.txt")

[comms]
plan = "comms.toml"
CONFIG
"$coordinator_bin" serve --config "$site/coordinator/coordinator.toml" \
  >"$site/coordinator/stdout.log" 2>"$site/coordinator/coordinator.log" &
coordinator_pid=$!
for _ in $(seq 100); do
  grep -q '^listening:' "$site/coordinator/stdout.log" 2>/dev/null && break
  sleep 0.1
done
grep '^listening:' "$site/coordinator/stdout.log" || {
  cat "$site/coordinator/coordinator.log" >&2
  exit 1
}
cat >"$site/agent.toml" <<CONFIG
name = "demo-agent"
state_dir = "$state"
runbooks = []

[coordinator]
url = "wss://127.0.0.1:18443/v1/stream"
ca_file = "$tls/ca.pem"
cert_file = "$tls/agent-demo-agent.pem"
key_file = "$tls/agent-demo-agent-key.pem"
CONFIG

echo
echo "== lifeboat validate runbooks/*.toml"
"$lifeboat" validate runbooks/*.toml
echo
echo "== lifeboat drill runbooks/web-standby-drill.toml"
status=0
"$lifeboat" drill runbooks/web-standby-drill.toml --config "$site/agent.toml" \
  --decide approve=promote --rationale "quarterly failover drill" --approver sre-oncall ||
  status=$?
run=$("$lifeboat" runs --state-dir "$state" --output json |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["run"])')
"$lifeboat" report "$run" --state-dir "$state" --format html --out "$state/$run/report.html" >/dev/null 2>&1
"$lifeboat" report "$run" --state-dir "$state" --format junit --out "$state/$run/junit.xml" >/dev/null 2>&1
echo "  timeline: $state/$run/report.html"
echo "  JUnit:    $state/$run/junit.xml"
test -e "$site/standby/ACTIVE" && echo "warning: the drill's marker was left behind" >&2

echo
echo "== the coordinator's view of run $run (https://127.0.0.1:18444/api/v1/runs/demo-agent/$run)"
curl -sS --fail --cacert "$tls/ca.pem" -H "Authorization: Bearer $token" \
  "https://127.0.0.1:18444/api/v1/runs/demo-agent/$run" >"$site/coordinator/run.json"
/usr/bin/python3 - "$site/coordinator/run.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["run"]
def verdict(objective):
    return (objective or {}).get("verdict") or "not set"
print(f"  {run['events']} events stored; outcome {run['outcome']}; "
      f"RTO {verdict(run.get('rto'))}, RPO {verdict(run.get('rpo'))}")
for step in run["steps"]:
    print(f"  {step['id']:<22} {step['status'] or '-':<9} {step['duration_ms'] or 0:>6} ms")
PY

echo
echo "== the drill's messages per audience (https://127.0.0.1:18444/api/v1/messages)"
# The coordinator reads stored events within a second and sends at once:
# wait (at most 10 s) until the drill's incident is resolved and nothing is
# pending any more.
for _ in $(seq 100); do
  curl -sS --fail --cacert "$tls/ca.pem" -H "Authorization: Bearer $token" \
    "https://127.0.0.1:18444/api/v1/messages" >"$site/coordinator/messages.json"
  /usr/bin/python3 - "$site/coordinator/messages.json" <<'PY' && break
import json, sys
messages = json.load(open(sys.argv[1]))["messages"]
done = any(m["trigger"] == "resolved" for m in messages)
sys.exit(0 if done and not any(m["state"] == "pending" for m in messages) else 1)
PY
  sleep 0.1
done
/usr/bin/python3 - "$site/coordinator/messages.json" "$site/comms/received.jsonl" <<'PY'
import json, os, sys
messages = sorted(json.load(open(sys.argv[1]))["messages"], key=lambda m: (m["audience"], m["id"]))
received = 0
if os.path.exists(sys.argv[2]):
    received = sum(1 for line in open(sys.argv[2]) if json.loads(line)["status"] < 300)
rows = [(m["audience"], m["trigger"], m["state"],
         f"(would go to {m['would_go_to']})" if m["state"] == "held" else m["channel"],
         m["subject"]) for m in messages]
header = ("audience", "trigger", "state", "channel", "subject")
widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]
for row in [header] + rows:
    print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
print(f"  {received} delivered to the webhook receiver on 127.0.0.1 ({sys.argv[2]})")
PY
echo
echo "  dashboard: https://127.0.0.1:18444/  (token in $site/coordinator/token.txt;"
echo "             DEMO_KEEP_COORDINATOR=1 keeps the coordinator running)"
exit "$status"
