#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// A subject or issuer attribute, one of the fourteen AWS IoT exposes as
/// `${iot:Certificate.Subject.<Attribute>}` and `${iot:Certificate.Issuer.<Attribute>}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum DnAttribute {
    /// CN, 2.5.4.3
    CommonName,
    /// C, 2.5.4.6
    Country,
    /// O, 2.5.4.10
    Organization,
    /// OU, 2.5.4.11
    OrganizationalUnit,
    /// dnQualifier, 2.5.4.46
    DistinguishedNameQualifier,
    /// ST, 2.5.4.8
    State,
    /// L, 2.5.4.7
    Locality,
    /// serialNumber, 2.5.4.5 (the subject's attribute, not the certificate's serial number)
    SerialNumber,
    /// title, 2.5.4.12
    Title,
    /// SN (surname), 2.5.4.4
    Surname,
    /// GN (givenName), 2.5.4.42
    GivenName,
    /// initials, 2.5.4.43
    Initials,
    /// pseudonym, 2.5.4.65
    Pseudonym,
    /// generationQualifier, 2.5.4.44
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

    /// AWS IoT's name, the RFC 4514 short name, the object identifier.
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::CommonName => ("CommonName", "CN", "2.5.4.3"),
            Self::Country => ("Country", "C", "2.5.4.6"),
            Self::Organization => ("Organization", "O", "2.5.4.10"),
            Self::OrganizationalUnit => ("OrganizationalUnit", "OU", "2.5.4.11"),
            Self::DistinguishedNameQualifier => {
                ("DistinguishedNameQualifier", "dnQualifier", "2.5.4.46")
            }
            Self::State => ("State", "ST", "2.5.4.8"),
            Self::Locality => ("Locality", "L", "2.5.4.7"),
            Self::SerialNumber => ("SerialNumber", "serialNumber", "2.5.4.5"),
            Self::Title => ("Title", "title", "2.5.4.12"),
            Self::Surname => ("Surname", "SN", "2.5.4.4"),
            Self::GivenName => ("GivenName", "GN", "2.5.4.42"),
            Self::Initials => ("Initials", "initials", "2.5.4.43"),
            Self::Pseudonym => ("Pseudonym", "pseudonym", "2.5.4.65"),
            Self::GenerationQualifier => ("GenerationQualifier", "generationQualifier", "2.5.4.44"),
        }
    }

    /// The AWS IoT name, as in `iot:Certificate.Subject.<aws_name>`.
    pub fn aws_name(self) -> &'static str {
        self.names().0
    }

    /// The RFC 4514 short name (`CN`, `O`, `dnQualifier`, ...).
    pub fn short_name(self) -> &'static str {
        self.names().1
    }

    /// The object identifier, dotted.
    pub fn oid(self) -> &'static str {
        self.names().2
    }

    /// The attribute AWS IoT calls `name` (exactly; the names are case-sensitive).
    pub fn from_aws_name(name: &str) -> Option<DnAttribute> {
        Self::ALL.into_iter().find(|a| a.aws_name() == name)
    }

    /// The attribute with the dotted object identifier `oid`, if one of the fourteen.
    pub fn from_oid(oid: &str) -> Option<DnAttribute> {
        Self::ALL.into_iter().find(|a| a.oid() == oid)
    }
}

/// The kind of a subject or issuer alternative name, as in AWS IoT's
/// `iot:Certificate.Subject.AlternativeName.<Kind>` policy variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum AltNameKind {
    /// rfc822Name (e-mail)
    #[cfg_attr(feature = "serde", serde(rename = "RFC822Name"))]
    Rfc822Name,
    /// dNSName
    #[cfg_attr(feature = "serde", serde(rename = "DNSName"))]
    DnsName,
    /// directoryName, as RFC 4514 text
    DirectoryName,
    /// uniformResourceIdentifier
    UniformResourceIdentifier,
    /// iPAddress, in its textual form
    #[cfg_attr(feature = "serde", serde(rename = "IPAddress"))]
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

    /// The AWS IoT name, as in `iot:Certificate.Subject.AlternativeName.<aws_name>`.
    pub fn aws_name(self) -> &'static str {
        match self {
            Self::Rfc822Name => "RFC822Name",
            Self::DnsName => "DNSName",
            Self::DirectoryName => "DirectoryName",
            Self::UniformResourceIdentifier => "UniformResourceIdentifier",
            Self::IpAddress => "IPAddress",
        }
    }

    /// The kind AWS IoT calls `name` (exactly).
    pub fn from_aws_name(name: &str) -> Option<AltNameKind> {
        Self::ALL.into_iter().find(|k| k.aws_name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in DnAttribute::ALL {
            assert_eq!(DnAttribute::from_aws_name(a.aws_name()), Some(a));
            assert_eq!(DnAttribute::from_oid(a.oid()), Some(a));
        }
        for k in AltNameKind::ALL {
            assert_eq!(AltNameKind::from_aws_name(k.aws_name()), Some(k));
        }
        assert_eq!(DnAttribute::from_aws_name("commonname"), None);
        assert_eq!(DnAttribute::from_oid("2.5.4.99"), None);
        assert_eq!(AltNameKind::from_aws_name("DnsName"), None);
    }
}
