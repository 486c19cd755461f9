"""Driver of bench/watch.sh: see there. Only loopback; everything in a temp dir."""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

LIFEBOAT, OUTAGES, IDLE_SECONDS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
TICKS = os.sysconf("SC_CLK_TCK")


def parse_ts(text):
    # 2026-11-25T04:25:28.683Z -> epoch milliseconds
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000


def events(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


def wait(condition, timeout, what, log=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.01)
    detail = open(log).read()[-3000:] if log and os.path.exists(log) else ""
    raise SystemExit(f"watch_bench: timed out waiting for {what}\n{detail}")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (after the comm field)


def tree_ticks(pid):
    """CPU of a process and its children that were reaped (cutime, cstime)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15])


def rss_kib(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            values[key] = value.strip()
    return int(values["VmRSS"].split()[0]), int(values["VmHWM"].split()[0])


def detection(root):
    up = os.path.join(root, "up")
    open(up, "w").close()
    with open(os.path.join(root, "rb.toml"), "w") as f:
        f.write(f"""[runbook]
name = "bench-failover"
service = "bench"
[policy]
automatic = true
[[trigger]]
kind = "exec"
command = ["/bin/sh", "-c", "test -e {up}"]
interval = "100ms"
timeout = "100ms"
failures = 3
recoveries = 1
cooldown = "100ms"
[[step]]
id = "restore"
exec = ["/usr/bin/touch", "{up}"]
restores_service = true
""")
    with open(os.path.join(root, "agent.toml"), "w") as f:
        f.write(f'state_dir = "{root}/state"\n' +
                f'runbooks = ["{root}/rb.toml"]\n[failover_budget]\nmax_failovers = 100000\nwindow = "1s"\n[detector]\nflap_limit = 1000\n')
    daemon = subprocess.Popen([LIFEBOAT, "watch", "--config", f"{root}/agent.toml"],
                              stderr=open(f"{root}/daemon.log", "w"))
    journal = f"{root}/state/watch/events.jsonl"
    try:
        wait(lambda: any(e["type"] == "watch.started" for e in events(journal)), 20, "the daemon")
        latencies = []
        for n in range(OUTAGES):
            done_before = sum(e["type"] == "failover.finished" for e in events(journal))
            time.sleep(0.35)  # a few healthy checks first
            os.remove(up)
            wait(lambda: sum(e["type"] == "failover.finished" for e in events(journal)) > done_before,
                 20, "a failover", f"{root}/daemon.log")
            evs = events(journal)
            declared = [e for e in evs if e["type"] == "outage.declared"][-1]
            finished = [e for e in evs if e["type"] == "failover.finished"][-1]
            run = events(f"{root}/state/{finished['data']['run_id']}/journal.jsonl")
            first = next(e for e in run if e["type"] == "step.started")
            latencies.append(parse_ts(first["ts"]) - parse_ts(declared["ts"]))
            wait(lambda: os.path.exists(up), 5, "the step's effect")
        return latencies
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)


def shell_detection(root):
    """The floor: a shell loop polling the file, acting on the 3rd failure."""
    up = os.path.join(root, "up-shell")
    acted = os.path.join(root, "acted")
    open(up, "w").close()
    script = f"""
fails=0
while :; do
  if [ -e {up} ]; then fails=0; else fails=$((fails+1)); fi
  if [ $fails -eq 3 ]; then
    date +%s%N > {root}/declared; /bin/sh -c 'date +%s%N > {acted}; touch {up}'; fails=0
  fi
  sleep 0.1
done
"""
    loop = subprocess.Popen(["/bin/bash", "-c", script])
    latencies = []
    try:
        for n in range(OUTAGES):
            time.sleep(0.35)
            if os.path.exists(acted):
                os.remove(acted)
            os.remove(up)
            wait(lambda: os.path.exists(acted) and os.path.getsize(acted) > 0, 10, "the shell loop")
            time.sleep(0.01)
            declared = int(open(f"{root}/declared").read())
            started = int(open(acted).read())
            latencies.append((started - declared) / 1e6)
    finally:
        loop.kill()
        loop.wait()
    return latencies


class Listener:
    """Accepts and closes connections on 127.0.0.1 (what the tcp checks hit)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
                conn.close()
            except OSError:
                return


def idle(root, listener):
    books = os.path.join(root, "books")
    os.makedirs(books)
    for i in range(50):
        with open(os.path.join(books, f"s{i:02}.toml"), "w") as f:
            f.write(f"""[runbook]
name = "s{i:02}-failover"
service = "s{i:02}"
[[trigger]]
kind = "tcp"
host = "127.0.0.1"
port = {listener.port}
interval = "1s"
timeout = "500ms"
[[step]]
id = "noop"
exec = ["/bin/true"]
""")
    with open(os.path.join(root, "agent50.toml"), "w") as f:
        f.write(f'state_dir = "{root}/state50"\nrunbooks = ["{books}"]\n')
    daemon = subprocess.Popen([LIFEBOAT, "watch", "--config", f"{root}/agent50.toml"],
                              stderr=subprocess.DEVNULL)
    try:
        journal = f"{root}/state50/watch/events.jsonl"
        wait(lambda: any(e["type"] == "watch.started" for e in events(journal)), 30, "the daemon")
        time.sleep(3)  # first checks, warm-up
        before, start = cpu_ticks(daemon.pid), time.time()
        time.sleep(IDLE_SECONDS)
        used = (cpu_ticks(daemon.pid) - before) / TICKS
        elapsed = time.time() - start
        rss, hwm = rss_kib(daemon.pid)
        status = json.loads(subprocess.run([LIFEBOAT, "status", "--output", "json", "--config",
                                            f"{root}/agent50.toml"], capture_output=True,
                                           text=True, check=True).stdout)
        checks = sum(t["checks"] for s in status["services"] for t in s["triggers"])
        return used / elapsed * 100, rss, hwm, checks
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)


def shell_idle(listener):
    script = f"""
while :; do
  for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/{listener.port}) 2>/dev/null; done
  sleep 1
done
"""
    loop = subprocess.Popen(["/bin/bash", "-c", script])
    try:
        time.sleep(2)
        before, start = tree_ticks(loop.pid), time.time()
        time.sleep(IDLE_SECONDS)
        used = (tree_ticks(loop.pid) - before) / TICKS
        rss, _ = rss_kib(loop.pid)
        return used / (time.time() - start) * 100, rss
    finally:
        loop.kill()
        loop.wait()


def summary(values):
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered):.1f} | {p95:.1f} | {max(ordered):.1f}"


with tempfile.TemporaryDirectory(prefix="lifeboat-watch-bench-") as root:
    ours = detection(root)
    floor = shell_detection(root)
    listener = Listener()
    cpu, rss, hwm, checks = idle(root, listener)
    shell_cpu, shell_rss = shell_idle(listener)

print(f"### Detection to first step ({OUTAGES} outages; exec check every 100 ms, failures = 3)\n")
print("| what | median ms | p95 ms | max ms |")
print("|---|---|---|---|")
print(f"| lifeboat watch: declaring check -> first step.started (lock, journal, preflight included) | {summary(ours)} |")
print(f"| bash poller: 3rd failed poll -> action started | {summary(floor)} |")
print(f"\n### Watching 50 tcp checks, one a second ({IDLE_SECONDS} s)\n")
print("| what | CPU (% of one core) | RSS |")
print("|---|---|---|")
print(f"| lifeboat watch ({checks} checks done) | {cpu:.2f} % | {rss / 1024:.1f} MB (peak {hwm / 1024:.1f} MB) |")
print(f"| bash loop, same 50 checks (/dev/tcp, children included) | {shell_cpu:.2f} % | {shell_rss / 1024:.1f} MB |")
