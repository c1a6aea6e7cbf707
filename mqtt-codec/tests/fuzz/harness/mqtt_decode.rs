//! Arbitrary bytes through the decoder in both roles: it must never panic, every frame it accepts
//! must re-encode to exactly the bytes it came from (modulo non-minimal remaining lengths), and
//! it must stop at the first error. The borrowed decoder (`decode_slice`) reads the same bytes at
//! every step and must agree exactly: the same packet and length, `None`, or the same error.

use bytes::BytesMut;
use mqtt_wire::{DecodeOptions, Encode, Packet, Role, decode, decode_slice};

/// One fuzz input: panics on a broken invariant.
pub fn run(data: &[u8]) {
    for role in [Role::Server, Role::Client] {
        let options = DecodeOptions::new(role).with_max_packet_size(64 * 1024);
        let mut buf = BytesMut::from(data);
        // Each successful decode consumes at least two bytes, so this terminates.
        loop {
            let before = buf.len();
            let input = buf.clone().freeze();
            let borrowed = decode_slice(&input, &options);
            match decode(&mut buf, &options) {
                Ok(Some(packet)) => {
                    let consumed = before - buf.len();
                    let (packet_ref, len) = borrowed
                        .expect("the borrowed decoder accepts what the owned one does")
                        .expect("whole");
                    assert_eq!(len, consumed);
                    assert_eq!(Packet::from(packet_ref), packet);
                    assert!(consumed >= 2);
                    let mut out = BytesMut::new();
                    packet
                        .encode(&mut out)
                        .expect("a decoded packet re-encodes");
                    assert_eq!(out.len(), packet.encoded_len());
                    // Re-encoding uses the minimal remaining length, so it is never longer.
                    assert!(out.len() <= consumed);
                    let again = decode(&mut out, &options)
                        .expect("re-decodes")
                        .expect("whole");
                    assert_eq!(again, packet);
                    assert!(out.is_empty());
                }
                Ok(None) => {
                    assert_eq!(borrowed, Ok(None));
                    assert_eq!(buf.len(), before, "a partial frame consumes nothing");
                    break;
                }
                Err(e) => {
                    assert_eq!(borrowed, Err(e.clone()));
                    let _ = e.to_string();
                    assert!(e.offset() <= before);
                    break;
                }
            }
        }
    }
}
