//! Uplink radio frames: every published vector in ../shared/conformance/sigfox must decode to
//! exactly its expected fields; then the rejections.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)] // Test code: a failed expectation should panic.

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{Value, json};
use sigfox_frame::{DeviceId, FrameClass, FrameError, UplinkFrame};

/// The published vectors; `None` outside this repository (a packaged crate has no
/// ../shared). Inside it they must be there, so that the test cannot pass by not running.
fn vectors() -> Option<Value> {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if !shared.is_dir() {
        eprintln!("skipped: no {} next to the repository", shared.display());
        return None;
    }
    let path = shared.join("conformance/sigfox/uplink_frames.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the Sigfox conformance vectors are missing at {}: {e}; they live in ../shared/conformance next to the repository",
            path.display()
        )
    });
    Some(serde_json::from_str(&text).unwrap())
}

fn key(hex: &str) -> [u8; 16] {
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    k
}

#[test]
fn conformance_vectors() {
    let Some(doc) = vectors() else { return };
    let list = doc["vectors"].as_array().unwrap();
    assert_eq!(list.len(), 13, "vector count changed");
    for v in list {
        let hex = v["frame_hex"].as_str().unwrap();
        let frame = UplinkFrame::from_hex(hex).unwrap_or_else(|e| panic!("{hex}: {e}"));
        let k = v["key_hex"].as_str().map(key);
        let got = frame.to_json(k.as_ref());
        let expected = &v["expected"];
        for field in [
            "replica",
            "class",
            "flags",
            "downlink_request",
            "seq",
            "device",
            "payload",
            "single_bit",
            "mac",
            "crc_ok",
            "mac_ok",
        ] {
            assert_eq!(got[field], expected[field], "{hex}: field {field}");
        }
    }
}

#[test]
fn typed_fields_of_the_first_vector() {
    let f = UplinkFrame::from_hex("aaaaa35f01a0db334d00abad1deadc32758a").unwrap();
    assert_eq!(
        (f.replica, f.class, f.frame_type, f.flags, f.seq, f.device),
        (
            0,
            FrameClass::C,
            0x35F,
            0,
            416,
            DeviceId::from_value(0x004D_33DB)
        )
    );
    assert_eq!(
        (f.payload.as_slice(), f.mac.as_slice()),
        (&[0xab, 0xad, 0x1d, 0xea][..], &[0xdc, 0x32][..])
    );
    assert_eq!((f.crc, f.crc_ok), (0x758a, true));
    let k = key("479e4480fd7596d45b0122fd282db3cf");
    assert_eq!(f.compute_mac(&k), vec![0xdc, 0x32]);
    assert!(f.verify_mac(&k));
    assert!(!f.verify_mac(&[0; 16]));
    // Bytes in, same frame out.
    let bytes = [
        0xaa, 0xaa, 0xa3, 0x5f, 0x01, 0xa0, 0xdb, 0x33, 0x4d, 0x00, 0xab, 0xad, 0x1d, 0xea, 0xdc,
        0x32, 0x75, 0x8a,
    ];
    assert_eq!(UplinkFrame::decode(&bytes).unwrap(), f);
    assert_eq!(
        f.to_json(None),
        json!({"replica":0,"class":"C","frame_type":"35f","flags":0,"downlink_request":false,"repeated":false,
               "seq":416,"device":"004d33db","payload":"abad1dea","single_bit":null,"mac":"dc32","crc":"758a",
               "crc_ok":true,"mac_ok":null})
    );
}

#[test]
fn corrupted_frames() {
    // One flipped payload bit: the CRC fails and so does the MAC.
    let f = UplinkFrame::from_hex("aaaaa35f01a0db334d00abad1deaec32758a").unwrap();
    assert!(!f.crc_ok);
    assert!(!f.verify_mac(&key("479e4480fd7596d45b0122fd282db3cf")));
    let cases: &[(&str, FrameError)] = &[
        ("", FrameError::TooShort),
        ("aaaaa", FrameError::TooShort),
        ("aaaaa35f01g0", FrameError::NotHex { offset: 10 }),
        (
            "aaaaa35f01",
            FrameError::Length {
                class: FrameClass::C,
                expected: 14,
                found: 1,
            },
        ),
        ("aaaaa35f0", FrameError::Misaligned),
        ("aaaaa123", FrameError::UnknownFrameType(0x123)),
        (
            "aaaaa35f01a0db334d00abad1deadc32758a00",
            FrameError::Length {
                class: FrameClass::C,
                expected: 14,
                found: 15,
            },
        ),
        (
            "aaaaa35f01a0db334d00abad1deadc3275",
            FrameError::Length {
                class: FrameClass::C,
                expected: 14,
                found: 13,
            },
        ),
        // Class A with LI 1.
        (
            "aaaaa06b41a1db334d0000b0c090",
            FrameError::LengthIndicator {
                class: FrameClass::A,
                li: 1,
            },
        ),
        // Class B with LI 2.
        (
            "aaaaa08d81a1db334d000102030405",
            FrameError::LengthIndicator {
                class: FrameClass::B,
                li: 2,
            },
        ),
    ];
    for (hex, expected) in cases {
        assert_eq!(
            UplinkFrame::from_hex(hex).as_ref().err(),
            Some(expected),
            "{hex}"
        );
    }
    assert_eq!(
        UplinkFrame::decode(&[0xab, 0xaa, 0xa3, 0x5f]),
        Err(FrameError::Preamble)
    );
    assert_eq!(
        UplinkFrame::decode(&[0xaa, 0xaa]),
        Err(FrameError::TooShort)
    );
}

proptest! {
    #[test]
    fn decoding_random_frames_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40), t in 0usize..18) {
        let types = [0x06b, 0x6e0, 0x034, 0x08d, 0x0d2, 0x302, 0x35f, 0x598, 0x5a3, 0x611, 0x6bf, 0x72c, 0x94c, 0x971, 0x997, 0xf67, 0xfc9, 0x1be];
        let mut frame = vec![0xaa, 0xaa, 0xa0 | (types[t] >> 8) as u8, (types[t] & 0xff) as u8];
        frame.extend_from_slice(&bytes);
        if let Ok(f) = UplinkFrame::decode(&frame) {
            let _ = f.to_json(Some(&[7; 16]));
        }
        let _ = UplinkFrame::from_hex(&String::from_utf8_lossy(&bytes));
    }
}
