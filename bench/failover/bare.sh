#!/usr/bin/env bash
# The floor for the failover benchmark (bench/failover.sh): the least a
# failover script can do. Poll the primary with pg_isready; after FAILURES
# failed polls in a row promote the standby (pg_ctl promote -w) and flip
# HAProxy's backend on its runtime API. No fencing, no data-loss check, no
# DNS, no verification, no journal. Prints each poll and each phase with the
# epoch time in nanoseconds, so the driver can split the timeline.
#
# usage: bare.sh PRIMARY_PORT STANDBY_DATA_DIR INTERVAL FAILURES HAPROXY_ADMIN_PORT
#   INTERVAL as sleep(1) takes it (1, 0.2); HAPROXY_ADMIN_PORT is HAProxy's
#   `stats socket ipv4@127.0.0.1:PORT level admin` (bash has no unix sockets).
set -u
primary_port=$1 standby_data=$2 interval=$3 failures=$4 admin_port=$5
bin=/usr/lib/postgresql/15/bin
fails=0
while :; do
  polled=${EPOCHREALTIME/./}000  # ns, without a fork
  echo "poll $polled"
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$primary_port" -t 1; then
    fails=0
  else
    fails=$((fails + 1))
    ((fails == 1)) && echo "failed $polled"
  fi
  if ((fails >= failures)); then
    echo "detected ${EPOCHREALTIME/./}000"
    runuser -u postgres -- "$bin/pg_ctl" -D "$standby_data" promote -w >/dev/null
    echo "promoted ${EPOCHREALTIME/./}000 $?"
    exec 3<>"/dev/tcp/127.0.0.1/$admin_port"
    printf 'set server pg/standby state ready; set server pg/primary state maint\n' >&3
    cat <&3 >/dev/null
    exec 3>&-
    echo "switched ${EPOCHREALTIME/./}000"
    exit 0
  fi
  sleep "$interval"
done
