#!/usr/bin/env bash
# The reference broker and Debian's mosquitto under the same loads, one after the other, on this
# machine (issue 8). Everything is on loopback; both brokers are stopped at the end.
#
#   examples/mqtt-loadgen/side-by-side.sh [WORK_DIR]      (default /tmp/loadgen-side-by-side)
#
# Environment: STEP_SECS (measured seconds per flood step, default 8), CONNECT_SECS (default 10),
# PEAK_AGENTS (default: what the open-file limit allows, at most 500000), PEAK_SECS (default
# 120), PEAK_RAMP (default 60), PHASES (default "flood connect peak"; "durable" adds QoS 1
# floods to persistent subscribers with persistence on in both brokers), RATES (the flood steps,
# offered msg/s, space-separated), BEFORE_BIN (a reference-broker binary of an earlier version,
# measured too in the durable phase).
# Writes WORK_DIR/summary.md, and every run's files under WORK_DIR/runs/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-/tmp/loadgen-side-by-side}
STEP_SECS=${STEP_SECS:-8}
CONNECT_SECS=${CONNECT_SECS:-10}
PEAK_SECS=${PEAK_SECS:-120}
PEAK_RAMP=${PEAK_RAMP:-60}
PHASES=${PHASES:-flood connect peak}
# A flood step passes with errors below 0.01 %, at least 98 % of the offered rate delivered, and
# p99 latency within this many ms: past the broker's capacity its queues grow and the latency
# climbs to seconds.
P99_LIMIT_MS=${P99_LIMIT_MS:-100}
read -ra RATES <<<"${RATES:-10000 20000 30000 40000 50000 60000 80000 100000 125000 150000 175000 200000 250000 300000 350000 400000 450000 500000 600000 700000}"

command -v mosquitto >/dev/null || { echo "needs mosquitto (apt-get install mosquitto)" >&2; exit 1; }
(cd "$ROOT" && cargo build --release --locked -p reference-broker -p mqtt-loadgen)
BIN=$ROOT/target/release
# shellcheck source=load-test-data.sh
source "$ROOT/examples/mqtt-loadgen/load-test-data.sh"
LG=$BIN/mqtt-loadgen

ulimit -n "$(ulimit -Hn)"
FDS=$(ulimit -n)
# Each connection is one descriptor in the broker and one in the generator.
MAX_AGENTS=$((FDS - 500))
PEAK_AGENTS=${PEAK_AGENTS:-$((MAX_AGENTS < 500000 ? MAX_AGENTS : 500000))}

rm -rf "$WORK"
mkdir -p "$WORK/runs"
cd "$WORK"

REF_ARGS=(--data-dir broker-data --mqtt-listen 127.0.0.1:18883 --plain-listen 127.0.0.1:11883
  --http-listen 127.0.0.1:18080)
# The data directory with a load test's limits (load-test-data.sh), and no persistence
# (mosquitto's default), so both brokers do the same work.
load_test_data "$BIN" "${REF_ARGS[@]}"
sed -i -e '/^\[persistence\]/,/^enabled/ s/^enabled = true/enabled = false/' broker-data/broker.toml
cat >mosquitto.conf <<EOF
per_listener_settings false
allow_anonymous true
listener 18884 127.0.0.1
cafile $WORK/broker-data/ca.pem
certfile $WORK/broker-data/server.pem
keyfile $WORK/broker-data/server.key
require_certificate true
listener 11884 127.0.0.1
max_inflight_messages 32
max_queued_messages 1000
max_connections -1
set_tcp_nodelay true
log_type error
log_type warning
EOF

"$BIN/reference-broker" "${REF_ARGS[@]}" >reference-broker.log 2>&1 &
REF=$!
mosquitto -c mosquitto.conf >mosquitto.log 2>&1 &
MOSQ=$!
DURABLE_PIDS=()
trap 'kill $REF $MOSQ "${DURABLE_PIDS[@]}" 2>/dev/null || true' EXIT
sleep 2

declare -A PLAIN=([reference]=11883 [mosquitto]=11884)
declare -A TLS=([reference]=18883 [mosquitto]=18884)
declare -A PID=([reference]=$REF [mosquitto]=$MOSQ)

{
  echo "# Side by side: reference broker and mosquitto"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores, open-file limit $FDS, mosquitto $(mosquitto -h | head -1 | awk '{print $3}'),"
  echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
} >summary.md

# The summary row of a run and one of its columns: 6 error %, 9 p99 ms, 12 throughput,
# 13 connect/s.
row() { grep -m1 -E '^\| (flood|connect|peak|stability) ' "runs/$1.txt" || true; }
col() { row "$1" | awk -F'|' -v c="$2" '{gsub(/ /, "", $c); print $c}'; }

run() {
  local name=$1
  shift
  "$LG" "$@" --out "runs/$name" --no-progress >"runs/$name.txt" 2>&1 || true
  echo "$name: $(row "$name")" >&2
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

flood_max() {
  local broker=$1 transport=$2 qos=$3 best="" fails=0 port tls=() extra=("${@:4}")
  if [ "$transport" = tls ]; then
    port=${TLS[$broker]}
    tls=(--broker-data broker-data)
  else
    port=${PLAIN[$broker]}
  fi
  for rate in "${RATES[@]}"; do
    local name="flood-$broker-$transport-q$qos-$rate"
    run "$name" flood --agents 8 --subscribers 4 --qos "$qos" --rate "$rate" \
      --duration "$STEP_SECS" --ramp-up 1 --drain 2 --broker "127.0.0.1:$port" "${tls[@]}" \
      "${extra[@]}"
    local err p99 got
    err=$(col "$name" 6)
    p99=$(col "$name" 9)
    got=$(col "$name" 12)
    if awk -v e="$err" -v p="$p99" -v l="$P99_LIMIT_MS" -v g="$got" -v r="$rate" \
      'BEGIN {exit !(e != "" && e < 0.01 && p <= l && g >= 0.98 * r)}'; then
      best=$name
      fails=0
    else
      fails=$((fails + 1))
      [ "$fails" -ge 2 ] && break
    fi
  done
  if [ -n "$best" ]; then
    echo "| $broker | $transport | $qos | $(col "$best" 12) | $(col "$best" 6) | $(col "$best" 9) | $best |" >>summary.md
  else
    echo "| $broker | $transport | $qos | none passed | | | |" >>summary.md
  fi
}

if [[ " $PHASES " == *" flood "* ]]; then
  {
    echo "## Flood: highest offered rate with errors < 0.01 %, >= 98 % delivered, p99 <= $P99_LIMIT_MS ms"
    echo "8 publishers -> 4 subscribers, 64-byte payloads, ${STEP_SECS} s per step; rates ${RATES[*]}; two failed steps in a row end the search."
    echo
    echo "| broker | transport | QoS | msg/s | error % | p99 ms | run |"
    echo "|---|---|---:|---:|---:|---:|---|"
  } >>summary.md
  for transport in plain tls; do
    for qos in 0 1; do
      for broker in reference mosquitto; do
        flood_max "$broker" "$transport" "$qos"
      done
    done
  done
  echo >>summary.md
fi

if [[ " $PHASES " == *" connect "* ]]; then
  {
    echo "## mTLS connect: TCP + full handshake + CONNECT -> CONNACK + DISCONNECT, 16 workers, 3 runs of ${CONNECT_SECS} s"
    echo
    echo "| broker | connect/s (runs) | median | p99 ms of the median run |"
    echo "|---|---|---:|---:|"
  } >>summary.md
  for broker in reference mosquitto; do
    rates=()
    for i in 1 2 3; do
      name="connect-$broker-$i"
      run "$name" connect --agents 16 --duration "$CONNECT_SECS" --ramp-up 1 --drain 1 \
        --source-addrs 8 --broker "127.0.0.1:${TLS[$broker]}" --broker-data broker-data
      rates+=("$(col "$name" 13) $name")
    done
    sorted=$(printf '%s\n' "${rates[@]}" | sort -n)
    median=$(echo "$sorted" | sed -n 2p)
    echo "| $broker | $(echo "$sorted" | awk '{printf "%s ", $1}') | ${median%% *} | $(col "${median#* }" 9) |" >>summary.md
  done
  echo >>summary.md
fi

if [[ " $PHASES " == *" peak "* ]]; then
  {
    echo "## Peak: $PEAK_AGENTS agents over mTLS at QoS 1 (ramp-up $PEAK_RAMP s, $PEAK_SECS s measured)"
    echo "The seed's peak rate for this many agents, then the seed's 500,000-agent rate (6,000 msg/s) over the same agents."
    echo
    echo "| broker | rate | sent | received | error % | p50 ms | p99 ms | p99.9 ms | max ms | broker RSS | RSS per connection |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  } >>summary.md
  for broker in reference mosquitto; do
    for rate in seed 6000; do
      name="peak-$broker-$rate"
      extra=()
      [ "$rate" = seed ] || extra=(--rate "$rate")
      before=$(rss_kib "${PID[$broker]}")
      (sleep $((PEAK_RAMP + PEAK_SECS / 2)) && rss_kib "${PID[$broker]}" >"runs/$name.rss") &
      sampler=$!
      run "$name" peak --agents "$PEAK_AGENTS" --ramp-up "$PEAK_RAMP" --duration "$PEAK_SECS" \
        --qos 1 --source-addrs 8 --broker "127.0.0.1:${TLS[$broker]}" --broker-data broker-data \
        "${extra[@]}"
      wait "$sampler"
      during=$(cat "runs/$name.rss")
      # Memory per connection from the first run only: the second starts from what the
      # allocator kept of the first.
      per="-"
      [ "$rate" = seed ] && per="$(((during - before) * 1024 / PEAK_AGENTS)) B"
      r=$(row "$name" | awk -F'|' '{for (i = 2; i <= 12; i++) gsub(/ /, "", $i); print $4 " | " $5 " | " $6 " | " $7 " | " $9 " | " $10 " | " $11}')
      echo "| $broker | $rate | $r | $((during / 1024)) MiB | $per |" >>summary.md
      sleep 5
    done
  done
  echo >>summary.md
fi

if [[ " $PHASES " == *" durable "* ]]; then
  # Persistence on: the reference broker commits what each PUBACK confirms before sending it;
  # mosquitto saves a snapshot every autosave_interval (its default, 1800 s) and at exit.
  rm -rf durable-data && cp -r broker-data durable-data && rm -f durable-data/broker.db*
  sed -i -e '/^\[persistence\]/,/^enabled/ s/^enabled = false/enabled = true/' durable-data/broker.toml
  "$BIN/reference-broker" --data-dir durable-data --mqtt-listen 127.0.0.1:28883 \
    --plain-listen 127.0.0.1:21883 --http-listen 127.0.0.1:28080 >reference-durable.log 2>&1 &
  DURABLE_PIDS+=($!)
  mkdir -p mosquitto-durable
  cat >mosquitto-durable.conf <<EOF
listener 21884 127.0.0.1
allow_anonymous true
max_inflight_messages 32
max_queued_messages 1000
set_tcp_nodelay true
persistence true
persistence_location $WORK/mosquitto-durable/
log_type error
EOF
  mosquitto -c mosquitto-durable.conf >mosquitto-durable.log 2>&1 &
  DURABLE_PIDS+=($!)
  PLAIN[reference-durable]=21883
  PLAIN[mosquitto-durable]=21884
  brokers=(reference-durable mosquitto-durable)
  if [ -n "${BEFORE_BIN:-}" ]; then
    # The earlier version's config has no keys added since (its file parser refuses them).
    rm -rf before-data && cp -r durable-data before-data && rm -f before-data/broker.db*
    sed -i -e '/^sync = /d' -e '/^max_topic_levels = /d' -e '/^max_subscriptions = /d' \
      -e '/^reject_control_characters = /d' \
      before-data/broker.toml
    "$BEFORE_BIN" --data-dir before-data --mqtt-listen 127.0.0.1:38883 \
      --plain-listen 127.0.0.1:31883 --http-listen 127.0.0.1:38080 >reference-before.log 2>&1 &
    DURABLE_PIDS+=($!)
    PLAIN[reference-before]=31883
    brokers=(reference-before "${brokers[@]}")
  fi
  sleep 2
  {
    echo "## Durable flood: QoS 1 to persistent subscribers, persistence on"
    echo "As the flood above, with the 4 subscribers on clean session 0 (--persistent-subscribers)."
    echo
    echo "| broker | transport | QoS | msg/s | error % | p99 ms | run |"
    echo "|---|---|---:|---:|---:|---:|---|"
  } >>summary.md
  for broker in "${brokers[@]}"; do
    flood_max "$broker" plain 1 --persistent-subscribers
  done
  echo >>summary.md
fi

echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >>summary.md
cat summary.md
