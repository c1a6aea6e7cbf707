//! Policy variables and condition keys: names, and their values in a [`RequestContext`].

use std::slice;

use crate::context::{AltNameKind, DnAttribute, RequestContextOf};

/// The characters that stop a certificate field from being substituted into a policy: AWS IoT
/// documents that a certificate policy variable whose value contains one of them is left
/// unsubstituted. Here that variable does not resolve, so the resource entry matches nothing.
pub(crate) const CERT_UNSAFE: [char; 5] = ['*', '$', '+', '?', '#'];

/// What a key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    ClientId,
    ThingName,
    ThingTypeName,
    ThingIsAttached,
    ThingAttribute(Box<str>),
    Subject(DnAttribute),
    Issuer(DnAttribute),
    SubjectAlt(AltNameKind),
    IssuerAlt(AltNameKind),
    SerialNumber,
    CertificateId,
    DomainName,
    SourceIp,
    /// Known or unknown keys that only [`RequestContext::other`] supplies.
    Other,
}

impl Key {
    /// Whether the value comes from the client certificate (the `* $ + ? #` rule applies).
    pub(crate) fn is_certificate(&self) -> bool {
        matches!(
            self,
            Key::Subject(_)
                | Key::Issuer(_)
                | Key::SubjectAlt(_)
                | Key::IssuerAlt(_)
                | Key::SerialNumber
                | Key::CertificateId
        )
    }

    /// Whether the value comes from the attached thing.
    pub(crate) fn is_thing(&self) -> bool {
        matches!(
            self,
            Key::ThingName | Key::ThingTypeName | Key::ThingAttribute(_)
        )
    }
}

/// Which of a key's values a reference means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selector {
    /// The bare name: the first value.
    First,
    /// `.N`: the N-th value, from 0.
    Index(usize),
    /// `.List`: every value (conditions only).
    List,
}

/// A parsed reference to a key: `iot:Certificate.Subject.Organization.List`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRef {
    pub(crate) key: Key,
    pub(crate) selector: Selector,
    /// The name as written, for explanations.
    pub(crate) name: Box<str>,
    /// The name without its selector, for lookups in [`RequestContext::other`].
    pub(crate) base: Box<str>,
}

/// Why a key name was rejected.
#[derive(Debug)]
pub(crate) enum KeyError {
    Unknown,
    Malformed(&'static str),
}

/// `aws:` keys AWS IoT documents besides `aws:SourceIp`; values come from `other`.
const AWS_KEYS: [&str; 8] = [
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SecureTransport",
    "aws:UserAgent",
    "aws:Referer",
    "aws:PrincipalType",
    "aws:userid",
    "aws:username",
];

fn strip_prefix_ci<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// Splits a `.N` or `.List` selector off a multi-valued key name.
fn split_selector(rest: &str) -> Result<(&str, Selector), KeyError> {
    if let Some((head, tail)) = rest.rsplit_once('.') {
        if tail.eq_ignore_ascii_case("List") {
            return Ok((head, Selector::List));
        }
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            let n = tail
                .parse::<usize>()
                .map_err(|_| KeyError::Malformed("index too large"))?;
            return Ok((head, Selector::Index(n)));
        }
    }
    Ok((rest, Selector::First))
}

fn dn_attribute(name: &str) -> Option<DnAttribute> {
    DnAttribute::ALL
        .into_iter()
        .find(|a| a.aws_name().eq_ignore_ascii_case(name))
}

fn alt_name_kind(name: &str) -> Option<AltNameKind> {
    AltNameKind::ALL
        .into_iter()
        .find(|k| k.aws_name().eq_ignore_ascii_case(name))
}

/// Parses a key name. With `variable`, the name is inside `${...}`: it must be one AWS IoT
/// defines and `.List` is refused (a resource needs one value). Without, it is a condition
/// key: unknown names are accepted and looked up in [`RequestContext::other`], as IAM does.
pub(crate) fn parse_key(name: &str, variable: bool) -> Result<KeyRef, KeyError> {
    let (key, selector, base) = match classify(name)? {
        Some(found) => found,
        None => {
            if variable {
                return Err(KeyError::Unknown);
            }
            if name.is_empty() {
                return Err(KeyError::Malformed("empty condition key"));
            }
            (Key::Other, Selector::List, name.to_owned())
        }
    };
    if variable && selector == Selector::List {
        return Err(KeyError::Malformed(
            ".List is only meaningful in a condition with ForAnyValue or ForAllValues",
        ));
    }
    Ok(KeyRef {
        key,
        selector,
        name: name.into(),
        base: base.into(),
    })
}

type Classified = Option<(Key, Selector, String)>;

fn classify(name: &str) -> Result<Classified, KeyError> {
    let single = |key: Key, canonical: &str| Ok(Some((key, Selector::First, canonical.to_owned())));
    if name.eq_ignore_ascii_case("iot:ClientId") {
        return single(Key::ClientId, "iot:ClientId");
    }
    if name.eq_ignore_ascii_case("iot:CertificateId") {
        return single(Key::CertificateId, "iot:CertificateId");
    }
    if name.eq_ignore_ascii_case("iot:DomainName") {
        return single(Key::DomainName, "iot:DomainName");
    }
    if name.eq_ignore_ascii_case("aws:SourceIp") {
        return single(Key::SourceIp, "aws:SourceIp");
    }
    if let Some(known) = AWS_KEYS.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return single(Key::Other, known);
    }
    if let Some(rest) = strip_prefix_ci(name, "iot:Connection.Thing.") {
        if rest.eq_ignore_ascii_case("ThingName") {
            return single(Key::ThingName, "iot:Connection.Thing.ThingName");
        }
        if rest.eq_ignore_ascii_case("ThingTypeName") {
            return single(Key::ThingTypeName, "iot:Connection.Thing.ThingTypeName");
        }
        if rest.eq_ignore_ascii_case("IsAttached") {
            return single(Key::ThingIsAttached, "iot:Connection.Thing.IsAttached");
        }
        if let Some(attr) = strip_prefix_ci(rest, "Attributes[") {
            let Some(attr) = attr.strip_suffix(']') else {
                return Err(KeyError::Malformed("Attributes[ without a closing ]"));
            };
            if attr.is_empty() || attr.contains(['[', ']']) {
                return Err(KeyError::Malformed("bad thing attribute name"));
            }
            let canonical = format!("iot:Connection.Thing.Attributes[{attr}]");
            return single(Key::ThingAttribute(attr.into()), &canonical);
        }
        return Ok(None);
    }
    if let Some(rest) = strip_prefix_ci(name, "iot:Certificate.") {
        if rest.eq_ignore_ascii_case("SerialNumber") {
            return single(Key::SerialNumber, "iot:Certificate.SerialNumber");
        }
        let (head, selector) = split_selector(rest)?;
        if head.eq_ignore_ascii_case("AvailableKeys") {
            return Ok(Some((
                Key::Other,
                selector,
                "iot:Certificate.AvailableKeys".to_owned(),
            )));
        }
        for (side, is_subject) in [("Subject.", true), ("Issuer.", false)] {
            let Some(field) = strip_prefix_ci(head, side) else {
                continue;
            };
            let side = side.trim_end_matches('.');
            if let Some(kind) = strip_prefix_ci(field, "AlternativeName.") {
                let Some(kind) = alt_name_kind(kind) else {
                    return Ok(None);
                };
                let key = if is_subject {
                    Key::SubjectAlt(kind)
                } else {
                    Key::IssuerAlt(kind)
                };
                let canonical =
                    format!("iot:Certificate.{side}.AlternativeName.{}", kind.aws_name());
                return Ok(Some((key, selector, canonical)));
            }
            let Some(attr) = dn_attribute(field) else {
                return Ok(None);
            };
            let key = if is_subject {
                Key::Subject(attr)
            } else {
                Key::Issuer(attr)
            };
            let canonical = format!("iot:Certificate.{side}.{}", attr.aws_name());
            return Ok(Some((key, selector, canonical)));
        }
        return Ok(None);
    }
    Ok(None)
}

/// The values of a key in a request, in order, without allocating.
pub(crate) enum Values<'a, 'k, S> {
    One(Option<&'a str>),
    Dn(slice::Iter<'a, (DnAttribute, S)>, DnAttribute),
    Alt(slice::Iter<'a, (AltNameKind, S)>, AltNameKind),
    Attr(slice::Iter<'a, (S, S)>, &'k str),
    Slice(slice::Iter<'a, &'a str>),
}

// By hand: a derived Clone would require `S: Clone`, and only the iterators are cloned.
impl<S> Clone for Values<'_, '_, S> {
    fn clone(&self) -> Self {
        match self {
            Values::One(v) => Values::One(*v),
            Values::Dn(iter, attr) => Values::Dn(iter.clone(), *attr),
            Values::Alt(iter, kind) => Values::Alt(iter.clone(), *kind),
            Values::Attr(iter, name) => Values::Attr(iter.clone(), name),
            Values::Slice(iter) => Values::Slice(iter.clone()),
        }
    }
}

impl<'a, S: AsRef<str>> Iterator for Values<'a, '_, S> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Values::One(v) => v.take(),
            Values::Dn(iter, attr) => iter.find(|(a, _)| a == attr).map(|(_, v)| v.as_ref()),
            Values::Alt(iter, kind) => iter.find(|(k, _)| k == kind).map(|(_, v)| v.as_ref()),
            Values::Attr(iter, name) => iter
                .find(|(n, _)| n.as_ref() == *name)
                .map(|(_, v)| v.as_ref()),
            Values::Slice(iter) => iter.next().copied(),
        }
    }
}

fn other<'a, S>(ctx: &RequestContextOf<'a, S>, base: &str) -> Values<'a, 'static, S> {
    let found = ctx
        .other
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(base))
        // A key the request does not carry has no values: IAM's "key not present" (conditions
        // then see it as missing, `...IfExists` operators as satisfied).
        .map_or(&[][..], |&(_, values)| values);
    Values::Slice(found.iter())
}

impl KeyRef {
    /// All values of the key (its selector ignored), from the context's field or, when that is
    /// empty, from [`RequestContext::other`].
    pub(crate) fn all_values<'a, 'k, S: AsRef<str>>(
        &'k self,
        ctx: &RequestContextOf<'a, S>,
    ) -> Values<'a, 'k, S> {
        let direct = match &self.key {
            Key::ClientId => Values::One(ctx.client_id),
            Key::ThingName => Values::One(ctx.thing_name),
            Key::ThingTypeName => Values::One(ctx.thing_type_name),
            Key::ThingIsAttached => {
                if ctx.thing_name.is_some() {
                    Values::One(Some("true"))
                } else {
                    let from_other = other(ctx, &self.base);
                    if from_other.clone().next().is_some() {
                        return from_other;
                    }
                    return Values::One(Some("false"));
                }
            }
            Key::ThingAttribute(name) => Values::Attr(ctx.thing_attributes.iter(), name),
            Key::Subject(attr) => Values::Dn(ctx.subject.iter(), *attr),
            Key::Issuer(attr) => Values::Dn(ctx.issuer.iter(), *attr),
            Key::SubjectAlt(kind) => Values::Alt(ctx.subject_alt_names.iter(), *kind),
            Key::IssuerAlt(kind) => Values::Alt(ctx.issuer_alt_names.iter(), *kind),
            Key::SerialNumber => Values::One(ctx.serial_number),
            Key::CertificateId => Values::One(ctx.certificate_id),
            Key::DomainName => Values::One(ctx.domain_name),
            Key::SourceIp => Values::One(ctx.source_ip),
            Key::Other => return other(ctx, &self.base),
        };
        if direct.clone().next().is_some() {
            direct
        } else {
            other(ctx, &self.base)
        }
    }

    /// The values the reference selects: one for a bare name or `.N`, all for `.List`.
    pub(crate) fn selected<'a, 'k, S: AsRef<str>>(
        &'k self,
        ctx: &RequestContextOf<'a, S>,
    ) -> Selected<'a, 'k, S> {
        let mut all = self.all_values(ctx);
        match self.selector {
            Selector::List => Selected::All(all),
            Selector::First => Selected::One(all.next()),
            Selector::Index(n) => Selected::One(all.nth(n)),
        }
    }

    /// The single value substituted for `${name}`, if it resolves and may be substituted.
    pub(crate) fn substitute<'a, S: AsRef<str>>(
        &self,
        ctx: &RequestContextOf<'a, S>,
    ) -> Resolution<'a> {
        let mut all = self.all_values(ctx);
        let value = match self.selector {
            Selector::First | Selector::List => all.next(),
            Selector::Index(n) => all.nth(n),
        };
        match value {
            None => Resolution::Missing,
            Some(v) if self.key.is_certificate() && v.contains(CERT_UNSAFE) => {
                Resolution::Unsafe(v)
            }
            Some(v) => Resolution::Value(v),
        }
    }
}

/// What `${name}` resolved to in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution<'a> {
    Value(&'a str),
    Missing,
    /// A certificate value with one of `* $ + ? #`: not substituted.
    Unsafe(&'a str),
}

/// The values a condition tests.
pub(crate) enum Selected<'a, 'k, S> {
    One(Option<&'a str>),
    All(Values<'a, 'k, S>),
}

// By hand, as for `Values`.
impl<S> Clone for Selected<'_, '_, S> {
    fn clone(&self) -> Self {
        match self {
            Selected::One(v) => Selected::One(*v),
            Selected::All(values) => Selected::All(values.clone()),
        }
    }
}

impl<'a, S: AsRef<str>> Iterator for Selected<'a, '_, S> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Selected::One(v) => v.take(),
            Selected::All(values) => values.next(),
        }
    }
}
