#!/usr/bin/env bash
# What an idle keep-alive connection costs: N clients each send one request through the proxy
# and then stay connected; the proxy's RSS growth divided by N is printed for nginx and
# archwayd (plain profile, one worker each, the same nginx upstream).
#
#   idle-connections.sh [--gateway PATH] [--connections N]
#
# Needs nginx, curl and python3; N is capped by the open-file limit. Only loopback is used.
set -euo pipefail
gateway=build/bin/archwayd conns=3000
while (($#)); do
  case $1 in
    --gateway) gateway=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for tool in nginx curl python3; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 2; }; done
[[ -x $gateway ]] || { echo "build $gateway first" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"
limit=$(( $(ulimit -n) / 2 - 100 ))
((conns <= limit)) || { echo "capping --connections at $limit (open-file limit)" >&2; conns=$limit; }
source "$(cd "$(dirname "$0")" && pwd)/lib.sh"
start_plain_pair "$gateway"

# idle PORT PID -> "rss_before_kib rss_after_kib bytes_per_connection"
idle() {
  python3 - "$1" "$2" "$conns" <<'PY'
import socket, sys, time
port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
before, socks = rss(), []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
    socks.append(s)
for s in socks:
    got = b""
    while b"hello world\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("connection closed before the response")
        got += chunk
time.sleep(0.5)
after = rss()
print(before, after, round((after - before) * 1024 / n))
PY
}
read -r nb na nper < <(idle "$np" "$npid")
read -r ab aa aper < <(idle "$gp" "$gpid")
printf '%-8s %10s %10s %12s\n' proxy rss_kib_0 rss_kib_1 bytes_per_idle_conn
printf '%-8s %10s %10s %12s\n' nginx "$nb" "$na" "$nper" archwayd "$ab" "$aa" "$aper"
echo "idle keep-alive connections=$conns archway/nginx bytes per connection ratio=$(awk -v a="$aper" -v n="$nper" 'BEGIN {printf "%.1f", a / n}')"
