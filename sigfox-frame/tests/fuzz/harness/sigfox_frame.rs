//! Arbitrary bytes as an uplink frame (raw, and behind a valid preamble and frame type), and as
//! hex text: decoding never panics; a decoded frame verifies its MAC without panicking.

use sigfox_frame::UplinkFrame;

const TYPES: [u16; 18] = [
    0x06b, 0x6e0, 0x034, 0x08d, 0x0d2, 0x302, 0x35f, 0x598, 0x5a3, 0x611, 0x6bf, 0x72c, 0x94c,
    0x971, 0x997, 0xf67, 0xfc9, 0x1be,
];

/// One fuzz input: panics on a broken invariant.
pub fn run(data: &[u8]) {
    let key = [0x5a; 16];
    if let Ok(f) = UplinkFrame::decode(data) {
        let _ = f.to_json(Some(&key));
    }
    if let Some((&t, rest)) = data.split_first() {
        let ty = TYPES[usize::from(t) % TYPES.len()];
        let mut frame = vec![0xaa, 0xaa, 0xa0 | (ty >> 8) as u8, (ty & 0xff) as u8];
        frame.extend_from_slice(rest);
        if let Ok(f) = UplinkFrame::decode(&frame) {
            assert_eq!(f.frame_type, ty);
            let _ = f.verify_mac(&key);
            let _ = f.to_json(None);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = UplinkFrame::from_hex(text);
    }
}
