#!/usr/bin/env bash
# Where a proxied request's time goes: CPU µs per request (user, system) of nginx and archwayd
# proxying the same nginx upstream (plain profile, one worker each), of the upstream behind
# each and of wrk, plus each proxy's syscalls per request, counted with perf's syscall
# tracepoints for 3 s in the middle of each run.
#
#   syscalls-per-request.sh [--gateway PATH] [--rounds N] [--duration S]
#
# Also prints each proxy's and the upstream's context switches per request.
#
# Needs nginx, wrk, perf (run as root for the tracepoints) and GNU time. Only loopback is used.
set -euo pipefail
gateway=build/bin/archwayd rounds=2 duration=8
while (($#)); do
  case $1 in
    --gateway) gateway=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for tool in nginx wrk perf /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done
source "$(cd "$(dirname "$0")" && pwd)/lib.sh"
start_plain_pair "$gateway"
upid=$(pgrep -P "$(cat "$dir/up.pid")" | head -1)
events=$(printf 'syscalls:sys_enter_%s,' epoll_wait epoll_ctl recvfrom sendmsg sendto writev \
  readv read write getsockopt setsockopt futex accept4 close)
events=${events%,}

# per_thread PID FILE AWK -> the two numbers AWK prints for /proc/PID/task/*/FILE, summed over
# the process's threads
per_thread() {
  local x=0 y=0 a b
  for t in /proc/"$1"/task/*; do
    read -r a b < <(awk "$3" "$t/$2")
    x=$((x + a)) y=$((y + b))
  done
  echo "$x $y"
}
# cpu PID -> "user_ticks system_ticks"
cpu() { per_thread "$1" stat '{print $14, $15}'; }
# switches PID -> "voluntary involuntary" context switches
switches() {
  per_thread "$1" status '/^voluntary_ctxt/ {v=$2} /^nonvoluntary_ctxt/ {n=$2} END {print v, n}'
}

# measure NAME PROXY_PID PORT
measure() {
  local u0 s0 uu0 us0 u1 s1 uu1 us1 pv0 pn0 uv0 un0 pv1 pn1 uv1 un1 out n tick
  tick=$(getconf CLK_TCK)
  read -r u0 s0 < <(cpu "$2"); read -r uu0 us0 < <(cpu "$upid")
  read -r pv0 pn0 < <(switches "$2"); read -r uv0 un0 < <(switches "$upid")
  (sleep 2; perf stat -x, -e "$events" -p "$2" -o "$dir/sys-$1.txt" -- sleep 3) & local tp=$!
  out=$(/usr/bin/time -f "WRKCPU %U %S" wrk -t1 -c50 -d"${duration}s" "http://127.0.0.1:$3/" 2>&1)
  wait "$tp"
  read -r u1 s1 < <(cpu "$2"); read -r uu1 us1 < <(cpu "$upid")
  read -r pv1 pn1 < <(switches "$2"); read -r uv1 un1 < <(switches "$upid")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v name="$1" -v n="$n" -v tick="$tick" -v u=$((u1 - u0)) -v s=$((s1 - s0)) \
      -v up=$((uu1 - uu0 + us1 - us0)) -v rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
      -v wc="$(awk '/WRKCPU/ {print ($2 + $3) * 1e6}' <<<"$out")" 'BEGIN {
    k = 1e6 / tick / n
    printf "%-8s rps=%-9.0f proxy user=%.2fus sys=%.2fus | upstream %.2fus | wrk %.2fus\n",
           name, rps, u * k, s * k, up * k, wc / n }'
  # Sleeps (voluntary) and preemptions (involuntary) per request: a proxy preempted often, or
  # an upstream that sleeps between single requests, costs wake-ups the CPU times do not show.
  awk -v name="$1" -v n="$n" -v pv=$((pv1 - pv0)) -v pn=$((pn1 - pn0)) -v uv=$((uv1 - uv0)) \
      -v un=$((un1 - un0)) 'BEGIN {
    printf "%-8s context switches per request: proxy %.3f sleeps %.3f preemptions | upstream %.3f sleeps %.3f preemptions\n",
           name, pv / n, pn / n, uv / n, un / n }'
  # Requests in the 3 s window: half the proxy's sends (one to the upstream, one to the client).
  awk -F, -v name="$1" '$1 ~ /^[0-9]+$/ { c[$3] = $1; if ($3 ~ /sendmsg|writev|sendto/) s += $1 }
    END { printf "%-8s syscalls per request:", name
          for (k in c) if (c[k] > 0) { kk = k; sub("syscalls:sys_enter_", "", kk); printf " %s=%.2f", kk, c[k] / (s / 2) }
          printf "\n" }' "$dir/sys-$1.txt"
}

for r in $(seq 1 "$rounds"); do
  measure nginx "$npid" "$np"
  measure archway "$gpid" "$gp"
done
