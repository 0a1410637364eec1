#!/usr/bin/env bash
# Runs every benchmark in bench/ and prints each one's closing line. Benchmarks print ratios
# against a reference run made side by side (nginx for the proxy); they never fail a build on
# their own numbers, so this script reports and exits 0 unless a benchmark could not run.
#
#   bench/run-all.sh [--quick]
set -uo pipefail
cd "$(dirname "$0")/.."
duration=8 rounds=3
[[ ${1:-} == --quick ]] && duration=3 rounds=3
shared=../shared/bench/proxy-vs-nginx.sh
[[ -x $shared || -f $shared ]] || shared=bench/proxy-vs-nginx.sh
status=0
for profile in plain large; do
  for workers in 1 2; do
    echo "== proxy vs nginx: profile=$profile workers=$workers"
    out=$(bash "$shared" --gateway build/bin/archwayd --profile "$profile" --workers "$workers" \
      --duration "$duration" --rounds "$rounds" --min-ratio 0 2>&1)
    rc=$?
    echo "$out" | tail -n +2
    ((rc != 0)) && status=1  # with --min-ratio 0 only errors or a missing tool fail
  done
done
for workers in 1 2; do
  echo "== proxy vs nginx: profile=plugins workers=$workers (key-auth + rate-limiting + prometheus)"
  out=$(bash "$shared" --gateway build/bin/archwayd --profile plugins --workers "$workers" \
    --duration "$duration" --rounds "$rounds" --min-ratio 0 2>&1)
  rc=$?
  echo "$out" | tail -n +2
  ((rc != 0)) && status=1
done
echo "== stats + tracing overhead"
bash bench/observability-overhead.sh --duration "$duration" --rounds 5 2>&1 | tail -n 1 || status=1
echo "== per-plugin overhead"
bash bench/plugin-overhead.sh --duration "$duration" 2>&1 || status=1
echo "== load generator vs wrk"
bash bench/loadgen-vs-wrk.sh 2>&1 | tail -n 3 || status=1
echo "== control plane: 100,000 consumers, 10,000 routes, two PostgreSQL nodes"
bash bench/control-plane.sh --duration "$duration" 2>&1 | tail -n +3 || status=1
echo "== router: 10,000 routes"
if [[ -x build/bin/router_bench ]]; then
  build/bin/router_bench --benchmark_min_time=0.2 2>/dev/null | tail -n 1 || status=1
else
  echo "build/bin/router_bench missing (configure with -DARCHWAY_BENCH=ON)"; status=1
fi
exit $status
