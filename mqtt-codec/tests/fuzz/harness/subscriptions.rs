//! Structured: an arbitrary list of subscription trie operations (insert, remove, match, clone)
//! over filters and topics built from a small alphabet of levels (empty, `+`, `#`, `$`-prefixed,
//! literals) or from raw fuzz strings; strings `TopicFilter::new`/`TopicName::new` refuse are
//! skipped. Invariants, against a brute-force model (a map from (subscriber, filter) to QoS
//! matched with `TopicFilter::matches`):
//! - `insert` returns the QoS it replaced and `remove` the QoS it removed, as the model does;
//! - `len()`/`is_empty()` follow the model after every operation;
//! - `matches(topic)` is every subscriber with a matching filter once, at its highest QoS,
//!   sorted; `for_each_match` reports exactly one entry per matching (subscriber, filter);
//! - a clone answers the same as the original, and is carried on with afterwards.

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use mqtt_wire::{QoS, SubscriptionTrie, TopicFilter, TopicName};

/// One topic level.
#[derive(Debug, Arbitrary)]
pub enum Level {
    Empty,
    Plus,
    Hash,
    Dollar,
    A,
    B,
    Raw(String),
}

impl Level {
    fn text(&self) -> &str {
        match self {
            Level::Empty => "",
            Level::Plus => "+",
            Level::Hash => "#",
            Level::Dollar => "$x",
            Level::A => "a",
            Level::B => "b",
            Level::Raw(text) => text,
        }
    }
}

/// A filter or topic.
#[derive(Debug, Arbitrary)]
pub enum Text {
    Levels(Vec<Level>),
    /// The same level repeated, up to 256 times: deeper filters and topics. (The deepest ones,
    /// 65,536 levels, are a test of mqtt-wire's: here they would cost most of the executions.)
    Repeated(Level, u8),
    Raw(String),
}

impl Text {
    fn build(&self) -> String {
        match self {
            Text::Levels(levels) => {
                let levels: Vec<&str> = levels.iter().map(Level::text).collect();
                levels.join("/")
            }
            Text::Repeated(level, count) => {
                let count = usize::from(*count).saturating_add(1);
                vec![level.text(); count].join("/")
            }
            Text::Raw(text) => text.clone(),
        }
    }
}

/// One operation on the trie.
#[derive(Debug, Arbitrary)]
pub enum Op {
    Insert(u8, Text, u8),
    Remove(u8, Text),
    /// Removes the n-th live subscription (modulo their number).
    RemoveLive(u16),
    Match(Text),
    Clone,
}

/// The fuzz input: the operations, in order.
pub type Input = Vec<Op>;

type Model = BTreeMap<(u8, String), QoS>;

fn qos(value: u8) -> QoS {
    QoS::from_u8(value % 3).unwrap()
}

fn subscriber(value: u8) -> u8 {
    value % 8
}

fn check_match(trie: &SubscriptionTrie<u8>, model: &Model, name: &TopicName) {
    let mut best: BTreeMap<u8, QoS> = BTreeMap::new();
    let mut pairs = 0_usize;
    for ((subscriber, filter), &qos) in model {
        if TopicFilter::new(filter).unwrap().matches(name) {
            pairs += 1;
            let entry = best.entry(*subscriber).or_insert(qos);
            *entry = (*entry).max(qos);
        }
    }
    let expected: Vec<(u8, QoS)> = best.into_iter().collect();
    assert_eq!(trie.matches(name), expected, "topic {name:?}");
    let mut visited = 0_usize;
    trie.for_each_match(name, |_, _| visited += 1);
    assert_eq!(visited, pairs, "for_each_match on {name:?}");
}

/// One fuzz input: panics on a broken invariant.
pub fn run(ops: Input) {
    let mut trie = SubscriptionTrie::new();
    let mut model = Model::new();
    for op in ops {
        match op {
            Op::Insert(who, filter, q) => {
                let text = filter.build();
                let Ok(filter) = TopicFilter::new(&text) else {
                    continue;
                };
                let (who, q) = (subscriber(who), qos(q));
                assert_eq!(trie.insert(&filter, who, q), model.insert((who, text), q));
            }
            Op::Remove(who, filter) => {
                let text = filter.build();
                let Ok(filter) = TopicFilter::new(&text) else {
                    continue;
                };
                let who = subscriber(who);
                assert_eq!(trie.remove(&filter, &who), model.remove(&(who, text)));
            }
            Op::RemoveLive(n) => {
                if model.is_empty() {
                    continue;
                }
                let key = model
                    .keys()
                    .nth(usize::from(n) % model.len())
                    .unwrap()
                    .clone();
                let expected = model.remove(&key);
                assert!(expected.is_some());
                let filter = TopicFilter::new(&key.1).unwrap();
                assert_eq!(trie.remove(&filter, &key.0), expected);
            }
            Op::Match(topic) => {
                let Ok(name) = TopicName::new(&topic.build()) else {
                    continue;
                };
                check_match(&trie, &model, &name);
            }
            Op::Clone => {
                let copy = trie.clone();
                assert_eq!(copy.len(), trie.len());
                assert_eq!(format!("{copy:?}"), format!("{trie:?}"));
                trie = copy;
            }
        }
        assert_eq!(trie.len(), model.len());
        assert_eq!(trie.is_empty(), model.is_empty());
    }
}
