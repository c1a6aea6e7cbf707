//! The profile maths, payload stamps, measures, options and charts, through the public API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use mqtt_loadgen::charts::{cumulative_errors, latency_buckets, latency_histogram};
use mqtt_loadgen::measure::{
    ErrorKind, LossCause, Timeline, classify_loss, is_out_of_order, latency_micros, new_histogram,
    parse_vm_rss, settle_lost,
};
use mqtt_loadgen::options::{Options, Scenario, UsageError};
use mqtt_loadgen::payload::{HEADER_LEN, PayloadError, Stamp};
use mqtt_loadgen::profile::{Profile, Rate, describe, seed_average, seed_peak};
use mqtt_loadgen::report::{counted_kinds, counted_total, percentile_distribution};
use mqtt_loadgen::rng::Rng;
use mqtt_wire::QoS;

#[test]
fn seed_average_is_496_per_second_for_500k_agents() {
    let r = seed_average(500_000);
    // 2 × 500,000 × 300 / 604,800 = 496.03...
    assert_eq!(
        r,
        Rate {
            messages: 300_000_000,
            seconds: 604_800
        }
    );
    assert_eq!(r.whole_per_second(), 496);
    assert!(!r.is_whole());
    assert_eq!(format!("{r}"), "496.03 msg/s");
}

#[test]
fn seed_peak_is_exactly_6000_per_second_for_500k_agents() {
    let r = seed_peak(500_000);
    assert!(r.is_whole());
    assert_eq!(r.whole_per_second(), 6_000);
    assert_eq!(r.per_second(), 6_000.0);
}

#[test]
fn rates_scale_linearly_with_agents() {
    assert_eq!(seed_peak(100_000).whole_per_second(), 1_200);
    assert_eq!(seed_peak(1_000).whole_per_second(), 12);
    assert_eq!(seed_average(0).whole_per_second(), 0);
    assert_eq!(seed_peak(0).per_second(), 0.0);
}

#[test]
fn profile_mix() {
    let p = Profile::seed();
    // 0.5 × 2.5 + 0.3 × 15 + 0.2 × 225 = 50.75 jobs per agent per week.
    assert_eq!(p.mean_jobs_per_week(), 50.75);
    // Weights in half-job percents: 50 × 5, 30 × 30, 20 × 450.
    assert_eq!(p.job_weights(), vec![250, 900, 9000]);
    let segments: Vec<usize> = (0..10).map(|i| p.segment_of(i)).collect();
    assert_eq!(segments, vec![0, 0, 0, 0, 0, 1, 1, 1, 2, 2]);
    assert_eq!(p.segment_of(1_000_008), 2);
    // 2 × 500,000 × 50.75 / 604,800.
    let mix = p.mix_average(500_000);
    assert!((mix.per_second() - 83.912_037).abs() < 1e-5);
}

#[test]
fn describe_prints_both_formulas() {
    let text = describe(500_000);
    assert!(
        text.contains("seed average: 2 x 500000 x 300 / 604,800 = 496.03 msg/s"),
        "{text}"
    );
    assert!(
        text.contains("seed peak:    2 x 0.9 x 500000 x 240 / 36,000 = 6000.00 msg/s"),
        "{text}"
    );
}

#[test]
fn stamp_round_trip_and_padding() {
    let s = Stamp {
        job: 0x0102_0304_0506_0708,
        seq: 42,
        service: 3,
        sent_nanos: 123_456_789,
    };
    let bytes = s.encode(64);
    assert_eq!(bytes.len(), 64);
    assert_eq!(&bytes[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&bytes[8..12], &[0, 0, 0, 42]);
    assert!(bytes[HEADER_LEN..].iter().all(|b| *b == 0));
    assert_eq!(Stamp::decode(&bytes), Ok(s));
    // A size below the header still carries the whole header.
    assert_eq!(s.encode(5).len(), HEADER_LEN);
    assert_eq!(Stamp::decode(&s.encode(0)), Ok(s));
}

#[test]
fn short_payload_is_a_typed_error() {
    for len in [0, 1, 8, 21] {
        assert_eq!(
            Stamp::decode(&vec![0; len]),
            Err(PayloadError::TooShort { len })
        );
    }
    assert_eq!(
        PayloadError::TooShort { len: 3 }.to_string(),
        "payload of 3 bytes is shorter than the 22-byte load-test header"
    );
}

#[test]
fn loss_classification() {
    // Subscribed when sent, same connection until the end: the broker lost it.
    assert_eq!(classify_loss(true, 4, 4), LossCause::Broker);
    // Not subscribed when sent: a reconnect drop.
    assert_eq!(classify_loss(false, 3, 3), LossCause::Reconnecting);
    // Subscribed when sent, but the connection changed afterwards.
    assert_eq!(classify_loss(true, 4, 5), LossCause::Reconnecting);
    assert_eq!(classify_loss(true, 4, 6), LossCause::Reconnecting);
}

#[test]
fn out_of_order_detection() {
    assert!(!is_out_of_order(0, 1));
    assert!(!is_out_of_order(1, 2));
    assert!(!is_out_of_order(1, 5)); // a gap is a loss, not a reordering
    assert!(is_out_of_order(5, 3));
    assert!(is_out_of_order(5, 5)); // a duplicate
}

#[test]
fn latency_in_microseconds() {
    assert_eq!(latency_micros(1_000, 2_501_000), 2_500);
    assert_eq!(latency_micros(5_000, 5_999), 0);
    assert_eq!(latency_micros(10, 5), 0);
}

#[test]
fn histogram_percentiles_and_distribution() {
    let mut h = new_histogram().unwrap();
    for v in 1..=1000u64 {
        h.record(v * 100).unwrap();
    }
    let l = mqtt_loadgen::Latency::of(&h);
    assert_eq!(l.count, 1000);
    assert_eq!(h.highest_equivalent(l.p50), h.highest_equivalent(50_000));
    assert_eq!(h.highest_equivalent(l.p99), h.highest_equivalent(99_000));
    assert_eq!(h.highest_equivalent(l.max), h.highest_equivalent(100_000));
    let text = percentile_distribution(&h);
    assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"));
    assert!(
        text.contains("#[Max     =      100.031, Total count    =         1000]"),
        "{text}"
    );
    // Values above the range are clamped, not dropped.
    h.saturating_record(u64::MAX);
    assert_eq!(h.len(), 1001);
    let empty = new_histogram().unwrap();
    assert_eq!(
        mqtt_loadgen::Latency::of(&empty),
        mqtt_loadgen::Latency::default()
    );
}

#[test]
fn timeline_is_cumulative_and_clamps_late_seconds() {
    let t = Timeline::new(3);
    t.add(0, ErrorKind::Disconnect, 2);
    t.add(1, ErrorKind::Lost, 1);
    t.add(99, ErrorKind::Timeout, 5); // past the end: counted in the last second
    let rows = t.cumulative();
    assert_eq!(
        rows,
        vec![[0, 0, 0, 0, 2], [1, 0, 0, 0, 2], [1, 5, 0, 0, 2]]
    );
    let svg = cumulative_errors(Scenario::Peak, &rows).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("timeouts: 5"));
    assert!(svg.contains("lost_messages: 1"));
    assert!(svg.contains("disconnects: 2 (not in error %)"));
    assert!(svg.contains(
        "Cumulative errors: 6 counted in error % (lost_messages + timeouts + out_of_order)"
    ));
    // Both axes have a unit.
    assert!(svg.contains("time since the start of the run (s)"), "{svg}");
    assert!(svg.contains("errors so far (count)"));
    assert!(svg.trim_end().ends_with("</svg>"));
}

/// A flood step that lost 14 QoS 0 messages out of 10,000 (0.14 %), none of them
/// attributable to a second before the drain ended, plus 3 timeouts and disconnects that
/// the error % does not count: the chart's counted lines sum to the numerator, 17.
#[test]
fn error_chart_sums_to_the_error_numerator_with_lost_messages() {
    let t = Timeline::new(12);
    t.add(4, ErrorKind::Timeout, 2);
    t.add(6, ErrorKind::Timeout, 1);
    t.add(5, ErrorKind::Disconnect, 4);
    let mut rows = t.cumulative();
    let (sent, received) = (10_000u64, 9_986u64);
    let lost = sent - received;
    // The drain ended in second 10 of 12 rows.
    settle_lost(&mut rows, lost, 10);
    let lost_column: Vec<u64> = rows.iter().map(|r| r[ErrorKind::Lost.slot()]).collect();
    assert_eq!(lost_column, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 14]);
    let numerator = lost + 3;
    assert_eq!(counted_total(Scenario::Flood, &rows), numerator);
    assert_eq!(
        counted_kinds(Scenario::Flood),
        [ErrorKind::Lost, ErrorKind::Timeout]
    );
    let svg = cumulative_errors(Scenario::Flood, &rows).unwrap();
    assert!(svg.contains("Cumulative errors: 17 counted in error % (lost_messages + timeouts)"));
    assert!(svg.contains("lost_messages: 14"));
    assert!(svg.contains("out_of_order: 0 (not in error %)"));

    // Lost jobs attributed to the second they were sent are kept, up to the lost total; the
    // rest appears when the drain ends. More attributed than lost (duplicates at QoS 1) is
    // clamped, so the column always ends at `sent - received`.
    let t = Timeline::new(5);
    t.add(1, ErrorKind::Lost, 2);
    t.add(2, ErrorKind::Lost, 3);
    let mut rows = t.cumulative();
    settle_lost(&mut rows, 7, 3);
    let column: Vec<u64> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(column, [0, 2, 5, 7, 7]);
    let mut rows = t.cumulative();
    settle_lost(&mut rows, 4, 99);
    let column: Vec<u64> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(column, [0, 2, 4, 4, 4]);
    assert_eq!(counted_total(Scenario::Connect, &rows), 0);
}

#[test]
fn latency_chart_has_one_bar_per_bucket() {
    let mut h = new_histogram().unwrap();
    h.record(3).unwrap();
    h.record(1500).unwrap();
    h.record(1500).unwrap();
    let buckets = latency_buckets(&h);
    assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), 3);
    let svg = latency_histogram(&h, "Message latency").unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("Message latency: 3 values"));
    assert!(svg.contains("latency (ms, logarithmic"));
    assert!(svg.contains("values in the bucket (count)"));
    // Ticks on the latency axis, in milliseconds.
    for label in ["\n0.01\n", "\n0.1\n", "\n1\n"] {
        assert!(svg.contains(label), "{label:?} in {svg}");
    }
    assert!(latency_buckets(&new_histogram().unwrap()).is_empty());
    let empty = latency_histogram(&new_histogram().unwrap(), "Connect latency").unwrap();
    assert!(empty.contains("Connect latency: 0 values"));
}

#[test]
fn vm_rss_parsing() {
    let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t3\n";
    assert_eq!(parse_vm_rss(status), Some(2048 * 1024));
    assert_eq!(parse_vm_rss("VmRSS: lots\n"), None);
    assert_eq!(parse_vm_rss(""), None);
    assert!(mqtt_loadgen::measure::resident_bytes().unwrap() > 0);
}

#[test]
fn rng_is_deterministic_and_weighted() {
    let mut a = Rng::new(7);
    let mut b = Rng::new(7);
    assert_eq!(a.next_u64(), b.next_u64());
    assert_eq!(Rng::new(0).below(0), 0);
    let weights = Profile::seed().job_weights();
    let mut counts = [0u32; 3];
    let mut r = Rng::new(1);
    for _ in 0..101_500 {
        counts[r.weighted(&weights)] += 1;
    }
    // Expected 2,500 / 9,000 / 90,000 (weights 250 : 900 : 9000); 5 % tolerance.
    assert!((2375..=2625).contains(&counts[0]), "{counts:?}");
    assert!((8550..=9450).contains(&counts[1]), "{counts:?}");
    assert!((85_500..=94_500).contains(&counts[2]), "{counts:?}");
    assert_eq!(r.weighted(&[0, 0]), 0);
}

fn parse(args: &[&str]) -> Result<Option<Options>, UsageError> {
    Options::parse(args.iter().map(|s| s.to_string()))
}

#[test]
fn options_defaults_and_values() {
    let o = parse(&["peak"]).unwrap().unwrap();
    assert_eq!(o, Options::new(Scenario::Peak));
    assert_eq!(o.broker.to_string(), "127.0.0.1:1883");
    let o = parse(&[
        "flood",
        "--qos",
        "0",
        "--agents=8",
        "--duration",
        "2",
        "--source-addrs",
        "4",
        "--no-progress",
        "--broker-data",
        "bd",
    ])
    .unwrap()
    .unwrap();
    assert_eq!(o.qos, QoS::AtMostOnce);
    assert_eq!(o.agents, 8);
    assert_eq!(o.duration.as_secs(), 2);
    assert!(!o.progress);
    assert_eq!(o.broker.to_string(), "127.0.0.1:8883");
    let tls = o.tls.clone().unwrap();
    assert_eq!(tls.cert, std::path::Path::new("bd/devices/button-1.pem"));
    assert_eq!(tls.server_name, "localhost");
    assert_eq!(o.source_addr(0).to_string(), "127.0.0.1");
    assert_eq!(o.source_addr(5).to_string(), "127.0.0.2");
    assert_eq!(o.client_id(12), "lg-12");
    assert_eq!(parse(&["--help"]).unwrap(), None);
    assert_eq!(parse(&["connect", "-h"]).unwrap(), None);
}

#[test]
fn options_errors() {
    assert_eq!(parse(&[]), Err(UsageError::MissingScenario));
    assert_eq!(
        parse(&["burst"]),
        Err(UsageError::UnknownScenario("burst".into()))
    );
    assert_eq!(
        parse(&["peak", "--bogus", "1"]),
        Err(UsageError::UnknownOption("--bogus".into()))
    );
    assert_eq!(
        parse(&["peak", "--agents"]),
        Err(UsageError::MissingValue("--agents".into()))
    );
    let bad = |args: &[&str], why: &str| match parse(args) {
        Err(UsageError::BadValue { why: w, .. }) => assert_eq!(w, why, "{args:?}"),
        other => panic!("{args:?}: {other:?}"),
    };
    bad(&["peak", "--agents", "0"], "between 1 and 1000000");
    bad(&["peak", "--agents", "1000001"], "between 1 and 1000000");
    bad(&["peak", "--qos", "2"], "0 or 1");
    bad(&["peak", "--duration", "0"], "at least 1");
    bad(&["peak", "--payload", "21"], "between 22 and 131072");
    bad(&["peak", "--source-addrs", "255"], "between 1 and 254");
    bad(
        &["peak", "--rate", "-1"],
        "a rate above 0 and at most 10,000,000 msg/s",
    );
    bad(
        &["peak", "--client-id", "fixed"],
        "needs {n}: every connection needs its own client id",
    );
    bad(
        &["peak", "--broker", "localhost"],
        "not an address like 127.0.0.1:1883",
    );
    // The connect scenario may reuse one client id (a certificate bound to one thing name).
    assert_eq!(
        parse(&["connect", "--client-id", "button-1"])
            .unwrap()
            .unwrap()
            .client_id(9),
        "button-1"
    );
    assert_eq!(
        parse(&["peak", "--ca", "ca.pem"]),
        Err(UsageError::IncompleteTls)
    );
    assert_eq!(
        UsageError::IncompleteTls.to_string(),
        "TLS needs either --broker-data DIR alone, or all of --ca, --cert and --key"
    );
}

#[test]
fn a_broker_list_spreads_connections_by_number() {
    let o = parse(&[
        "peak",
        "--broker",
        "127.0.0.1:1884, 10.0.0.2:1883,[::1]:8883",
    ])
    .unwrap()
    .unwrap();
    let all: Vec<std::net::SocketAddr> = vec![
        "127.0.0.1:1884".parse().unwrap(),
        "10.0.0.2:1883".parse().unwrap(),
        "[::1]:8883".parse().unwrap(),
    ];
    assert_eq!(o.broker, all[0]);
    assert_eq!(o.more_brokers, all[1..]);
    assert_eq!(o.brokers(), all);
    let c = mqtt_loadgen::transport::Connector::new(o.brokers(), None).unwrap();
    // Agent i is connection i; service s of 100 agents is connection 100 + s.
    assert_eq!(
        [c.broker(0), c.broker(1), c.broker(2), c.broker(3)],
        [all[0], all[1], all[2], all[0]]
    );
    assert_eq!(c.broker(100), all[1]);
    // One broker: every connection goes to it, and the default is unchanged.
    let o = parse(&["peak"]).unwrap().unwrap();
    assert_eq!(o.brokers(), vec![o.broker]);
    assert!(o.more_brokers.is_empty());
    assert!(parse(&["peak", "--broker", "127.0.0.1:1,nowhere"]).is_err());
    assert!(parse(&["peak", "--broker", ""]).is_err());
}

#[test]
fn processes_split_the_agents_and_children_parse_their_command_line() {
    let mut o = parse(&[
        "stability",
        "--agents",
        "10",
        "--processes",
        "3",
        "--broker",
        "127.0.0.1:1,127.0.0.1:2",
        "--rate",
        "2.5",
        "--qos",
        "0",
        "--no-progress",
        "--ramp-up",
        "2",
    ])
    .unwrap()
    .unwrap();
    assert_eq!(o.processes, 3);
    assert_eq!(o.agent_range(), 0..10);
    let ranges: Vec<_> = (0..3)
        .map(|k| {
            o.slice = Some((k, 3));
            o.agent_range()
        })
        .collect();
    assert_eq!(ranges, [0..3, 3..6, 6..10]);
    // A child's command line parses back to the same options.
    o.slice = Some((2, 3));
    o.start_at = Some(1_796_356_000_123);
    let back = Options::parse(o.to_args()).unwrap().unwrap();
    assert_eq!(back, o);
    assert!(parse(&["peak", "--start-at", "soon"]).is_err());
    assert!(parse(&["flood", "--processes", "2"]).is_err());
    assert!(parse(&["peak", "--processes", "0"]).is_err());
    assert!(parse(&["peak", "--processes", "33"]).is_err());
    assert!(parse(&["peak", "--slice", "3/3"]).is_err());
    assert_eq!(
        parse(&["connect", "--processes", "1"])
            .unwrap()
            .unwrap()
            .processes,
        1
    );
}
