#!/usr/bin/env bash
# Memory given back: a broker's resident memory before, during and after connection storms.
# Each round, mqtt-loadgen's peak scenario holds AGENTS plain connections (plus its service
# clients) for a few seconds with traffic, then closes them all; RSS is read from /proc
# before the first round, at the highest point of each round and after it. The reference
# broker and, if installed, mosquitto, one after the other.
#
# Usage (from the repository root): examples/reference-broker/connection-storm.sh [WORK_DIR]
#   AGENTS (3000), ROUNDS (3), SETTLE_SECS (wait after a round before reading RSS; 20: jemalloc purges over its 10 s decay)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-/tmp/connection-storm}
AGENTS=${AGENTS:-3000}
ROUNDS=${ROUNDS:-3}
SETTLE_SECS=${SETTLE_SECS:-20}

(cd "$ROOT" && cargo build --release --locked -p reference-broker -p mqtt-loadgen)
BIN=$ROOT/target/release
# shellcheck source=../mqtt-loadgen/load-test-data.sh
source "$ROOT/examples/mqtt-loadgen/load-test-data.sh"
ulimit -n "$(ulimit -Hn)"

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

REF_ARGS=(--data-dir broker-data --mqtt-listen 127.0.0.1:0 --plain-listen 127.0.0.1:21883
  --http-listen 127.0.0.1:0)
load_test_data "$BIN" "${REF_ARGS[@]}"
cat >mosquitto.conf <<EOF
allow_anonymous true
listener 21884 127.0.0.1
max_connections -1
log_type error
EOF

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# Prints the highest RSS of $1 while $2 (a pid) runs, sampled every 100 ms.
peak_while() {
  local high=0 now
  while kill -0 "$2" 2>/dev/null; do
    now=$(rss_kib "$1")
    [ "$now" -gt "$high" ] && high=$now
    sleep 0.1
  done
  echo "$high"
}

storm() { # broker pid port
  local name=$1 pid=$2 port=$3 before held after round
  sleep 2
  before=$(rss_kib "$pid")
  for round in $(seq 1 "$ROUNDS"); do
    "$BIN/mqtt-loadgen" peak --broker "127.0.0.1:$port" --agents "$AGENTS" --services 2 \
      --duration 5 --ramp-up 2 --drain 1 --qos 1 --no-progress --out "$name-$round" \
      >"$name-$round.txt" 2>&1 &
    held=$(peak_while "$pid" $!)
    wait $! || true
    sleep "$SETTLE_SECS"
    after=$(rss_kib "$pid")
    echo "| $name | $round | $((before / 1024)) | $((held / 1024)) | $((after / 1024)) | $(((after - before) / 1024)) | $(grep -m1 -E '^\| peak ' "$name-$round.txt" | awk -F'|' '{print $6}' | tr -d ' ') |"
  done
}

echo "# Connection storms: $AGENTS plain connections held, then closed, $ROUNDS rounds"
echo
echo "$(date -u +%FT%TZ), $(nproc) cores; RSS in MiB (VmRSS), read $SETTLE_SECS s after each round"
echo
echo "| broker | round | before | held (highest) | after | after − before | loadgen error % |"
echo "|---|---:|---:|---:|---:|---:|---:|"
"$BIN/reference-broker" "${REF_ARGS[@]}" >reference-broker.log 2>&1 &
REF=$!
trap 'kill $REF 2>/dev/null || true' EXIT
storm reference "$REF" 21883
kill "$REF"
wait "$REF" 2>/dev/null || true
if command -v mosquitto >/dev/null; then
  mosquitto -c mosquitto.conf >mosquitto.log 2>&1 &
  MOSQ=$!
  trap 'kill $MOSQ 2>/dev/null || true' EXIT
  storm mosquitto "$MOSQ" 21884
  kill "$MOSQ"
fi
