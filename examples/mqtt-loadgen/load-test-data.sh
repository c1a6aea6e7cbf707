# Sourced by side-by-side.sh and cluster-run.sh: one data directory for a load test.
#
#   load_test_data BIN --data-dir broker-data [reference-broker listen arguments ...]
#
# Runs the reference broker's first start in ./broker-data (the development CA, certificates,
# policies and broker.toml), then sets the limits of a load test: no per-client publish rate
# (AWS's 100/s default would cap each service client), room for every agent, 32 in flight and
# 1,000 queued per client; and widens the device certificate's policy to the generator's
# client ids (lg-*) and topics (loadgen/*).
load_test_data() {
  local bin=$1
  shift
  timeout 5 "$bin/reference-broker" "$@" >first-start.log 2>&1 || true
  sed -i -e 's/^max_connections = .*/max_connections = 600000/' \
    -e 's/^max_sessions = .*/max_sessions = 600000/' \
    -e 's/^publish_rate = .*/publish_rate = 1000000/' \
    -e 's/^publish_burst = .*/publish_burst = 1000000/' \
    -e 's/^max_inflight = .*/max_inflight = 32/' \
    -e 's/^max_queued = .*/max_queued = 1000/' \
    -e 's/^outbound_queue = .*/outbound_queue = 1000/' broker-data/broker.toml
  cat >broker-data/policies/button.json <<'EOF'
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect",
     "Resource": "arn:aws:iot:us-east-1:123456789012:client/lg-*"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": "arn:aws:iot:us-east-1:123456789012:topic/loadgen/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe",
     "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/loadgen/*"}
  ]
}
EOF
}
