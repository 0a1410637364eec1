# Shared by the bench/*.sh scripts: an nginx upstream on loopback, wrk runs, medians.
# Source it after setting `dir` (a temp dir) and `up_port`.

start_upstream() {
  cat >"$dir/upstream.conf" <<CONF
worker_processes 1;
pid $dir/up.pid;
error_log $dir/up.err warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$up_port;
    location / { return 200 "hello world\n"; }
  }
}
CONF
  nginx -c "$dir/upstream.conf"
}

# start_nginx_proxy PORT: nginx (one worker, pid in $dir/px.pid) proxying PORT to the upstream
# with a keep-alive pool, as the proxy-vs-nginx benchmark configures it.
start_nginx_proxy() {
  cat >"$dir/proxy.conf" <<CONF
worker_processes 1;
pid $dir/px.pid;
error_log $dir/px.err warn;
worker_rlimit_nofile 20000;
events { worker_connections 19000; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream up { server 127.0.0.1:$up_port; keepalive 256; }
  server {
    listen 127.0.0.1:$1;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
  nginx -c "$dir/proxy.conf"
}

# $dir/kong.yml: one service on the upstream, one route "/", no plugins (the `plain` profile).
write_plain_config() {
  cat >"$dir/kong.yml" <<YML
_format_version: "3.0"
services:
  - name: bench
    url: http://127.0.0.1:$up_port
    routes:
      - name: all
        paths: ["/"]
YML
}

# wait_200 URL [curl args...]
wait_200() {
  local url=$1; shift
  for _ in $(seq 1 50); do
    curl -fsS -o /dev/null "$@" "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "no 200 from $url" >&2
  return 1
}

# wrk_rps SECONDS CONNS URL [wrk args...] -> "rps errors"
wrk_rps() {
  local d=$1 c=$2 url=$3; shift 3
  local out
  out=$(wrk -t1 -c"$c" -d"${d}s" "$@" "$url" 2>&1)
  awk '/Requests\/sec/ {r=$2} /Non-2xx/ {e+=$NF} /Socket errors/ {gsub(",","");e+=$4+$6+$8+$10} END {printf "%s %d\n", r+0, e+0}' <<<"$out"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# start_plain_pair GATEWAY: in a fresh temp $dir (removed on exit, with every process started
# here), the nginx upstream, nginx proxying it on $np (worker pid $npid) and archwayd with the
# plain config and one worker on $gp (pid $gpid); both answer 200 when this returns.
start_plain_pair() {
  local base=$((20000 + RANDOM % 20000))
  up_port=$base np=$((base + 1)) gp=$((base + 2))
  dir=$(mktemp -d); chmod 755 "$dir"
  gpid=
  trap 'stop_plain_pair' EXIT
  start_upstream
  start_nginx_proxy "$np"
  write_plain_config
  "$1" --config "$dir/kong.yml" --proxy-listen "127.0.0.1:$gp" --admin-listen off \
    --workers 1 >"$dir/gw.log" 2>&1 &
  gpid=$!
  wait_200 "http://127.0.0.1:$gp/"
  wait_200 "http://127.0.0.1:$np/"
  npid=$(pgrep -P "$(cat "$dir/px.pid")" | head -1)
}

stop_plain_pair() {
  [[ -n $gpid ]] && kill "$gpid" 2>/dev/null || true
  for f in px up; do [[ -f $dir/$f.pid ]] && kill "$(cat "$dir/$f.pid")" 2>/dev/null || true; done
  sleep 0.3; rm -rf "$dir"
}
