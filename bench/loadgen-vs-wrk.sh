#!/usr/bin/env bash
# archway-load against wrk on the same nginx, interleaved rounds in one run; then a
# constant-rate run checking that the open model keeps the asked rate.
#
#   loadgen-vs-wrk.sh [--load PATH] [--conns C] [--duration S] [--rounds R] [--rate N]
#                     [--min-ratio X] [--rate-tolerance PCT]
#
# Both generators run one thread (-t1) against an nginx on loopback answering a tiny 200.
# Prints one row per round, the median RPS ratio archway-load / wrk (target >= --min-ratio,
# default 0.9), then the constant-rate run's achieved vs asked rate (target within
# --rate-tolerance %, default 2). Exits 0 when both targets are met.
#
# Needs: nginx, wrk (Debian packages nginx-light and wrk). Only loopback is used.
set -euo pipefail

load=build/bin/archway-load
conns=50 duration=5 rounds=3 rate=5000 min_ratio=0.9 rate_tol=2
while (($#)); do
  case $1 in
    --load) load=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --min-ratio) min_ratio=$2; shift 2 ;;
    --rate-tolerance) rate_tol=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for tool in nginx wrk; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nginx-light wrk)" >&2; exit 2; }
done
[[ -x $load ]] || { echo "no archway-load binary at $load" >&2; exit 2; }

port=$((20000 + RANDOM % 20000))
dir=$(mktemp -d); chmod 755 "$dir"
cleanup() {
  [[ -f $dir/nginx.pid ]] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$dir"
}
trap cleanup EXIT

cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx.err warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 "hello world\n"; }
  }
}
CONF
nginx -c "$dir/nginx.conf"
url="http://127.0.0.1:$port/"
for i in $(seq 1 50); do
  curl -fsS -o /dev/null "$url" 2>/dev/null && break
  sleep 0.1
  if ((i == 50)); then echo "nginx did not answer on $url"; cat "$dir/nginx.err"; exit 1; fi
done

# Both print "Requests/sec: N" and the same error lines (wrk's format).
rps_of() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
errs_of() {
  awk '/Non-2xx/ {n+=$NF} /Socket errors/ {gsub(",","");n+=$4+$6+$8+$10} END {print n+0}' <<<"$1"
}
run_wrk() { wrk -t1 -c"$conns" -d"${duration}s" "$url" 2>&1; }
run_load() { "$load" -t1 -c"$conns" -d"${duration}s" "$url" 2>&1; }

# warm both once
wrk -t1 -c"$conns" -d1s "$url" >/dev/null 2>&1
"$load" -t1 -c"$conns" -d1s "$url" >/dev/null 2>&1

echo "conns=$conns duration=${duration}s rounds=$rounds (one thread each, nginx 1 worker)"
printf '%-6s %12s %14s %8s %6s %6s\n' round wrk_rps archway_rps ratio w_err a_err
ratios=() bad=0
for r in $(seq 1 "$rounds"); do
  if ((r % 2)); then
    w=$(run_wrk); a=$(run_load)
  else
    a=$(run_load); w=$(run_wrk)
  fi
  wr=$(rps_of "$w") ar=$(rps_of "$a") we=$(errs_of "$w") ae=$(errs_of "$a")
  ratio=$(awk -v a="${ar:-0}" -v w="${wr:-0}" 'BEGIN { printf "%.3f", (w > 0 ? a / w : 0) }')
  ratios+=("$ratio")
  ((we > 0 || ae > 0)) && bad=1
  printf '%-6s %12s %14s %8s %6s %6s\n' "$r" "${wr:-0}" "${ar:-0}" "$ratio" "$we" "$ae"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mr=$(median "${ratios[@]}")
echo "archway-load/wrk rps ratio median=$mr (target >= $min_ratio) errors=$bad"

out=$("$load" -t1 -c"$conns" -R"$rate" -d"${duration}s" "$url" 2>&1)
achieved=$(rps_of "$out")
not_kept=$(grep -q 'rate not kept' <<<"$out" && echo true || echo false)
dev=$(awk -v a="$achieved" -v r="$rate" 'BEGIN { printf "%.2f", (a - r) / r * 100 }')
echo "constant rate: asked $rate/s achieved $achieved/s deviation ${dev}% (target within ±${rate_tol}%) rate_not_kept=$not_kept"

awk -v m="$mr" -v t="$min_ratio" -v b="$bad" -v d="$dev" -v tol="$rate_tol" \
  'BEGIN { if (d < 0) d = -d; exit !(m >= t && b == 0 && d <= tol) }'
