//! Topic names, topic filters and matching (§4.7), with the specification's own examples, and
//! AWS IoT Core's opt-in quotas.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)] // Test code: a failed expectation should panic.

use mqtt_wire::topic::{matches, validate_topic_filter, validate_topic_name};
use mqtt_wire::{StringError, TopicError, TopicFilter, TopicName};
use proptest::prelude::*;

fn m(filter: &str, name: &str) -> bool {
    matches(
        &TopicFilter::new(filter).unwrap(),
        &TopicName::new(name).unwrap(),
    )
}

#[test]
fn matching_follows_section_4_7() {
    let table: &[(&str, &str, bool)] = &[
        // §4.7.1.2: "sport/tennis/player1/#" matches these three.
        ("sport/tennis/player1/#", "sport/tennis/player1", true),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/ranking",
            true,
        ),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/score/wimbledon",
            true,
        ),
        ("sport/tennis/player1/#", "sport/tennis/player2", false),
        // "sport/#" also matches the singular "sport".
        ("sport/#", "sport", true),
        ("sport/#", "sport/", true),
        ("sport/#", "sports", false),
        ("#", "sport/tennis", true),
        ("#", "/", true),
        // §4.7.1.3: "+" matches exactly one level.
        ("sport/tennis/+", "sport/tennis/player1", true),
        ("sport/tennis/+", "sport/tennis/player2", true),
        ("sport/tennis/+", "sport/tennis/player1/ranking", false),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("+/+", "/finance", true),
        ("/+", "/finance", true),
        ("+", "/finance", false),
        ("+", "finance", true),
        ("+/tennis/#", "sport/tennis/player1", true),
        ("+/tennis/#", "sport/tennis", true),
        ("+/+/+", "a/b", false),
        // §4.7.2: wildcards at the first level never match "$" topics.
        ("#", "$SYS/broker/load", false),
        ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ("$SYS/#", "$SYS/monitor/Clients", true),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
        (
            "$aws/things/+/shadow/update",
            "$aws/things/lamp/shadow/update",
            true,
        ),
        // Exact comparison: case, empty levels and Unicode are not normalised [MQTT-4.7.3-4].
        ("ACCOUNTS", "Accounts", false),
        ("a//b", "a/b", false),
        ("a//b", "a//b", true),
        ("caf\u{e9}", "cafe\u{301}", false),
        ("a/b", "a/b/", false),
    ];
    for &(filter, name, expected) in table {
        assert_eq!(m(filter, name), expected, "{filter} vs {name}");
    }
}

#[test]
fn topic_names_reject_what_the_spec_forbids() {
    assert_eq!(validate_topic_name(b""), Err(TopicError::Empty));
    assert_eq!(
        validate_topic_name(b"a/+/b"),
        Err(TopicError::WildcardInName { offset: 2 })
    );
    assert_eq!(
        validate_topic_name(b"a/#"),
        Err(TopicError::WildcardInName { offset: 2 })
    );
    assert_eq!(
        validate_topic_name(b"a\0"),
        Err(TopicError::InvalidString(StringError::NullCharacter {
            offset: 1
        }))
    );
    assert_eq!(
        validate_topic_name(b"\xed\xa0\x80"),
        Err(TopicError::InvalidString(StringError::Utf16Surrogate {
            offset: 0
        }))
    );
    assert_eq!(
        validate_topic_name(&vec![b'a'; 65_536]),
        Err(TopicError::TooLong { len: 65_536 })
    );
    assert_eq!(validate_topic_name(&vec![b'a'; 65_535]), Ok(()));
    for ok in ["/", "a", "$SYS/x", " ", "a b/\u{1F600}", "\u{feff}x"] {
        assert_eq!(validate_topic_name(ok.as_bytes()), Ok(()), "{ok:?}");
    }
    assert_eq!(TopicError::Empty.rule(), "MQTT-4.7.3-1");
    assert_eq!(
        TopicError::WildcardInName { offset: 0 }.rule(),
        "MQTT-3.3.2-2"
    );
}

#[test]
fn topic_filters_need_wildcards_in_whole_levels() {
    for ok in [
        "#", "+", "+/+", "/+", "+/", "a/#", "a/+/b", "+/#", "$SYS/#", "//#",
    ] {
        assert_eq!(validate_topic_filter(ok.as_bytes()), Ok(()), "{ok}");
    }
    let bad: &[(&str, TopicError)] = &[
        ("", TopicError::Empty),
        (
            "a/b#",
            TopicError::MisplacedMultiLevelWildcard { offset: 3 },
        ),
        ("#/a", TopicError::MisplacedMultiLevelWildcard { offset: 0 }),
        (
            "a/#/",
            TopicError::MisplacedMultiLevelWildcard { offset: 2 },
        ),
        ("##", TopicError::MisplacedMultiLevelWildcard { offset: 0 }),
        (
            "a+/b",
            TopicError::MisplacedSingleLevelWildcard { offset: 1 },
        ),
        (
            "a/+b",
            TopicError::MisplacedSingleLevelWildcard { offset: 2 },
        ),
        ("++", TopicError::MisplacedSingleLevelWildcard { offset: 0 }),
        ("+#", TopicError::MisplacedSingleLevelWildcard { offset: 0 }),
    ];
    for (filter, err) in bad {
        assert_eq!(
            validate_topic_filter(filter.as_bytes()),
            Err(*err),
            "{filter}"
        );
    }
    assert_eq!(
        TopicError::MisplacedMultiLevelWildcard { offset: 0 }.rule(),
        "MQTT-4.7.1-2"
    );
    assert_eq!(
        TopicError::MisplacedSingleLevelWildcard { offset: 0 }.rule(),
        "MQTT-4.7.1-3"
    );
}

#[test]
fn aws_iot_quotas_are_opt_in() {
    let eight = TopicName::new("a/b/c/d/e/f/g/h").unwrap();
    assert_eq!(eight.check_aws_iot_limits(), Ok(()));
    let nine = TopicName::new("a/b/c/d/e/f/g/h/i").unwrap();
    assert_eq!(
        nine.check_aws_iot_limits(),
        Err(TopicError::AwsTooManyLevels { levels: 9 })
    );
    let filter = TopicFilter::new("a/b/c/d/e/f/g/h/#").unwrap();
    assert_eq!(
        filter.check_aws_iot_limits(),
        Err(TopicError::AwsTooManyLevels { levels: 9 })
    );
    let long = TopicName::new(&"x".repeat(257)).unwrap();
    assert_eq!(
        long.check_aws_iot_limits(),
        Err(TopicError::AwsTooLong { len: 257 })
    );
    assert_eq!(
        TopicName::new(&"x".repeat(256))
            .unwrap()
            .check_aws_iot_limits(),
        Ok(())
    );
    // Basic Ingest's "$aws/rules/<rule-name>/" does not count against either quota.
    let ingest = TopicName::new("$aws/rules/my_rule/a/b/c/d/e/f/g/h").unwrap();
    assert_eq!(ingest.check_aws_iot_limits(), Ok(()));
    let ingest_long = format!("$AWS/rules/r/{}", "x".repeat(256));
    assert_eq!(
        TopicName::new(&ingest_long).unwrap().check_aws_iot_limits(),
        Ok(())
    );
    // The rule name is the third segment; only what follows it counts.
    let ingest_nine = TopicName::new("$aws/rules/r/a/b/c/d/e/f/g/h/i").unwrap();
    assert_eq!(
        ingest_nine.check_aws_iot_limits(),
        Err(TopicError::AwsTooManyLevels { levels: 9 })
    );
    assert_eq!(
        TopicName::new("$aws/things/a/b/c/d/e/f/g")
            .unwrap()
            .check_aws_iot_limits(),
        Err(TopicError::AwsTooManyLevels { levels: 9 })
    );
}

#[test]
fn topic_types_expose_text_and_levels() {
    let name = TopicName::from_static("iotbutton/G030JF0000000001").unwrap();
    assert_eq!(name.as_str(), "iotbutton/G030JF0000000001");
    assert_eq!(name, "iotbutton/G030JF0000000001");
    assert_eq!(
        name.levels().collect::<Vec<_>>(),
        ["iotbutton", "G030JF0000000001"]
    );
    assert_eq!(format!("{name:?}"), "\"iotbutton/G030JF0000000001\"");
    let filter: TopicFilter = name.clone().into();
    assert!(!filter.has_wildcards());
    assert!(filter.matches(&name));
    assert!("a/+".parse::<TopicFilter>().unwrap().has_wildcards());
    assert_eq!(
        "a/+".parse::<TopicName>(),
        Err(TopicError::WildcardInName { offset: 2 })
    );
}

fn level() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,3}",
        Just("$x".to_string()),
        Just("\u{e9}".to_string())
    ]
}

fn name() -> impl Strategy<Value = TopicName> {
    prop::collection::vec(level(), 1..6)
        .prop_filter_map("non-empty", |levels| TopicName::new(&levels.join("/")).ok())
}

proptest! {
    #[test]
    fn a_name_used_as_a_filter_matches_only_itself(a in name(), b in name()) {
        let filter = TopicFilter::from(a.clone());
        prop_assert!(filter.matches(&a));
        prop_assert_eq!(filter.matches(&b), a == b);
    }

    #[test]
    fn hash_matches_everything_but_dollar_topics(n in name()) {
        let all = TopicFilter::new("#").unwrap();
        prop_assert_eq!(all.matches(&n), !n.as_str().starts_with('$'));
    }

    #[test]
    fn replacing_levels_with_plus_still_matches(n in name(), mask in any::<u8>()) {
        let levels: Vec<&str> = n.levels().collect();
        let filter: Vec<&str> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| if mask & (1 << (i % 8)) != 0 { "+" } else { *l })
            .collect();
        let filter = TopicFilter::new(&filter.join("/")).unwrap();
        let first_is_wild = filter.as_str().starts_with('+');
        prop_assert_eq!(filter.matches(&n), !(first_is_wild && n.as_str().starts_with('$')));
    }

    #[test]
    fn a_prefix_with_hash_matches(n in name(), keep in 1usize..6) {
        let levels: Vec<&str> = n.levels().collect();
        let keep = keep.min(levels.len());
        let filter = format!("{}/#", levels[..keep].join("/"));
        prop_assert!(TopicFilter::new(&filter).unwrap().matches(&n));
    }

    #[test]
    fn validation_never_panics_and_agrees_with_construction(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let name_ok = validate_topic_name(&bytes).is_ok();
        let filter_ok = validate_topic_filter(&bytes).is_ok();
        // Every valid name is a valid filter.
        prop_assert!(!name_ok || filter_ok);
        prop_assert_eq!(TopicName::try_from(bytes::Bytes::from(bytes.clone())).is_ok(), name_ok);
        prop_assert_eq!(TopicFilter::try_from(bytes::Bytes::from(bytes)).is_ok(), filter_ok);
    }

    /// The validators look sixteen bytes at a time; a byte-by-byte model must agree on the exact
    /// error (variant and offset) at every position, tail and chunk boundary included.
    #[test]
    fn topic_names_are_checked_exactly_as_a_byte_by_byte_model(
        bytes in prop::collection::vec(
            prop_oneof![
                4 => prop::sample::select(b"az/09-_$".to_vec()),
                1 => prop::sample::select(vec![0u8, b'+', b'#', 0x80, 0xC3, 0xA9, 0xED, 0xA0]),
            ],
            0..80,
        )
    ) {
        prop_assert_eq!(validate_topic_name(&bytes), model_topic_name(&bytes));
    }
}

/// MQTT's rules for a topic name, one at a time, in the order errors are reported.
fn model_topic_name(bytes: &[u8]) -> Result<(), TopicError> {
    if bytes.is_empty() {
        return Err(TopicError::Empty);
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        let offset = e.valid_up_to();
        let surrogate = bytes[offset] == 0xED
            && bytes
                .get(offset + 1)
                .is_some_and(|b| (0xA0..=0xBF).contains(b));
        return Err(TopicError::InvalidString(if surrogate {
            StringError::Utf16Surrogate { offset }
        } else {
            StringError::InvalidUtf8 { offset }
        }));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(TopicError::InvalidString(StringError::NullCharacter {
            offset,
        }));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == b'+' || b == b'#') {
        return Err(TopicError::WildcardInName { offset });
    }
    Ok(())
}
