//! BIDIR replies, shared-secret and CIDR checks, and the sequence-number window.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use std::net::IpAddr;

use proptest::prelude::*;
use serde_json::json;
use sigfox_frame::{
    BidirReply, CidrAllowList, DeviceId, DownlinkData, DownlinkError, HttpReply, SeqClass,
    SequenceError, SequenceOptions, SequenceTracker, SharedSecret, WeakSecret,
};

#[test]
fn downlink_data_is_exactly_16_hex_digits() {
    assert_eq!(
        DownlinkData::from_hex("0102030405060708"),
        Ok(DownlinkData([1, 2, 3, 4, 5, 6, 7, 8]))
    );
    assert_eq!(
        DownlinkData::from_hex("DEADBEEFcafe0000")
            .unwrap()
            .to_string(),
        "deadbeefcafe0000"
    );
    assert_eq!(
        DownlinkData::from_hex("01020304"),
        Err(DownlinkError::Length { len: 8 })
    );
    assert_eq!(
        DownlinkData::from_hex("010203040506070809"),
        Err(DownlinkError::Length { len: 18 })
    );
    assert_eq!(
        DownlinkData::from_hex("01020304050607zz"),
        Err(DownlinkError::NotHex { offset: 14 })
    );
    assert_eq!(
        DownlinkData::from_hex("0102030405060é"),
        Err(DownlinkError::Length { len: 15 })
    );
}

#[test]
fn bidir_replies() {
    let data = DownlinkData::from_hex("0102030405060708").unwrap();
    let one = BidirReply::new().downlink(DeviceId::from_value(0xB92A4), data);
    assert_eq!(
        one.to_json(),
        Some(json!({"B92A4":{"downlinkData":"0102030405060708"}}))
    );
    assert_eq!(
        one.to_http(),
        HttpReply {
            status: 200,
            content_type: Some("application/json"),
            body: r#"{"B92A4":{"downlinkData":"0102030405060708"}}"#.into()
        }
    );
    let several = BidirReply::new()
        .downlink(DeviceId::from_value(1), data)
        .no_data(DeviceId::from_value(2))
        .downlink(DeviceId::from_value(3), DownlinkData([0xff; 8]))
        .no_data(DeviceId::from_value(3));
    assert_eq!(
        several.to_json(),
        Some(
            json!({"1":{"downlinkData":"0102030405060708"},"2":{"noData":true},"3":{"noData":true}})
        )
    );
    assert_eq!(
        BidirReply::new().to_http(),
        HttpReply {
            status: 204,
            content_type: None,
            body: String::new()
        }
    );
}

#[test]
fn shared_secret() {
    assert_eq!(
        SharedSecret::new("short").err(),
        Some(WeakSecret { len: 5 })
    );
    let s = SharedSecret::new("0123456789abcdef-secret").unwrap();
    assert_eq!(format!("{s:?}"), "SharedSecret(..)");
    let cases: &[(&str, bool)] = &[
        ("0123456789abcdef-secret", true),
        ("0123456789abcdef-secreT", false),
        ("0123456789abcdef-secret2", false),
        ("0123456789abcdef-secre", false),
        ("", false),
    ];
    for (presented, ok) in cases {
        assert_eq!(s.verify(presented.as_bytes()), *ok, "{presented}");
        assert_eq!(s.verify_header(Some(presented)), *ok, "{presented}");
    }
    assert!(!s.verify_header(None));
    // Basic base64("sigfox:0123456789abcdef-secret").
    let basic = "Basic c2lnZm94OjAxMjM0NTY3ODlhYmNkZWYtc2VjcmV0";
    assert!(s.verify_basic(Some(basic), "sigfox"));
    assert!(s.verify_basic(
        Some("basic  c2lnZm94OjAxMjM0NTY3ODlhYmNkZWYtc2VjcmV0"),
        "sigfox"
    ));
    assert!(!s.verify_basic(Some(basic), "other"));
    assert!(!s.verify_basic(
        Some("Bearer c2lnZm94OjAxMjM0NTY3ODlhYmNkZWYtc2VjcmV0"),
        "sigfox"
    ));
    assert!(!s.verify_basic(Some("Basic !!!"), "sigfox"));
    assert!(!s.verify_basic(None, "sigfox"));
    // Padded base64: "u:0123456789abcdef-secret" → "dTowMTIzNDU2Nzg5YWJjZGVmLXNlY3JldA==".
    assert!(s.verify_basic(Some("Basic dTowMTIzNDU2Nzg5YWJjZGVmLXNlY3JldA=="), "u"));
    assert!(s.verify_query_token("/sigfox?token=0123456789abcdef-secret", "token"));
    assert!(s.verify_query_token("a=1&token=0123456789abcdef-secret#frag", "token"));
    assert!(!s.verify_query_token("/sigfox?token=wrong&x=0123456789abcdef-secret", "token"));
    assert!(!s.verify_query_token("/sigfox", "token"));
}

#[test]
fn cidr_allow_list() {
    let list = CidrAllowList::parse(["185.110.97.0/24", "2001:db8::/32", "10.0.0.1"]).unwrap();
    let cases: &[(&str, bool)] = &[
        ("185.110.97.0", true),
        ("185.110.97.255", true),
        ("185.110.98.1", false),
        ("::ffff:185.110.97.7", true),
        ("2001:db8:1::1", true),
        ("2001:db9::1", false),
        ("10.0.0.1", true),
        ("10.0.0.2", false),
    ];
    for (ip, allowed) in cases {
        assert_eq!(list.allows(ip.parse::<IpAddr>().unwrap()), *allowed, "{ip}");
    }
    assert!(!CidrAllowList::default().allows("127.0.0.1".parse().unwrap()));
    let all = CidrAllowList::parse(["0.0.0.0/0"]).unwrap();
    assert!(all.allows("8.8.8.8".parse().unwrap()));
    for (bad, reason) in [
        (
            "10.0.0.0/33",
            "the prefix length is longer than the address",
        ),
        ("10.0.0.1/24", "host bits are set below the prefix"),
        ("10.0.0/24", "not an IP address"),
        ("10.0.0.0/x", "the prefix length is not a number"),
    ] {
        let e = CidrAllowList::parse([bad]).unwrap_err();
        assert_eq!((e.input.as_str(), e.reason), (bad, reason));
    }
}

#[test]
fn sequence_window() {
    use SeqClass::*;
    let mut t = SequenceTracker::new(SequenceOptions::default()).unwrap();
    let d = DeviceId::from_value(0xB92A4);
    // (seq, expected): retries and other stations' reports are duplicates; the counter wraps.
    let steps: &[(u16, SeqClass)] = &[
        (10, New),
        (10, Duplicate),
        (11, New),
        (10, Duplicate),
        (13, New),
        (12, New), // late, not yet seen
        (12, Duplicate),
        (4094, New), // 15 behind 13 across the wrap: inside the window, not seen yet
        (4094, Duplicate),
        (3000, Stale), // 1109 behind: older than the window
    ];
    for (seq, expected) in steps {
        assert_eq!(t.classify(d, *seq), Ok(*expected), "seq {seq}");
    }
    let mut t = SequenceTracker::new(SequenceOptions::default()).unwrap();
    for (seq, expected) in [
        (4094, New),
        (4095, New),
        (0, New),
        (1, New),
        (4095, Duplicate),
        (4000, Stale),
        (2100, Stale),
        (2049, New),
    ] {
        assert_eq!(t.classify(d, seq), Ok(expected), "seq {seq}");
    }
    assert_eq!(
        t.classify(d, 4096),
        Err(SequenceError::OutOfRange {
            seq: 4096,
            modulus: 4096
        })
    );
    // A device wrapping at 128.
    let mut t = SequenceTracker::new({
        let mut options = SequenceOptions::default();
        options.modulus = 128;
        options.window = 16;
        options
    })
    .unwrap();
    for (seq, expected) in [
        (126, New),
        (127, New),
        (0, New),
        (127, Duplicate),
        (100, Stale),
    ] {
        assert_eq!(t.classify(d, seq), Ok(expected), "seq {seq}");
    }
    assert_eq!(t.len(), 1);
    t.forget(d);
    assert!(t.is_empty());
    assert_eq!(
        SequenceTracker::new({
            let mut options = SequenceOptions::default();
            options.modulus = 100;
            options
        })
        .err(),
        Some(SequenceError::Modulus(100))
    );
    assert_eq!(
        SequenceTracker::new({
            let mut options = SequenceOptions::default();
            options.window = 0;
            options
        })
        .err(),
        Some(SequenceError::Window(0))
    );
    assert_eq!(
        SequenceTracker::new({
            let mut options = SequenceOptions::default();
            options.modulus = 128;
            options.window = 65;
            options
        })
        .err(),
        Some(SequenceError::Window(65))
    );
    let mut t = SequenceTracker::new({
        let mut options = SequenceOptions::default();
        options.max_devices = 1;
        options
    })
    .unwrap();
    assert_eq!(t.classify(DeviceId::from_value(1), 0), Ok(New));
    assert_eq!(
        t.classify(DeviceId::from_value(2), 0),
        Err(SequenceError::TooManyDevices(1))
    );
}

proptest! {
    #[test]
    fn a_repeat_is_never_new(seqs in proptest::collection::vec(0u16..4096, 1..50)) {
        let mut t = SequenceTracker::new(SequenceOptions::default()).unwrap();
        for s in &seqs {
            let first = t.classify(DeviceId::from_value(1), *s).unwrap();
            let again = t.classify(DeviceId::from_value(1), *s).unwrap();
            prop_assert_ne!(again, SeqClass::New, "first {:?}", first);
        }
    }
}
