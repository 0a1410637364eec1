#!/usr/bin/env bash
# Per-plugin overhead, measured on the request path: one archwayd with a route per plugin
# (each plugin alone), driven by wrk route after route; the time each plugin spent per request
# (all its phases, timed by the proxy around each call) is read from /archway/stats after each
# route's run (the frame's plugin timings cover the last 10 s, so --duration stays below). Also
# prints each route's RPS against the plugin-less route, run in the same process.
#
#   bench/plugin-overhead.sh [--gateway PATH] [--duration S] [--conns C]
set -euo pipefail
cd "$(dirname "$0")/.."
gateway=build/bin/archwayd duration=4 conns=50
while (($#)); do
  case $1 in
    --gateway) gateway=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for tool in nginx wrk curl python3; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 2; }; done
base=$((20000 + RANDOM % 20000))
up_port=$base gw_port=$((base + 1)) admin_port=$((base + 2))
dir=$(mktemp -d); chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f $dir/up.pid ]] && kill "$(cat "$dir/up.pid")" 2>/dev/null || true
  sleep 0.3; rm -rf "$dir"
}
trap cleanup EXIT
source bench/lib.sh
start_upstream

# name|plugin yaml (one route each; "plain" has none)
routes=(
  "plain|"
  "key-auth|{name: key-auth}"
  "basic-auth|{name: basic-auth}"
  "rate-limiting|{name: rate-limiting, config: {second: 100000000, policy: local}}"
  "prometheus|{name: prometheus, config: {status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true}}"
  "cors|{name: cors, config: {origins: ['https://a.example']}}"
  "ip-restriction|{name: ip-restriction, config: {allow: [127.0.0.0/8]}}"
  "request-size-limiting|{name: request-size-limiting}"
  "request-transformer|{name: request-transformer, config: {add: {headers: ['X-A:1']}}}"
  "response-transformer|{name: response-transformer, config: {add: {headers: ['X-B:1']}}}"
  "correlation-id|{name: correlation-id}"
  "proxy-cache|{name: proxy-cache, config: {strategy: memory}}"
  "acl|{name: acl, config: {allow: [bench]}}"
)
{
  echo "_format_version: \"3.0\""
  echo "services:"
  echo "  - name: bench"
  echo "    url: http://127.0.0.1:$up_port"
  echo "    routes:"
  for r in "${routes[@]}"; do
    name=${r%%|*} plugin=${r#*|}
    echo "      - name: $name"
    echo "        paths: [\"/$name\"]"
    if [[ $name == acl ]]; then
      echo "        plugins: [{name: key-auth}, $plugin]"
    elif [[ -n $plugin ]]; then
      echo "        plugins: [$plugin]"
    fi
  done
  echo "consumers:"
  echo "  - username: bench"
  echo "    keyauth_credentials: [{key: bench-key}]"
  echo "    basicauth_credentials: [{username: bench, password: pw}]"
  echo "    acls: [{group: bench}]"
} >"$dir/kong.yml"
"$gateway" --config "$dir/kong.yml" --proxy-listen 127.0.0.1:$gw_port \
  --admin-listen 127.0.0.1:$admin_port --workers 1 >"$dir/gw.log" 2>&1 & pids+=($!)
auth=(-H 'apikey: bench-key' -H 'Authorization: Basic YmVuY2g6cHc=' -H 'Content-Type: text/plain')
wait_200 "http://127.0.0.1:$gw_port/plain" || { tail "$dir/gw.log"; exit 1; }
declare -A rps
for r in "${routes[@]}"; do
  name=${r%%|*}
  wrk -t1 -c"$conns" -d1s "${auth[@]}" "http://127.0.0.1:$gw_port/$name" >/dev/null 2>&1
  read -r rps[$name] errs <<<"$(wrk_rps "$duration" "$conns" "http://127.0.0.1:$gw_port/$name" "${auth[@]}")"
  ((errs == 0)) || echo "warning: $name had $errs errors" >&2
  # The stats frame's plugin timings cover the last 10 s: read them right after the run.
  sleep 0.6
  curl -fsS "http://127.0.0.1:$admin_port/archway/stats" >"$dir/stats-$name.json"
done
printf '%-22s %10s %10s %12s\n' plugin mean_ns p99_ns rps_vs_plain
for r in "${routes[@]}"; do
  name=${r%%|*}
  [[ $name == plain ]] && continue
  python3 - "$dir/stats-$name.json" "$name" "${rps[$name]}" "${rps[plain]}" <<'PY'
import json, sys
stats, name, rps, plain = json.load(open(sys.argv[1])), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
row = [p for p in stats["plugins"] if p["route"] == name and p["plugin"] == name]
mean = f"{row[0]['mean_us'] * 1000:.0f}" if row else "0 (no phase)"
p99 = f"{row[0]['p99_us'] * 1000:.0f}" if row else "0"
print(f"{name:<22} {mean:>10} {p99:>10} {rps / plain if plain else 0:>12.3f}")
PY
done
echo "plain route rps=${rps[plain]} (one worker, wrk -t1 -c$conns, ${duration}s per route)"
