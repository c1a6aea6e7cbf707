//! Arbitrary leaf and intermediates against fixed trust anchors: verification never panics
//! or hangs (the budget bounds it), and an accepted path starts at the given leaf.
//!
//! Input: one flags byte, four bytes of time offset, then concatenated DER elements: the
//! first is the leaf, the rest are intermediates (so real chains are natural seeds).

use std::sync::OnceLock;
use std::time::Duration;

use x509_chain::{TrustStore, UnixTime, Usage, Verifier, VerifierOptions, VerifyRequest};

const ROOT: &[u8] = include_bytes!("../../data/root.pem");

fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let store = TrustStore::from_pem(ROOT).unwrap_or_default();
        let mut options = VerifierOptions::default();
        options.issuer_cache_capacity = 16;
        Verifier::new(store, options)
    })
}

/// Splits off one DER element by its header (short or long form, up to 3 length octets);
/// a malformed header takes the rest.
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    let len = match data.get(1) {
        Some(&l) if l < 0x80 => Some(2 + usize::from(l)),
        Some(&l) if (0x81..=0x83).contains(&l) => {
            let n = usize::from(l & 0x7f);
            data.get(2..2 + n)
                .map(|b| 2 + n + b.iter().fold(0usize, |a, &x| a * 256 + usize::from(x)))
        }
        _ => None,
    };
    let at = len.unwrap_or(data.len()).min(data.len());
    data.split_at(at)
}

/// One fuzz input: panics on a broken invariant.
pub fn run(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let (head, mut rest) = data.split_at(5);
    let usage = match head[0] % 3 {
        0 => Usage::ClientAuth,
        1 => Usage::ServerAuth,
        _ => Usage::Any,
    };
    let offset = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    let (leaf, after) = split(rest);
    rest = after;
    let mut intermediates = Vec::new();
    while !rest.is_empty() && intermediates.len() < 16 {
        let (cert, after) = split(rest);
        intermediates.push(cert);
        rest = after;
    }
    // From 2026-11-27 up to ~136 years on: inside and outside the fixtures' validity.
    let time = UnixTime::since_unix_epoch(Duration::from_secs(1_795_000_000 + u64::from(offset)));
    let request = VerifyRequest::new(time, usage);
    match verifier().verify(leaf, &intermediates, &request) {
        Ok(path) => {
            assert_eq!(path.certificates().first().map(|c| c.as_ref()), Some(leaf));
            assert!(path.certificates().len() >= 2);
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.name();
        }
    }
}
