//! Names: DNS-name syntax, RFC 6125 peer-name matching against subjectAltName, and RFC 5280
//! §4.2.1.10 name constraints (dNSName, iPAddress, rfc822Name, directoryName).

use std::net::IpAddr;

use der::Decode as _;
use x509_cert::ext::pkix::constraints::name::{GeneralSubtree, NameConstraints};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::cert::Cert;
use crate::der as tlv;
use crate::dn::{self, NameRef};
use crate::error::Check;
use crate::general_names::{GeneralNameRef, OTHER_NAME, REGISTERED_ID};

/// Most name-against-constraint comparisons one CA's constraints may cost for one
/// certificate. A certificate with 1,024 names under 64 subtrees stays below it; the
/// pathological-limbo certificates (thousands of each) exceed it and are rejected rather than
/// ground through.
pub(crate) const MAX_NAME_CONSTRAINT_CHECKS: usize = 65_536;

/// The name a TLS peer is expected to have.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerName {
    /// A DNS name (no wildcard), matched against dNSName entries (RFC 6125 §6.4).
    Dns(String),
    /// An IP address, matched against iPAddress entries (RFC 6125 §6.2.1 / RFC 5280 §4.2.1.6).
    Ip(IpAddr),
    /// An e-mail address, matched against rfc822Name entries.
    Email(String),
}

impl std::fmt::Display for PeerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dns(d) => write!(f, "DNS name {d}"),
            Self::Ip(ip) => write!(f, "IP address {ip}"),
            Self::Email(e) => write!(f, "e-mail address {e}"),
        }
    }
}

/// RFC 1034 §3.5 preferred name syntax, as RFC 5280 §4.2.1.6 requires of dNSName: labels of
/// letters, digits and hyphens, 1-63 octets, not starting or ending with a hyphen, at most 253
/// octets, and (to keep IP literals out) a last label that is not all digits. With
/// `wildcard`, the first label may be exactly `*` if at least two labels follow (RFC 6125
/// §6.4.3).
pub(crate) fn is_valid_dns_name(name: &str, wildcard: bool) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let (labels, wildcarded) = match name.strip_prefix("*.") {
        Some(rest) if wildcard => (rest, true),
        _ => (name, false),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let mut count = 0usize;
    let mut last = "";
    for label in labels.split('.') {
        if !label_ok(label) {
            return false;
        }
        count = count.saturating_add(1);
        last = label;
    }
    (!wildcarded || count >= 2) && !last.bytes().all(|b| b.is_ascii_digit())
}

/// Is `name` itself an entry of the Public Suffix List (ICANN or private section)?
fn is_public_suffix(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    psl::suffix(lower.as_bytes()).is_some_and(|s| s.is_known() && s.as_bytes() == lower.as_bytes())
}

/// Does a presented dNSName (possibly `*.rest`) match the reference DNS name?
/// RFC 6125 §6.4.3: the wildcard stands for exactly one whole left-most label, and (RFC 6125
/// §7.2, CA/B Forum BR 7.1.2.7.12) never for a registrant directly under a public suffix:
/// `*.co.uk` or `*.s3.amazonaws.com` match nothing.
fn dns_matches(presented: &str, reference: &str) -> bool {
    let presented = presented.strip_suffix('.').unwrap_or(presented);
    let reference = reference.strip_suffix('.').unwrap_or(reference);
    if let Some(rest) = presented.strip_prefix("*.") {
        if is_public_suffix(rest) {
            return false;
        }
        match reference.split_once('.') {
            Some((first, tail)) => !first.is_empty() && tail.eq_ignore_ascii_case(rest),
            None => false,
        }
    } else {
        presented.eq_ignore_ascii_case(reference)
    }
}

/// Checks the expected peer name against the leaf's subjectAltName only (never the subject
/// CN, as RFC 6125 §6.4.4 recommends and webpki does).
pub(crate) fn matches_peer(cert: &Cert, expected: &PeerName) -> bool {
    let Some(san) = cert.subject_alt_name() else {
        return false;
    };
    san.value.iter().any(|name| match (name, expected) {
        (GeneralNameRef::Dns(p), PeerName::Dns(r)) => {
            is_valid_dns_name(p, true) && dns_matches(p, r)
        }
        (GeneralNameRef::Ip(p), PeerName::Ip(r)) => match r {
            IpAddr::V4(v4) => p == v4.octets(),
            IpAddr::V6(v6) => p == v6.octets(),
        },
        (GeneralNameRef::Rfc822(p), PeerName::Email(r)) => email_eq(p, r),
        _ => false,
    })
}

/// Mailboxes: local part exact, domain case-insensitive (RFC 5321 §2.4).
fn email_eq(a: &str, b: &str) -> bool {
    match (a.rsplit_once('@'), b.rsplit_once('@')) {
        (Some((la, da)), Some((lb, db))) => la == lb && da.eq_ignore_ascii_case(db),
        _ => false,
    }
}

/// A syntactically valid addr-spec as far as constraint matching needs: one `@`, a
/// non-empty local part, a valid domain.
fn is_valid_email(addr: &str) -> bool {
    match addr.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.contains('@')
                && local.bytes().all(|b| b.is_ascii_graphic())
                && is_valid_dns_name(domain, false)
        }
        None => false,
    }
}

/// The leaf's subjectAltName entries must be valid names of their types (RFC 5280 §4.2.1.6).
pub(crate) fn check_san_syntax(cert: &Cert) -> Result<(), Check> {
    let Some(san) = cert.subject_alt_name() else {
        return Ok(());
    };
    for name in san.value.iter() {
        let ok = match name {
            GeneralNameRef::Dns(d) => is_valid_dns_name(d, true),
            GeneralNameRef::Ip(ip) => matches!(ip.len(), 4 | 16),
            GeneralNameRef::Rfc822(e) => is_valid_email(e),
            _ => true,
        };
        if !ok {
            return Err(Check::BadSubjectAltName {
                name: describe(name),
            });
        }
    }
    Ok(())
}

fn describe(name: GeneralNameRef<'_>) -> String {
    match crate::identity::alt_name(name) {
        Some((kind, text)) => format!("{}:{text}", kind.aws_name()),
        None => match name {
            GeneralNameRef::Ip(o) => format!("IPAddress:#{}", hex::encode(o)),
            // OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
            GeneralNameRef::Other(t) if t.tag == OTHER_NAME => tlv::read(t.value)
                .and_then(|(id, _)| tlv::oid(id))
                .map_or_else(|| "otherName".into(), |id| format!("otherName:{id}")),
            GeneralNameRef::Other(t) if t.tag == REGISTERED_ID => {
                der::oid::ObjectIdentifier::from_bytes(t.value)
                    .map_or_else(|_| "registeredID".into(), |id| format!("registeredID:{id}"))
            }
            _ => "unsupported name".into(),
        },
    }
}

fn bad(detail: impl Into<String>) -> Check {
    Check::BadNameConstraint {
        detail: detail.into(),
    }
}

/// RFC 5280 §4.2.1.10 rules for the constraints themselves.
fn validate_subtree(subtree: &GeneralSubtree) -> Result<(), Check> {
    // "minimum MUST be zero, and maximum MUST be absent."
    if subtree.minimum != 0 || subtree.maximum.is_some() {
        return Err(bad("minimum/maximum in a GeneralSubtree"));
    }
    match &subtree.base {
        GeneralName::DnsName(d) => {
            let d = d.as_str();
            // An empty constraint matches every name; otherwise a plain DNS name (no
            // wildcard, no leading period: RFC 5280 gives dNSName constraints no such
            // form, unlike rfc822Name and URI).
            if !d.is_empty() && !is_valid_dns_name(d, false) {
                return Err(bad(format!("invalid dNSName constraint {d:?}")));
            }
        }
        GeneralName::IpAddress(o) => {
            let b = o.as_bytes();
            if !matches!(b.len(), 8 | 32) {
                return Err(bad("iPAddress constraint is not address+mask"));
            }
            let (_, mask) = b.split_at(b.len() / 2);
            // The mask must be a CIDR prefix: ones then zeros.
            let mut seen_zero = false;
            for &byte in mask {
                for bit in (0..8).rev() {
                    let one = byte >> bit & 1 == 1;
                    if one && seen_zero {
                        return Err(bad("iPAddress constraint mask is not a prefix"));
                    }
                    seen_zero |= !one;
                }
            }
        }
        GeneralName::Rfc822Name(e) => {
            let e = e.as_str();
            let ok = if e.contains('@') {
                is_valid_email(e)
            } else {
                is_valid_dns_name(e.strip_prefix('.').unwrap_or(e), false)
            };
            if !ok {
                return Err(bad(format!("invalid rfc822Name constraint {e:?}")));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The constraint kinds this crate evaluates; any other kind is checked for presence only.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Dns,
    Ip,
    Email,
    Directory,
    Other(u8),
}

fn kind(name: &GeneralName) -> Kind {
    match name {
        GeneralName::DnsName(_) => Kind::Dns,
        GeneralName::IpAddress(_) => Kind::Ip,
        GeneralName::Rfc822Name(_) => Kind::Email,
        GeneralName::DirectoryName(_) => Kind::Directory,
        GeneralName::OtherName(_) => Kind::Other(0),
        GeneralName::EdiPartyName(_) => Kind::Other(5),
        GeneralName::UniformResourceIdentifier(_) => Kind::Other(6),
        GeneralName::RegisteredId(_) => Kind::Other(8),
    }
}

/// Of a subjectAltName entry.
fn kind_of(name: GeneralNameRef<'_>) -> Kind {
    match name {
        GeneralNameRef::Dns(_) => Kind::Dns,
        GeneralNameRef::Ip(_) => Kind::Ip,
        GeneralNameRef::Rfc822(_) => Kind::Email,
        GeneralNameRef::Directory(_) => Kind::Directory,
        GeneralNameRef::Uri(_) => Kind::Other(6),
        GeneralNameRef::Other(t) => Kind::Other(t.tag & 0x1f),
    }
}

/// A name a certificate presents: a subjectAltName entry in place, or a directory name (the
/// subject, or a directoryName entry) decoded to be compared RDN by RDN with the
/// constraint's.
enum Presented<'a> {
    General(GeneralNameRef<'a>),
    Directory { name: Name, text: String },
}

impl Presented<'_> {
    fn kind(&self) -> Kind {
        match self {
            Presented::General(g) => kind_of(*g),
            Presented::Directory { .. } => Kind::Directory,
        }
    }

    fn text(&self) -> String {
        match self {
            Presented::General(g) => describe(*g),
            Presented::Directory { text, .. } => text.clone(),
        }
    }
}

/// A directory name decoded for comparison. `x509-cert` decodes what `Cert::parse` checked;
/// should it refuse, the constraint cannot be evaluated and the check fails closed.
fn directory(name: NameRef<'_>, text: String) -> Result<Presented<'static>, Check> {
    let decoded = Name::from_der(name.raw)
        .map_err(|e| bad(format!("cannot compare the directory name {text}: {e}")))?;
    Ok(Presented::Directory {
        name: decoded,
        text,
    })
}

fn dns_in_subtree(name: &str, constraint: &str) -> bool {
    if constraint.is_empty() {
        return true;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let constraint = constraint.strip_suffix('.').unwrap_or(constraint);
    if name.len() == constraint.len() {
        return name.eq_ignore_ascii_case(constraint);
    }
    // A subdomain: `name` ends with ".constraint" (RFC 5280 §4.2.1.10: "any DNS name that can
    // be constructed by simply adding zero or more labels to the left-hand side").
    let Some(split) = name.len().checked_sub(constraint.len()) else {
        return false;
    };
    match (name.get(..split), name.get(split..)) {
        (Some(head), Some(tail)) => head.ends_with('.') && tail.eq_ignore_ascii_case(constraint),
        _ => false,
    }
}

fn ip_in_subtree(ip: &[u8], constraint: &[u8]) -> bool {
    if constraint.len() != ip.len().saturating_mul(2) {
        return false;
    }
    let (base, mask) = constraint.split_at(ip.len());
    ip.iter()
        .zip(base)
        .zip(mask)
        .all(|((a, b), m)| a & m == b & m)
}

fn email_in_subtree(addr: &str, constraint: &str) -> bool {
    if constraint.contains('@') {
        return email_eq(addr, constraint);
    }
    let Some((_, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    match constraint.strip_prefix('.') {
        // ".example.com": any host in the domain, not the domain itself.
        Some(_) => {
            domain.len() > constraint.len()
                && domain
                    .len()
                    .checked_sub(constraint.len())
                    .and_then(|at| domain.get(at..))
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(constraint))
        }
        None => domain.eq_ignore_ascii_case(constraint),
    }
}

/// Is `name` within the subtree rooted at `base`: its RDN sequence starts with base's RDNs?
fn dn_in_subtree(name: &Name, base: &Name) -> bool {
    let name_rdns: Vec<_> = name.iter_rdn().collect();
    let base_rdns: Vec<_> = base.iter_rdn().collect();
    base_rdns.len() <= name_rdns.len() && base_rdns.iter().zip(&name_rdns).all(|(a, b)| a == b)
}

/// A wildcard dNSName `*.X` stands for every `L.X`; it reaches into an excluded subtree `C`
/// when `C` is such a name. Excluding it then closes the gap CVE-2025-61727 describes (a
/// peer name matched through the wildcard that the constraint was meant to forbid).
fn wildcard_reaches(presented: &Presented<'_>, base: &GeneralName) -> bool {
    let (Presented::General(GeneralNameRef::Dns(n)), GeneralName::DnsName(c)) = (presented, base)
    else {
        return false;
    };
    let Some(rest) = n.strip_prefix("*.") else {
        return false;
    };
    match c.as_str().split_once('.') {
        Some((label, tail)) => !label.is_empty() && tail.eq_ignore_ascii_case(rest),
        None => false,
    }
}

fn matches(presented: &Presented<'_>, base: &GeneralName) -> bool {
    match (presented, base) {
        (Presented::General(GeneralNameRef::Dns(n)), GeneralName::DnsName(c)) => {
            dns_in_subtree(n, c.as_str())
        }
        (Presented::General(GeneralNameRef::Ip(n)), GeneralName::IpAddress(c)) => {
            ip_in_subtree(n, c.as_bytes())
        }
        (Presented::General(GeneralNameRef::Rfc822(n)), GeneralName::Rfc822Name(c)) => {
            email_in_subtree(n, c.as_str())
        }
        (Presented::Directory { name, .. }, GeneralName::DirectoryName(c)) => {
            dn_in_subtree(name, c)
        }
        _ => false,
    }
}

/// Checks every name `cert` presents against the constraints of the CA at index
/// `constrained_by` (RFC 5280 §6.1.3 (b)-(c)): the subject (as a directoryName, when not
/// empty) and every subjectAltName entry.
pub(crate) fn check_constraints(
    nc: &NameConstraints,
    constrained_by: usize,
    cert: &Cert,
) -> Result<(), Check> {
    // RFC 5280 §4.2.1.10: an absent list constrains nothing of its kind.
    let permitted = nc
        .permitted_subtrees
        .as_ref()
        .map_or(&[][..], Vec::as_slice);
    let excluded = nc.excluded_subtrees.as_ref().map_or(&[][..], Vec::as_slice);

    let mut names: Vec<Presented<'_>> = Vec::new();
    let subject = cert.subject();
    if !subject.is_empty() {
        names.push(directory(subject, dn::to_rfc4514(subject))?);
    }
    if let Some(san) = cert.subject_alt_name() {
        for name in san.value.iter() {
            names.push(match name {
                GeneralNameRef::Directory(n) => directory(n, describe(name))?,
                _ => Presented::General(name),
            });
        }
    }

    let subtrees = permitted.len().saturating_add(excluded.len());
    if names.len().saturating_mul(subtrees) > MAX_NAME_CONSTRAINT_CHECKS {
        return Err(bad(format!(
            "{} names against {subtrees} subtrees exceeds the limit of {MAX_NAME_CONSTRAINT_CHECKS} comparisons",
            names.len()
        )));
    }

    for name in &names {
        let name_kind = name.kind();
        if let Kind::Other(_) = name_kind {
            // A name kind this crate cannot compare: fail closed if any constraint of that
            // kind exists.
            let constrained = permitted
                .iter()
                .chain(excluded)
                .any(|s| kind(&s.base) == name_kind);
            if constrained {
                return Err(bad(format!(
                    "cannot evaluate a constraint on {}",
                    name.text()
                )));
            }
            continue;
        }
        if excluded.iter().any(|s| {
            kind(&s.base) == name_kind
                && (matches(name, &s.base) || wildcard_reaches(name, &s.base))
        }) {
            return Err(Check::NameConstraint {
                constrained_by,
                name: name.text(),
            });
        }
        let mut of_kind = permitted
            .iter()
            .filter(|s| kind(&s.base) == name_kind)
            .peekable();
        if of_kind.peek().is_some() && !of_kind.any(|s| matches(name, &s.base)) {
            return Err(Check::NameConstraint {
                constrained_by,
                name: name.text(),
            });
        }
    }
    Ok(())
}

/// Checks the constraint extension's own form (RFC 5280 §4.2.1.10): at least one of the two
/// lists, neither empty, every subtree well-formed.
pub(crate) fn validate_constraints(nc: &NameConstraints) -> Result<(), Check> {
    if nc.permitted_subtrees.is_none() && nc.excluded_subtrees.is_none() {
        return Err(bad("neither permittedSubtrees nor excludedSubtrees"));
    }
    for list in [&nc.permitted_subtrees, &nc.excluded_subtrees]
        .into_iter()
        .flatten()
    {
        if list.is_empty() {
            return Err(bad("empty GeneralSubtrees"));
        }
        list.iter().try_for_each(validate_subtree)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_name_syntax() {
        let label63 = "a".repeat(63);
        let long = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        let too_long = format!("{long}c");
        let cases: &[(&str, bool, bool)] = &[
            ("example.com", false, true),
            ("example.com.", false, true),
            ("xn--bcher-kva.example", false, true),
            ("123.example", false, true),
            ("*.example.com", true, true),
            ("*.example.com", false, false),
            ("*.com", true, false),
            ("*", true, false),
            ("*.", true, false),
            ("**.example.com", true, false),
            ("*..example", true, false),
            ("a.*.example", true, false),
            ("a..b", false, false),
            ("-a.b", false, false),
            ("a-.b", false, false),
            ("a_b.c", false, false),
            ("a.123", false, false),
            ("", false, false),
            (".", false, false),
            (&label63, false, true),
            (&long, false, true),
            (&too_long, false, false),
        ];
        for &(name, wildcard, valid) in cases {
            assert_eq!(
                is_valid_dns_name(name, wildcard),
                valid,
                "{name:?} {wildcard}"
            );
        }
        let label64 = "a".repeat(64);
        assert!(!is_valid_dns_name(&label64, false));
    }
}
