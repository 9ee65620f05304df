#!/usr/bin/env bash
# scripts/test.sh — the one test command: installs dependencies, builds, starts private
# PostgreSQL + Redis, runs every test (unit, integration, fuzz smoke), stops what it started.
#
#   scripts/test.sh                 everything
#   KEYGATE_TEST_LABEL=unit scripts/test.sh     only one ctest label
#   BUILD_DIR=build/ci  (default)   where to build
#   KEYGATE_FUZZ_RUNS=2000000         inputs per libFuzzer target, fixed seed (0: skip the fuzz smoke run)
#   KEYGATE_TEST_SANITIZE=1           also run the unit tests under ASan+UBSan (0: skip)
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

# Unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (own build dir).
if [[ ${KEYGATE_TEST_SANITIZE:-1} == 1 ]]; then
  cmake -S . -B build/asan-ubsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKEYGATE_SANITIZE=address,undefined \
    -DKEYGATE_WERROR=$werror -DKEYGATE_BUILD_BENCH=OFF >/dev/null
  cmake --build build/asan-ubsan -j "$jobs" --target keygate_unit_tests
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    build/asan-ubsan/tests/keygate_unit_tests --gtest_brief=1
fi

# Fuzz smoke run: every libFuzzer target from its seed corpus, with a fixed seed and a fixed
# number of inputs (reproducible: CI never fails by chance; explore with another -seed by hand),
# capped at 60 s each.
fuzz_runs=${KEYGATE_FUZZ_RUNS:-2000000}
if [[ $fuzz_runs != 0 ]] && command -v clang++ >/dev/null; then
  cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DKEYGATE_BUILD_FUZZ=ON \
    -DKEYGATE_BUILD_TESTS=OFF -DKEYGATE_BUILD_BENCH=OFF >/dev/null
  cmake --build build/fuzz -j "$jobs" --target keygate_fuzzers
  for fuzzer in build/fuzz/tests/fuzz/*_fuzz; do
    name=$(basename "$fuzzer" _fuzz)
    corpus=$(mktemp -d /tmp/keygate-fuzz.XXXXXX)
    [[ -d tests/fuzz/corpus/$name ]] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
    if ! "$fuzzer" "$corpus" -seed=1 -runs="$fuzz_runs" -max_total_time=60 >"$corpus.log" 2>&1; then
      tail -40 "$corpus.log"
      echo "fuzz: $name failed (log above)" >&2
      exit 1
    fi
    echo "fuzz: $name $(grep -o 'Done [0-9]* runs' "$corpus.log")"
    rm -rf "$corpus" "$corpus.log"
  done
fi

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
