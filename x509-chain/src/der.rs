//! A bounded reader of DER tag-length-value triples over a borrowed slice.
//!
//! `x509-cert` decodes (and so validates) every structure first; this reader only recovers the
//! exact byte ranges that signatures and name comparisons are defined over (RFC 5280 §4.1.1.3:
//! the signature covers the DER of `tbsCertificate` as received, not a re-encoding).

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

/// Reads one element from the front of `input`; `None` if it is truncated or uses a length form
/// DER does not allow here (indefinite, or more than four length octets).
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
        octets.iter().try_fold(0usize, |acc, &b| {
            acc.checked_mul(256)?.checked_add(usize::from(b))
        })?
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
