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
//!
//! Body: `mqtt-codec/tests/fuzz/harness/subscriptions.rs`, which
//! `mqtt-codec/tests/fuzz_replay.rs` also runs on stable over the committed corpus in
//! `mqtt-codec/tests/fuzz/corpus/subscriptions/`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../mqtt-codec/tests/fuzz/harness/subscriptions.rs"]
mod harness;

fuzz_target!(|input: harness::Input| harness::run(input));
