#!/usr/bin/env bash
# bench/keygate-peer.sh PORT UPSTREAM_PORT KEYS_MAP — keygate as ../shared/bench measures it:
# writes a production-shaped config (only SPEC §2 settings), loads the bench keys with keygate's
# own commands, then execs `keygate serve` so the measured process tree is keygate itself.
#
#   KEYGATE_CMD='bench/keygate-peer.sh {PORT} {UPSTREAM_PORT} {KEYS_MAP}' ../shared/bench/run.sh
#
# Environment: KEYGATE_BIN (default build/release/keygate, else build/ci/keygate),
# KG_AUTH (0: plain proxy, `auth: none`), KG_STORE=sqlite|postgres (default sqlite: the
# embedded store; postgres starts a private server with scripts/services.sh, outside the
# measured process tree, and stops it when keygate exits), KG_WORKERS (default 1).
set -Eeuo pipefail
port=$1 upstream_port=$2 keys_map=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kg=${KEYGATE_BIN:-}
if [[ -z $kg ]]; then
  for candidate in "$here/build/release/keygate" "$here/build/ci/keygate" "$here/build/dev/keygate"; do
    [[ -x $candidate ]] && { kg=$candidate; break; }
  done
fi
[[ -x $kg ]] || { echo "keygate-peer: no keygate binary (set KEYGATE_BIN)" >&2; exit 1; }
# A fresh store on every start, inside the harness's run dir (which the harness removes).
dir=$(mktemp -d "$(dirname "$keys_map")/keygate.XXXXXX")
chmod 755 "$dir"  # a private Postgres (its own user) must reach services/ inside it
auth=required
[[ ${KG_AUTH:-1} == 1 ]] || auth=none

store_yaml="sqlite: {path: \"$dir/keygate.db\"}"
if [[ ${KG_STORE:-sqlite} == postgres ]]; then
  bash "$here/scripts/services.sh" start "$dir/services" postgres >/dev/null
  # shellcheck disable=SC1091
  source "$dir/services/env"
  store_yaml="postgres: {url: \"$KEYGATE_TEST_PG_URL\", pool_size: 4}"
  # Stop Postgres once keygate (this PID, after exec) is gone; detached from the harness's
  # process group so its TERM does not kill the watcher first.
  setsid bash -c "while kill -0 $$ 2>/dev/null; do sleep 1; done; bash '$here/scripts/services.sh' stop '$dir/services'" \
    >/dev/null 2>&1 < /dev/null &
fi

cat >"$dir/keygate.yaml" <<YAML
server: {listen: "127.0.0.1:$port", workers: ${KG_WORKERS:-1}}
internal: {listen: "127.0.0.1:$((port + 1000))"}
store:
  $store_yaml
cache:
  local: {capacity: 100000, ttl: 5s}
  positive_ttl: 60s
  negative_ttl: 10s
auth:
  key_prefixes: [{prefix: kg_live}]
upstreams:
  app: {url: "http://127.0.0.1:$upstream_port", max_idle: 1024}
routes:
  - {match: {prefix: /}, upstream: app, auth: $auth}
log: {level: warn, format: json, access_log: false}
YAML
export KEYGATE_CONFIG=$dir/keygate.yaml
"$kg" migrate >/dev/null
"$kg" tenants create --id bench --name bench 2>/dev/null
"$kg" users create --tenant bench --id bench --role member 2>/dev/null
"$kg" keys import --file "$keys_map" --tenant bench --user bench --prefix kg_live 2>/dev/null
exec "$kg" serve --config "$dir/keygate.yaml"
