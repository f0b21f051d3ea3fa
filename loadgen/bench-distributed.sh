#!/usr/bin/env bash
# loadgen/bench-distributed.sh — loadgen's distributed mode against one process, side by side,
# on a loopback target (loadgen/internal/benchtarget) on 127.0.0.1 only: 50 users x constant(0)
# on an endpoint answering at once, BENCH_ROUNDS alternating rounds of BENCH_ROUND_S seconds of
#   A. one loadgen process, and
#   B. loadgen --master + 2 loadgen --worker processes (the same 50 users, split 25/25),
# printing each round's req/s and the master's CPU time; then
#   C. loadgen --master + 2 workers paced at ~10k req/s aggregated (500 users x
#      constant_pacing(0.05)) for BENCH_PACED_S seconds: the master's CPU in % of one core
#      (utime + stime from /proc/PID/stat, over the run after its first 2 s) and each worker's
#      RSS (VmRSS every second: after 5 s, peak, at the end), to show it stays bounded.
# Bounded: about 2 x rounds x (round + 2) + paced + 5 s.
# Every process started here is stopped by PID on exit.
# Env: BENCH_PORT (26180), BENCH_MASTER_PORT (26181), BENCH_ROUND_S (8), BENCH_ROUNDS (3),
# BENCH_PACED_S (30; 600 for the 10-minute memory check).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${BENCH_PORT:-26180}
MPORT=${BENCH_MASTER_PORT:-26181}
ROUND=${BENCH_ROUND_S:-8}
ROUNDS=${BENCH_ROUNDS:-3}
PACED=${BENCH_PACED_S:-30}
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
cat >"$work/p.yaml" <<'YAML'
users:
  - name: Paced
    wait_time: constant_pacing(0.05)
    tasks:
      - {method: GET, path: /}
YAML
echo "loadgen distributed bench $(date -u +%FT%TZ) on $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

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

# C. Paced at ~10k req/s aggregated: the master's CPU and the workers' memory.
"$work/loadgen" --master -f "$work/p.yaml" -H "$HOST" --headless --expect-workers 2 -u 500 -r 500 -t "${PACED}s" \
  --only-summary --master-bind-host 127.0.0.1 --master-bind-port "$MPORT" >"$work/pm.out" 2>&1 &
m=$!
pids+=("$m")
"$work/loadgen" --worker -f "$work/p.yaml" --master-port "$MPORT" >"$work/pw1.out" 2>&1 &
w1=$!
"$work/loadgen" --worker -f "$work/p.yaml" --master-port "$MPORT" >"$work/pw2.out" 2>&1 &
w2=$!
pids+=("$w1" "$w2")
# One line a second: seconds since start, master ticks, worker 1 and 2 VmRSS (kB).
start=$(date +%s.%N)
while kill -0 "$m" 2>/dev/null; do
  t=$(awk '{print $14 + $15}' "/proc/$m/stat" 2>/dev/null || true)
  r1=$(awk '/^VmRSS/{print $2}' "/proc/$w1/status" 2>/dev/null || true)
  r2=$(awk '/^VmRSS/{print $2}' "/proc/$w2/status" 2>/dev/null || true)
  [ -n "$t" ] && [ -n "$r1" ] && [ -n "$r2" ] && echo "$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN{print n - s}') $t $r1 $r2" >>"$work/samples"
  sleep 1
done
wait "$m" "$w1" "$w2" || true
paced=$(rps "$work/pm.out")
awk -v hz="$(getconf CLK_TCK)" -v rps="$paced" -v users=500 -v s="$PACED" '
  $1 >= 2 && !first { t0 = $1; k0 = $2; first = 1 }
  { t1 = $1; k1 = $2
    if ($1 >= 5 && !early) { e1 = $3; e2 = $4; early = 1 }
    if ($3 > p1) p1 = $3; if ($4 > p2) p2 = $4; l1 = $3; l2 = $4 }
  END {
    cpu = (t1 > t0) ? 100 * (k1 - k0) / hz / (t1 - t0) : 0
    printf "paced: master + 2 workers, %d users x constant_pacing(0.05), %d s: %s req/s aggregated; master CPU %.1f%% of one core (over %.0f s); worker RSS MB after 5 s %.1f/%.1f, peak %.1f/%.1f, at the end %.1f/%.1f\n",
      users, s, rps, cpu, t1 - t0, e1 / 1024, e2 / 1024, p1 / 1024, p2 / 1024, l1 / 1024, l2 / 1024
  }' "$work/samples"
