//! A format string and a payload: parsing and decoding never panic; an accepted format prints
//! back to a format that parses to the same positions; decoding fails only on > 12 bytes.

use sigfox_frame::{PayloadError, PayloadFormat};

/// One fuzz input: panics on a broken invariant.
pub fn run(input: (&str, &[u8])) {
    let (format, payload) = input;
    let Ok(f) = PayloadFormat::parse(format) else {
        return;
    };
    let again = PayloadFormat::parse(&f.to_string()).expect("printed format parses");
    assert_eq!(again.fields().len(), f.fields().len());
    for (a, b) in again.fields().iter().zip(f.fields()) {
        assert_eq!(
            (a.byte_index(), a.bit_offset(), a.field_type()),
            (b.byte_index(), b.bit_offset(), b.field_type())
        );
    }
    match f.decode(payload) {
        Ok(d) => {
            let _ = d.to_json();
        }
        Err(e) => assert_eq!(e, PayloadError::TooLong { len: payload.len() }),
    }
}
