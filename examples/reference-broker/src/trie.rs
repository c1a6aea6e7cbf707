//! The subscription trie: topic filters split into levels, matched against a topic name in
//! time proportional to its levels rather than to the number of subscriptions.

use std::collections::HashMap;
use std::sync::Arc;

use mqtt_wire::QoS;

/// Who subscribed, and at what granted QoS, to each filter.
#[derive(Debug, Default)]
pub struct SubscriptionTrie {
    root: Node,
    len: usize,
}

#[derive(Debug, Default)]
struct Node {
    /// Literal levels.
    children: HashMap<String, Node>,
    /// `+` and `#`, apart from the literals: matching looks them up at every level, and a
    /// field costs no hashing.
    plus: Option<Box<Node>>,
    hash: Option<Box<Node>>,
    /// Subscribers whose filter ends at this node.
    here: HashMap<Arc<str>, QoS>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty()
            && self.plus.is_none()
            && self.hash.is_none()
            && self.here.is_empty()
    }

    fn child_mut(&mut self, level: &str) -> &mut Node {
        match level {
            "+" => self.plus.get_or_insert_with(Box::default),
            "#" => self.hash.get_or_insert_with(Box::default),
            _ => self.children.entry(level.to_owned()).or_default(),
        }
    }

    fn existing_child_mut(&mut self, level: &str) -> Option<&mut Node> {
        match level {
            "+" => self.plus.as_deref_mut(),
            "#" => self.hash.as_deref_mut(),
            _ => self.children.get_mut(level),
        }
    }

    fn remove_child(&mut self, level: &str) {
        match level {
            "+" => self.plus = None,
            "#" => self.hash = None,
            _ => {
                self.children.remove(level);
            }
        }
    }
}

impl SubscriptionTrie {
    /// An empty trie.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of (client, filter) subscriptions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no subscription.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds or replaces `client`'s subscription to `filter` [MQTT-3.8.4-3].
    pub fn insert(&mut self, filter: &str, client: &Arc<str>, qos: QoS) {
        let mut node = &mut self.root;
        for level in filter.split('/') {
            node = node.child_mut(level);
        }
        if node.here.insert(Arc::clone(client), qos).is_none() {
            self.len = self.len.saturating_add(1);
        }
    }

    /// Removes `client`'s subscription to `filter`; whether there was one.
    pub fn remove(&mut self, filter: &str, client: &str) -> bool {
        let levels: Vec<&str> = filter.split('/').collect();
        let removed = remove_at(&mut self.root, &levels, client);
        if removed {
            self.len = self.len.saturating_sub(1);
        }
        removed
    }

    /// Every client with a filter matching `topic`, once each, at the highest QoS among its
    /// matching filters (MQTT 3.1.1 §3.3.5 allows one delivery at the maximum QoS), in client
    /// id order.
    pub fn matches(&self, topic: &str) -> Vec<(Arc<str>, QoS)> {
        let levels: Vec<&str> = topic.split('/').collect();
        let mut out = Vec::new();
        // [MQTT-4.7.2-1]: a filter starting with a wildcard does not match a topic starting
        // with '$'.
        let dollar = topic.starts_with('$');
        collect(&self.root, &levels, 0, dollar, &mut out);
        if out.len() > 1 {
            // A client with several matching filters: keep its highest QoS, once.
            out.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            out.dedup_by(|later, first| later.0 == first.0);
        }
        out
    }
}

fn remove_at(node: &mut Node, levels: &[&str], client: &str) -> bool {
    match levels.split_first() {
        None => node.here.remove(client).is_some(),
        Some((first, rest)) => {
            let Some(child) = node.existing_child_mut(first) else {
                return false;
            };
            let removed = remove_at(child, rest, client);
            if child.is_empty() {
                node.remove_child(first);
            }
            removed
        }
    }
}

fn add(out: &mut Vec<(Arc<str>, QoS)>, here: &HashMap<Arc<str>, QoS>) {
    out.extend(here.iter().map(|(client, qos)| (Arc::clone(client), *qos)));
}

fn collect(
    node: &Node,
    levels: &[&str],
    depth: usize,
    dollar: bool,
    out: &mut Vec<(Arc<str>, QoS)>,
) {
    let wildcards_allowed = !(dollar && depth == 0);
    if wildcards_allowed {
        // '#' matches the parent level too: "sport/#" matches "sport" [MQTT-4.7.1-2].
        if let Some(hash) = &node.hash {
            add(out, &hash.here);
        }
    }
    let Some((first, rest)) = levels.split_first() else {
        add(out, &node.here);
        return;
    };
    let next = depth.saturating_add(1);
    if let Some(child) = node.children.get(*first) {
        collect(child, rest, next, dollar, out);
    }
    if wildcards_allowed {
        if let Some(plus) = &node.plus {
            collect(plus, rest, next, dollar, out);
        }
    }
}
