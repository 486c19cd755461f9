#!/usr/bin/env bash
# Installs the dashboard test's npm packages (tests/dashboard/package.json,
# exact versions from package-lock.json) into a copy in the build tree:
#   npm_setup.sh SOURCE_DIR BUILD_NODE_DIR
# `npm ci` runs only when the lock file changed since the last install, so
# a build tree that has its node_modules needs no network.
set -euo pipefail
source_dir=$1
node_dir=$2

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "npm_setup: $tool is not installed (the machine's Node.js 20 provides node and npm)" >&2
    exit 1
  fi
done

mkdir -p "$node_dir"
stamp="$node_dir/node_modules/.lifeboat-package-lock.json"
if [[ -f $stamp ]] && cmp -s "$source_dir/package-lock.json" "$stamp"; then
  echo "npm_setup: $node_dir/node_modules is up to date"
  exit 0
fi
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$node_dir/"
(cd "$node_dir" && npm ci --no-audit --no-fund)
cp "$source_dir/package-lock.json" "$stamp"
