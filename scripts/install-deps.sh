#!/usr/bin/env bash
# Installs every Debian 12 package Lifeboat needs to build, test, fuzz and
# benchmark. Idempotent: packages already present are left alone, and the
# package index is refreshed at most once per invocation, only when something
# is missing.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ clang ccache pkg-config git
  clang-format clang-tidy libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-filesystem1.81-dev
  libtomlplusplus-dev libcli11-dev libssl-dev libcurl4-openssl-dev
  libsqlite3-dev libgtest-dev libgmock-dev
  # benchmarks and tooling
  hyperfine python3 time jq openssl
  # servers the integration tests start on loopback
  etcd-server etcd-client prometheus-alertmanager
  postgresql-15 libpq-dev haproxy bind9 bind9-dnsutils
  python3-aiosmtpd  # tests/comms_channels: SMTP server with STARTTLS (for /usr/bin/python3)
  # benchmark peer: Patroni on etcd
  patroni python3-etcd
  # the dashboard's browser test (tests/dashboard); its npm packages come
  # from tests/dashboard/package-lock.json, installed by the test's setup
  chromium
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The tests start their own PostgreSQL, HAProxy and BIND9 on loopback ports;
# the packages' default instances (a "main" cluster on 5432, named on 53,
# haproxy) would only take ports and memory. Don't create the cluster, and
# keep the maintainer scripts from starting services while installing.
createcluster=/etc/postgresql-common/createcluster.conf
if ! grep -qs '^create_main_cluster = false' "$createcluster"; then
  "${sudo_cmd[@]}" mkdir -p "$(dirname "$createcluster")"
  echo 'create_main_cluster = false' | "${sudo_cmd[@]}" tee -a "$createcluster" >/dev/null
fi
policy=/usr/sbin/policy-rc.d
placed_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  placed_policy=1
fi
remove_policy() { if ((placed_policy)); then "${sudo_cmd[@]}" rm -f "$policy"; fi; }
trap remove_policy EXIT
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
