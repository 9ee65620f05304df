#!/usr/bin/env bash
# bench/tiers.sh — keygate's added latency per credential tier (issue 4, "Performance"):
# p50/p99 of one connection sending sequential requests, for a malformed key, a local-cache hit,
# a negative-cache hit, a Postgres read (local and Redis empty) and a Redis hit (local empty),
# each minus the same measurement straight at the upstream; then how many rejections per second
# a flood of well-formed unknown keys gets while paced valid traffic keeps its latency.
#
#   bench/tiers.sh                      # ~1 min; prints a markdown table, writes bench/results/tiers_<date>.md
#   DURATION=2 bench/tiers.sh           # smoke run
#
# Everything it starts is its own and on 127.0.0.1: a private Postgres and Redis
# (scripts/services.sh), an nginx upstream ("ok\n"), keygate (one worker, access log off,
# store: postgres, cache: local + redis), and wrk with ../shared/bench/wrk/kg.lua. It stops all of
# them on exit (also on failure or Ctrl-C) and removes its temp dir /tmp/kgtiers.* unless KEEP=1.
# The tier behind every row is confirmed from keygate's own /metrics
# (keygate_cache_lookups_total{tier,outcome} deltas, printed in the table).
#
# Environment (defaults in brackets):
#   KEYGATE_BIN    [build/release/keygate, else build/prof/keygate, else build/ci/keygate]
#   DURATION       [5] seconds of each repeated-key scenario (direct, malformed, local, negative) and
#                  of the flood runs (FLOOD_DURATION overrides the latter)
#   PASS_DURATION  [DURATION] at most this many seconds for each of the Postgres and Redis passes:
#                  one pass over distinct keys, stopped after NKEYS responses so it never wraps
#                  around to keys already in the local cache (checked; a wrapped row says WRAPPED)
#   WARMUP         [1] seconds of warm-up before the local-hit and negative-hit runs
#   NKEYS          [10000] keys generated and imported (raise it if a pass wraps)
#   FLOOD_CONNS [32] PACED_CONNS [4] PACED_DELAY_MS [5]   flood and paced valid traffic
#   SHARED         [../shared, relative to the repo root] holds bench/wrk/kg.lua and bench/tools/genkeys.py
#   BUSY_WARN      [0.25] flag a run during which other processes used more than this many cores
#                  (interference check: machine CPU from /proc/stat minus this benchmark's processes)
#   RESULTS_DIR    [bench/results]     KEEP [0]: 1 keeps the temp dir (configs, logs, raw wrk output)
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
PATH=$PATH:/usr/sbin:/sbin   # nginx lives in /usr/sbin

SHARED=${SHARED:-$here/../shared}
DURATION=${DURATION:-5}; DURATION=${DURATION%s}
FLOOD_DURATION=${FLOOD_DURATION:-$DURATION}; FLOOD_DURATION=${FLOOD_DURATION%s}
PASS_DURATION=${PASS_DURATION:-$DURATION}; PASS_DURATION=${PASS_DURATION%s}
WARMUP=${WARMUP:-1}; WARMUP=${WARMUP%s}
NKEYS=${NKEYS:-10000}
FLOOD_CONNS=${FLOOD_CONNS:-32}
PACED_CONNS=${PACED_CONNS:-4}
PACED_DELAY_MS=${PACED_DELAY_MS:-5}
RESULTS_DIR=${RESULTS_DIR:-$here/bench/results}
KEEP=${KEEP:-0}
BUSY_WARN=${BUSY_WARN:-0.25}
POSITIVE_TTL_S=60   # cache.positive_ttl below: the Redis pass must start and end within it
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in DURATION FLOOD_DURATION PASS_DURATION WARMUP NKEYS FLOOD_CONNS PACED_CONNS PACED_DELAY_MS; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a whole number >= 1 (wrk -d takes whole seconds), got '${!v}'"
done

# ------------------------------------------------------------------ inputs ---
for tool in wrk nginx redis-cli curl python3 timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found: run scripts/install-deps.sh (it installs wrk, nginx, redis-tools, curl, python3)"
done
KG_LUA=$SHARED/bench/wrk/kg.lua
GENKEYS=$SHARED/bench/tools/genkeys.py
[[ -f $KG_LUA && -f $GENKEYS ]] || die "shared bench not found under SHARED=$SHARED (want bench/wrk/kg.lua and bench/tools/genkeys.py)"
KG=${KEYGATE_BIN:-}
if [[ -z $KG ]]; then
  for candidate in "$here/build/release/keygate" "$here/build/prof/keygate" "$here/build/ci/keygate"; do
    [[ -x $candidate ]] && { KG=$candidate; break; }
  done
fi
[[ -n $KG ]] || die "no keygate binary (set KEYGATE_BIN; tried build/release, build/prof, build/ci)"
[[ -x $KG ]] || die "KEYGATE_BIN=$KG is not an executable file"
KG=$(cd "$(dirname "$KG")" && pwd)/$(basename "$KG")

# ------------------------------------------------------------ process mgmt ---
RUN=$(mktemp -d /tmp/kgtiers.XXXXXX)
chmod 755 "$RUN"   # the private Postgres runs as its own user and must reach services/ inside
STARTED=()         # PIDs we started; each leads its own process group (setsid)
SERVICES=0
KG_PID=""

stop_pid() { # pid [seconds=10]: TERM its group, then KILL after the grace period
  local pid=$1 secs=${2:-10}
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((secs * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored TERM, sending KILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}
forget_pid() { # drop a reaped PID from STARTED, so cleanup never signals a recycled PID
  local keep=() p
  for p in "${STARTED[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  STARTED=(${keep[@]+"${keep[@]}"})
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM ERR
  if [[ $rc != 0 ]]; then
    for f in "$RUN"/keygate.*.log "$RUN"/upstream/error.log; do
      [[ -s $f ]] && { log "--- tail of $f"; tail -15 "$f" >&2; }
    done
  fi
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED[i]}" 5; done
  [[ $SERVICES == 1 ]] && { bash "$here/scripts/services.sh" stop "$RUN/services" || log "services.sh stop failed"; }
  if [[ $KEEP == 1 ]]; then log "temp dir kept: $RUN"; else rm -rf "$RUN"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port pid name seconds
  local port=$1 pid=$2 name=$3 secs=$4
  for _ in $(seq $((secs * 10))); do
    port_open "$port" && return 0
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited before opening 127.0.0.1:$port"
    sleep 0.1
  done
  die "$name did not open 127.0.0.1:$port within ${secs}s"
}

# ------------------------------------------------------------------ helper ---
HELPER=$RUN/helper.py
cat >"$HELPER" <<'PY'
import json, os, re, sys

def wrk(path):
    """kg.lua's WRKJSON line -> 'requests duration_s p50_us p99_us non2xx sock_errors'"""
    text = open(path).read()
    if "WRKJSON " not in text:
        sys.exit("no WRKJSON line in %s:\n%s" % (path, text))
    j = json.loads(text.split("WRKJSON ", 1)[1].splitlines()[0])
    sock = j["err_connect"] + j["err_read"] + j["err_write"] + j["err_timeout"]
    print(j["requests"], "%.3f" % (j["duration_us"] / 1e6), j["p50_us"], j["p99_us"], j["err_status"], sock)

LINE = re.compile(r'^keygate_cache_lookups_total\{([^}]*)\}\s+(\S+)')

def counters(path):
    out = {}
    for line in open(path):
        m = LINE.match(line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            out[(labels.get("tier", "?"), labels.get("outcome", "?"))] = float(m.group(2))
    return out

ORDER = {"local": 0, "redis": 1, "postgres": 2}

def proc_ticks(pid):
    try:
        f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        return int(f[1]), int(f[11]) + int(f[12])   # ppid, utime + stime
    except (OSError, IndexError, ValueError):
        return None

def cpu(pids):
    """'busy total ours': machine jiffies (all CPUs) and those of the processes this benchmark
    started (keygate, nginx, redis, the postmaster and its children)"""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    busy, total = v[0] + v[1] + v[2] + v[5] + v[6] + v[7], sum(v)
    roots = {p for p in pids if p and p != "0"}
    ours = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        t = proc_ticks(d)
        if t and (d in roots or str(t[0]) in roots):
            ours += t[1]
    print(busy, total, ours)

def times_s(path):
    """bash `times`, second line: the shell's waited-for children (wrk, curl, python) user sys"""
    line = open(path).read().splitlines()[1]
    sec = 0.0
    for part in line.split():
        m = re.match(r"(\d+)m([\d.]+)s", part)
        sec += int(m.group(1)) * 60 + float(m.group(2))
    return sec

def other(before, after, hz, ncpu):
    """cores' worth of CPU used during the run by anything this benchmark did not start"""
    b0, t0, o0 = map(int, open(before).read().split())
    b1, t1, o1 = map(int, open(after).read().split())
    children = (times_s(after + ".times") - times_s(before + ".times")) * int(hz)
    print("%.2f" % max(0.0, (b1 - b0 - (o1 - o0) - children) / max(1, t1 - t0) * int(ncpu)))

def delta(before, after, requests, expect):
    """counter deltas as 'tier outcome N, ...', plus a check that `expect` (tier/outcome, or
    'none' for no lookups at all) answered every request"""
    b, a = counters(before), counters(after)
    d = {k: a[k] - b.get(k, 0) for k in a if a[k] - b.get(k, 0) > 0}
    text = ", ".join("%s %s %d" % (t, o, v) for (t, o), v in sorted(d.items(), key=lambda kv: (ORDER.get(kv[0][0], 9), kv[0][1])))
    requests = int(requests)
    if expect == "none":
        ok = not d
        check = "OK: no lookup" if ok else "UNEXPECTED: lookups on a path that should have none"
    elif expect == "-":
        check = ""
        ok = True
    else:
        t, o = expect.split("/")
        n = d.get((t, o), 0)
        share = n / requests if requests else 0
        ok = share >= 0.99
        check = ("OK: %s %s answered %.1f%%" if ok else "UNEXPECTED: %s %s answered only %.1f%%") % (t, o, 100 * share)
    print("%s|%s|%s" % (text or "no lookups", check, "ok" if ok else "bad"))

def render(rows_path, meta_path):
    rows = [l.rstrip("\n").split("\t") for l in open(rows_path) if l.strip()]
    R = {r[0]: r for r in rows}
    # row: id label requests dur p50 p99 non2xx sock tiers check note
    base = R.get("direct")
    out = [open(meta_path).read().rstrip("\n"), ""]
    out.append("| scenario | requests | p50 µs | p99 µs | added p50 µs | added p99 µs | tier counters (keygate_cache_lookups_total deltas) |")
    out.append("|---|--:|--:|--:|--:|--:|---|")
    notes = []
    for rid in ["direct", "malformed", "local", "negative", "postgres", "redis"]:
        if rid not in R:
            continue
        _, label, req, dur, p50, p99, non2xx, sock, tiers, check, note, busy = R[rid]
        if rid == "direct":
            ap50 = ap99 = "—"
        else:
            ap50 = "%+d" % (int(p50) - int(base[4]))
            ap99 = "%+d" % (int(p99) - int(base[5]))
        cell = tiers if rid != "direct" else "(upstream only)"
        if check:
            cell += " — " + check
        if note:
            cell += " — **" + note + "**"
            notes.append("%s: %s" % (label, note))
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (label, req, p50, p99, ap50, ap99, cell))
    out.append("")
    if "flood" in R and "paced_alone" in R and "paced_flood" in R:
        f, pa, pf = R["flood"], R["paced_alone"], R["paced_flood"]
        rps = int(f[2]) / float(f[3])
        out.append("Flood (wrk -c%s, rotating over well-formed unknown keys) + paced valid traffic:" % f[1].split("c")[-1])
        out.append("")
        out.append("- flood: **%.0f rejections/s** (%s requests in %s s; non-2xx %s of %s, socket errors %s)"
                   % (rps, f[2], f[3], f[6], f[2], f[7]))
        out.append("- paced valid traffic alone (%s): p50 %s µs, p99 %s µs (%s requests, non-2xx %s)"
                   % (pa[1], pa[4], pa[5], pa[2], pa[6]))
        out.append("- paced valid traffic during the flood: p50 %s µs (%+d), p99 %s µs (%+d) (%s requests, non-2xx %s)"
                   % (pf[4], int(pf[4]) - int(pa[4]), pf[5], int(pf[5]) - int(pa[5]), pf[2], pf[6]))
        out.append("- tier counters during the flood (both wrk): %s" % f[8])
        for r in (f, pa, pf):
            if r[10]:
                notes.append("%s: %s" % (r[1], r[10]))
        out.append("")
    busy = ", ".join("%s %s" % (r[1], r[11]) for r in rows)
    out.append("Interference check, cores used by other processes during each run (warn above %s): %s"
               % (sys.argv[4], busy))
    out.append("")
    if notes:
        out.append("Warnings:")
        out.append("")
        out.extend("- " + n for n in notes)
        out.append("")
    print("\n".join(out))

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "wrk":
        wrk(sys.argv[2])
    elif cmd == "delta":
        delta(*sys.argv[2:6])
    elif cmd == "cpu":
        cpu(sys.argv[2:])
    elif cmd == "other":
        other(*sys.argv[2:6])
    elif cmd == "render":
        render(sys.argv[2], sys.argv[3])
PY

# ------------------------------------------------------------------- setup ---
log "temp dir $RUN; keygate $KG"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
python3 "$GENKEYS" "$RUN" "$NKEYS"
KEYS_FILE=$RUN/keys.txt KEYS_MAP=$RUN/keys.map BAD_FILE=$RUN/bad.txt
JUNK_KEY=kg_live_ffffffffffffffffffffffffffffffff   # 40 chars: malformed (SPEC §3 keys have 46)
KEY1=$(head -1 "$KEYS_FILE")
BAD1=$(head -1 "$BAD_FILE")

log "starting Postgres and Redis (scripts/services.sh)"
SERVICES=1
bash "$here/scripts/services.sh" start "$RUN/services" postgres redis >"$RUN/services.log" 2>&1 \
  || { cat "$RUN/services.log" >&2; die "scripts/services.sh start failed"; }
# shellcheck disable=SC1091
source "$RUN/services/env"
PG_URL=$KEYGATE_TEST_PG_URL
REDIS_URL=$KEYGATE_TEST_REDIS_URL
rcli() { redis-cli -u "$REDIS_URL" "$@"; }
[[ $(rcli PING) == PONG ]] || die "Redis at $REDIS_URL does not answer"

UP_PORT=$(free_port)
mkdir -p "$RUN/upstream/tmp"
cat >"$RUN/upstream/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $RUN/upstream/nginx.pid;
error_log $RUN/upstream/error.log warn;
events { worker_connections 4096; }
http {
    default_type text/plain;
    access_log off;
    server_tokens off;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 100000000;
    client_body_temp_path $RUN/upstream/tmp/body;
    proxy_temp_path $RUN/upstream/tmp/proxy;
    fastcgi_temp_path $RUN/upstream/tmp/fastcgi;
    uwsgi_temp_path $RUN/upstream/tmp/uwsgi;
    scgi_temp_path $RUN/upstream/tmp/scgi;
    server {
        listen 127.0.0.1:$UP_PORT backlog=4096;
        location / { return 200 "ok\n"; }
    }
}
NGINX
setsid nginx -e "$RUN/upstream/error.log" -p "$RUN/upstream/" -c "$RUN/upstream/nginx.conf" \
  >"$RUN/upstream/stderr.log" 2>&1 </dev/null &
UP_PID=$!
STARTED+=("$UP_PID")
wait_port "$UP_PORT" "$UP_PID" "nginx upstream" 10
log "upstream nginx on 127.0.0.1:$UP_PORT"

KG_PORT=$(free_port)
KG_INT=$(free_port)
[[ $KG_INT != "$KG_PORT" ]] || KG_INT=$(free_port)
export KEYGATE_CONFIG=$RUN/keygate.yaml
cat >"$KEYGATE_CONFIG" <<YAML
server: {listen: "127.0.0.1:$KG_PORT", workers: 1}
internal: {listen: "127.0.0.1:$KG_INT"}
store:
  postgres: {url: "$PG_URL", pool_size: 4}
cache:
  local: {capacity: 100000, ttl: 5s}
  redis: {url: "$REDIS_URL", namespace: "kgbench", timeout: 50ms}
  positive_ttl: ${POSITIVE_TTL_S}s
  negative_ttl: 10s
auth:
  key_prefixes: [{prefix: kg_live}]
upstreams:
  app: {url: "http://127.0.0.1:$UP_PORT", max_idle: 1024}
routes:
  - {match: {prefix: /}, upstream: app, auth: required}
log: {level: warn, format: json, access_log: false}
YAML
"$KG" check-config --config "$KEYGATE_CONFIG" >"$RUN/check-config.log" 2>&1 \
  || { cat "$RUN/check-config.log" >&2; die "keygate check-config failed"; }
# The bench keys, loaded with keygate's own commands, as bench/keygate-peer.sh does.
log "loading $NKEYS keys (keygate migrate, tenants/users create, keys import)"
{
  "$KG" migrate
  "$KG" tenants create --id bench --name bench
  "$KG" users create --tenant bench --id bench --role member
  "$KG" keys import --file "$KEYS_MAP" --tenant bench --user bench --prefix kg_live
} >"$RUN/setup.log" 2>&1 || { cat "$RUN/setup.log" >&2; die "loading the keys failed"; }

KG_N=0
kg_start() {
  KG_N=$((KG_N + 1))
  ! port_open "$KG_PORT" || die "127.0.0.1:$KG_PORT is still in use before keygate start #$KG_N"
  setsid "$KG" serve --config "$KEYGATE_CONFIG" >"$RUN/keygate.$KG_N.log" 2>&1 </dev/null &
  KG_PID=$!
  STARTED+=("$KG_PID")
  wait_port "$KG_PORT" "$KG_PID" keygate 30
  wait_port "$KG_INT" "$KG_PID" "keygate internal listener" 10
  # ready = Postgres answers; wait for Redis to be "up" too, or the first requests skip it
  local body=""
  for _ in $(seq 300); do
    body=$(curl -s -m 2 "http://127.0.0.1:$KG_INT/readyz" || true)
    [[ $body == *'"status":"ready"'* && $body == *'"redis":"up"'* ]] && break
    kill -0 "$KG_PID" 2>/dev/null || die "keygate (pid $KG_PID) exited"
    sleep 0.1
  done
  [[ $body == *'"status":"ready"'* && $body == *'"redis":"up"'* ]] \
    || die "keygate not ready with Redis up after 30s: /readyz said '$body'"
  log "keygate #$KG_N: pid $KG_PID on 127.0.0.1:$KG_PORT (internal $KG_INT), readyz $body"
}
kg_stop() {
  [[ -n $KG_PID ]] || return 0
  stop_pid "$KG_PID" 10
  KG_PID=""
  for _ in $(seq 50); do port_open "$KG_PORT" || break; sleep 0.1; done
}
# mark before|after: /metrics into m.<when>, CPU counters into cpu.<when> (+ .times)
mark() {
  metrics "$RUN/m.$1"
  times >"$RUN/cpu.$1.times"
  python3 "$HELPER" cpu "$KG_PID" "$UP_PID" "$KEYGATE_TEST_REDIS_PID" "$KEYGATE_TEST_PG_PID" >"$RUN/cpu.$1"
}
metrics() { curl -sf -m 5 "http://127.0.0.1:$KG_INT/metrics" >"$1" || die "GET /metrics on 127.0.0.1:$KG_INT failed"; }

kg_start

# ------------------------------------------------------------ sanity checks ---
http_code() { # port key -> "code body"
  curl -s -m 5 -o "$RUN/curl.out" -w '%{http_code}' ${2:+-H "Authorization: Bearer $2"} "http://127.0.0.1:$1/" || echo 000
  printf ' %s' "$(tr -d '\n' <"$RUN/curl.out" 2>/dev/null | head -c 80)"
}
r=$(http_code "$UP_PORT" "$KEY1"); [[ $r == "200 ok" ]] || die "upstream: GET / gave '$r'"
r=$(http_code "$KG_PORT" "$KEY1"); [[ $r == "200 ok" ]] || die "keygate: valid key gave '$r' (want 200 ok)"
r=$(http_code "$KG_PORT" "$(tail -1 "$KEYS_FILE")"); [[ $r == "200 ok" ]] || die "keygate: last valid key gave '$r'"
r=$(http_code "$KG_PORT" ""); [[ $r == 401* ]] || die "keygate: no credential gave '$r' (want 401)"
r=$(http_code "$KG_PORT" "$BAD1"); [[ $r == 401* ]] || die "keygate: unknown well-formed key gave '$r' (want 401)"
r=$(http_code "$KG_PORT" "$JUNK_KEY"); [[ $r == 401* ]] || die "keygate: malformed key gave '$r' (want 401)"
metrics "$RUN/m.check"
grep -q '^keygate_cache_lookups_total{' "$RUN/m.check" || die "keygate's /metrics has no keygate_cache_lookups_total"

# -------------------------------------------------------------- measuring ---
ROWS=$RUN/rows.tsv
: >"$ROWS"
mkdir -p "$RUN/wrk"
W=()   # last wrk result: requests duration_s p50 p99 non2xx sock

wrk_run() { # out conns seconds url [VAR=value ...]  (kg.lua's variables; defaults: one valid key)
  local out=$1 conns=$2 secs=$3 url=$4 script=${WRK_SCRIPT:-$KG_LUA}
  shift 4
  env KG_KEYS_FILE="$KEYS_FILE" KG_BAD_FILE="$BAD_FILE" KG_JUNK_KEY="$JUNK_KEY" \
    KG_NKEYS=1 KG_BADKEY=0 KG_DELAY_MS=0 "$@" \
    timeout -k 5 $((secs + 30)) wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s -s "$script" "$url" \
    >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($out)"; }
}
wrk_parse() { read -r -a W <<<"$(python3 "$HELPER" wrk "$1")"; }

# One pass over distinct keys: kg.lua (same variables, same requests) with a response() hook that
# stops wrk's thread after KG_MAX_REQUESTS responses (wrk -d takes whole seconds, and 1 s of Redis
# hits is more than 10,000 requests). wrk still sleeps its -d before printing the summary.
PASS_LUA=$RUN/pass.lua
cat >"$PASS_LUA" <<'LUA'
dofile(os.getenv("KG_LUA"))
local max = tonumber(os.getenv("KG_MAX_REQUESTS"))
local seen = 0
function response(status, headers, body)
    seen = seen + 1
    if seen >= max then wrk.thread:stop() end
end
LUA
pass_run() { # out seconds url: one connection, NKEYS distinct valid keys, at most NKEYS responses
  WRK_SCRIPT=$PASS_LUA wrk_run "$1" 1 "$2" "$3" KG_NKEYS="$NKEYS" KG_LUA="$KG_LUA" KG_MAX_REQUESTS="$NKEYS"
}

# row id label expect(tier/outcome|none|-) want(2xx|non2xx) [note]: appends the last wrk
# result and the counter deltas between $RUN/m.before and $RUN/m.after
add_row() {
  local id=$1 label=$2 expect=$3 want=$4 note=${5:-} tiers=- check="" verdict=ok
  if [[ $expect != - ]]; then
    IFS='|' read -r tiers check verdict <<<"$(python3 "$HELPER" delta "$RUN/m.before" "$RUN/m.after" "${W[0]}" "$expect")"
  elif [[ -f $RUN/m.before && $id != direct* ]]; then
    IFS='|' read -r tiers check verdict <<<"$(python3 "$HELPER" delta "$RUN/m.before" "$RUN/m.after" "${W[0]}" -)"
  fi
  if [[ $want == 2xx && ${W[4]} != 0 ]]; then note+="${note:+; }${W[4]} non-2xx responses"; fi
  if [[ $want == non2xx && ${W[4]} != "${W[0]}" ]]; then note+="${note:+; }only ${W[4]} of ${W[0]} were rejected"; fi
  if [[ ${W[5]} != 0 ]]; then note+="${note:+; }${W[5]} socket errors"; fi
  local busy
  busy=$(python3 "$HELPER" other "$RUN/cpu.before" "$RUN/cpu.after" "$HZ" "$NCPU")
  if awk -v b="$busy" -v w="$BUSY_WARN" 'BEGIN { exit !(b > w) }'; then
    note+="${note:+; }machine busy elsewhere: $busy cores"
  fi
  [[ $verdict == ok ]] || log "WARNING: $label: $check"
  [[ -z $note ]] || log "WARNING: $label: $note"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$label" "${W[@]}" "$tiers" "$check" "$note" "$busy" >>"$ROWS"
  log "  $label: requests=${W[0]} p50=${W[2]}us p99=${W[3]}us non2xx=${W[4]} other=${busy} cores | $tiers ${check:+| $check}"
}

# measure id label expect want seconds url [VAR=value ...]: one connection, sequential requests
measure() {
  local id=$1 label=$2 expect=$3 want=$4 secs=$5 url=$6 note=""
  shift 6
  mark before
  wrk_run "$RUN/wrk/$id.txt" 1 "$secs" "$url" "$@"
  mark after
  wrk_parse "$RUN/wrk/$id.txt"
  add_row "$id" "$label" "$expect" "$want" "$note"
}

KGURL=http://127.0.0.1:$KG_PORT/
log "direct (upstream, ${DURATION}s)"
mark before
wrk_run "$RUN/wrk/direct.txt" 1 "$DURATION" "http://127.0.0.1:$UP_PORT/"
mark after
wrk_parse "$RUN/wrk/direct.txt"
add_row direct "direct (upstream, no keygate)" - 2xx

log "malformed key (${DURATION}s)"
measure malformed "malformed key" none non2xx "$DURATION" "$KGURL" KG_BADKEY=junk

log "local hit (warm-up ${WARMUP}s, then ${DURATION}s)"
wrk_run "$RUN/wrk/local.warm.txt" 1 "$WARMUP" "$KGURL"
measure local "local hit (1 key)" local/hit 2xx "$DURATION" "$KGURL"

log "negative hit (warm-up ${WARMUP}s, then ${DURATION}s)"
wrk_run "$RUN/wrk/negative.warm.txt" 1 "$WARMUP" "$KGURL" KG_BADKEY=1
measure negative "negative hit (1 unknown key)" local/negative non2xx "$DURATION" "$KGURL" KG_BADKEY=1

# One pass over distinct keys (at most NKEYS requests), measured as a table row.
measure_pass() { # name label tier/outcome
  mark before
  pass_run "$RUN/wrk/$1.txt" "$PASS_DURATION" "$KGURL"
  mark after
  wrk_parse "$RUN/wrk/$1.txt"
  local note=""
  ((W[0] <= NKEYS)) || note="WRAPPED: ${W[0]} requests > $NKEYS keys, later requests hit the local cache (raise NKEYS)"
  add_row "$1" "$2" "$3" 2xx "$note"
}

# Postgres: empty Redis, fresh keygate (empty local cache), one pass over distinct keys.
log "Postgres pass: FLUSHDB, restart keygate, ${PASS_DURATION}s over up to $NKEYS distinct keys"
kg_stop
[[ $(rcli FLUSHDB) == OK ]] || die "redis FLUSHDB failed"
[[ $(rcli DBSIZE) == 0 ]] || die "Redis not empty after FLUSHDB"
kg_start
PG_T0=$(date +%s)
measure_pass postgres "Postgres read (local + Redis miss)" postgres/hit

# Fill Redis for every key (those the pass did not reach), so the Redis pass cannot miss.
log "filling Redis with the remaining keys"
for i in $(seq 10); do
  filled=$(awk '/^keygate_cache_lookups_total\{/ && /tier="postgres"/ && /outcome="hit"/ {s+=$2} END {print s+0}' \
    <(curl -sf -m 5 "http://127.0.0.1:$KG_INT/metrics"))
  ((${filled%.*} >= NKEYS)) && break
  ((i < 10)) || die "Redis fill did not reach $NKEYS keys (postgres hits: $filled)"
  wrk_run "$RUN/wrk/fill.$i.txt" 8 2 "$KGURL" KG_NKEYS="$NKEYS"
done
REDIS_KEYS=$(rcli DBSIZE)
((REDIS_KEYS >= NKEYS)) || die "Redis holds $REDIS_KEYS keys after the fill, want >= $NKEYS"

log "Redis pass: restart keygate (empty local cache), ${PASS_DURATION}s over the same keys"
kg_stop
kg_start
age=$(($(date +%s) - PG_T0))
((age + PASS_DURATION + 5 < POSITIVE_TTL_S)) \
  || die "the Redis entries are ${age}s old: the Redis pass would outlive positive_ttl (${POSITIVE_TTL_S}s)"
sample_ttl=$(rcli PTTL "$(rcli RANDOMKEY)")
log "  Redis: $REDIS_KEYS keys, oldest filled ${age}s ago, a random key's PTTL ${sample_ttl} ms"
measure_pass redis "Redis hit (local miss)" redis/hit

# Flood of well-formed unknown keys while paced valid traffic runs.
log "paced valid traffic alone (-c$PACED_CONNS, ${PACED_DELAY_MS} ms think time, ${FLOOD_DURATION}s)"
wrk_run "$RUN/wrk/paced.warm.txt" 1 1 "$KGURL"
mark before
wrk_run "$RUN/wrk/paced_alone.txt" "$PACED_CONNS" "$FLOOD_DURATION" "$KGURL" KG_DELAY_MS="$PACED_DELAY_MS"
mark after
wrk_parse "$RUN/wrk/paced_alone.txt"
add_row paced_alone "paced valid -c$PACED_CONNS" - 2xx

log "flood (-c$FLOOD_CONNS, $NKEYS unknown keys) + paced valid traffic, ${FLOOD_DURATION}s"
mark before
wrk_run "$RUN/wrk/flood.txt" "$FLOOD_CONNS" "$FLOOD_DURATION" "$KGURL" KG_BADKEY=1 KG_NKEYS="$NKEYS" &
FLOOD_PID=$!
STARTED+=("$FLOOD_PID")
wrk_run "$RUN/wrk/paced_flood.txt" "$PACED_CONNS" "$FLOOD_DURATION" "$KGURL" KG_DELAY_MS="$PACED_DELAY_MS"
flood_rc=0
wait "$FLOOD_PID" || flood_rc=$?
forget_pid "$FLOOD_PID"
((flood_rc == 0)) || die "flood wrk failed: $(cat "$RUN/wrk/flood.txt")"
mark after
wrk_parse "$RUN/wrk/paced_flood.txt"
add_row paced_flood "paced valid -c$PACED_CONNS during flood" - 2xx
wrk_parse "$RUN/wrk/flood.txt"
add_row flood "flood -c$FLOOD_CONNS" - non2xx

# ------------------------------------------------------------------ report ---
STAMP=$(date +%Y-%m-%d_%H%M%S)
META=$RUN/meta.md
{
  echo "# keygate latency by cache tier ($(date '+%Y-%m-%d %H:%M'))"
  echo
  echo "- command: \`DURATION=$DURATION PASS_DURATION=$PASS_DURATION FLOOD_DURATION=$FLOOD_DURATION NKEYS=$NKEYS bench/tiers.sh\`"
  echo "- keygate: \`$KG\` ($("$KG" version 2>/dev/null | head -1)); one worker, access log off,"
  echo "  store postgres (pool 4), cache local (5s) + redis (namespace kgbench, 50ms), positive_ttl ${POSITIVE_TTL_S}s, negative_ttl 10s"
  echo "- host: $(uname -srm), $(nproc) CPUs; load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- wrk -t1 -c1 (sequential requests) with kg.lua; added = keygate minus direct, same percentile;"
  echo "  the Postgres and Redis rows are one pass over distinct keys (at most $NKEYS requests, at most ${PASS_DURATION}s);"
  echo "  Redis was filled ${age}s before the Redis pass (PTTL of a sample key then: ${sample_ttl} ms)"
} >"$META"
mkdir -p "$RESULTS_DIR"
python3 "$HELPER" render "$ROWS" "$META" "$BUSY_WARN" >"$RESULTS_DIR/tiers_$STAMP.md"
cat "$RESULTS_DIR/tiers_$STAMP.md"
log "results: $RESULTS_DIR/tiers_$STAMP.md"
