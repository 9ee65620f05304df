#!/usr/bin/env bash
# The quick start, exactly as a user runs it (minus install and build: the binary under test is
# passed in), followed by the commands it prints; each must behave as the text says.
#   tests/quickstart_test.sh KEYGATE_BIN [--postgres]
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=$1
mode=${2:-}
dir=$(mktemp -d /tmp/keygate-quickstart-test.XXXXXX)
trap '"$dir/stop.sh" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
out=$(KEYGATE_BIN=$bin QUICKSTART_NO_INSTALL=1 KEYGATE_QUICKSTART_DIR=$dir timeout 120 bash scripts/quickstart.sh $mode)
mapfile -t commands < <(grep -E '^   curl ' <<<"$out")
[[ ${#commands[@]} == 4 ]] || { echo "expected 4 printed curl commands, got ${#commands[@]}"; echo "$out"; exit 1; }
run() { bash -c "$1" 2>&1; }
first=$(run "${commands[0]}")
grep -q '"X-Keygate-Key-Id": "key_' <<<"$first" || { echo "valid key: $first"; exit 1; }
grep -q '"X-Keygate-Tenant": "demo"' <<<"$first" || { echo "valid key: $first"; exit 1; }
second=$(run "${commands[1]}")
grep -q '^HTTP/1.1 401' <<<"$second" && grep -q missing_credentials <<<"$second" || { echo "no key: $second"; exit 1; }
revoked=$(run "${commands[2]}")
grep -q '"status":"revoked"' <<<"$revoked" || { echo "revoke: $revoked"; exit 1; }
after=$(run "${commands[3]}")
grep -q key_revoked <<<"$after" || { echo "after revoke: $after"; exit 1; }
echo "quickstart ${mode:-sqlite}: 3 printed steps behave as described"
