#!/usr/bin/env bash
# Style checks: clang-format (fails on any difference) and clang-tidy (the
# checks in .clang-tidy, warnings as errors) over the project's C++ sources.
#   scripts/lint.sh            both
#   scripts/lint.sh --format   clang-format only (seconds; run by scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files '*.cpp' '*.hpp')
clang-format --dry-run -Werror "${sources[@]}"
echo "clang-format: ${#sources[@]} files clean"
[[ "${1:-}" == --format ]] && exit 0

cmake --preset default >/dev/null
mapfile -t units < <(git ls-files '*.cpp' | grep -v '^fuzz/')
printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build --quiet
echo "clang-tidy: ${#units[@]} files clean"
