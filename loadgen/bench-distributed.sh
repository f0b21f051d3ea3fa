#!/usr/bin/env bash
# loadgen/bench-distributed.sh — loadgen's distributed mode against one process, side by side,
# on a loopback target (loadgen/internal/benchtarget) on 127.0.0.1 only: 50 users x constant(0)
# on an endpoint answering at once, BENCH_ROUNDS alternating rounds of BENCH_ROUND_S seconds of
#   A. one loadgen process, and
#   B. loadgen --master + 2 loadgen --worker processes (the same 50 users, split 25/25),
# printing each round's req/s and the master's CPU time. Bounded: about 2 x rounds x (round + 2) s.
# Every process started here is stopped by PID on exit.
# Env: BENCH_PORT (26180), BENCH_MASTER_PORT (26181), BENCH_ROUND_S (8), BENCH_ROUNDS (3).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${BENCH_PORT:-26180}
MPORT=${BENCH_MASTER_PORT:-26181}
ROUND=${BENCH_ROUND_S:-8}
ROUNDS=${BENCH_ROUNDS:-3}
HOST="http://127.0.0.1:$PORT"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

go build -o "$work/" ./loadgen ./loadgen/internal/benchtarget
"$work/benchtarget" --addr "127.0.0.1:$PORT" 2>"$work/target.log" &
pids+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
cat >"$work/c0.yaml" <<'YAML'
users:
  - name: Fast
    wait_time: constant(0)
    tasks:
      - {method: GET, path: /}
YAML

# rps FILE: the final Aggregated row's req/s.
rps() { grep -E '^ +Aggregated' "$1" | head -1 | awk '{print $(NF-1)}'; }

for r in $(seq "$ROUNDS"); do
  "$work/loadgen" -f "$work/c0.yaml" -H "$HOST" --headless -u 50 -r 50 -t "${ROUND}s" --only-summary >"$work/one.out" 2>&1
  one=$(rps "$work/one.out")

  "$work/loadgen" --master -f "$work/c0.yaml" -H "$HOST" --headless --expect-workers 2 -u 50 -r 50 -t "${ROUND}s" \
    --only-summary --master-bind-host 127.0.0.1 --master-bind-port "$MPORT" >"$work/m.out" 2>&1 &
  m=$!
  pids+=("$m")
  "$work/loadgen" --worker -f "$work/c0.yaml" --master-port "$MPORT" >"$work/w1.out" 2>&1 &
  w1=$!
  "$work/loadgen" --worker -f "$work/c0.yaml" --master-port "$MPORT" >"$work/w2.out" 2>&1 &
  w2=$!
  pids+=("$w1" "$w2")
  # The master's CPU time (utime + stime, clock ticks) just before it exits.
  ticks=0
  while kill -0 "$m" 2>/dev/null; do
    t=$(awk '{print $14 + $15}' "/proc/$m/stat" 2>/dev/null || true)
    [ -n "$t" ] && ticks=$t
    sleep 0.2
  done
  wait "$m" "$w1" "$w2" || true
  dist=$(rps "$work/m.out")
  cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v s="$ROUND" 'BEGIN { printf "%.2f s (%.1f%% of one core)", t / hz, 100 * t / hz / s }')
  ratio=$(awk -v a="$dist" -v b="$one" 'BEGIN { printf "%.2f", a / b }')
  echo "round $r: one process $one req/s; master + 2 workers $dist req/s (x$ratio); master CPU $cpu"
done
