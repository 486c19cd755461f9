#!/usr/bin/env bash
# Benchmarks, one command: bench/run.sh
# Measures `lifeboat validate` and `lifeboat plan` on a generated
# 10,000-step runbook (and a 100-step one), next to peers measured in the
# same run: Python's tomllib parsing the same file (parse only, a lower
# bound for any TOML-based tool) and `ansible-playbook --syntax-check` of a
# playbook with the same number of tasks. Results go to bench/out/ and are
# summarised by hand in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
if ! command -v ansible-playbook >/dev/null; then
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd=sudo
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends ansible-core
fi
cmake --preset default >/dev/null
cmake --build --preset default --target lifeboat file_plugin

mkdir -p bench/out
lifeboat=./build/bin/lifeboat
for steps in 100 10000; do
  python3 bench/gen_runbook.py "$steps" "bench/out/runbook-$steps.toml" "bench/out/playbook-$steps.yml"
  "$lifeboat" validate "bench/out/runbook-$steps.toml" >/dev/null
done

/usr/bin/python3 - <<'PY' > /dev/null
import tomllib
tomllib.load(open("bench/out/runbook-10000.toml", "rb"))
PY

hyperfine --warmup 2 --min-runs 10 --export-markdown bench/out/validate-plan.md \
  -n "lifeboat validate (100 steps)" "$lifeboat validate bench/out/runbook-100.toml" \
  -n "lifeboat validate (10,000 steps)" "$lifeboat validate bench/out/runbook-10000.toml" \
  -n "lifeboat plan --output json (10,000 steps)" "$lifeboat plan --output json bench/out/runbook-10000.toml" \
  -n "python3 tomllib parse only (10,000 steps)" \
     "/usr/bin/python3 -c 'import tomllib; tomllib.load(open(\"bench/out/runbook-10000.toml\",\"rb\"))'" \
  -n "ansible-playbook --syntax-check (10,000 tasks)" \
     "ansible-playbook --syntax-check -i localhost, bench/out/playbook-10000.yml"

echo
echo "peak memory (max RSS, KiB):"
for command in "validate" "plan --output json"; do
  /usr/bin/time -f "  lifeboat $command (10,000 steps): %M" $lifeboat $command bench/out/runbook-10000.toml >/dev/null
done
/usr/bin/time -f "  ansible-playbook --syntax-check (10,000 tasks): %M" \
  ansible-playbook --syntax-check -i localhost, bench/out/playbook-10000.yml >/dev/null
cat bench/out/validate-plan.md
LIFEBOAT_BIN="$lifeboat" bench/engine.sh  # the execution engine: docs/benchmarks.md
LIFEBOAT_BIN="$lifeboat" bench/watch.sh   # the watch daemon: docs/benchmarks.md
