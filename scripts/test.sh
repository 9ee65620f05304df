#!/usr/bin/env bash
# scripts/test.sh — the one test command: installs dependencies, builds, starts private
# PostgreSQL + Redis, runs every test (unit, integration, fuzz smoke), stops what it started.
#
#   scripts/test.sh                 everything
#   KEYGATE_TEST_LABEL=unit scripts/test.sh     only one ctest label
#   BUILD_DIR=build/ci  (default)   where to build
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

bash scripts/install-deps.sh

build_dir=${BUILD_DIR:-build/ci}
jobs=$(nproc)
werror=OFF
[[ ${CI:-} == true ]] && werror=ON
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEYGATE_WERROR=$werror \
  -DKEYGATE_BUILD_TESTS=ON -DKEYGATE_BUILD_BENCH=ON >/dev/null
cmake --build "$build_dir" -j "$jobs"

services=$(mktemp -d /tmp/keygate-test.XXXXXX)
cleanup() {
  local rc=$?
  bash "$root/scripts/services.sh" stop "$services" || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bash scripts/services.sh start "$services"
# shellcheck disable=SC1091
source "$services/env"
export KEYGATE_BIN=$root/$build_dir/keygate
export KEYGATE_SOURCE_DIR=$root

label_args=()
[[ -n ${KEYGATE_TEST_LABEL:-} ]] && label_args=(-L "$KEYGATE_TEST_LABEL")
ctest --test-dir "$build_dir" --output-on-failure --timeout 300 -j "$jobs" "${label_args[@]}"
