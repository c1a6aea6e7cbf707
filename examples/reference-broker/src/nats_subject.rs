//! MQTT topics and filters as NATS subjects, injectively.
//!
//! A topic's levels become the subject's tokens, each written as `_` followed by the level
//! with every byte outside `[A-Za-z0-9-]` escaped as `=` and two upper-case hex digits. The
//! leading `_` keeps an empty level a token (NATS has no empty tokens); the escaping keeps `.`
//! (NATS's separator), `*` and `>` (its wildcards), `=` itself, whitespace and every non-ASCII
//! byte out of the token, so two different topics never share a subject. Every character of
//! the result is also valid in a JetStream key-value key, so a topic's subject is its key too. A filter maps `+` to
//! `*` and `#` to `>`, plus the parent level's own subject, since `sport/#` also matches
//! `sport` [MQTT-4.7.1-2]. NATS matching is then a superset of MQTT's only where MQTT is
//! stricter about `$` topics [MQTT-4.7.2-1], which the receiving node's trie applies.

use std::fmt::Write;

fn push_level(out: &mut String, level: &str) {
    out.push('_');
    for b in level.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "={b:02X}");
        }
    }
}

/// Any string (a topic level, a client id) as one NATS token.
pub fn token(text: &str) -> String {
    let mut out = String::with_capacity(text.len().saturating_add(1));
    push_level(&mut out, text);
    out
}

/// The string a [`token`] was made from; `None` for anything `token` does not make.
pub fn untoken(token: &str) -> Option<String> {
    let mut text = Vec::with_capacity(token.len());
    let mut bytes = token.strip_prefix('_')?.bytes();
    while let Some(b) = bytes.next() {
        if b == b'=' {
            let hex = [upper_hex(bytes.next()?)?, upper_hex(bytes.next()?)?];
            text.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else if b.is_ascii_alphanumeric() || b == b'-' {
            text.push(b);
        } else {
            return None;
        }
    }
    String::from_utf8(text).ok()
}

/// An upper-case hex digit (`token` writes no other, so each string has one token).
fn upper_hex(b: u8) -> Option<u8> {
    matches!(b, b'0'..=b'9' | b'A'..=b'F').then_some(b)
}

/// The subject a message published on `topic` travels on: `<prefix>.<level tokens>`.
pub fn topic_subject(prefix: &str, topic: &str) -> String {
    let mut out = String::with_capacity(prefix.len().saturating_add(topic.len().saturating_mul(2)));
    out.push_str(prefix);
    for level in topic.split('/') {
        out.push('.');
        push_level(&mut out, level);
    }
    out
}

/// The subjects a node subscribes to on NATS for a local subscription to `filter`.
pub fn filter_subjects(prefix: &str, filter: &str) -> Vec<String> {
    let mut out = String::from(prefix);
    let mut parent: Option<String> = None;
    let levels: Vec<&str> = filter.split('/').collect();
    let last = levels.len().saturating_sub(1);
    for (i, level) in levels.iter().enumerate() {
        match *level {
            "#" if i == last => {
                // The parent level's subject too, unless `#` is the whole filter (a topic has
                // at least one level, so `>` alone covers every topic).
                if i > 0 {
                    parent = Some(out.clone());
                }
                out.push_str(".>");
            }
            "+" => out.push_str(".*"),
            _ => {
                out.push('.');
                push_level(&mut out, level);
            }
        }
    }
    let mut subjects = vec![out];
    subjects.extend(parent);
    subjects
}

/// The topic of a message subject made by [`topic_subject`]; `None` for anything else.
pub fn subject_topic(prefix: &str, subject: &str) -> Option<String> {
    let rest = subject.strip_prefix(prefix)?.strip_prefix('.')?;
    let mut topic = String::with_capacity(rest.len());
    for (i, t) in rest.split('.').enumerate() {
        if i > 0 {
            topic.push('/');
        }
        topic.push_str(&untoken(t)?);
    }
    Some(topic)
}
