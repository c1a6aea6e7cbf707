//! The request context: who is asking, as borrowed slices the broker already holds.

pub use iot_identity::{AltNameKind, DnAttribute};

/// Everything a decision may look at, borrowed: the MQTT client id, the attached thing, the
/// client certificate's fields, the connection. Multi-valued certificate fields are lists of
/// `(attribute, value)` pairs in certificate order; the first value of an attribute is what
/// `${iot:Certificate.Subject.Organization}` resolves to, `.N` selects the N-th (from 0), and
/// `.List` (in conditions) is all of them.
///
/// Fields left empty are absent from the request: a policy variable that needs one does not
/// resolve. Any other key — and any key here, when its field is empty — is looked up in
/// [`other`](Self::other) by its full name (case-insensitively), which is how condition keys
/// such as `aws:CurrentTime` or `iot:Connection.Thing.Attributes[color]` can be supplied
/// from name/value pairs.
///
/// The strings of the certificate and thing fields are of type `S`: `&str` by default, or
/// `String` for a caller that keeps its principal's fields in owned form and builds the
/// context once per connection (`RequestContextOf<'_, String>`), borrowing its vectors as they
/// are instead of collecting `&str` pairs for every decision. [`RequestContext`] is the
/// borrowed form, the one to write struct literals with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestContextOf<'a, S> {
    /// `iot:ClientId`.
    pub client_id: Option<&'a str>,
    /// `iot:Connection.Thing.ThingName`: set only when a thing is attached to the principal and
    /// its name equals the client id, as in AWS IoT. `iot:Connection.Thing.IsAttached` is
    /// `"true"` exactly when this is set.
    pub thing_name: Option<&'a str>,
    /// `iot:Connection.Thing.ThingTypeName`.
    pub thing_type_name: Option<&'a str>,
    /// `iot:Connection.Thing.Attributes[name]`, as `(name, value)` pairs.
    pub thing_attributes: &'a [(S, S)],
    /// `iot:Certificate.Subject.*`.
    pub subject: &'a [(DnAttribute, S)],
    /// `iot:Certificate.Issuer.*`.
    pub issuer: &'a [(DnAttribute, S)],
    /// `iot:Certificate.Subject.AlternativeName.*`.
    pub subject_alt_names: &'a [(AltNameKind, S)],
    /// `iot:Certificate.Issuer.AlternativeName.*`.
    pub issuer_alt_names: &'a [(AltNameKind, S)],
    /// `iot:Certificate.SerialNumber`, as text.
    pub serial_number: Option<&'a str>,
    /// `iot:CertificateId`.
    pub certificate_id: Option<&'a str>,
    /// `iot:DomainName`.
    pub domain_name: Option<&'a str>,
    /// `aws:SourceIp`.
    pub source_ip: Option<&'a str>,
    /// Any other key, by full name: `("aws:CurrentTime", &["2024-06-01T12:00:00Z"])`.
    pub other: &'a [(&'a str, &'a [&'a str])],
}

/// The request context with borrowed strings: what a struct literal builds
/// (`RequestContext { client_id: Some("c1"), ..Default::default() }`).
pub type RequestContext<'a> = RequestContextOf<'a, &'a str>;
