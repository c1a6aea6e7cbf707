//! Authenticating callbacks. Sigfox does not sign callbacks, so an endpoint checks a shared
//! secret that the callback configuration carries (a header, Basic auth or a URL token) and,
//! optionally, the source address against an allow-list.

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use ipnet::IpNet;

/// A shared secret, compared in constant time. It has no `PartialEq` on purpose: a derived
/// comparison would return at the first differing byte. `Debug` does not print it.
#[derive(Clone)]
pub struct SharedSecret(Vec<u8>);

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

/// A secret too short to be worth checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakSecret {
    /// Its length in bytes.
    pub len: usize,
}

impl fmt::Display for WeakSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the shared secret is {} bytes; at least {} are required",
            self.len,
            SharedSecret::MIN_LEN
        )
    }
}

impl std::error::Error for WeakSecret {}

/// Compares without branching on the contents; the time depends only on the longer length.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    let n = a.len().max(b.len());
    // The shorter one is padded with zeros to the longer length (the length difference is
    // already in `diff`), so every byte position is compared.
    let zeros = std::iter::repeat(0u8);
    let (a, b) = (
        a.iter().copied().chain(zeros.clone()),
        b.iter().copied().chain(zeros),
    );
    for (x, y) in a.zip(b).take(n) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// Standard base64, padded or not (clients differ).
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

impl SharedSecret {
    /// The shortest accepted secret, in bytes.
    pub const MIN_LEN: usize = 16;

    /// A secret of at least [`SharedSecret::MIN_LEN`] bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, WeakSecret> {
        let secret = secret.into();
        if secret.len() < Self::MIN_LEN {
            return Err(WeakSecret { len: secret.len() });
        }
        Ok(Self(secret))
    }

    /// Whether `presented` is the secret, in constant time.
    pub fn verify(&self, presented: &[u8]) -> bool {
        ct_eq(&self.0, presented)
    }

    /// Checks a header value (e.g. `X-Callback-Token`); `None` (header absent) fails.
    pub fn verify_header(&self, value: Option<&str>) -> bool {
        value.is_some_and(|v| self.verify(v.trim().as_bytes()))
    }

    /// Checks an `Authorization: Basic base64(user:password)` header: the password must be the
    /// secret, and the user `expected_user`.
    pub fn verify_basic(&self, authorization: Option<&str>, expected_user: &str) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some((scheme, rest)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = BASE64.decode(rest.trim()) else {
            return false;
        };
        let mut halves = decoded.splitn(2, |b| *b == b':');
        let (Some(user), Some(pass)) = (halves.next(), halves.next()) else {
            return false;
        };
        // Both compared, so the time does not tell which one was wrong.
        let user_ok = ct_eq(user, expected_user.as_bytes());
        let pass_ok = self.verify(pass);
        user_ok & pass_ok
    }

    /// Checks the query parameter `param` of a URL or query string (`token` in
    /// `/sigfox?token=...`); percent-escapes are not decoded, so use a URL-safe secret.
    pub fn verify_query_token(&self, url_or_query: &str, param: &str) -> bool {
        let query = url_or_query
            .split_once('?')
            .map_or(url_or_query, |(_, q)| q);
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        let mut found = false;
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                if k == param {
                    // Keep going: a second occurrence must not change the timing shape much,
                    // and every candidate is checked.
                    found |= self.verify(v.as_bytes());
                }
            }
        }
        found
    }
}

/// One CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(IpNet);

/// A CIDR block rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrError {
    /// The text.
    pub input: String,
    /// Why.
    pub reason: &'static str,
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CIDR block {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for CidrError {}

impl Cidr {
    /// Parses `a.b.c.d/n` or `x::y/n`; without `/n` the block is the single address.
    pub fn parse(s: &str) -> Result<Self, CidrError> {
        let err = |reason| CidrError {
            input: s.to_owned(),
            reason,
        };
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| err("not an IP address"))?;
        let width = match addr {
            IpAddr::V4(_) => 32u8,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix {
            None => width,
            Some(p) => {
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("the prefix length is not a number"));
                }
                let p: u8 = p
                    .parse()
                    .map_err(|_| err("the prefix length is too long"))?;
                if p > width {
                    return Err(err("the prefix length is longer than the address"));
                }
                p
            }
        };
        let net = IpNet::new(addr, prefix).map_err(|_| err("the prefix length is too long"))?;
        let mapped = matches!(addr, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some());
        // An IPv4-mapped IPv6 block is kept in IPv6 terms, as written.
        if !mapped && net.trunc() != net {
            return Err(err("host bits are set below the prefix"));
        }
        Ok(Self(net))
    }

    /// Whether `ip` is inside the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.0, ip) {
            (IpNet::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        self.0.contains(&ip)
    }
}

/// An allow-list of source networks. An empty list allows nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CidrAllowList {
    blocks: Vec<Cidr>,
}

impl CidrAllowList {
    /// Parses every block; the first bad one is the error.
    pub fn parse<'a>(blocks: impl IntoIterator<Item = &'a str>) -> Result<Self, CidrError> {
        let blocks = blocks
            .into_iter()
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { blocks })
    }

    /// Whether `ip` is in one of the blocks.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|b| b.contains(ip))
    }
}
