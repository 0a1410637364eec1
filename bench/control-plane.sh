#!/usr/bin/env bash
# The control plane at scale: start-up with 100,000 consumers (+ key-auth credentials) on
# SQLite, Admin API latency on that config (pages, lookups, single writes), key-auth throughput
# with 100,000 consumers against 1, a 10,000-route POST /config under live traffic, and the
# propagation of writes between two nodes on one (private, throwaway) PostgreSQL.
#
#   bench/control-plane.sh [--gateway PATH] [--load PATH] [--consumers N] [--routes N]
#                          [--changes N] [--duration S] [--rounds N] [--no-postgres]
#                          [--reload-only] [--admin-only]
#
# --reload-only runs just (d), the POST /config of --routes routes under live traffic, --rounds
# times (default 5).
# --admin-only runs just (a) and (b): start-up, memory and the Admin API on --consumers.
# Prints every number next to its target; it never fails on a number, only when a step could
# not run.
set -euo pipefail
cd "$(dirname "$0")/.."
gateway=build/bin/archwayd load=build/bin/archway-load
consumers=100000 routes=10000 changes=20 duration=5 rounds=5 postgres=1 reload_only=0
admin_only=0
while (($#)); do
  case $1 in
    --gateway) gateway=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --consumers) consumers=$2; shift 2 ;;
    --routes) routes=$2; shift 2 ;;
    --changes) changes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --no-postgres) postgres=0; shift ;;
    --reload-only) reload_only=1; postgres=0; shift ;;
    --admin-only) admin_only=1; postgres=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for tool in nginx wrk curl python3; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 2; }; done
[[ -x $gateway && -x $load ]] || { echo "build $gateway and $load first" >&2; exit 2; }
base=$((20000 + RANDOM % 20000))
up_port=$base gw_port=$((base + 1)) admin_port=$((base + 2)) gw2_port=$((base + 3))
admin2_port=$((base + 4)) pg_port=$((base + 5))
dir=$(mktemp -d); chmod 755 "$dir"
pids=() pg_bin=
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $dir/up.pid ]] && kill "$(cat "$dir/up.pid")" 2>/dev/null || true
  if [[ -n $pg_bin && -f $dir/pg/postmaster.pid ]]; then
    kill -INT "$(head -1 "$dir/pg/postmaster.pid")" 2>/dev/null || true
  fi
  sleep 0.5; rm -rf "$dir"
}
trap cleanup EXIT
source bench/lib.sh
start_upstream
py=bench/control_plane.py
upstream=http://127.0.0.1:$up_port
proxy=http://127.0.0.1:$gw_port admin=http://127.0.0.1:$admin_port

# archwayd ARGS... (background; its pid is $!)
archwayd() { "$gateway" "$@" --workers 1 >>"$dir/gw.log" 2>&1 & pids+=($!); }
stop_last() { kill "${pids[-1]}" 2>/dev/null; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }
# ms until URL answers 200 (curl every 10 ms), counted from $t0 (ns)
until_200() {
  local url=$1; shift
  until curl -fsS -o /dev/null "$@" "$url" 2>/dev/null; do sleep 0.01; done
  echo $((($(date +%s%N) - t0) / 1000000))
}
row() { printf '%-62s %14s   %s\n' "$1" "$2" "$3"; }

echo "generating $consumers consumers and a $routes-route config..."
if ((!reload_only)); then
  python3 $py consumers "$consumers" "$upstream" >"$dir/consumers.json"
  python3 $py consumers 1 "$upstream" >"$dir/one.json"
fi
((admin_only)) || python3 $py routes "$routes" "$upstream" >"$dir/routes.json"
echo
row "measure" "result" "target"
row "-------" "------" "------"

if ((!reload_only)); then
# (a) Start-up: the SQLite database is filled once (POST /config), then archwayd restarts on it.
archwayd --db "sqlite:$dir/consumers.db" --proxy-listen 127.0.0.1:$gw_port \
  --admin-listen 127.0.0.1:$admin_port
wait_200 "$admin/status" >/dev/null
t0=$(date +%s%N)
curl -fsS -o /dev/null -H 'Content-Type: application/json' --data-binary "@$dir/consumers.json" \
  "$admin/config" || { tail "$dir/gw.log"; exit 1; }
row "POST /config, $consumers consumers + credentials (SQLite)" \
  "$((($(date +%s%N) - t0) / 1000000)) ms" ""
stop_last
t0=$(date +%s%N)
archwayd --db "sqlite:$dir/consumers.db" --proxy-listen 127.0.0.1:$gw_port \
  --admin-listen 127.0.0.1:$admin_port
ms=$(until_200 "$proxy/auth" -H "apikey: key-$((consumers - 1))")
row "start-up to first key-auth 200, SQLite, $consumers consumers" "$ms ms" "< 5000 ms"
rss=$(awk '/VmRSS/ {print $2}' "/proc/${pids[-1]}/status")
row "archwayd resident memory with $consumers consumers" "$((rss / 1024)) MB" ""

# (b) Admin API on that config: median (max) of 20 requests on one keep-alive connection.
deep=$((consumers - 100))
for probe in "consumers?size=100|first page, size=100" \
  "consumers?size=100&offset=$deep|deep page, offset=$deep" \
  "consumers?size=1000|first page, size=1000" \
  "consumers/user-$((consumers / 2))|one consumer by username" \
  "key-auths?size=100|first page of key-auths" \
  "consumers/user-$((consumers / 2))/key-auth|a consumer's key-auths"; do
  read -r med max < <(python3 $py get-ms "$admin/${probe%%|*}")
  row "GET /${probe#*|}" "$med ($max) ms" "< 50 ms"
done
cpu0=$(python3 $py thread-cpu "${pids[-1]}")
read -r med max < <(python3 $py post-ms "$admin/consumers" "username=new-{i}")
row "POST /consumers (one write, persisted)" "$med ($max) ms" ""
read -r med max < <(python3 $py post-ms "$admin/consumers/user-7/key-auth" "key=more-{i}")
row "POST /consumers/{c}/key-auth (one write, persisted)" "$med ($max) ms" ""
read -r med max < <(python3 $py post-ms "$admin/services" "name=other-{i}&url=$upstream")
row "POST /services (one write of another kind, persisted)" "$med ($max) ms" ""
cpu=$(python3 $py thread-cpu "${pids[-1]}" "$cpu0")
row "CPU ms per write above: control thread / all threads" "$(python3 -c \
  'import json,sys; c=json.loads(sys.argv[1]); print(round(c.get("aw-control0", 0) / 60, 1), "/", round(sum(c.values()) / 60, 1))' "$cpu")" ""

fi
if ((!reload_only && !admin_only)); then
# (c) key-auth on the request path: 100k consumers against 1 (wrk -c50, one worker each).
read -r big _ < <(wrk_rps "$duration" 50 "$proxy/auth" -H "apikey: key-$((consumers / 3))")
stop_last
archwayd --config "$dir/one.json" --proxy-listen 127.0.0.1:$gw2_port --admin-listen off
wait_200 "http://127.0.0.1:$gw2_port/auth" -H "apikey: key-0"
read -r small _ < <(wrk_rps "$duration" 50 "http://127.0.0.1:$gw2_port/auth" -H "apikey: key-0")
stop_last
row "key-auth RPS, $consumers consumers / 1 consumer" "${big%.*} / ${small%.*}" \
  "ratio $(awk -v a="$big" -v b="$small" 'BEGIN {printf "%.2f", a / b}') (~1.00)"
fi

if ((!admin_only)); then
# (d) A $routes-route POST /config while traffic runs (open model, 1,000 req/s on /steady), in
# $rounds rounds. Each round shrinks the config back to the one route, lets it settle, runs the
# traffic for $duration s alone (steady) and then again with the POST 1 s into it (during). One
# round's p99 is its 50 slowest requests of 5,000, so it moves with whatever else the machine
# does; the median of the rounds' ratios is the result, every round is printed.
cat >"$dir/steady.yml" <<YML
_format_version: "3.0"
services:
  - name: svc-0
    url: $upstream
    routes: [{name: steady, paths: [/steady]}]
YML
archwayd --db "sqlite:$dir/routes.db" --proxy-listen 127.0.0.1:$gw_port \
  --admin-listen 127.0.0.1:$admin_port --access-log "$dir/access.log"
wait_200 "$admin/status" >/dev/null
# p99_errors FILE -> "p99_us errors" of an archway-load --json report
p99_errors() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["latency_us"]["p99"], sum(v for v in r["errors"].values() if isinstance(v, int)))' "$1"; }
ratios=() answers=() serves=() errs=0 own99s=() ownmax=0 up99s=() cpu_all=
for ((r = 1; r <= rounds; r++)); do
  curl -fsS -o /dev/null -F "config=@$dir/steady.yml" "$admin/config"
  wait_200 "$proxy/steady" >/dev/null
  sleep 2  # the 10,000 routes of the last round retired, the stats merge settled
  # The load generator runs in a session of its own, as the gateway does: under autogroup
  # scheduling it would otherwise share one group with this script and its Python client
  # (which reads the 5 MB answer) and wait behind them.
  setsid "$load" -R 1000 -d "${duration}s" --json "$proxy/steady" >"$dir/steady-load.json"
  during_start=$(date +%s.%N)
  setsid "$load" -R 1000 -d "${duration}s" --json "$proxy/steady" >"$dir/during-load.json" &
  loadpid=$!
  cpu0=$(python3 $py thread-cpu "${pids[-1]}")
  sleep 1
  read -r answered served < <(python3 $py config-then-serve "$admin" "$proxy" "$dir/routes.json" \
    "/r$((routes - 1))")
  wait $loadpid
  during_end=$(date +%s.%N)
  cpu_all+="$(python3 $py thread-cpu "${pids[-1]}" "$cpu0")"$'\n'
  read -r p99s _ < <(p99_errors "$dir/steady-load.json")
  read -r p99d e < <(p99_errors "$dir/during-load.json")
  ratio=$(awk -v a="$p99d" -v b="$p99s" 'BEGIN {printf "%.2f", a / b}')
  # The client's p99 includes time the load generator and the upstream waited for a CPU; the
  # access log says how much of each request was the gateway's own (latency - upstream time).
  sleep 0.5  # the log thread writes the last lines
  read -r own99 omax up99 _ < <(python3 $py gateway-time "$dir/access.log" "$during_start" "$during_end")
  printf '  round %d: answered %s ms, serving %s ms; p99 during / steady %s / %s us = %s; errors %s; gateway own p99 %s ms, upstream p99 %s ms\n' \
    "$r" "$answered" "$served" "$p99d" "$p99s" "$ratio" "$e" "$own99" "$up99"
  ratios+=("$ratio") answers+=("$answered") serves+=("$served") own99s+=("$own99") up99s+=("$up99")
  errs=$((errs + e))
  ownmax=$(awk -v a="$ownmax" -v b="$omax" 'BEGIN {print (b > a ? b : a)}')
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }
row "POST /config $routes routes: answered / last route serving (max)" "$(maxof "${answers[@]}") / $(maxof "${serves[@]}") ms" "< 1000 ms"
row "traffic meanwhile: failed requests ($rounds rounds)" "$errs" "0"
row "traffic meanwhile: p99 during / steady, median of $rounds" "$(median "${ratios[@]}") (${ratios[*]})" "< 2"
row "meanwhile, the gateway's own time p99 (median) / max; upstream p99" "$(median "${own99s[@]}") / $ownmax; $(median "${up99s[@]}") ms" ""
read -r hwm rss10k < <(awk '/VmHWM/ {h=$2} /VmRSS/ {r=$2} END {print h, r}' "/proc/${pids[-1]}/status")
row "archwayd with $routes routes: peak / current resident memory" "$((hwm / 1024)) / $((rss10k / 1024)) MB" ""
row "per round, CPU ms of the worker / control / stats threads" "$(printf '%s' "$cpu_all" | python3 -c '
import json, statistics, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
print(" / ".join(str(round(statistics.median(r.get(k, 0) for r in rows))) for k in ("aw-worker0", "aw-control0", "aw-stats")))')" \
  "(median; $duration s)"
stop_last
fi

# (e) Propagation between two nodes on one PostgreSQL.
if ((postgres)); then
  for v in $(ls /usr/lib/postgresql 2>/dev/null | sort -rn); do
    [[ -x /usr/lib/postgresql/$v/bin/initdb ]] && { pg_bin=/usr/lib/postgresql/$v/bin; break; }
  done
  if [[ -z $pg_bin ]]; then
    row "propagation between two PostgreSQL nodes" "skipped" "(no PostgreSQL installed)"
  else
    as=()
    if [[ $(id -u) == 0 ]]; then as=(runuser -u nobody --); chown nobody "$dir"; fi
    "${as[@]}" "$pg_bin/initdb" -D "$dir/pg" -A trust -U archway -E UTF8 --locale=C --no-sync \
      >"$dir/initdb.log" 2>&1
    "${as[@]}" "$pg_bin/postgres" -D "$dir/pg" -k "$dir" -p $pg_port -c listen_addresses=127.0.0.1 \
      -c fsync=off -c synchronous_commit=off >"$dir/pg.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
      "$pg_bin/pg_isready" -q -h 127.0.0.1 -p $pg_port && break
      sleep 0.1
    done
    db=postgres://archway@127.0.0.1:$pg_port/postgres
    archwayd --db "$db" --proxy-listen 127.0.0.1:$gw_port --admin-listen 127.0.0.1:$admin_port
    archwayd --db "$db" --proxy-listen 127.0.0.1:$gw2_port --admin-listen 127.0.0.1:$admin2_port
    wait_200 "$admin/status" >/dev/null
    wait_200 "http://127.0.0.1:$admin2_port/status" >/dev/null
    read -r med max < <(python3 $py propagate "$admin" "http://127.0.0.1:$admin2_port" "$changes")
    row "propagation A -> B ($changes writes): median / max" "$med / $max ms" "< 1000 ms"
  fi
fi
