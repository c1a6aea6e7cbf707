//! A bounded, strict reader of DER tag-length-value triples over a borrowed slice (X.690
//! §10.1: definite lengths in their shortest form), and the few primitive values a
//! certificate's verification reads, all in place: signatures are defined over the DER as
//! received (RFC 5280 §4.1.1.3), and nothing on the verification path needs a copy.

use der::oid::ObjectIdentifier;

/// One DER element: its tag byte, its contents, and the whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    pub(crate) raw: &'a [u8],
}

/// Universal SEQUENCE, constructed.
pub(crate) const SEQUENCE: u8 = 0x30;
/// Universal BIT STRING.
pub(crate) const BIT_STRING: u8 = 0x03;
/// Universal INTEGER.
pub(crate) const INTEGER: u8 = 0x02;
/// Universal BOOLEAN.
pub(crate) const BOOLEAN: u8 = 0x01;
/// Universal OCTET STRING.
pub(crate) const OCTET_STRING: u8 = 0x04;
/// Universal OBJECT IDENTIFIER.
pub(crate) const OID: u8 = 0x06;
/// Universal SET, constructed.
pub(crate) const SET: u8 = 0x31;
/// Universal UTCTime.
pub(crate) const UTC_TIME: u8 = 0x17;
/// Universal GeneralizedTime.
pub(crate) const GENERALIZED_TIME: u8 = 0x18;

/// Reads one element from the front of `input`; `None` if it is truncated or its length is not
/// in DER's form (indefinite, longer than needed, or more than four length octets).
pub(crate) fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    // Multi-byte tags never occur in the structures this crate slices.
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (octets, after) = rest.split_at_checked(n)?;
        rest = after;
        let len = octets.iter().try_fold(0usize, |acc, &b| {
            acc.checked_mul(256)?.checked_add(usize::from(b))
        })?;
        // X.690 §10.1: the long form only from 128 on, with no leading zero octet.
        if len < 0x80 || octets.first() == Some(&0) {
            return None;
        }
        len
    };
    let header = input.len().checked_sub(rest.len())?;
    let (value, after) = rest.split_at_checked(len)?;
    let raw = input.get(..header.checked_add(len)?)?;
    Some((Tlv { tag, value, raw }, after))
}

/// Reads one element with the expected tag.
pub(crate) fn expect(input: &[u8], tag: u8) -> Option<(Tlv<'_>, &[u8])> {
    let (tlv, rest) = read(input)?;
    (tlv.tag == tag).then_some((tlv, rest))
}

/// Reads one element with the expected tag if the input starts with it; `Some(None)` if it
/// starts with another (or is empty), `None` if it is malformed.
pub(crate) fn optional(input: &[u8], tag: u8) -> Option<(Option<Tlv<'_>>, &[u8])> {
    match input.first() {
        Some(&t) if t == tag => {
            let (tlv, rest) = read(input)?;
            Some((Some(tlv), rest))
        }
        _ => Some((None, input)),
    }
}

/// Reads `input` to its end as a sequence of elements, calling `each` on every one.
pub(crate) fn for_each<'a, E>(
    mut input: &'a [u8],
    malformed: impl FnOnce() -> E,
    mut each: impl FnMut(Tlv<'a>) -> Result<(), E>,
) -> Result<(), E> {
    while !input.is_empty() {
        let Some((tlv, rest)) = read(input) else {
            return Err(malformed());
        };
        each(tlv)?;
        input = rest;
    }
    Ok(())
}

/// Is this element an `ANY` that `der` decodes: a context-specific, application or private tag
/// (single-octet here: `read` takes no other), or one of the universal tags `der` knows, only
/// SEQUENCE and SET constructed?
pub(crate) fn is_any(tlv: Tlv<'_>) -> bool {
    matches!(
        tlv.tag,
        0x01..=0x06 | 0x09 | 0x0a | 0x0c | 0x0d | 0x12..=0x18 | 0x1a | 0x1b | 0x1e | 0x30 | 0x31
    ) || tlv.tag >= 0x40
}

/// Is this the content of a BIT STRING `der` accepts: an unused-bits count of at most 7, and 0
/// when there are no bits?
pub(crate) fn is_bit_string_content(value: &[u8]) -> bool {
    matches!(value, [0] | [0..=7, _, ..])
}

/// The elements of a SEQUENCE OF / SET OF already checked, in order (it stops at the first
/// malformed element, which a checked list does not have).
pub(crate) fn elements(mut input: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    std::iter::from_fn(move || {
        let (tlv, rest) = read(input)?;
        input = rest;
        Some(tlv)
    })
}

/// A DER BOOLEAN's value (X.690 §11.1: FALSE is 0x00, TRUE is 0xFF).
pub(crate) fn boolean(tlv: Tlv<'_>) -> Option<bool> {
    match (tlv.tag, tlv.value) {
        (BOOLEAN, [0x00]) => Some(false),
        (BOOLEAN, [0xff]) => Some(true),
        _ => None,
    }
}

/// An OBJECT IDENTIFIER's value, checked (X.690 §8.19).
pub(crate) fn oid(tlv: Tlv<'_>) -> Option<ObjectIdentifier> {
    if tlv.tag != OID {
        return None;
    }
    ObjectIdentifier::from_bytes(tlv.value).ok()
}

/// Is this an OBJECT IDENTIFIER `der::oid` accepts? Checked in place, by its rules (at most
/// 39 octets, a first octet under 120 for the first two arcs, then base-128 arcs that fit in
/// a `u32` and end with the value), without building one; `object_identifiers_agree` holds it
/// to `der::oid`.
pub(crate) fn is_oid(tlv: Tlv<'_>) -> bool {
    const MAX_LEN: usize = 39; // der::oid::ObjectIdentifier's capacity
    if tlv.tag != OID || tlv.value.len() > MAX_LEN {
        return false;
    }
    let Some((&root, arcs)) = tlv.value.split_first() else {
        return false;
    };
    if root >= 120 {
        return false;
    }
    let mut arc: u32 = 0;
    for &octet in arcs {
        let Some(next) = arc
            .checked_mul(0x80)
            .and_then(|a| a.checked_add(u32::from(octet & 0x7f)))
        else {
            return false;
        };
        arc = if octet & 0x80 == 0 { 0 } else { next };
    }
    arcs.last().is_none_or(|last| last & 0x80 == 0)
}

/// Is this INTEGER's content in DER's shortest two's-complement form (X.690 §8.3.2)?
pub(crate) fn is_minimal_integer(value: &[u8]) -> bool {
    match value {
        [] => false,
        [0x00, next, ..] => *next & 0x80 != 0,
        [0xff, next, ..] => *next & 0x80 == 0,
        _ => true,
    }
}

/// A non-negative INTEGER that fits in a `u8`.
pub(crate) fn small_uint(tlv: Tlv<'_>) -> Option<u8> {
    if tlv.tag != INTEGER || !is_minimal_integer(tlv.value) {
        return None;
    }
    match tlv.value {
        [b] if *b & 0x80 == 0 => Some(*b),
        [0, b] => Some(*b),
        _ => None,
    }
}

/// A validity time (RFC 5280 §4.1.2.5: UTCTime `YYMMDDHHMMSSZ`, years 50-99 as 19YY, or
/// GeneralizedTime `YYYYMMDDHHMMSSZ`) as seconds since the epoch; the calendar is checked by
/// `der::DateTime` (1970 to 9999, real days, no leap second), as `der`'s own time types do.
pub(crate) fn time(tlv: Tlv<'_>) -> Option<u64> {
    let two = |pair: &[u8; 2]| -> Option<u8> {
        match *pair {
            [hi @ b'0'..=b'9', lo @ b'0'..=b'9'] => {
                (hi.checked_sub(b'0')?.checked_mul(10)?).checked_add(lo.checked_sub(b'0')?)
            }
            _ => None,
        }
    };
    let (year, rest) = match tlv.tag {
        UTC_TIME => {
            let (yy, rest) = tlv.value.split_first_chunk::<2>()?;
            let yy = u16::from(two(yy)?);
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, rest)
        }
        GENERALIZED_TIME => {
            let (century, rest) = tlv.value.split_first_chunk::<2>()?;
            let (yy, rest) = rest.split_first_chunk::<2>()?;
            let year = u16::from(two(century)?)
                .checked_mul(100)?
                .checked_add(u16::from(two(yy)?))?;
            (year, rest)
        }
        _ => return None,
    };
    let &[m0, m1, d0, d1, h0, h1, i0, i1, s0, s1, b'Z'] = rest else {
        return None;
    };
    let time = der::DateTime::new(
        year,
        two(&[m0, m1])?,
        two(&[d0, d1])?,
        two(&[h0, h1])?,
        two(&[i0, i1])?,
        two(&[s0, s1])?,
    )
    .ok()?;
    Some(time.unix_duration().as_secs())
}

/// The bytes of a BIT STRING with no unused bits (keys and signatures are whole octets).
pub(crate) fn bit_string_octets(tlv: Tlv<'_>) -> Option<&[u8]> {
    match tlv.value.split_first() {
        Some((0, bits)) if tlv.tag == BIT_STRING => Some(bits),
        _ => None,
    }
}

/// Offset and length of `part` inside `whole` (which must contain it).
pub(crate) fn span(whole: &[u8], part: &[u8]) -> Span {
    let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    Span {
        start,
        end: start.saturating_add(part.len()),
    }
}

/// A byte range inside a certificate's DER.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    end: usize,
}

impl Span {
    pub(crate) fn of(self, bytes: &[u8]) -> &[u8] {
        bytes.get(self.start..self.end).unwrap_or_default()
    }
}

/// The size in bits of the modulus of a PKCS#1 `RSAPublicKey` (RFC 8017 §A.1.1).
pub(crate) fn rsa_modulus_bits(key: &[u8]) -> Option<usize> {
    let (seq, _) = expect(key, SEQUENCE)?;
    let (modulus, _) = expect(seq.value, INTEGER)?;
    let digits = match modulus.value.split_first() {
        Some((0, rest)) => rest,
        _ => modulus.value,
    };
    let top = *digits.first()?;
    let top_bits = 8usize.saturating_sub(top.leading_zeros() as usize);
    Some(
        digits
            .len()
            .saturating_sub(1)
            .saturating_mul(8)
            .saturating_add(top_bits),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn time_of(tag: u8, text: &str) -> Option<u64> {
        time(Tlv {
            tag,
            value: text.as_bytes(),
            raw: &[],
        })
    }

    #[test]
    fn validity_times_as_rfc_5280_reads_them() {
        assert_eq!(time_of(UTC_TIME, "700101000000Z"), Some(0));
        // Years 50-99 are 19YY, 00-49 are 20YY.
        assert_eq!(time_of(UTC_TIME, "491231235959Z"), Some(2_524_607_999));
        assert_eq!(
            time_of(UTC_TIME, "500101000000Z"),
            None,
            "1950 is before 1970"
        );
        assert_eq!(time_of(UTC_TIME, "000229120000Z"), Some(951_825_600));
        assert_eq!(
            time_of(UTC_TIME, "010229120000Z"),
            None,
            "2001 is not a leap year"
        );
        assert_eq!(
            time_of(GENERALIZED_TIME, "20500101000000Z"),
            Some(2_524_608_000)
        );
        assert_eq!(
            time_of(GENERALIZED_TIME, "99991231235959Z"),
            Some(253_402_300_799)
        );
        for bad in [
            "7001010000Z",  // no seconds
            "700101000000", // no zone
            "700101000000+0000",
            "701301000000Z", // month 13
            "700132000000Z", // day 32
            "700101240000Z", // hour 24
            "700101006000Z", // minute 60
            "700101000060Z", // leap second
            "7001010000 0Z",
        ] {
            assert_eq!(time_of(UTC_TIME, bad), None, "{bad}");
        }
        assert_eq!(time_of(GENERALIZED_TIME, "20500101000000.5Z"), None);
        assert_eq!(time_of(GENERALIZED_TIME, "500101000000Z"), None);
        assert_eq!(time_of(OCTET_STRING, "700101000000Z"), None);
    }

    #[test]
    fn any_tags_as_der_decodes_them() {
        use der::Decode as _;
        for tag in 0..=u8::MAX {
            let encoding = [tag, 0x00];
            let ours = read(&encoding).is_some_and(|(tlv, _)| is_any(tlv));
            let theirs = der::asn1::AnyRef::from_der(&encoding).is_ok();
            // `read` refuses the multi-octet tag forms, which `der` reads on: never laxer.
            let expected = theirs && tag & 0x1f != 0x1f;
            assert_eq!(ours, expected, "tag {tag:#04x}");
        }
    }

    #[test]
    fn bit_string_contents_as_der_decodes_them() {
        use der::Decode as _;
        for content in [
            &[][..],
            &[0],
            &[1],
            &[0, 0xff],
            &[7, 0x80],
            &[8, 0x00],
            &[0xff, 1],
        ] {
            let mut encoding = vec![BIT_STRING, u8::try_from(content.len()).unwrap()];
            encoding.extend_from_slice(content);
            assert_eq!(
                is_bit_string_content(content),
                der::asn1::BitStringRef::from_der(&encoding).is_ok(),
                "{content:02x?}"
            );
        }
    }

    #[test]
    fn lengths_only_in_their_shortest_form() {
        assert_eq!(
            read(&[0x04, 0x01, 0xaa]).map(|(t, _)| t.value),
            Some(&[0xaa][..])
        );
        assert!(
            read(&[0x04, 0x81, 0x01, 0xaa]).is_none(),
            "long form under 128"
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0u8; 128]);
        assert_eq!(read(&long).map(|(t, _)| t.value.len()), Some(128));
        let mut padded = vec![0x04, 0x82, 0x00, 0x80];
        padded.extend([0u8; 128]);
        assert!(read(&padded).is_none(), "leading zero length octet");
        assert!(
            read(&[0x30, 0x80, 0x00, 0x00]).is_none(),
            "indefinite length"
        );
    }

    proptest::proptest! {
        #[test]
        fn object_identifiers_agree(value in proptest::collection::vec(
            proptest::prop_oneof![0u8..=0x7f, 0x80u8..=0xff, proptest::strategy::Just(0x80u8), 118u8..=121],
            0..45,
        )) {
            let tlv = Tlv { tag: OID, value: &value, raw: &[] };
            proptest::prop_assert_eq!(is_oid(tlv), ObjectIdentifier::from_bytes(&value).is_ok());
        }
    }

    #[test]
    fn object_identifiers_as_der_oid_accepts_them() {
        for value in [
            &[0x55, 0x04, 0x03][..],
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
            &[0x80, 0x01],
            &[0x55, 0x84],
            &[],
            &[0x55; 40],
            &[0x55; 39],
            &[0x78, 0x01],
            &[0x77, 0x01],
            &[0x55, 0x8f, 0xff, 0xff, 0xff, 0x7f],
            &[0x55, 0x90, 0x80, 0x80, 0x80, 0x00],
        ] {
            assert_eq!(
                is_oid(Tlv {
                    tag: OID,
                    value,
                    raw: &[],
                }),
                ObjectIdentifier::from_bytes(value).is_ok(),
                "{value:02x?}"
            );
        }
    }
}
