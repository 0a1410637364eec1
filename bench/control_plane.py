#!/usr/bin/env python3
"""Helpers for bench/control-plane.sh: big configs, and timings that need keep-alive HTTP
(a curl per poll would add milliseconds to every sample).

  control_plane.py consumers N UPSTREAM_URL      kong.yml (JSON) with N consumers + key-auth
  control_plane.py routes N UPSTREAM_URL         POST /config body with N routes (+ /steady)
  control_plane.py get-ms URL [REPEAT]           median and max ms of GET URL (keep-alive)
  control_plane.py post-ms URL FORM [REPEAT]     median ms of POST URL with FORM (index {i})
  control_plane.py config-then-serve ADMIN PROXY FILE PATH
                                                 POST /config FILE, then poll PROXY PATH until
                                                 200: ms to the POST's answer and to serving
  control_plane.py propagate ADMIN_A ADMIN_B N   N consumers written on A, polled on B: ms
  control_plane.py gateway-time LOG SINCE [UNTIL] over the access-log lines at or after SINCE (epoch
                                                 s; before UNTIL): p99 and max of the gateway's own time
                                                 (latency - upstream) and p99 of upstream time, ms
  control_plane.py thread-cpu PID [BEFORE]       CPU ms of PID's threads by name as JSON; with
                                                 BEFORE (an earlier output), what they used since
"""
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse


def conn(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30), u


def request(c, method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    return r.status, data


def consumers(n, upstream):
    doc = {
        "_format_version": "3.0",
        "services": [{
            "name": "auth", "url": upstream,
            "routes": [{"name": "auth", "paths": ["/auth"], "plugins": [{"name": "key-auth"}]}],
        }],
        "consumers": [
            {"username": f"user-{i}", "keyauth_credentials": [{"key": f"key-{i}"}]}
            for i in range(n)
        ],
    }
    json.dump(doc, sys.stdout, separators=(",", ":"))


def routes(n, upstream):
    services = [{"name": f"svc-{s}", "url": upstream, "routes": []} for s in range(max(1, n // 100))]
    services[0]["routes"].append({"name": "steady", "paths": ["/steady"]})
    for i in range(n):
        services[i % len(services)]["routes"].append({"name": f"r{i}", "paths": [f"/r{i}"]})
    doc = {"_format_version": "3.0", "services": services}
    json.dump({"config": json.dumps(doc)}, sys.stdout, separators=(",", ":"))


def get_ms(url, repeat=20):
    c, u = conn(url)
    path = u.path + ("?" + u.query if u.query else "")
    request(c, "GET", path)  # warm the connection
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        status, _ = request(c, "GET", path)
        samples.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            sys.exit(f"GET {url}: {status}")
    print(f"{statistics.median(samples):.2f} {max(samples):.2f}")


def post_ms(url, form, repeat=20):
    c, u = conn(url)
    samples = []
    for i in range(repeat):
        body = form.replace("{i}", str(i))
        t0 = time.perf_counter()
        status, data = request(c, "POST", u.path, body,
                               {"Content-Type": "application/x-www-form-urlencoded"})
        samples.append((time.perf_counter() - t0) * 1000)
        if status != 201:
            sys.exit(f"POST {url}: {status} {data[:200]!r}")
    print(f"{statistics.median(samples):.2f} {max(samples):.2f}")


def config_then_serve(admin, proxy, file, path):
    body = open(file, "rb").read()
    a, au = conn(admin)
    p, _ = conn(proxy)
    t0 = time.perf_counter()
    status, data = request(a, "POST", "/config", body, {"Content-Type": "application/json"})
    answered = (time.perf_counter() - t0) * 1000
    if status not in (200, 201):
        sys.exit(f"POST /config: {status} {data[:300]!r}")
    while True:
        s, _ = request(p, "GET", path)
        if s == 200:
            break
        time.sleep(0.001)
    served = (time.perf_counter() - t0) * 1000
    print(f"{answered:.0f} {served:.0f}")


def gateway_time(log, since, until=float("inf")):
    own, up = [], []
    for line in open(log):
        if not line.endswith("\n"):
            break  # the log thread is still writing it
        r = json.loads(line)
        if r.get("type") != "access" or not since <= r["time"] < until or "upstream_ms" not in r:
            continue
        own.append(r["latency_ms"] - r["upstream_ms"])
        up.append(r["upstream_ms"])
    if not own:
        sys.exit("no access-log lines after the start of the run")
    own.sort()
    up.sort()
    p99 = lambda v: v[min(len(v) - 1, int(len(v) * 0.99))]
    print(f"{p99(own):.3f} {own[-1]:.3f} {p99(up):.3f} {len(own)}")


def propagate(admin_a, admin_b, n):
    a, _ = conn(admin_a)
    b, _ = conn(admin_b)
    tag = str(int(time.time()))
    samples = []
    for i in range(n):
        name = f"prop-{tag}-{i}"
        t0 = time.perf_counter()
        status, data = request(a, "POST", "/consumers", f"username={name}",
                               {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 201:
            sys.exit(f"POST /consumers on A: {status} {data[:200]!r}")
        deadline = t0 + 10
        while True:
            s, _ = request(b, "GET", f"/consumers/{name}")
            if s == 200:
                break
            if time.perf_counter() > deadline:
                sys.exit(f"{name} did not reach node B within 10 s")
            time.sleep(0.0005)
        samples.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.05)
    print(f"{statistics.median(samples):.1f} {max(samples):.1f}")


def thread_cpu(pid, before=None):
    tick = 1000 / os.sysconf("SC_CLK_TCK")
    now = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        now[name] = now.get(name, 0) + (int(fields[11]) + int(fields[12])) * tick
    if before:
        old = json.loads(before)
        now = {k: v - old.get(k, 0) for k, v in now.items()}
    print(json.dumps({k: round(v) for k, v in sorted(now.items())}))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "consumers":
        consumers(int(args[0]), args[1])
    elif cmd == "routes":
        routes(int(args[0]), args[1])
    elif cmd == "get-ms":
        get_ms(args[0], int(args[1]) if len(args) > 1 else 20)
    elif cmd == "post-ms":
        post_ms(args[0], args[1], int(args[2]) if len(args) > 2 else 20)
    elif cmd == "config-then-serve":
        config_then_serve(*args[:4])
    elif cmd == "propagate":
        propagate(args[0], args[1], int(args[2]))
    elif cmd == "gateway-time":
        gateway_time(args[0], float(args[1]), float(args[2]) if len(args) > 2 else float("inf"))
    elif cmd == "thread-cpu":
        thread_cpu(args[0], args[1] if len(args) > 1 else None)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
