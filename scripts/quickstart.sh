#!/usr/bin/env bash
# scripts/quickstart.sh — keygate running in front of a demo service, with one command.
#
#   scripts/quickstart.sh              embedded SQLite store, no other server needed
#   scripts/quickstart.sh --postgres   private Postgres + Redis (the production shape)
#
# Installs the Debian packages (scripts/install-deps.sh), builds a release binary, starts a demo
# upstream that echoes the identity headers it receives, creates a demo tenant, user and API
# key, starts keygate in front of the upstream and prints curl commands that work. Everything
# lives in one directory (printed at the end, with its stop script).
#
# Environment: KEYGATE_BIN (use this binary, skip the build), KEYGATE_QUICKSTART_DIR (work dir),
# QUICKSTART_NO_INSTALL=1 (skip install-deps), QUICKSTART_PORT (public port, default 8080 or a
# free one).
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
mode=sqlite
[[ ${1:-} == --postgres ]] && mode=postgres

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  return 1
}

[[ ${QUICKSTART_NO_INSTALL:-0} == 1 ]] || bash scripts/install-deps.sh
kg=${KEYGATE_BIN:-}
if [[ -z $kg ]]; then
  echo "quickstart: building keygate (release)..." >&2
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DKEYGATE_BUILD_TESTS=OFF \
    -DKEYGATE_BUILD_BENCH=OFF >/dev/null
  cmake --build build/release -j "$(nproc)" --target keygate >/dev/null
  kg=$root/build/release/keygate
fi

dir=${KEYGATE_QUICKSTART_DIR:-$(mktemp -d /tmp/keygate-quickstart.XXXXXX)}
mkdir -p "$dir"
chmod 755 "$dir"  # Postgres (run as its own user) must reach services/ inside it
port=${QUICKSTART_PORT:-8080}
port_free "$port" || port=$(free_port)
internal_port=$(free_port)
upstream_port=$(free_port)
# A service token for the internal API: only its SHA-256 goes into the config.
token=$(python3 -c 'import secrets; print("kgsvc_" + secrets.token_urlsafe(32))')
token_sha=$(printf %s "$token" | sha256sum | cut -d' ' -f1)

# The stop script is written first, so a failure below still leaves a way to clean up.
cat >"$dir/stop.sh" <<STOP
#!/usr/bin/env bash
for f in "$dir"/*.pid; do [[ -f \$f ]] && kill "\$(cat "\$f")" 2>/dev/null; done
[[ -d "$dir/services" ]] && bash "$root/scripts/services.sh" stop "$dir/services"
true
STOP
chmod +x "$dir/stop.sh"

python3 scripts/demo_upstream.py "$upstream_port" >"$dir/upstream.log" 2>&1 &
echo $! >"$dir/upstream.pid"

if [[ $mode == postgres ]]; then
  bash scripts/services.sh start "$dir/services" >/dev/null
  # shellcheck disable=SC1091
  source "$dir/services/env"
  store="postgres: {url: \"$KEYGATE_TEST_PG_URL\"}"
  cache="redis: {url: \"$KEYGATE_TEST_REDIS_URL\", namespace: quickstart}"
else
  store="sqlite: {path: \"$dir/keygate.db\"}"
  cache="local: {capacity: 10000, ttl: 5s}"
fi

cat >"$dir/keygate.yaml" <<YAML
server: {listen: "127.0.0.1:$port", workers: 1}
internal: {listen: "127.0.0.1:$internal_port", service_tokens: [{name: quickstart, sha256: "$token_sha"}]}
store: {$store}
cache: {$cache}
auth: {key_prefixes: [{prefix: kg_live}]}
upstreams: {demo: {url: "http://127.0.0.1:$upstream_port"}}
routes:
  - {match: {prefix: /}, upstream: demo, auth: required}
log: {level: info, format: json, access_log: true}
YAML
export KEYGATE_CONFIG=$dir/keygate.yaml
"$kg" migrate >/dev/null 2>&1
"$kg" tenants create --id demo --name "Demo tenant" 2>/dev/null
"$kg" users create --tenant demo --id alice --role admin 2>/dev/null
created=$("$kg" keys create --tenant demo --user alice --name quickstart --scopes read,write --json 2>/dev/null)
key=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' <<<"$created")
key_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$created")

nohup "$kg" serve >"$dir/keygate.log" 2>&1 &
echo $! >"$dir/keygate.pid"
wait_port "$port" || { tail -20 "$dir/keygate.log" >&2; echo "quickstart: keygate did not start" >&2; exit 1; }

printf '%s\n' "$key" >"$dir/demo.key"
printf '%s\n' "$token" >"$dir/service.token"
chmod 600 "$dir/demo.key" "$dir/service.token"
cat <<DONE

keygate is running on http://127.0.0.1:$port in front of a demo upstream ($mode store).
Work directory: $dir   (config keygate.yaml, logs, demo.key; stop everything: $dir/stop.sh)

1. A valid key: 200, and the upstream echoes the identity keygate added
   curl -s -H "Authorization: Bearer \$(cat $dir/demo.key)" http://127.0.0.1:$port/hello

2. No key: 401 missing_credentials
   curl -s -i http://127.0.0.1:$port/hello

3. Revoke the key through the internal API, then retry: 401 key_revoked, at once
   curl -s -X POST -H "Authorization: Bearer \$(cat $dir/service.token)" http://127.0.0.1:$internal_port/v1/keys/$key_id/revoke
   curl -s -H "Authorization: Bearer \$(cat $dir/demo.key)" http://127.0.0.1:$port/hello
   (from the shell: KEYGATE_CONFIG=$dir/keygate.yaml $kg keys revoke $key_id — with Redis, as in
   --postgres mode, that too is instant; without Redis another process's change reaches the
   running keygate within cache.local.ttl)

Metrics: curl -s http://127.0.0.1:$internal_port/metrics
DONE
