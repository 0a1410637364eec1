#!/usr/bin/env bash
# What per-request stats plus tracing at the default sampling (0.01, errors and slow requests
# always kept) cost: two archwayd processes on the same config, one with --observability off,
# measured with wrk in interleaved rounds against the same nginx upstream.
#
#   bench/observability-overhead.sh [--gateway PATH] [--duration S] [--rounds R] [--conns C]
#
# Prints one row per round and a last line with the median RPS ratio (on / off); the target
# is a cost under 3% (ratio >= 0.97).
set -euo pipefail
cd "$(dirname "$0")/.."
gateway=build/bin/archwayd duration=5 rounds=5 conns=50
while (($#)); do
  case $1 in
    --gateway) gateway=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for tool in nginx wrk curl; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 2; }; done
base=$((20000 + RANDOM % 20000))
up_port=$base on_port=$((base + 1)) off_port=$((base + 2))
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
write_plain_config
"$gateway" --config "$dir/kong.yml" --proxy-listen 127.0.0.1:$on_port --admin-listen off \
  --workers 1 >"$dir/on.log" 2>&1 & pids+=($!)
"$gateway" --config "$dir/kong.yml" --proxy-listen 127.0.0.1:$off_port --admin-listen off \
  --workers 1 --observability off >"$dir/off.log" 2>&1 & pids+=($!)
wait_200 "http://127.0.0.1:$on_port/" && wait_200 "http://127.0.0.1:$off_port/"
wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$on_port/" >/dev/null 2>&1
wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$off_port/" >/dev/null 2>&1
printf '%-6s %12s %12s %8s\n' round off_rps on_rps ratio
ratios=()
for r in $(seq 1 "$rounds"); do
  if ((r % 2)); then
    read -r off_rps _ <<<"$(wrk_rps "$duration" "$conns" "http://127.0.0.1:$off_port/")"
    read -r on_rps _ <<<"$(wrk_rps "$duration" "$conns" "http://127.0.0.1:$on_port/")"
  else
    read -r on_rps _ <<<"$(wrk_rps "$duration" "$conns" "http://127.0.0.1:$on_port/")"
    read -r off_rps _ <<<"$(wrk_rps "$duration" "$conns" "http://127.0.0.1:$off_port/")"
  fi
  ratio=$(awk -v a="$on_rps" -v b="$off_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
  ratios+=("$ratio")
  printf '%-6s %12s %12s %8s\n' "$r" "$off_rps" "$on_rps" "$ratio"
done
m=$(median "${ratios[@]}")
echo "stats+tracing(0.01) / off rps ratio median=$m cost=$(awk -v m="$m" 'BEGIN { printf "%.1f%%", (1 - m) * 100 }')"
