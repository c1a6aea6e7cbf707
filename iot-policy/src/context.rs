//! The request context: who is asking, as borrowed slices the broker already holds.

/// A distinguished-name attribute of a certificate's subject or issuer, as AWS IoT names them
/// in `iot:Certificate.Subject.<Attribute>` and `iot:Certificate.Issuer.<Attribute>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnAttribute {
    /// CN
    CommonName,
    /// C
    Country,
    /// O
    Organization,
    /// OU
    OrganizationalUnit,
    /// dnQualifier
    DistinguishedNameQualifier,
    /// ST
    State,
    /// L
    Locality,
    /// serialNumber (the subject's attribute, not the certificate's serial)
    SerialNumber,
    /// title
    Title,
    /// SN
    Surname,
    /// GN
    GivenName,
    /// initials
    Initials,
    /// pseudonym
    Pseudonym,
    /// generationQualifier
    GenerationQualifier,
}

impl DnAttribute {
    /// Every attribute.
    pub const ALL: [DnAttribute; 14] = [
        DnAttribute::CommonName,
        DnAttribute::Country,
        DnAttribute::Organization,
        DnAttribute::OrganizationalUnit,
        DnAttribute::DistinguishedNameQualifier,
        DnAttribute::State,
        DnAttribute::Locality,
        DnAttribute::SerialNumber,
        DnAttribute::Title,
        DnAttribute::Surname,
        DnAttribute::GivenName,
        DnAttribute::Initials,
        DnAttribute::Pseudonym,
        DnAttribute::GenerationQualifier,
    ];

    /// The name used in policy variables, e.g. `CommonName`.
    pub fn name(self) -> &'static str {
        match self {
            DnAttribute::CommonName => "CommonName",
            DnAttribute::Country => "Country",
            DnAttribute::Organization => "Organization",
            DnAttribute::OrganizationalUnit => "OrganizationalUnit",
            DnAttribute::DistinguishedNameQualifier => "DistinguishedNameQualifier",
            DnAttribute::State => "State",
            DnAttribute::Locality => "Locality",
            DnAttribute::SerialNumber => "SerialNumber",
            DnAttribute::Title => "Title",
            DnAttribute::Surname => "Surname",
            DnAttribute::GivenName => "GivenName",
            DnAttribute::Initials => "Initials",
            DnAttribute::Pseudonym => "Pseudonym",
            DnAttribute::GenerationQualifier => "GenerationQualifier",
        }
    }
}

/// A kind of subject or issuer alternative name, as in
/// `iot:Certificate.Subject.AlternativeName.<Kind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AltNameKind {
    /// rfc822Name (e-mail)
    Rfc822Name,
    /// dNSName
    DnsName,
    /// directoryName
    DirectoryName,
    /// uniformResourceIdentifier
    UniformResourceIdentifier,
    /// iPAddress, in its textual form
    IpAddress,
}

impl AltNameKind {
    /// Every kind.
    pub const ALL: [AltNameKind; 5] = [
        AltNameKind::Rfc822Name,
        AltNameKind::DnsName,
        AltNameKind::DirectoryName,
        AltNameKind::UniformResourceIdentifier,
        AltNameKind::IpAddress,
    ];

    /// The name used in policy variables, e.g. `DNSName`.
    pub fn name(self) -> &'static str {
        match self {
            AltNameKind::Rfc822Name => "RFC822Name",
            AltNameKind::DnsName => "DNSName",
            AltNameKind::DirectoryName => "DirectoryName",
            AltNameKind::UniformResourceIdentifier => "UniformResourceIdentifier",
            AltNameKind::IpAddress => "IPAddress",
        }
    }
}

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestContext<'a> {
    /// `iot:ClientId`.
    pub client_id: Option<&'a str>,
    /// `iot:Connection.Thing.ThingName`: set only when a thing is attached to the principal and
    /// its name equals the client id, as in AWS IoT. `iot:Connection.Thing.IsAttached` is
    /// `"true"` exactly when this is set.
    pub thing_name: Option<&'a str>,
    /// `iot:Connection.Thing.ThingTypeName`.
    pub thing_type_name: Option<&'a str>,
    /// `iot:Connection.Thing.Attributes[name]`, as `(name, value)` pairs.
    pub thing_attributes: &'a [(&'a str, &'a str)],
    /// `iot:Certificate.Subject.*`.
    pub subject: &'a [(DnAttribute, &'a str)],
    /// `iot:Certificate.Issuer.*`.
    pub issuer: &'a [(DnAttribute, &'a str)],
    /// `iot:Certificate.Subject.AlternativeName.*`.
    pub subject_alt_names: &'a [(AltNameKind, &'a str)],
    /// `iot:Certificate.Issuer.AlternativeName.*`.
    pub issuer_alt_names: &'a [(AltNameKind, &'a str)],
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
