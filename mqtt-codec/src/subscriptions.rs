//! A subscription trie: who subscribed to which topic filter, matched against a topic name in
//! time proportional to its levels rather than to the number of subscriptions.
//!
//! Every walk over the trie — insertion, removal, matching, cloning, formatting and dropping — is
//! a loop over an explicit stack on the heap, never a recursion, so a filter of any depth MQTT
//! allows (a 65,535-byte filter of only `/` has 65,536 empty levels) cannot overflow the thread's
//! stack.
//!
//! ```
//! use mqtt_wire::{QoS, SubscriptionTrie, TopicFilter, TopicName};
//!
//! let mut trie = SubscriptionTrie::new();
//! trie.insert(&TopicFilter::new("sport/tennis/+")?, "alice", QoS::AtLeastOnce);
//! trie.insert(&TopicFilter::new("sport/#")?, "alice", QoS::ExactlyOnce);
//! trie.insert(&TopicFilter::new("sport/tennis/player1")?, "bob", QoS::AtMostOnce);
//! trie.insert(&TopicFilter::new("#")?, "carol", QoS::AtMostOnce);
//! assert_eq!(trie.len(), 4);
//!
//! // Alice has two matching filters: she is reported once, at the higher QoS.
//! let topic = TopicName::new("sport/tennis/player1")?;
//! assert_eq!(
//!     trie.matches(&topic),
//!     [("alice", QoS::ExactlyOnce), ("bob", QoS::AtMostOnce), ("carol", QoS::AtMostOnce)]
//! );
//!
//! // A filter starting with a wildcard does not match a `$` topic [MQTT-4.7.2-1].
//! assert!(trie.matches(&TopicName::new("$SYS/broker/load")?).is_empty());
//!
//! assert_eq!(trie.remove(&TopicFilter::new("sport/#")?, "alice"), Some(QoS::ExactlyOnce));
//! assert_eq!(trie.remove(&TopicFilter::new("sport/#")?, "alice"), None);
//! assert_eq!(trie.len(), 3);
//! # Ok::<(), mqtt_wire::TopicError>(())
//! ```

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use crate::packet::QoS;
use crate::topic::{TopicFilter, TopicName};

/// Who subscribed, and at what granted QoS, to each topic filter; matched against topic names.
///
/// A subscriber `K` is whatever identifies a session in the caller (a broker would use an
/// `Arc<str>` client id). Each (subscriber, filter) pair holds one QoS: subscribing again to the
/// same filter replaces it [MQTT-3.8.4-3].
///
/// Filters are split into levels at `/` with no normalisation [MQTT-4.7.3-4]: `a//b`, `a/b` and
/// `/a/b` are three different filters. A literal level costs one hash lookup when matching; `+`
/// and `#` are kept apart from the literals, so matching a topic visits at most the trie nodes
/// along the topic's levels (and their `+`/`#` siblings), whatever the number of subscriptions.
///
/// No operation recurses, including [`Drop`], [`Clone`] and [`Debug`](fmt::Debug): a filter as
/// deep as MQTT allows (65,535 bytes, so up to 65,536 levels) is safe on a small thread stack.
/// Memory is the caller's concern: on a 64-bit target a new literal level costs about 530 bytes
/// (a node in its parent's hash table) and a new `+` level about 110, so one filter of 65,536
/// empty levels takes about 35 MB. A broker may want to cap the levels (or total filter bytes)
/// it accepts per client.
///
/// ```
/// use mqtt_wire::{QoS, SubscriptionTrie, TopicFilter, TopicName};
///
/// let mut trie = SubscriptionTrie::new();
/// let deep = TopicFilter::new(&"/".repeat(65_535))?; // 65,536 empty levels
/// assert_eq!(trie.insert(&deep, 1_u32, QoS::AtMostOnce), None);
/// assert_eq!(trie.insert(&deep, 1_u32, QoS::AtLeastOnce), Some(QoS::AtMostOnce));
/// assert_eq!(
///     trie.matches(&TopicName::new(&"/".repeat(65_535))?),
///     [(1, QoS::AtLeastOnce)]
/// );
/// assert_eq!(trie.remove(&deep, &1), Some(QoS::AtLeastOnce));
/// assert!(trie.is_empty());
/// # Ok::<(), mqtt_wire::TopicError>(())
/// ```
pub struct SubscriptionTrie<K> {
    root: Node<K>,
    len: usize,
}

/// One level of the filters that pass through it.
struct Node<K> {
    /// Literal levels.
    children: HashMap<Box<str>, Node<K>>,
    /// `+` and `#`, apart from the literals: matching looks both up at every level, and a field
    /// costs no hashing.
    plus: Option<Box<Node<K>>>,
    hash: Option<Box<Node<K>>>,
    /// Subscribers whose filter ends at this node, with their granted QoS.
    here: HashMap<K, QoS>,
}

/// Gives back a map's room once it is three-quarters empty (keeping twice its size), so that
/// a level that once held thousands of subscribers or children does not keep room for them.
/// Amortised: after a shrink the map must lose half of what is left before the next.
fn shrink_sparse<Q: Hash + Eq, V>(map: &mut HashMap<Q, V>) {
    const SMALL: usize = 16;
    let len = map.len();
    if map.capacity() > SMALL && len < map.capacity() / 4 {
        map.shrink_to(len.saturating_mul(2));
    }
}

impl<K> Default for Node<K> {
    fn default() -> Self {
        Self {
            children: HashMap::new(),
            plus: None,
            hash: None,
            here: HashMap::new(),
        }
    }
}

impl<K> Node<K> {
    fn child(&self, level: &str) -> Option<&Self> {
        match level {
            "+" => self.plus.as_deref(),
            "#" => self.hash.as_deref(),
            _ => self.children.get(level),
        }
    }

    fn child_mut(&mut self, level: &str) -> Option<&mut Self> {
        match level {
            "+" => self.plus.as_deref_mut(),
            "#" => self.hash.as_deref_mut(),
            _ => self.children.get_mut(level),
        }
    }

    fn child_or_insert(&mut self, level: &str) -> &mut Self {
        match level {
            "+" => self.plus.get_or_insert_with(Box::default),
            "#" => self.hash.get_or_insert_with(Box::default),
            _ => self.children.entry(Box::from(level)).or_default(),
        }
    }

    /// Detaches the child at `level`; the caller drops it (iteratively, see [`Drop`]).
    fn take_child(&mut self, level: &str) -> Option<Self> {
        match level {
            "+" => self.plus.take().map(|child| *child),
            "#" => self.hash.take().map(|child| *child),
            _ => {
                let child = self.children.remove(level);
                shrink_sparse(&mut self.children);
                child
            }
        }
    }

    fn child_count(&self) -> usize {
        self.children
            .len()
            .saturating_add(usize::from(self.plus.is_some()))
            .saturating_add(usize::from(self.hash.is_some()))
    }

    /// Moves every child of this node onto `stack`, leaving it a leaf.
    fn detach_children_onto(&mut self, stack: &mut Vec<Self>) {
        stack.extend(self.children.drain().map(|(_, child)| child));
        stack.extend(self.plus.take().map(|child| *child));
        stack.extend(self.hash.take().map(|child| *child));
    }
}

impl<K> Drop for Node<K> {
    /// Dismantles the subtree with a stack on the heap: every node is emptied of its children
    /// before it is dropped, so the nested drops are at most one level deep whatever the depth
    /// of the trie.
    fn drop(&mut self) {
        let mut stack = Vec::new();
        self.detach_children_onto(&mut stack);
        while let Some(mut node) = stack.pop() {
            node.detach_children_onto(&mut stack);
            // `node` is a leaf now: dropping it drops its subscribers only.
        }
    }
}

impl<K> Default for SubscriptionTrie<K> {
    /// An empty trie.
    fn default() -> Self {
        Self {
            root: Node::default(),
            len: 0,
        }
    }
}

impl<K: Clone + Eq + Hash + Ord> SubscriptionTrie<K> {
    /// An empty trie.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of (subscriber, filter) pairs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no subscription at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Subscribes `subscriber` to `filter` at `qos`, replacing the QoS of an existing
    /// subscription to the same filter [MQTT-3.8.4-3]; returns the QoS it replaced, if any.
    pub fn insert(&mut self, filter: &TopicFilter, subscriber: K, qos: QoS) -> Option<QoS> {
        let mut node = &mut self.root;
        for level in filter.levels() {
            node = node.child_or_insert(level);
        }
        let previous = node.here.insert(subscriber, qos);
        if previous.is_none() {
            self.len = self.len.saturating_add(1);
        }
        previous
    }

    /// Unsubscribes `subscriber` from `filter` (the exact filter, not those it matches); returns
    /// the QoS of the removed subscription, or `None` if there was none.
    ///
    /// Nodes left without subscribers or children are pruned, so the trie's size follows the
    /// live subscriptions. Two passes, neither recursive: one walks down to check the
    /// subscription and find the highest node that would be left empty, the other cuts that
    /// node off (or, if none would be, removes the subscriber alone).
    pub fn remove<Q>(&mut self, filter: &TopicFilter, subscriber: &Q) -> Option<QoS>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // Pass 1: find the subscription, and the highest node of the run at the end of the path
        // that would be left empty: nodes holding nothing but the path, down to the filter's
        // own node if the subscriber is all it holds.
        let mut node = &self.root;
        // Index of the level reaching `node`.
        let mut node_level = 0;
        // Index of the level reaching the first node of the current run of path-only nodes.
        let mut run_start: Option<usize> = None;
        for (index, level) in filter.levels().enumerate() {
            if index > 0 {
                // `node` is an intermediate node of the path.
                if node.here.is_empty() && node.child_count() == 1 {
                    run_start.get_or_insert(node_level);
                } else {
                    run_start = None;
                }
            }
            node = node.child(level)?;
            node_level = index;
        }
        let qos = *node.here.get(subscriber)?;
        let emptied = node.here.len() == 1 && node.child_count() == 0;
        let cut = emptied.then(|| run_start.unwrap_or(node_level));

        // Pass 2: cut off the emptied run, or remove the subscriber alone.
        let mut node = &mut self.root;
        match cut {
            Some(cut) => {
                let mut levels = filter.levels();
                for level in levels.by_ref().take(cut) {
                    node = node.child_mut(level)?;
                }
                let level = levels.next()?;
                // Dropped here, iteratively.
                drop(node.take_child(level)?);
            }
            None => {
                for level in filter.levels() {
                    node = node.child_mut(level)?;
                }
                node.here.remove(subscriber)?;
                shrink_sparse(&mut node.here);
            }
        }
        self.len = self.len.saturating_sub(1);
        Some(qos)
    }

    /// Every subscriber with a filter matching `topic`, once each, at the highest QoS among its
    /// matching filters (§3.3.5 lets the server deliver once at the maximum), sorted by
    /// subscriber.
    ///
    /// Matching is that of [`TopicFilter::matches`]: `+` matches exactly one level, which may be
    /// empty; `#` matches any number of levels including none (`sport/#` matches `sport`); a
    /// filter starting with a wildcard does not match a topic starting with `$`
    /// [MQTT-4.7.2-1].
    #[must_use]
    pub fn matches(&self, topic: &TopicName) -> Vec<(K, QoS)> {
        let mut out = Vec::new();
        self.for_each_match(topic, |subscriber, qos| {
            out.push((subscriber.clone(), qos));
        });
        if out.len() > 1 {
            // A subscriber with several matching filters: keep its highest QoS, once.
            out.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            out.dedup_by(|later, first| later.0 == first.0);
        }
        out
    }

    /// Calls `f` for every (subscriber, filter) subscription whose filter matches `topic`, in no
    /// particular order, with that subscription's QoS.
    ///
    /// Unlike [`matches`](Self::matches), a subscriber with several matching filters is reported
    /// once per filter, each time with that filter's QoS; nothing is cloned or sorted. The walk
    /// keeps its pending (node, remaining levels) pairs on a heap stack, which is the only
    /// allocation.
    pub fn for_each_match(&self, topic: &TopicName, mut f: impl FnMut(&K, QoS)) {
        let topic = topic.as_str();
        // [MQTT-4.7.2-1]: a filter starting with a wildcard does not match a topic starting
        // with '$'; wildcards are allowed again from the second level.
        let wildcards_at_root = !topic.starts_with('$');
        let mut stack = Vec::new();
        self.root
            .visit(Some(topic), wildcards_at_root, &mut stack, &mut f);
        while let Some((node, rest)) = stack.pop() {
            node.visit(rest, true, &mut stack, &mut f);
        }
    }
}

/// A pending step of a match: a node, and the levels of the topic still to match below it
/// (`None` once every level is consumed; `Some("")` is one empty level).
type Pending<'t, K> = (&'t Node<K>, Option<&'t str>);

impl<K> Node<K> {
    /// One step of [`SubscriptionTrie::for_each_match`]: reports this node's matches and pushes
    /// the children that can match the rest of the topic.
    fn visit<'t>(
        &'t self,
        rest: Option<&'t str>,
        wildcards: bool,
        stack: &mut Vec<Pending<'t, K>>,
        f: &mut impl FnMut(&K, QoS),
    ) {
        if wildcards {
            // `#` matches whatever remains, including nothing: "sport/#" matches "sport".
            if let Some(hash) = &self.hash {
                report(&hash.here, f);
            }
        }
        let Some(rest) = rest else {
            report(&self.here, f);
            return;
        };
        let (level, after) = match rest.split_once('/') {
            Some((level, after)) => (level, Some(after)),
            None => (rest, None),
        };
        if wildcards {
            if let Some(plus) = &self.plus {
                stack.push((plus, after));
            }
        }
        if let Some(child) = self.children.get(level) {
            stack.push((child, after));
        }
    }
}

fn report<K>(here: &HashMap<K, QoS>, f: &mut impl FnMut(&K, QoS)) {
    for (subscriber, qos) in here {
        f(subscriber, *qos);
    }
}

/// How a node hangs from its parent.
#[derive(Clone, Copy)]
enum Edge<'a> {
    Literal(&'a str),
    Plus,
    Hash,
}

impl Edge<'_> {
    fn as_str(&self) -> &str {
        match self {
            Edge::Literal(level) => level,
            Edge::Plus => "+",
            Edge::Hash => "#",
        }
    }
}

impl<K> Node<K> {
    fn edges(&self) -> impl Iterator<Item = (Edge<'_>, &Self)> {
        let literals = self
            .children
            .iter()
            .map(|(level, child)| (Edge::Literal(level), child));
        let plus = self.plus.as_deref().map(|child| (Edge::Plus, child));
        let hash = self.hash.as_deref().map(|child| (Edge::Hash, child));
        literals.chain(plus).chain(hash)
    }
}

impl<K: Clone> Clone for SubscriptionTrie<K> {
    /// A deep copy, built bottom-up in post-order with explicit stacks: O(nodes), no recursion.
    fn clone(&self) -> Self {
        // Nodes below the root to copy; `true` once their children have been copied.
        let mut todo: Vec<(&Node<K>, Edge<'_>, bool)> = self
            .root
            .edges()
            .map(|(edge, child)| (child, edge, false))
            .collect();
        // Copies whose parent is not built yet, with the edge to attach them by.
        let mut done: Vec<(Edge<'_>, Node<K>)> = Vec::new();
        while let Some((source, edge, children_copied)) = todo.pop() {
            if children_copied {
                let copy = source.copy_with_children(&mut done);
                done.push((edge, copy));
            } else {
                todo.push((source, edge, true));
                todo.extend(source.edges().map(|(edge, child)| (child, edge, false)));
            }
        }
        // What is left in `done` is the root's children.
        Self {
            root: self.root.copy_with_children(&mut done),
            len: self.len,
        }
    }
}

impl<K: Clone> Node<K> {
    /// A copy of this node's own subscriptions with its children's copies attached: the last
    /// `child_count` entries of `done`, which post-order put there.
    fn copy_with_children<'a>(&self, done: &mut Vec<(Edge<'a>, Node<K>)>) -> Node<K> {
        let mut copy = Node {
            children: HashMap::with_capacity(self.children.len()),
            plus: None,
            hash: None,
            here: self.here.clone(),
        };
        let first_child = done.len().saturating_sub(self.child_count());
        for (edge, child) in done.drain(first_child..) {
            match edge {
                Edge::Literal(level) => {
                    copy.children.insert(Box::from(level), child);
                }
                Edge::Plus => copy.plus = Some(Box::new(child)),
                Edge::Hash => copy.hash = Some(Box::new(child)),
            }
        }
        copy
    }
}

/// Where a node's level goes in a filter being rebuilt: the length of its parent's filter,
/// whether a `/` precedes the level (not at the first level), and the level.
type Placed<'a> = (usize, bool, Edge<'a>);

impl<K: fmt::Debug + Ord> fmt::Debug for SubscriptionTrie<K> {
    /// The subscriptions as a sorted list of `(filter, subscriber, qos)`, built iteratively.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut subscriptions: Vec<(String, &K, QoS)> = Vec::with_capacity(self.len);
        // Depth-first with one shared path buffer: a pending node carries the length of its
        // parent's filter, which is still a prefix of the buffer when the node is popped (every
        // node popped in between is a descendant of that parent), and whether a '/' separates
        // it from its parent (not at the first level).
        let mut path = String::new();
        let mut stack: Vec<(&Node<K>, Option<Placed<'_>>)> = vec![(&self.root, None)];
        while let Some((node, edge)) = stack.pop() {
            let first_level = edge.is_none();
            if let Some((parent_len, slash, edge)) = edge {
                path.truncate(parent_len);
                if slash {
                    path.push('/');
                }
                path.push_str(edge.as_str());
            }
            for (subscriber, qos) in &node.here {
                subscriptions.push((path.clone(), subscriber, *qos));
            }
            let len = path.len();
            stack.extend(
                node.edges()
                    .map(|(edge, child)| (child, Some((len, !first_level, edge)))),
            );
        }
        subscriptions.sort_unstable();
        f.debug_struct("SubscriptionTrie")
            .field("len", &self.len)
            .field("subscriptions", &subscriptions)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // Test code: failures should panic.
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;

    fn node_count<K>(trie: &SubscriptionTrie<K>) -> usize {
        let mut count = 0_usize;
        let mut stack = vec![&trie.root];
        while let Some(node) = stack.pop() {
            count = count.saturating_add(1);
            stack.extend(node.edges().map(|(_, child)| child));
        }
        count
    }

    /// The nodes a set of filters needs: the root and one per distinct prefix of levels.
    fn expected_nodes<'a>(filters: impl Iterator<Item = &'a String>) -> usize {
        let mut prefixes = BTreeSet::new();
        for filter in filters {
            let levels: Vec<&str> = filter.split('/').collect();
            for end in 1..=levels.len() {
                prefixes.insert(levels[..end].to_vec());
            }
        }
        prefixes.len().saturating_add(1)
    }

    #[test]
    fn a_level_emptied_of_thousands_gives_their_room_back() {
        let mut trie = SubscriptionTrie::new();
        let keep = TopicFilter::new("fleet/keep").unwrap();
        trie.insert(&keep, 0_u32, QoS::AtMostOnce);
        let shared = TopicFilter::new("fleet/shared").unwrap();
        trie.insert(&shared, 0_u32, QoS::AtMostOnce);
        let many: Vec<TopicFilter> = (0..4_000)
            .map(|n| TopicFilter::new(&format!("fleet/{n}")).unwrap())
            .collect();
        for (n, filter) in (1_u32..).zip(&many) {
            trie.insert(filter, n, QoS::AtMostOnce);
            trie.insert(&shared, n, QoS::AtMostOnce);
        }
        let fleet = trie.root.children.get("fleet").unwrap();
        assert!(fleet.children.capacity() >= 4_001);
        assert!(fleet.children.get("shared").unwrap().here.capacity() >= 4_000);
        for (n, filter) in (1_u32..).zip(&many) {
            assert_eq!(trie.remove(filter, &n), Some(QoS::AtMostOnce));
            assert_eq!(trie.remove(&shared, &n), Some(QoS::AtMostOnce));
        }
        let fleet = trie.root.children.get("fleet").unwrap();
        // `keep` and the shared filter's node are left, with room for a few.
        assert_eq!(fleet.children.len(), 2);
        assert!(
            fleet.children.capacity() <= 16,
            "{}",
            fleet.children.capacity()
        );
        let here = &fleet.children.get("shared").unwrap().here;
        assert_eq!(here.len(), 1);
        assert!(here.capacity() <= 16, "{}", here.capacity());
        assert_eq!(trie.len(), 2);
        assert_eq!(
            trie.matches(&TopicName::new("fleet/keep").unwrap()),
            vec![(0, QoS::AtMostOnce)]
        );
    }

    proptest! {
        /// Removal prunes exactly the nodes no live filter passes through.
        #[test]
        fn removal_prunes_every_emptied_node(
            ops in prop::collection::vec(
                (any::<bool>(), 0..2_u8, prop::collection::vec(
                    prop::sample::select(&["", "+", "a", "b"][..]), 1..5), any::<bool>()),
                1..80,
            ),
        ) {
            let mut trie = SubscriptionTrie::new();
            let mut live: BTreeMap<(u8, String), ()> = BTreeMap::new();
            for (insert, subscriber, levels, hash) in ops {
                let mut text = levels.join("/");
                if hash {
                    text.push_str("/#");
                }
                let Ok(filter) = TopicFilter::new(&text) else { continue };
                if insert {
                    trie.insert(&filter, subscriber, QoS::AtMostOnce);
                    live.insert((subscriber, text), ());
                } else {
                    trie.remove(&filter, &subscriber);
                    live.remove(&(subscriber, text));
                }
                let filters: BTreeSet<&String> = live.keys().map(|(_, f)| f).collect();
                prop_assert_eq!(node_count(&trie), expected_nodes(filters.into_iter()));
                prop_assert_eq!(trie.len(), live.len());
            }
        }
    }

    #[test]
    fn a_deep_chain_is_cut_at_its_top() {
        let mut trie = SubscriptionTrie::new();
        let deep = TopicFilter::new(&"a/".repeat(1000)).unwrap();
        let shallow = TopicFilter::new("a/a").unwrap();
        trie.insert(&deep, 1_u8, QoS::AtMostOnce);
        trie.insert(&shallow, 1_u8, QoS::AtMostOnce);
        assert_eq!(node_count(&trie), 1002);
        trie.remove(&deep, &1);
        assert_eq!(node_count(&trie), 3);
        trie.remove(&shallow, &1);
        assert_eq!(node_count(&trie), 1);
    }
}
