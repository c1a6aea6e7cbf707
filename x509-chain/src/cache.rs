//! A bounded cache of issuer links already verified: a fleet of devices under one CA pays
//! the CA-to-root signature check once, not once per connection.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

/// One verified link. Keyed by the exact DER of both certificates (the hash only picks the
/// bucket; the bytes are compared), valid only inside both certificates' validity windows.
struct Entry {
    child: Box<[u8]>,
    issuer: Box<[u8]>,
    not_before: u64,
    not_after: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<u64, Vec<Entry>>,
    order: VecDeque<u64>,
    len: usize,
}

/// The cache; `capacity` entries at most, oldest evicted first.
pub(crate) struct IssuerCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

fn key(child: &[u8], issuer: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    child.hash(&mut h);
    issuer.hash(&mut h);
    h.finish()
}

impl IssuerCache {
    pub(crate) fn new(capacity: usize) -> IssuerCache {
        IssuerCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Was the signature of `child` by `issuer` verified before, for a window containing `time`?
    pub(crate) fn contains(&self, child: &[u8], issuer: &[u8], time: u64) -> bool {
        let Ok(inner) = self.inner.lock() else {
            return false;
        };
        inner.map.get(&key(child, issuer)).is_some_and(|bucket| {
            bucket.iter().any(|e| {
                *e.child == *child
                    && *e.issuer == *issuer
                    && (e.not_before..=e.not_after).contains(&time)
            })
        })
    }

    /// Records a verified link.
    pub(crate) fn insert(&self, child: &[u8], issuer: &[u8], not_before: u64, not_after: u64) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        while inner.len >= self.capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            let mut emptied = false;
            if let Some(bucket) = inner.map.get_mut(&old) {
                if !bucket.is_empty() {
                    bucket.remove(0);
                }
                emptied = bucket.is_empty();
            }
            if emptied {
                inner.map.remove(&old);
            }
            inner.len = inner.len.saturating_sub(1);
        }
        let k = key(child, issuer);
        inner.map.entry(k).or_default().push(Entry {
            child: child.into(),
            issuer: issuer.into(),
            not_before,
            not_after,
        });
        inner.order.push_back(k);
        inner.len = inner.len.saturating_add(1);
    }

    pub(crate) fn len(&self) -> usize {
        // A panic while holding the lock leaves the count as it was: still the count.
        self.inner
            .lock()
            .map_or_else(|poisoned| poisoned.into_inner().len, |i| i.len)
    }
}

impl std::fmt::Debug for IssuerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}
