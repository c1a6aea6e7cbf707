//! The callback authentication checks against hostile header values and query strings, and
//! CIDR blocks. Invariants: nothing panics; `verify_header` accepts exactly the secret (around
//! whitespace); `verify_basic` accepts the well-formed `Basic base64(user:secret)` and refuses it
//! with any one byte of the secret changed; an accepted query holds `param=secret`; a parsed
//! CIDR block contains its own address.

use std::net::IpAddr;

use arbitrary::Arbitrary;
use base64::Engine as _;
use sigfox_frame::{Cidr, SharedSecret};

/// What an attacker controls (header, query), and what the operator configured (secret, user,
/// parameter name, block), both arbitrary.
#[derive(Debug, Arbitrary)]
pub struct Input<'a> {
    secret: &'a [u8],
    user: &'a str,
    header: &'a str,
    query: &'a str,
    param: &'a str,
    flip: u8,
    cidr: &'a str,
    ip: [u8; 16],
}

/// One fuzz input: panics on a broken invariant.
pub fn run(input: Input<'_>) {
    let mut secret = input.secret.to_vec();
    secret.resize(secret.len().max(SharedSecret::MIN_LEN), b'k');
    let shared = SharedSecret::new(secret.clone()).unwrap();

    // Hostile values: an answer, never a panic; acceptance only of the secret itself.
    if shared.verify_header(Some(input.header)) {
        assert_eq!(input.header.trim().as_bytes(), &secret[..]);
    }
    let basic = shared.verify_basic(Some(input.header), input.user);
    if shared.verify_query_token(input.query, input.param) {
        let wanted = [input.param.as_bytes(), b"=", &secret].concat();
        assert!(
            input
                .query
                .as_bytes()
                .windows(wanted.len())
                .any(|w| w == wanted),
            "accepted {:?} without {}={:?}",
            input.query,
            input.param,
            secret
        );
    }

    // The well-formed header is accepted (a user with ':' cannot be told from the password),
    // and one changed byte of the secret is refused.
    if !input.user.contains(':') {
        let encode = |pass: &[u8]| {
            let credentials = [input.user.as_bytes(), b":", pass].concat();
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            )
        };
        assert!(shared.verify_basic(Some(&encode(&secret)), input.user));
        let mut wrong = secret.clone();
        let at = usize::from(input.flip) % wrong.len();
        wrong[at] ^= 0x01;
        assert!(!shared.verify_basic(Some(&encode(&wrong)), input.user));
        // The hostile header was accepted only if it carries these very credentials.
        if basic {
            let (_, encoded) = input.header.trim().split_once(' ').unwrap();
            let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(encoded.trim().trim_end_matches('='))
                .unwrap();
            assert_eq!(decoded, [input.user.as_bytes(), b":", &secret].concat());
        }
    }

    if let Ok(block) = Cidr::parse(input.cidr) {
        let address = input.cidr.split_once('/').map_or(input.cidr, |(a, _)| a);
        let address: IpAddr = address.parse().unwrap();
        assert!(
            block.contains(address),
            "{} outside {:?}",
            address,
            input.cidr
        );
    }
    // An address is inside every block written with it that parses.
    let ip = IpAddr::from(input.ip);
    let prefix = input.flip % 129;
    if let Ok(block) = Cidr::parse(&format!("{ip}/{prefix}")) {
        assert!(block.contains(ip), "{ip} outside its own /{prefix}");
    }
}
