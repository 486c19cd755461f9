#!/usr/bin/env bash
# Builds Lifeboat and runs every test: the default build, then the same suite
# under AddressSanitizer + UndefinedBehaviorSanitizer. Installs missing Debian
# packages first. Set LIFEBOAT_SKIP_ASAN=1 to run only the default build.
# Exit status: ctest's (0 when every test passed).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
jobs=$(nproc)

echo "== style"
./scripts/lint.sh --format

echo "== build (RelWithDebInfo)"
cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"
echo "== tests (RelWithDebInfo)"
ctest --preset default -j "$jobs"

if [[ "${LIFEBOAT_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== build (ASan + UBSan)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  echo "== tests (ASan + UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -j "$jobs"
fi
