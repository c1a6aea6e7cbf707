//! The subscription trie through its public API: each filter shape with exact expected matches,
//! replacement and removal, the deepest filters MQTT allows on a small stack, and a property
//! test against a brute force over `TopicFilter::matches`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)] // Test code: a failed expectation should panic.

use std::collections::BTreeMap;
use std::sync::Arc;

use mqtt_wire::{QoS, SubscriptionTrie, TopicFilter, TopicName};
use proptest::prelude::*;

const Q0: QoS = QoS::AtMostOnce;
const Q1: QoS = QoS::AtLeastOnce;
const Q2: QoS = QoS::ExactlyOnce;

fn filter(text: &str) -> TopicFilter {
    TopicFilter::new(text).unwrap()
}

fn topic(text: &str) -> TopicName {
    TopicName::new(text).unwrap()
}

/// A trie of `(filter, subscriber, qos)` subscriptions, each inserted fresh.
fn trie(subscriptions: &[(&str, &'static str, QoS)]) -> SubscriptionTrie<&'static str> {
    let mut trie = SubscriptionTrie::new();
    for &(f, subscriber, qos) in subscriptions {
        assert_eq!(
            trie.insert(&filter(f), subscriber, qos),
            None,
            "{f} {subscriber}"
        );
    }
    assert_eq!(trie.len(), subscriptions.len());
    trie
}

/// Checks `matches` for each `(topic, expected subscribers)`, and that `for_each_match` reports
/// the same set.
fn check(trie: &SubscriptionTrie<&'static str>, table: &[(&str, &[(&'static str, QoS)])]) {
    for &(name, expected) in table {
        let name = topic(name);
        assert_eq!(trie.matches(&name), expected, "topic {name}");
        let mut visited = Vec::new();
        trie.for_each_match(&name, |subscriber, qos| visited.push((*subscriber, qos)));
        visited.sort_unstable_by(|a, b| a.0.cmp(b.0).then(b.1.cmp(&a.1)));
        visited.dedup_by(|later, first| later.0 == first.0);
        assert_eq!(visited, expected, "for_each_match, topic {name}");
    }
}

#[test]
fn literal_filters_match_exactly_their_topic() {
    let t = trie(&[
        ("sport/tennis/player1", "a", Q1),
        ("sport/tennis", "b", Q0),
        ("sport", "c", Q2),
        ("Sport/tennis", "d", Q0),
    ]);
    check(
        &t,
        &[
            ("sport/tennis/player1", &[("a", Q1)]),
            ("sport/tennis", &[("b", Q0)]),
            ("sport", &[("c", Q2)]),
            ("Sport/tennis", &[("d", Q0)]),
            ("sport/tennis/player2", &[]),
            ("sport/tennis/player1/ranking", &[]),
            ("sport/tennis/", &[]),
            ("sports", &[]),
            ("tennis", &[]),
        ],
    );
}

#[test]
fn plus_matches_exactly_one_level_which_may_be_empty() {
    let t = trie(&[
        ("sport/tennis/+", "a", Q1),
        ("sport/+", "b", Q0),
        ("+/+", "c", Q2),
        ("+", "d", Q1),
        ("/+", "e", Q0),
        ("+/tennis/+", "f", Q0),
    ]);
    check(
        &t,
        &[
            ("sport/tennis/player1", &[("a", Q1), ("f", Q0)]),
            ("sport/tennis/", &[("a", Q1), ("f", Q0)]),
            ("sport/tennis", &[("b", Q0), ("c", Q2)]),
            ("sport/", &[("b", Q0), ("c", Q2)]),
            ("sport", &[("d", Q1)]),
            ("/finance", &[("c", Q2), ("e", Q0)]),
            ("/", &[("c", Q2), ("e", Q0)]),
            ("sport/tennis/player1/ranking", &[]),
            ("a/b/c/d", &[]),
        ],
    );
}

#[test]
fn hash_matches_the_parent_level_and_every_level_below() {
    let t = trie(&[
        ("sport/tennis/player1/#", "a", Q1),
        ("sport/#", "b", Q0),
        ("#", "c", Q2),
        ("+/tennis/#", "d", Q1),
        ("sport/+/#", "e", Q0),
    ]);
    check(
        &t,
        &[
            (
                "sport/tennis/player1",
                &[("a", Q1), ("b", Q0), ("c", Q2), ("d", Q1), ("e", Q0)],
            ),
            (
                "sport/tennis/player1/score/wimbledon",
                &[("a", Q1), ("b", Q0), ("c", Q2), ("d", Q1), ("e", Q0)],
            ),
            (
                "sport/tennis",
                &[("b", Q0), ("c", Q2), ("d", Q1), ("e", Q0)],
            ),
            ("sport/", &[("b", Q0), ("c", Q2), ("e", Q0)]),
            ("sport", &[("b", Q0), ("c", Q2)]),
            ("sports", &[("c", Q2)]),
            ("/", &[("c", Q2)]),
            ("x/tennis", &[("c", Q2), ("d", Q1)]),
        ],
    );
}

#[test]
fn wildcards_at_the_first_level_do_not_match_dollar_topics() {
    let t = trie(&[
        ("#", "a", Q0),
        ("+/monitor/Clients", "b", Q0),
        ("$SYS/#", "c", Q1),
        ("$SYS/monitor/+", "d", Q2),
        ("+", "e", Q0),
        ("$SYS", "f", Q1),
        ("$SYS/+/Clients", "g", Q0),
    ]);
    check(
        &t,
        &[
            ("$SYS/monitor/Clients", &[("c", Q1), ("d", Q2), ("g", Q0)]),
            ("$SYS", &[("c", Q1), ("f", Q1)]),
            ("$SYS/", &[("c", Q1)]),
            ("$", &[]),
            ("$other/monitor/Clients", &[]),
            // '$' is special at the first level only.
            ("SYS/monitor/Clients", &[("a", Q0), ("b", Q0)]),
            ("x", &[("a", Q0), ("e", Q0)]),
        ],
    );
    let mut dollar_levels = trie(&[("a/+", "a", Q0), ("a/#", "b", Q1)]);
    check(&dollar_levels, &[("a/$x", &[("a", Q0), ("b", Q1)])]);
    dollar_levels.insert(&filter("$x/+"), "c", Q2);
    check(&dollar_levels, &[("$x/$y", &[("c", Q2)])]);
}

#[test]
fn empty_levels_are_levels_and_nothing_is_normalised() {
    let t = trie(&[
        ("a//b", "a", Q0),
        ("/a", "b", Q1),
        ("a/b", "c", Q2),
        ("a/b/", "d", Q0),
        ("//", "e", Q1),
        ("+/+/+", "f", Q0),
        ("caf\u{e9}", "g", Q0),
    ]);
    check(
        &t,
        &[
            ("a//b", &[("a", Q0), ("f", Q0)]),
            ("/a", &[("b", Q1)]),
            ("a/b", &[("c", Q2)]),
            ("a/b/", &[("d", Q0), ("f", Q0)]),
            ("//", &[("e", Q1), ("f", Q0)]),
            ("a", &[]),
            ("/", &[]),
            ("a///b", &[]),
            ("cafe\u{301}", &[]),
            ("caf\u{e9}", &[("g", Q0)]),
        ],
    );
}

#[test]
fn a_subscriber_with_overlapping_filters_matches_once_at_the_highest_qos() {
    let t = trie(&[
        ("sport/tennis/player1", "alice", Q0),
        ("sport/tennis/+", "alice", Q2),
        ("sport/#", "alice", Q1),
        ("#", "bob", Q1),
        ("sport/+/player1", "bob", Q0),
        ("+/+/+", "carol", Q0),
    ]);
    check(
        &t,
        &[
            (
                "sport/tennis/player1",
                &[("alice", Q2), ("bob", Q1), ("carol", Q0)],
            ),
            (
                "sport/golf/player1",
                &[("alice", Q1), ("bob", Q1), ("carol", Q0)],
            ),
            ("sport", &[("alice", Q1), ("bob", Q1)]),
        ],
    );
    let mut visits = 0;
    t.for_each_match(&topic("sport/tennis/player1"), |_, _| visits += 1);
    assert_eq!(visits, 6, "for_each_match reports every matching filter");
}

#[test]
fn inserting_again_replaces_the_qos() {
    let mut t = trie(&[("a/+", "x", Q0), ("a/+", "y", Q1)]);
    assert_eq!(t.insert(&filter("a/+"), "x", Q2), Some(Q0));
    assert_eq!(t.insert(&filter("a/+"), "x", Q1), Some(Q2));
    assert_eq!(t.len(), 2);
    check(&t, &[("a/b", &[("x", Q1), ("y", Q1)])]);
    // Another filter is another subscription, even when it matches the same topics.
    assert_eq!(t.insert(&filter("a/b"), "x", Q2), None);
    assert_eq!(t.len(), 3);
    check(
        &t,
        &[
            ("a/b", &[("x", Q2), ("y", Q1)]),
            ("a/c", &[("x", Q1), ("y", Q1)]),
        ],
    );
}

#[test]
fn remove_takes_the_exact_filter_and_returns_its_qos() {
    let mut t = trie(&[
        ("a/b/c", "x", Q1),
        ("a/b", "x", Q2),
        ("a/+/c", "y", Q0),
        ("a/#", "y", Q1),
    ]);
    // Absent: another subscriber, a matching but different filter, a prefix, a longer filter.
    assert_eq!(t.remove(&filter("a/b/c"), "y"), None);
    assert_eq!(t.remove(&filter("a/+/+"), "x"), None);
    assert_eq!(t.remove(&filter("a"), "x"), None);
    assert_eq!(t.remove(&filter("a/b/c/d"), "x"), None);
    assert_eq!(t.remove(&filter("a/b/#"), "x"), None);
    assert_eq!(t.len(), 4);

    // A prefix of another filter: the nodes below stay.
    assert_eq!(t.remove(&filter("a/b"), "x"), Some(Q2));
    assert_eq!(t.remove(&filter("a/b"), "x"), None);
    assert_eq!(t.len(), 3);
    check(
        &t,
        &[("a/b/c", &[("x", Q1), ("y", Q1)]), ("a/b", &[("y", Q1)])],
    );

    assert_eq!(t.remove(&filter("a/b/c"), "x"), Some(Q1));
    check(&t, &[("a/b/c", &[("y", Q1)])]);
    assert_eq!(t.remove(&filter("a/#"), "y"), Some(Q1));
    check(&t, &[("a/b/c", &[("y", Q0)]), ("a", &[])]);
    assert_eq!(t.len(), 1);

    // Re-inserting after a removal starts afresh.
    assert_eq!(t.insert(&filter("a/b/c"), "x", Q0), None);
    check(&t, &[("a/b/c", &[("x", Q0), ("y", Q0)])]);
}

#[test]
fn removing_everything_leaves_an_empty_trie() {
    let filters = [
        "a", "a/b", "a/b/c", "a/+", "a/#", "+", "#", "+/+", "/", "//", "a//", "$SYS/#", "+/b/#",
    ];
    let mut t = SubscriptionTrie::new();
    for (i, f) in filters.iter().enumerate() {
        for subscriber in ["x", "y"] {
            t.insert(&filter(f), subscriber, QoS::from_u8((i % 3) as u8).unwrap());
        }
    }
    assert_eq!(t.len(), 2 * filters.len());
    assert!(!t.matches(&topic("a/b")).is_empty());
    // In an order that removes parents before children and children before parents.
    for (i, f) in filters.iter().enumerate().rev() {
        let expected = QoS::from_u8((i % 3) as u8);
        assert_eq!(t.remove(&filter(f), "x"), expected, "{f}");
    }
    for (i, f) in filters.iter().enumerate() {
        let expected = QoS::from_u8((i % 3) as u8);
        assert_eq!(t.remove(&filter(f), "y"), expected, "{f}");
    }
    assert!(t.is_empty());
    assert_eq!(t.len(), 0);
    for name in ["a", "a/b", "a/b/c", "/", "//", "$SYS/x", "x/b/y"] {
        assert_eq!(t.matches(&topic(name)), [], "{name}");
    }
    assert_eq!(
        format!("{t:?}"),
        "SubscriptionTrie { len: 0, subscriptions: [] }"
    );
}

#[test]
fn arc_str_subscribers_are_removed_by_str() {
    let mut t: SubscriptionTrie<Arc<str>> = SubscriptionTrie::default();
    let client: Arc<str> = Arc::from("client-1");
    assert_eq!(t.insert(&filter("a/+"), Arc::clone(&client), Q1), None);
    assert_eq!(t.matches(&topic("a/b")), [(Arc::clone(&client), Q1)]);
    assert_eq!(t.remove(&filter("a/+"), "client-1"), Some(Q1));
    assert!(t.is_empty());
}

#[test]
fn clone_is_a_deep_copy_and_debug_lists_sorted_subscriptions() {
    let original = trie(&[
        ("a/+", "y", Q1),
        ("#", "x", Q0),
        ("/a", "x", Q2),
        ("a/+", "x", Q0),
    ]);
    let mut copy = original.clone();
    assert_eq!(copy.remove(&filter("a/+"), "y"), Some(Q1));
    assert_eq!(copy.insert(&filter("b"), "z", Q2), None);
    check(
        &original,
        &[("a/b", &[("x", Q0), ("y", Q1)]), ("b", &[("x", Q0)])],
    );
    check(
        &copy,
        &[("a/b", &[("x", Q0)]), ("b", &[("x", Q0), ("z", Q2)])],
    );
    assert_eq!(
        format!("{original:?}"),
        "SubscriptionTrie { len: 4, subscriptions: [(\"#\", \"x\", AtMostOnce), \
         (\"/a\", \"x\", ExactlyOnce), (\"a/+\", \"x\", AtMostOnce), (\"a/+\", \"y\", AtLeastOnce)] }"
    );
    let empty: SubscriptionTrie<u8> = SubscriptionTrie::new();
    assert!(empty.clone().is_empty());
}

/// Runs `f` on a thread with a 256 KiB stack: a walk recursing once per level of a 65,536-level
/// filter needs megabytes, so a recursive implementation overflows (and aborts the test).
fn on_a_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name("small-stack".into())
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn the_deepest_filters_need_no_recursion() {
    on_a_small_stack(|| {
        // 65,535 bytes of '/': 65,536 empty levels, the deepest filter MQTT allows.
        let slashes = "/".repeat(65_535);
        let deepest = filter(&slashes);
        let deep_hash = filter(&format!("{}#", "/".repeat(65_534)));
        let mut t = SubscriptionTrie::new();
        assert_eq!(t.insert(&deepest, 1_u32, Q0), None);
        assert_eq!(t.insert(&deepest, 1_u32, Q1), Some(Q0));
        assert_eq!(t.insert(&deep_hash, 2_u32, Q2), None);
        assert_eq!(t.matches(&topic(&slashes)), [(1, Q1), (2, Q2)]);
        // `deep_hash` is 65,534 empty levels and '#': it matches one more level, and its
        // parent level (65,534 empty levels, 65,533 bytes of '/') too, but nothing shorter.
        assert_eq!(t.matches(&topic(&"/".repeat(65_534))), [(2, Q2)]);
        assert!(deep_hash.matches(&topic(&"/".repeat(65_533))));
        assert_eq!(t.matches(&topic(&"/".repeat(65_533))), [(2, Q2)]);
        assert!(!deep_hash.matches(&topic(&"/".repeat(65_532))));
        assert_eq!(t.matches(&topic(&"/".repeat(65_532))), []);
        assert_eq!(t.matches(&topic("/")), []);

        let copy = t.clone();
        let debug = format!("{copy:?}");
        assert!(debug.contains(&format!("(\"{slashes}\", 1, AtLeastOnce)")));

        assert_eq!(t.remove(&deepest, &1), Some(Q1));
        assert_eq!(t.matches(&topic(&slashes)), [(2, Q2)]);
        assert_eq!(t.remove(&deep_hash, &2), Some(Q2));
        assert!(t.is_empty());
        assert_eq!(t.matches(&topic(&slashes)), []);
        // The copy is unaffected, and is dropped whole, 65,536 levels deep.
        assert_eq!(copy.matches(&topic(&slashes)), [(1, Q1), (2, Q2)]);
        drop(copy);

        // `+/+/.../+`, 32,768 levels, against deep topics; dropped without removal.
        let pluses = vec!["+"; 32_768].join("/");
        let names = vec!["x"; 32_768].join("/"); // 65,535 bytes
        let mut t = SubscriptionTrie::new();
        t.insert(&filter(&pluses), 7_u32, Q2);
        t.insert(
            &filter(&format!("{}/#", vec!["+"; 32_767].join("/"))),
            8,
            Q0,
        );
        t.insert(&filter(&names), 9, Q1);
        assert_eq!(t.matches(&topic(&names)), [(7, Q2), (8, Q0), (9, Q1)]);
        assert_eq!(
            t.matches(&topic(&vec![""; 32_768].join("/"))),
            [(7, Q2), (8, Q0)]
        );
        assert_eq!(t.matches(&topic(&vec!["x"; 32_767].join("/"))), [(8, Q0)]);
        assert_eq!(t.matches(&topic(&vec![""; 32_769].join("/"))), [(8, Q0)]);
        assert_eq!(t.matches(&topic(&vec!["x"; 32_766].join("/"))), []);
        let mut visits = 0;
        t.for_each_match(&topic(&names), |_, _| visits += 1);
        assert_eq!(visits, 3);
        drop(t);
    });
}

// --- Against a brute force over `TopicFilter::matches` ---

const FILTER_LEVELS: &[&str] = &["", "+", "#", "$x", "a", "b"];
const NAME_LEVELS: &[&str] = &["", "$x", "a", "b"];

fn levels(alphabet: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(alphabet), 1..5).prop_map(|l| l.join("/"))
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, String, u8),
    Remove(u8, String),
    /// Removes the n-th live subscription (modulo their number), so removals often hit.
    RemoveLive(usize),
    Match(String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3_u8, levels(FILTER_LEVELS), 0..3_u8).prop_map(|(s, f, q)| Op::Insert(s, f, q)),
        1 => (0..3_u8, levels(FILTER_LEVELS)).prop_map(|(s, f)| Op::Remove(s, f)),
        2 => any::<usize>().prop_map(Op::RemoveLive),
        3 => levels(NAME_LEVELS).prop_map(Op::Match),
    ]
}

type Model = BTreeMap<(u8, String), QoS>;

fn brute_force(model: &Model, name: &TopicName) -> Vec<(u8, QoS)> {
    let mut best: BTreeMap<u8, QoS> = BTreeMap::new();
    for ((subscriber, f), &qos) in model {
        if filter(f).matches(name) {
            let entry = best.entry(*subscriber).or_insert(qos);
            *entry = (*entry).max(qos);
        }
    }
    best.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_trie_agrees_with_brute_force(ops in prop::collection::vec(op(), 1..60)) {
        let mut trie = SubscriptionTrie::new();
        let mut model = Model::new();
        for op in ops {
            match op {
                Op::Insert(subscriber, f, qos) => {
                    let Ok(tf) = TopicFilter::new(&f) else { continue };
                    let qos = QoS::from_u8(qos).unwrap();
                    prop_assert_eq!(
                        trie.insert(&tf, subscriber, qos),
                        model.insert((subscriber, f), qos)
                    );
                }
                Op::Remove(subscriber, f) => {
                    let Ok(tf) = TopicFilter::new(&f) else { continue };
                    prop_assert_eq!(trie.remove(&tf, &subscriber), model.remove(&(subscriber, f)));
                }
                Op::RemoveLive(n) => {
                    if model.is_empty() {
                        continue;
                    }
                    let key = model.keys().nth(n % model.len()).unwrap().clone();
                    let expected = model.remove(&key);
                    prop_assert!(expected.is_some());
                    prop_assert_eq!(trie.remove(&filter(&key.1), &key.0), expected);
                }
                Op::Match(name) => {
                    let Ok(name) = TopicName::new(&name) else { continue };
                    prop_assert_eq!(trie.matches(&name), brute_force(&model, &name), "{}", name);
                }
            }
            prop_assert_eq!(trie.len(), model.len());
            prop_assert_eq!(trie.is_empty(), model.is_empty());
        }
        // A clone answers the same, and every topic of up to three levels agrees.
        let copy = trie.clone();
        for a in NAME_LEVELS {
            for b in NAME_LEVELS {
                for name in [a.to_string(), format!("{a}/{b}"), format!("{a}/{b}/{b}")] {
                    let Ok(name) = TopicName::new(&name) else { continue };
                    let expected = brute_force(&model, &name);
                    prop_assert_eq!(&trie.matches(&name), &expected);
                    prop_assert_eq!(&copy.matches(&name), &expected);
                }
            }
        }
    }
}
