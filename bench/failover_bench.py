"""Driver of bench/failover.sh: see there. Loopback only; everything a round
starts lives in one temp folder and is killed and removed at the round's end.

    failover_bench.py run OUT_DIR      the benchmark (settings from the environment)
    failover_bench.py client DSN LOG   the writing client (started by `run`)
"""
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

PGBIN = "/usr/lib/postgresql/15/bin"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PG_USER = pwd.getpwnam("postgres")
# The pair for the bare script and Lifeboat: the primary on 127.0.0.1, the
# standby on 127.0.0.2 (so that the DNS record really changes).
STANDBY_HOST = "127.0.0.2"


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- helpers

def as_postgres(cmd):
    return ["runuser", "-u", "postgres", "--"] + [str(c) for c in cmd]


def run(cmd, timeout=120, check=True, env=None):
    cmd = [str(c) for c in cmd]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise BenchError(f"timed out after {timeout} s: {' '.join(cmd)}")
    if check and done.returncode != 0:
        raise BenchError(f"exit {done.returncode}: {' '.join(cmd)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def psql(port, sql, timeout=30, check=True, host="127.0.0.1"):
    done = run([f"{PGBIN}/psql", "-XAt", "-h", host, "-p", port, "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-c", sql], timeout=timeout, check=check)
    return done.stdout.strip()


def wait_for(condition, timeout, what, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(0.05)
    detail = ""
    if log and os.path.exists(log):
        with open(log, errors="replace") as f:
            detail = "\n" + f.read()[-3000:]
    raise BenchError(f"timed out after {timeout} s waiting for {what}{detail}")


def http_status(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def port_free(port):
    for address in ("127.0.0.1", STANDBY_HOST):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((address, port))
            except OSError:
                return False
            finally:
                s.close()
    return True


def free_ports(count):
    """A run of free loopback ports below the kernel's outgoing range."""
    for _ in range(2000):
        base = random.randint(20000, 32000 - count)
        if all(port_free(p) for p in range(base, base + count)):
            return list(range(base, base + count))
    raise BenchError("no free run of loopback ports")


def proc_table():
    """pid -> (ppid, cmdline) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        table[int(entry)] = (ppid, cmdline)
    return table


def with_descendants(roots, table=None):
    table = table or proc_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [p for p in roots if p in table]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def postmaster_pid(data_dir):
    with open(os.path.join(data_dir, "postmaster.pid")) as f:
        return int(f.readline())


def pg_ready(port):
    return run([f"{PGBIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", port, "-t", "1"],
               timeout=5, check=False).returncode == 0


def parse_ts_ns(text):
    # 2026-11-25T04:25:28.683Z -> epoch nanoseconds
    stamp = datetime.strptime(text.replace("+00:00", "Z"), "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(stamp.replace(tzinfo=timezone.utc).timestamp() * 1000) * 1_000_000


def events(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------- one round's site

class Site:
    """One round of one contender: a folder, ports, and every process started
    for it. cleanup() kills them all (process groups, anything whose command
    line names the folder, and their descendants) and removes the folder."""

    PORT_NAMES = ["pg1", "pg2", "haproxy", "haproxy_admin", "dns", "etcd", "etcd_peer", "api1", "api2"]

    def __init__(self, root, name):
        self.dir = tempfile.mkdtemp(prefix=f"{name}-", dir=root)
        os.chmod(self.dir, 0o755)
        self.procs = []
        self.ports = dict(zip(self.PORT_NAMES, map(str, free_ports(len(self.PORT_NAMES)))))
        self.sock_dir = self.path("sock")
        os.makedirs(self.sock_dir)
        os.chown(self.sock_dir, PG_USER.pw_uid, PG_USER.pw_gid)
        self.pg_logs = self.path("pglogs")  # PostgreSQL writes its logs as postgres
        os.makedirs(self.pg_logs)
        os.chown(self.pg_logs, PG_USER.pw_uid, PG_USER.pw_gid)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def spawn(self, name, cmd, env=None):
        log = open(self.path(f"{name}.log"), "ab")
        proc = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
        log.close()
        self.procs.append(proc)
        return proc

    def ours(self):
        table = proc_table()
        roots = [p.pid for p in self.procs]
        roots += [pid for pid, (_, cmdline) in table.items() if self.dir in cmdline and pid != os.getpid()]
        return with_descendants(roots, table)

    def cleanup(self):
        for _ in range(3):
            for proc in self.procs:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
            pids = self.ours()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for proc in self.procs:
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            deadline = time.monotonic() + 5
            while pids and time.monotonic() < deadline:
                pids = {p for p in pids if os.path.exists(f"/proc/{p}") and not zombie(p)}
                time.sleep(0.05)
            if not self.ours():
                break
        if os.environ.get("KEEP"):
            print(f"  kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# ---------------------------------------------------------------- PostgreSQL pair, HAProxy, BIND9, etcd

PG_CONF = """
listen_addresses = '{host}'
port = {port}
unix_socket_directories = '{sock}'
max_connections = 50
shared_buffers = 32MB
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on
wal_retrieve_retry_interval = '200ms'
logging_collector = off
"""


def pg_pair(site):
    """A fresh primary (initdb --data-checksums) and a streaming standby
    (pg_basebackup -R), both running. Returns (primary_dir, standby_dir)."""
    primary, standby = site.path("primary"), site.path("standby")
    p1, p2 = site.ports["pg1"], site.ports["pg2"]
    for data_dir in (primary, standby):
        os.makedirs(data_dir, mode=0o700)
        os.chown(data_dir, PG_USER.pw_uid, PG_USER.pw_gid)
    run(as_postgres([f"{PGBIN}/initdb", "-D", primary, "--data-checksums", "-U", "postgres",
                     "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]))
    with open(os.path.join(primary, "postgresql.conf"), "a") as f:
        f.write(PG_CONF.format(host="127.0.0.1", port=p1, sock=site.sock_dir))
    with open(os.path.join(primary, "pg_hba.conf"), "a") as f:
        f.write("host all all 127.0.0.0/8 trust\nhost replication all 127.0.0.0/8 trust\n")
    run(as_postgres([f"{PGBIN}/pg_ctl", "-D", primary, "-l", site.path("pglogs", "primary.log"), "-w", "start"]))
    run(as_postgres([f"{PGBIN}/pg_basebackup", "-h", "127.0.0.1", "-p", p1, "-U", "postgres", "-D", standby,
                     "-R", "-X", "stream", "-C", "-S", "standby", "--no-sync"]))
    with open(os.path.join(standby, "postgresql.conf"), "a") as f:
        f.write(f"listen_addresses = '{STANDBY_HOST}'\nport = {p2}\n")
    run(as_postgres([f"{PGBIN}/pg_ctl", "-D", standby, "-l", site.path("pglogs", "standby.log"), "-w", "start"]))
    wait_for(lambda: psql(p1, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1",
             30, "the standby to stream", site.path("pglogs", "standby.log"))
    psql(p1, "CREATE TABLE bench (n bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")
    return primary, standby


def haproxy(site, patroni=False):
    """HAProxy in front of the pair. Switched by an orchestrator: the standby
    starts in maintenance, no health checks (the orchestrator decides).
    Patroni: both servers, health-checked on Patroni's REST API (GET /primary)."""
    conf = site.path("haproxy.cfg")
    socket_path = site.path("haproxy.sock")
    p1, p2 = site.ports["pg1"], site.ports["pg2"]
    if patroni:
        backend = f"""  option httpchk GET /primary
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
  server pg1 127.0.0.1:{p1} check port {site.ports['api1']}
  server pg2 127.0.0.1:{p2} check port {site.ports['api2']}
"""
    else:
        backend = f"""  server primary 127.0.0.1:{p1}
  server standby {STANDBY_HOST}:{p2} disabled
"""
    with open(conf, "w") as f:
        f.write(f"""global
  stats socket {socket_path} mode 600 level admin
  stats socket ipv4@127.0.0.1:{site.ports['haproxy_admin']} level admin
defaults
  mode tcp
  retries 0
  timeout connect 1s
  timeout client 30m
  timeout server 30m
frontend fe
  bind 127.0.0.1:{site.ports['haproxy']}
  default_backend pg
backend pg
{backend}""")
    site.spawn("haproxy", ["/usr/sbin/haproxy", "-db", "-f", conf])

    def listening():
        with socket.create_connection(("127.0.0.1", int(site.ports["haproxy_admin"])), timeout=1):
            return True
    wait_for(listening, 15, "HAProxy", site.path("haproxy.log"))
    return socket_path


def haproxy_command(site, command):
    with socket.create_connection(("127.0.0.1", int(site.ports["haproxy_admin"])), timeout=2) as s:
        s.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


DNS_ZONE = "db.bench.test"
DNS_KEY_NAME = "lifeboat-bench"


def bind9(site):
    """named on a loopback port with one zone that a TSIG key may update.
    Returns the key's secret (base64)."""
    dns_dir = site.path("dns")
    os.makedirs(dns_dir)
    secret = __import__("base64").b64encode(os.urandom(32)).decode()
    with open(os.path.join(dns_dir, "zone.db"), "w") as f:
        f.write(f"""$TTL 30
@ IN SOA ns.{DNS_ZONE}. admin.{DNS_ZONE}. 1 60 60 600 30
@ IN NS ns.{DNS_ZONE}.
ns IN A 127.0.0.1
orders IN A 127.0.0.1
""")
    conf = os.path.join(dns_dir, "named.conf")
    with open(conf, "w") as f:
        f.write(f"""options {{
  directory "{dns_dir}";
  pid-file "{dns_dir}/named.pid";
  session-keyfile "{dns_dir}/session.key";
  listen-on port {site.ports['dns']} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion no;
  dnssec-validation no;
}};
controls {{ }};
key "{DNS_KEY_NAME}" {{ algorithm hmac-sha256; secret "{secret}"; }};
zone "{DNS_ZONE}" {{ type primary; file "{dns_dir}/zone.db"; allow-update {{ key "{DNS_KEY_NAME}"; }}; }};
""")
    site.spawn("named", ["/usr/sbin/named", "-g", "-4", "-c", conf])
    wait_for(lambda: run(["dig", "+short", "+time=1", "+tries=1", "-p", site.ports["dns"], "@127.0.0.1",
                          f"orders.{DNS_ZONE}", "A"], timeout=5, check=False).stdout.strip() == "127.0.0.1",
             20, "named", site.path("named.log"))
    return secret


def etcd(site):
    c, p = site.ports["etcd"], site.ports["etcd_peer"]
    site.spawn("etcd", ["/usr/bin/etcd", "--name", "e1", "--data-dir", site.path("etcd"),
                        "--listen-client-urls", f"http://127.0.0.1:{c}",
                        "--advertise-client-urls", f"http://127.0.0.1:{c}",
                        "--listen-peer-urls", f"http://127.0.0.1:{p}",
                        "--initial-advertise-peer-urls", f"http://127.0.0.1:{p}",
                        "--initial-cluster", f"e1=http://127.0.0.1:{p}",
                        "--listen-metrics-urls", "", "--log-level", "warn"])
    wait_for(lambda: http_status(f"http://127.0.0.1:{c}/health") == 200, 20, "etcd", site.path("etcd.log"))


# ---------------------------------------------------------------- the client and the measurement

def client_main(dsn, log_path, interval=0.02):
    """Writes one row per interval through DSN; logs each attempt:
    `ok START_NS ACK_NS N` or `err START_NS END_NS N message`."""
    import psycopg2
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    conn, n = None, 0
    with open(log_path, "w", buffering=1) as log:
        while not stop:
            n += 1
            start = time.time_ns()
            try:
                if conn is None:
                    conn = psycopg2.connect(dsn)
                    conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO bench (n) VALUES (%s)", (n,))
                log.write(f"ok {start} {time.time_ns()} {n}\n")
            except Exception as e:  # any failure: drop the connection, try again
                message = (str(e).strip().splitlines() or [""])[0]
                log.write(f"err {start} {time.time_ns()} {n} {type(e).__name__}: {message}\n")
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
                conn = None
            time.sleep(max(0.0, start / 1e9 + interval - time.time()))


def client_dsn(port):
    return (f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=2 "
            "tcp_user_timeout=1000 application_name=bench-client")


def read_client(log_path):
    oks, errs = [], []
    with open(log_path) as f:
        for line in f:
            if not line.endswith("\n"):
                continue
            parts = line.split(" ", 4)
            if parts[0] == "ok":
                oks.append((int(parts[1]), int(parts[2]), int(parts[3])))
            else:
                errs.append((int(parts[1]), int(parts[2]), int(parts[3]), parts[4].strip() if len(parts) > 4 else ""))
    return oks, errs


class Client:
    def __init__(self, site, port):
        self.log = site.path("client.log")
        self.proc = site.spawn("client-stderr", ["/usr/bin/python3", os.path.abspath(__file__), "client",
                                                 client_dsn(port), self.log])

    def acks(self):
        try:
            return read_client(self.log)[0]
        except FileNotFoundError:
            return []

    def wait_steady(self, count=50, timeout=30):
        wait_for(lambda: len(self.acks()) >= count, timeout, "the client's first writes")

    def recovered_after(self, t_killed):
        return any(start >= t_killed for start, _, _ in self.acks())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def measure(client_log, t_kill, t_killed):
    """Client-observed RTO: first acknowledged write begun after the kill
    minus the last acknowledged write before it; and kill -> that first ack."""
    oks, errs = read_client(client_log)
    after = [ack for start, ack, _ in oks if start >= t_killed]
    if not after:
        return None
    first = min(after)
    before = [ack for start, ack, _ in oks if start < t_kill and ack < first]
    last = max(before)
    failed = sum(1 for start, _, _, _ in errs if start >= t_kill - 1_000_000_000)
    return {"rto_ms": (first - last) / 1e6, "kill_to_first_ms": (first - t_kill) / 1e6,
            "last_ack_before_ns": last, "first_ack_after_ns": first, "failed_attempts": failed,
            "acked": len(oks)}


def lost_writes(client_log, port, host="127.0.0.1"):
    """Acknowledged writes missing on the new primary (async replication)."""
    oks, _ = read_client(client_log)
    present = set(int(x) for x in psql(port, "SELECT n FROM bench", host=host).split())
    return sum(1 for _, _, n in oks if n not in present)


def sigkill(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def kill_postgres(data_dir):
    """SIGKILL the postmaster and all its children, together. Returns
    (t_kill, t_killed) in epoch ns: before the first and after the last kill."""
    pids = with_descendants([postmaster_pid(data_dir)])
    t_kill = time.time_ns()
    sigkill(pids)
    return t_kill, time.time_ns(), pids


# ---------------------------------------------------------------- contenders

def bare_marks(log_path):
    marks = []
    with open(log_path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit() and line.endswith("\n"):
                marks.append((parts[0], int(parts[1])))
    return marks


def wait_until_phase(anchor_ns, period_ns, phase):
    """Sleeps until anchor + k periods + phase of a period (the first such
    time at least 50 ms ahead): the kill lands at a chosen point between two
    checks, the same points for every contender over the rounds."""
    now = time.time_ns() + 50_000_000
    k = max(0, -(-(now - anchor_ns - int(phase * period_ns)) // period_ns))
    target = anchor_ns + k * period_ns + int(phase * period_ns)
    time.sleep(max(0.0, (target - time.time_ns()) / 1e9))


def bare(site, interval, settle, phase):
    primary, standby = pg_pair(site)
    haproxy(site)
    client = Client(site, site.ports["haproxy"])
    client.wait_steady()
    script = site.spawn("bare", ["/bin/bash", os.path.join(HERE, "failover", "bare.sh"), site.ports["pg1"],
                                 standby, interval, "3", site.ports["haproxy_admin"]])
    time.sleep(settle)
    polls = [t for kind, t in bare_marks(site.path("bare.log")) if kind == "poll"]
    wait_until_phase(polls[-1], polls[-1] - polls[-2], phase)
    t_kill, t_killed, _ = kill_postgres(primary)
    wait_for(lambda: client.recovered_after(t_killed), 60, "the client to write again", site.path("bare.log"))
    time.sleep(1)
    client.stop()
    script.wait(10)
    result = measure(client.log, t_kill, t_killed)
    marks = {kind: t for kind, t in bare_marks(site.path("bare.log")) if t >= t_kill}
    result["first_failed_check_ms"] = (marks["failed"] - t_kill) / 1e6
    result["failed_check_to_first_ms"] = (result["first_ack_after_ns"] - marks["failed"]) / 1e6
    result["phases"] = {
        "detection (kill -> acting)": (marks["detected"] - t_kill) / 1e6,
        "of which after the first failed check": (marks["detected"] - marks["failed"]) / 1e6,
        "promote": (marks["promoted"] - marks["detected"]) / 1e6,
        "switch": (marks["switched"] - marks["promoted"]) / 1e6,
    }
    result["lost_writes"] = lost_writes(client.log, site.ports["pg2"], STANDBY_HOST)
    return result


# ---------------------------------------------------------------- Lifeboat

LIFEBOAT = os.environ.get("LIFEBOAT_BIN", os.path.join(REPO, "build", "bin", "lifeboat"))
RUNBOOK = os.environ.get("FAILOVER_RUNBOOK", os.path.join(REPO, "runbooks", "postgres-failover.toml"))


def toml_value(value):
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def site_runbook(source, variables, trigger):
    """The runbook with [vars] set to this site and the [[trigger]]'s timing
    replaced (unless it reads them from [vars]). Returns the text."""
    out, table = [], None
    key_line = re.compile(r"^(\s*)([A-Za-z0-9_-]+)(\s*=\s*)(.*)$")
    for line in source.splitlines():
        header = re.match(r"^\s*\[\[?([^\]]+)\]\]?\s*(#.*)?$", line)
        if header:
            table = header.group(1).strip()
        else:
            m = key_line.match(line)
            if m and table == "vars" and m.group(2) in variables:
                line = f"{m.group(1)}{m.group(2)}{m.group(3)}{toml_value(variables[m.group(2)])}"
            elif m and table == "trigger" and m.group(2) in trigger and "${" not in m.group(4):
                line = f"{m.group(1)}{m.group(2)}{m.group(3)}{toml_value(trigger[m.group(2)])}"
        out.append(line)
    return "\n".join(out) + "\n"


def lifeboat(site, interval_ms, settle, phase):
    bin_dir = os.path.dirname(LIFEBOAT)
    canary_bin = os.path.join(bin_dir, "lifeboat-pg-canary")
    primary, standby = pg_pair(site)
    socket_path = haproxy(site)
    secret = bind9(site)
    p1, p2 = site.ports["pg1"], site.ports["pg2"]
    service_dsn = f"host=127.0.0.1 port={site.ports['haproxy']} user=postgres dbname=postgres"
    interval = f"{interval_ms}ms"
    variables = {
        "primary_dsn": f"host=127.0.0.1 port={p1} user=postgres dbname=postgres",
        "primary_data_dir": primary,
        "standby_dsn": f"host={STANDBY_HOST} port={p2} user=postgres dbname=postgres",
        "service_dsn": service_dsn,
        "haproxy_socket": socket_path,
        "haproxy_backend": "pg",
        "primary_server": "primary",
        "standby_server": "standby",
        "dns_server": "127.0.0.1",
        "dns_port": int(site.ports["dns"]),
        "dns_zone": DNS_ZONE,
        "dns_key_name": DNS_KEY_NAME,
        "record": "orders",
        "standby_address": STANDBY_HOST,
        "canary_state": site.path("canary.json"),
        "check_interval": interval,
        "check_failures": 3,
    }
    trigger = {"interval": interval, "timeout": f"{min(interval_ms, 1000)}ms", "failures": 3}
    with open(RUNBOOK) as f:
        text = site_runbook(f.read(), variables, trigger)
    runbook = site.path("postgres-failover.toml")
    with open(runbook, "w") as f:
        f.write(text)
    state = site.path("state")
    with open(site.path("agent.toml"), "w") as f:
        f.write(f'name = "bench"\nstate_dir = "{state}"\nrunbooks = ["{runbook}"]\n')
    env = dict(os.environ, LIFEBOAT_DNS_KEY=secret)
    run([LIFEBOAT, "watch", "--check", "--config", site.path("agent.toml")], env=env, timeout=60)
    site.spawn("canary", [canary_bin, "--dsn", service_dsn, "--state", site.path("canary.json"),
                          "--interval", "200ms"])
    client = Client(site, site.ports["haproxy"])
    daemon = site.spawn("watch", [LIFEBOAT, "watch", "--config", site.path("agent.toml")], env=env)
    watch_log = os.path.join(state, "watch", "events.jsonl")
    wait_for(lambda: any(e["type"] == "watch.started" for e in events(watch_log)), 30, "lifeboat watch",
             site.path("watch.log"))
    client.wait_steady()
    wait_for(lambda: os.path.exists(site.path("canary.json")), 20, "the canary", site.path("canary.log"))
    time.sleep(max(settle, 4 * interval_ms / 1000))
    watch_started = next(e for e in events(watch_log) if e["type"] == "watch.started")
    wait_until_phase(parse_ts_ns(watch_started["ts"]), interval_ms * 1_000_000, phase)
    if any(e["type"] in ("outage.declared", "failover.started") for e in events(watch_log)):
        raise BenchError("lifeboat watch declared an outage before the kill: " + json.dumps(events(watch_log)[-3:]))
    t_kill, t_killed, _ = kill_postgres(primary)
    wait_for(lambda: client.recovered_after(t_killed), 60, "the client to write again", site.path("watch.log"))
    wait_for(lambda: any(e["type"] == "failover.finished" for e in events(watch_log)), 60,
             "the failover run to finish", site.path("watch.log"))
    time.sleep(1)
    client.stop()
    daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(20)
    except subprocess.TimeoutExpired:
        pass
    result = measure(client.log, t_kill, t_killed)
    result["lost_writes"] = lost_writes(client.log, p2, STANDBY_HOST)
    finished = [e for e in events(watch_log) if e["type"] == "failover.finished"][-1]
    run_id = finished["data"].get("run_id")
    result["outcome"] = finished["data"].get("outcome")
    journal = None
    for candidate in (os.path.join(state, run_id, "journal.jsonl"), os.path.join(state, "runs", run_id, "journal.jsonl")):
        if os.path.exists(candidate):
            journal = candidate
    if journal is None:
        raise BenchError(f"no journal for run {run_id} in {state}")
    result.update(lifeboat_timeline(events(journal), t_kill))
    run_started = next(e for e in events(journal) if e["type"] == "run.started")
    outage_start = parse_ts_ns(run_started["data"]["outage_start"])
    result["phases"]["run.started -> client's first ack"] = \
        (result["first_ack_after_ns"] - parse_ts_ns(run_started["ts"])) / 1e6
    result["first_failed_check_ms"] = (outage_start - t_kill) / 1e6
    result["failed_check_to_first_ms"] = (result["first_ack_after_ns"] - outage_start) / 1e6
    shutil.copy(journal, os.path.join(OUT_DIR, f"journal-{os.path.basename(site.dir)}.jsonl"))
    return result


STEP_PHASES = [("fence", "fence"), ("promote", "promote"), ("data-loss", "data loss"),
               ("switch-traffic", "switch HAProxy"), ("move-dns", "DNS update"),
               ("verify-writes", "verify writes"), ("verify-dns", "verify DNS")]


def lifeboat_timeline(journal, t_kill):
    """Phases in ms from the run's journal: detection (kill -> run.started, and
    first failed check -> run.started), each step (first step.started ->
    step.finished), the report's RTO, PostgreSQL's promote time and the
    orchestration overhead (RTO - detection - promote)."""
    started = next(e for e in journal if e["type"] == "run.started")
    run_start = parse_ts_ns(started["ts"])
    outage_start = parse_ts_ns(started["data"]["outage_start"])
    phases = {"detection (kill -> run.started)": (run_start - t_kill) / 1e6,
              "of which after the first failed check": (run_start - outage_start) / 1e6}
    first_start, finish, outputs = {}, {}, {}
    for e in journal:
        step = e.get("step")
        if e["type"] == "step.started" and e["data"].get("phase", "main") == "main":
            first_start.setdefault(step, parse_ts_ns(e["ts"]))
        elif e["type"] == "step.finished" and e["data"].get("phase", "main") == "main":
            finish[step] = parse_ts_ns(e["ts"])
            outputs[step] = e["data"]
    for step, label in STEP_PHASES:
        if step in first_start and step in finish:
            phases[label] = (finish[step] - first_start[step]) / 1e6
    result = {"phases": phases, "steps": {k: v.get("status") for k, v in outputs.items()}}
    rto = [e for e in journal if e["type"] == "objective.evaluated" and e["data"].get("objective") == "rto"]
    rpo = [e for e in journal if e["type"] == "objective.evaluated" and e["data"].get("objective") == "rpo"]
    promote_ms = outputs.get("promote", {}).get("outputs", {}).get("promote_ms")
    if promote_ms is None and "promote" in phases:
        promote_ms = phases["promote"]
    if promote_ms is not None:
        phases["PostgreSQL promote (promote_ms)"] = float(promote_ms)
    if rto and "value_ms" in rto[-1]["data"]:
        rto_ms = rto[-1]["data"]["value_ms"]
        phases["RTO (report: first failed check -> restored)"] = rto_ms
        if promote_ms is not None:
            phases["orchestration overhead (RTO - detection - promote)"] = \
                rto_ms - (run_start - outage_start) / 1e6 - float(promote_ms)
        result["rto_verdict"] = rto[-1]["data"].get("verdict")
    if rpo and "value_ms" in rpo[-1]["data"]:
        result["rpo_ms"] = rpo[-1]["data"]["value_ms"]
    return result


PATRONI_SETTINGS = {
    "defaults": {"ttl": 30, "loop_wait": 10, "retry_timeout": 10},
    "tight": {"ttl": 10, "loop_wait": 2, "retry_timeout": 3},
}


def patroni_config(site, member, settings):
    index = member[-1]
    data_dir = site.path("patroni", member)
    pg_port, api_port = site.ports[f"pg{index}"], site.ports[f"api{index}"]
    conf = {
        "scope": "bench", "name": member,
        "log": {"level": "INFO"},
        "restapi": {"listen": f"127.0.0.1:{api_port}", "connect_address": f"127.0.0.1:{api_port}"},
        "etcd3": {"hosts": [f"127.0.0.1:{site.ports['etcd']}"]},
        "bootstrap": {
            "dcs": dict(settings, maximum_lag_on_failover=1048576,
                        postgresql={"use_pg_rewind": False, "use_slots": True,
                                    "parameters": {"wal_retrieve_retry_interval": "200ms",
                                                   "max_wal_senders": 5, "max_replication_slots": 5,
                                                   "hot_standby": "on"}}),
            "initdb": ["data-checksums", {"encoding": "UTF8"}, {"locale": "C"}],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{pg_port}", "connect_address": f"127.0.0.1:{pg_port}",
            "data_dir": data_dir, "bin_dir": PGBIN, "pgpass": site.path("patroni", f"pgpass-{member}"),
            "authentication": {"superuser": {"username": "postgres", "password": "bench"},
                               "replication": {"username": "replicator", "password": "bench"}},
            "parameters": {"unix_socket_directories": site.sock_dir, "shared_buffers": "32MB",
                           "max_connections": 50},
            "pg_hba": ["local all all trust", "host all all 127.0.0.1/32 trust",
                       "host replication all 127.0.0.1/32 trust"],
        },
    }
    path = site.path(f"patroni-{member}.yml")
    with open(path, "w") as f:
        json.dump(conf, f, indent=1)  # JSON is YAML
    os.chmod(path, 0o644)
    return path, data_dir


def patroni(site, settings, host_dies, settle, phase):
    etcd(site)
    os.makedirs(site.path("patroni"), mode=0o700)
    os.chown(site.path("patroni"), PG_USER.pw_uid, PG_USER.pw_gid)
    conf1, data1 = patroni_config(site, "pg1", PATRONI_SETTINGS[settings])
    conf2, data2 = patroni_config(site, "pg2", PATRONI_SETTINGS[settings])
    api1, api2 = site.ports["api1"], site.ports["api2"]
    site.spawn("patroni-pg1", as_postgres(["/usr/bin/python3", "/usr/bin/patroni", conf1]))
    wait_for(lambda: http_status(f"http://127.0.0.1:{api1}/primary") == 200, 90, "Patroni pg1 to lead",
             site.path("patroni-pg1.log"))
    site.spawn("patroni-pg2", as_postgres(["/usr/bin/python3", "/usr/bin/patroni", conf2]))
    wait_for(lambda: http_status(f"http://127.0.0.1:{api2}/replica") == 200, 120, "Patroni pg2 to replicate",
             site.path("patroni-pg2.log"))
    wait_for(lambda: psql(site.ports["pg1"], "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
             == "1", 30, "pg2 to stream")
    psql(site.ports["pg1"], "CREATE TABLE bench (n bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")
    haproxy(site, patroni=True)
    wait_for(lambda: "pg1" in haproxy_command(site, "show servers state pg").split("\n")[2]
             and haproxy_command(site, "show servers state pg").split("\n")[2].split()[5] == "2",
             20, "HAProxy to see pg1 up")
    client = Client(site, site.ports["haproxy"])
    client.wait_steady()
    # Patroni's members run their loop every loop_wait seconds: the kill lands
    # at this round's point of one loop after the settling time.
    time.sleep(settle + phase * PATRONI_SETTINGS[settings]["loop_wait"])
    victims = with_descendants([postmaster_pid(data1)])
    if host_dies:
        table = proc_table()
        daemons = [pid for pid, (_, cmdline) in table.items() if "/usr/bin/patroni" in cmdline and conf1 in cmdline]
        victims |= with_descendants(daemons, table)
    t_kill = time.time_ns()
    sigkill(victims)
    t_killed = time.time_ns()
    limit = PATRONI_SETTINGS[settings]["ttl"] * 3 + 30
    wait_for(lambda: client.recovered_after(t_killed), limit, "the client to write again",
             site.path("patroni-pg2.log"))
    time.sleep(1)
    client.stop()
    result = measure(client.log, t_kill, t_killed)
    leader = "pg2" if http_status(f"http://127.0.0.1:{api2}/primary") == 200 else "pg1"
    result["new_primary"] = leader
    result["patroni_alive"] = http_status(f"http://127.0.0.1:{api1}/health") is not None
    result["lost_writes"] = lost_writes(client.log, site.ports["pg2" if leader == "pg2" else "pg1"])
    promoted = patroni_promoted_at(site.path(f"patroni-{leader}.log"), t_kill)
    if promoted:
        result["phases"] = {"kill -> Patroni promotes (its log)": (promoted - t_kill) / 1e6,
                            "-> first write (PostgreSQL, HAProxy check)": (result["first_ack_after_ns"] - promoted) / 1e6}
    return result


def patroni_promoted_at(log_path, after_ns):
    """Epoch ns of Patroni's first `promoted self to leader` line after the kill."""
    pattern = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO: promoted self to leader")
    with open(log_path, errors="replace") as f:
        for line in f:
            m = pattern.match(line)
            if m:
                at = int(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp() * 1000) * 1_000_000
                if at >= after_ns - 1_000_000:
                    return at
    return None


# ---------------------------------------------------------------- the run

def contenders():
    table = {
        "lifeboat-1s": lambda site, phase: lifeboat(site, 1000, SETTLE, phase),
        "lifeboat-200ms": lambda site, phase: lifeboat(site, 200, SETTLE, phase),
        "bare-1s": lambda site, phase: bare(site, "1", SETTLE, phase),
        "bare-200ms": lambda site, phase: bare(site, "0.2", SETTLE, phase),
        "patroni-defaults-pg": lambda site, phase: patroni(site, "defaults", False, SETTLE, phase),
        "patroni-defaults-host": lambda site, phase: patroni(site, "defaults", True, SETTLE, phase),
        "patroni-tight-pg": lambda site, phase: patroni(site, "tight", False, SETTLE, phase),
        "patroni-tight-host": lambda site, phase: patroni(site, "tight", True, SETTLE, phase),
    }
    return table


SETTLE = float(os.environ.get("SETTLE", "2"))
OUT_DIR = os.path.join(REPO, "bench", "out")


def main_run(out_dir):
    global OUT_DIR
    OUT_DIR = out_dir
    rounds = int(os.environ.get("ROUNDS", "5"))
    table = contenders()
    chosen = os.environ.get("CONTENDERS", "").split(",") if os.environ.get("CONTENDERS") else list(table)
    for name in chosen:
        if name not in table:
            raise SystemExit(f"failover_bench: unknown contender {name!r}; known: {', '.join(table)}")
    os.makedirs(out_dir, exist_ok=True)
    root = tempfile.mkdtemp(prefix="lifeboat-failover-bench-", dir="/tmp")
    os.chmod(root, 0o755)
    results = {name: [] for name in chosen}
    started = time.time()
    before = environment()
    stop = []

    def on_signal(signum, _frame):
        if not stop:  # once: a second Ctrl-C must not cut the cleanup short
            stop.append(signum)
            raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Where between two checks the kill lands: evenly spread over the rounds,
    # in a shuffled order, the same point for every contender in a round.
    phases = [(r + 0.5) / rounds for r in range(rounds)]
    random.Random(rounds).shuffle(phases)
    try:
        for r in range(1, rounds + 1):
            for name in chosen:
                site = Site(root, name)
                t0 = time.monotonic()
                try:
                    result = table[name](site, phases[r - 1])
                    result["round"] = r
                    result["phase"] = phases[r - 1]
                    results[name].append(result)
                    print(f"round {r} {name}: client RTO {result['rto_ms']:.0f} ms, kill -> first write "
                          f"{result['kill_to_first_ms']:.0f} ms, lost {result.get('lost_writes')} "
                          f"({time.monotonic() - t0:.0f} s)", file=sys.stderr, flush=True)
                except BenchError as e:
                    results[name].append({"round": r, "error": str(e)})
                    print(f"round {r} {name}: FAILED: {e}", file=sys.stderr, flush=True)
                finally:
                    site.cleanup()
    except KeyboardInterrupt:
        print("failover_bench: interrupted; cleaned up", file=sys.stderr)
        raise SystemExit(130)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(root, ignore_errors=True)
    after = environment()
    with open(os.path.join(out_dir, "failover.json"), "w") as f:
        json.dump({"rounds": rounds, "results": results, "seconds": time.time() - started,
                   "before": before, "after": after}, f, indent=1)
    report(results, rounds, before, after)


def fmt(values, unit_s=False):
    if not values:
        return "–"
    med, lo, hi = statistics.median(values), min(values), max(values)
    if unit_s:
        return f"{med / 1000:.2f} s ({lo / 1000:.2f}–{hi / 1000:.2f})"
    return f"{med:.0f} ms ({lo:.0f}–{hi:.0f})"


DESCRIPTIONS = {
    "lifeboat-1s": "Lifeboat watch: checks every 1 s, 3 failures",
    "lifeboat-200ms": "Lifeboat watch: checks every 200 ms, 3 failures",
    "bare-1s": "bare script: pg_isready every 1 s, 3 failures",
    "bare-200ms": "bare script: pg_isready every 200 ms, 3 failures",
    "patroni-defaults-pg": "Patroni defaults (ttl 30, loop_wait 10): PostgreSQL killed, Patroni alive",
    "patroni-defaults-host": "Patroni defaults: PostgreSQL and the Patroni leader killed (host dies)",
    "patroni-tight-pg": "Patroni tight (ttl 10, loop_wait 2, retry 3): PostgreSQL killed, Patroni alive",
    "patroni-tight-host": "Patroni tight: PostgreSQL and the Patroni leader killed (host dies)",
}


def environment():
    def first_line(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    commit = first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    dirty = first_line(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"]) not in ("?", "")
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (+ uncommitted changes)" if dirty else ""),
        "load": open("/proc/loadavg").read().split()[:3],
        "postgres": first_line([f"{PGBIN}/postgres", "--version"]),
        "haproxy": first_line(["/usr/sbin/haproxy", "-v"]).split(" - ")[0],
        "bind": first_line(["/usr/sbin/named", "-v"]),
        "etcd": first_line(["/usr/bin/etcd", "--version"]),
        "patroni": first_line(["/usr/bin/python3", "-c", "from patroni.version import __version__; print(__version__)"]),
    }


def report(results, rounds, before=None, after=None):
    if before and after:
        print(f"Measured {before['date']} at commit {before['commit']}; load average "
              f"{' '.join(before['load'])} before, {' '.join(after['load'])} after. {before['postgres']}, "
              f"{before['haproxy']}, {before['bind']}, {before['etcd']}, Patroni {before['patroni']}.\n")
    print(f"### Failover: client-observed RTO ({rounds} rounds; median (min–max))\n")
    print("| contender | rounds ok | client RTO: last ack before -> first ack after the kill | kill -> first ack "
          "| first failed check -> first ack | acknowledged writes lost |")
    print("|---|---|---|---|---|---|")
    for name, rows in results.items():
        ok = [r for r in rows if "rto_ms" in r]
        seconds = any(r["rto_ms"] > 5000 for r in ok)
        lost = [r.get("lost_writes", 0) for r in ok]
        checked = [r["failed_check_to_first_ms"] for r in ok if "failed_check_to_first_ms" in r]
        print(f"| {DESCRIPTIONS.get(name, name)} | {len(ok)}/{len(rows)} | {fmt([r['rto_ms'] for r in ok], seconds)} | "
              f"{fmt([r['kill_to_first_ms'] for r in ok], seconds)} | {fmt(checked, seconds)} | "
              f"{sum(lost) if lost else '–'} |")
    phased = {n: rows for n, rows in results.items() if any("phases" in r for r in rows)}
    if phased:
        print("\n### Phase timeline (medians over the rounds, ms)\n")
        names = []
        for rows in phased.values():
            for r in rows:
                for k in r.get("phases", {}):
                    if k not in names:
                        names.append(k)
        print("| phase | " + " | ".join(phased) + " |")
        print("|---|" + "---|" * len(phased))
        for k in names:
            cells = []
            for rows in phased.values():
                values = [r["phases"][k] for r in rows if k in r.get("phases", {})]
                cells.append(f"{statistics.median(values):.0f}" if values else "–")
            print(f"| {k} | " + " | ".join(cells) + " |")
    notes = []
    for name, rows in results.items():
        for r in rows:
            if "error" in r:
                notes.append(f"- {name} round {r['round']}: FAILED: {r['error'].splitlines()[0]}")
            elif r.get("outcome") not in (None, "done"):
                notes.append(f"- {name} round {r['round']}: run outcome {r['outcome']}, steps {r.get('steps')}")
    if notes:
        print("\nRounds to look at:\n" + "\n".join(notes))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "client":
        client_main(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "run":
        main_run(sys.argv[2])
    else:
        raise SystemExit(__doc__)
