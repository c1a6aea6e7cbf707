//! Sigfox uplink radio frames (the bits a station demodulates), for captures and test benches.
//!
//! Layout: preamble `0xAAAAA` (20 bits) | frame type (12 bits) | LI (2) BF (1) REP (1) |
//! sequence number (12) | device id (32, least significant byte first) | payload (0–12 bytes) |
//! authentication code (2–5 bytes) | CRC-16 (16 bits).
//!
//! Facts taken from Sigfox's open-source device library (sigfox-ep-lib, `sigfox_ep_bitstream.c`)
//! and checked against published frames (renard):
//! - The frame type gives the payload length class and the replica (first, second, third
//!   transmission). Payload + authentication code take 2 (class A, no payload or one bit),
//!   3 (B, 1 byte), 6 (C, 2–4), 10 (D, 5–8) or 14 (E, 9–12) bytes; control frames take 10.
//! - LI: in classes C, D, E and control the code is LI + 2 bytes; in class B it is 2 bytes; in
//!   class A LI 0 is an empty frame and LI 2/3 a single bit of value 0/1, with a 2-byte code.
//! - The authentication code is the start of AES-128-CBC (zero IV) with the device key over the
//!   bytes from the LI/BF/REP nibble to the end of the payload, repeated cyclically to fill one
//!   16-byte block (two blocks for 11- and 12-byte payloads).
//! - CRC-16: polynomial 0x1021, initial value 0, over the same span plus the code, inverted.
//! - Replicas 2 and 3 are convolutionally coded after the frame type (generators 0o7 and 0o5):
//!   each output bit is the input bit XOR the previous input bit(s); decoding inverts it.

use std::fmt;

use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};

use crate::callback::DeviceId;

/// The payload length class of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameClass {
    /// No payload, or a single bit.
    A,
    /// 1 byte.
    B,
    /// 2–4 bytes.
    C,
    /// 5–8 bytes.
    D,
    /// 9–12 bytes.
    E,
    /// A control frame (keep-alive, downlink confirmation): 7–8 bytes.
    Control,
}

impl FrameClass {
    /// `A`..`E`, or `CONTROL`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::D => "D",
            Self::E => "E",
            Self::Control => "CONTROL",
        }
    }

    /// Bytes of payload plus authentication code.
    fn body_len(&self) -> usize {
        match self {
            Self::A => 2,
            Self::B => 3,
            Self::C => 6,
            Self::D | Self::Control => 10,
            Self::E => 14,
        }
    }
}

/// Frame types per class, for replicas 1, 2 and 3.
const FRAME_TYPES: [(FrameClass, [u16; 3]); 6] = [
    (FrameClass::A, [0x06B, 0x6E0, 0x034]),
    (FrameClass::B, [0x08D, 0x0D2, 0x302]),
    (FrameClass::C, [0x35F, 0x598, 0x5A3]),
    (FrameClass::D, [0x611, 0x6BF, 0x72C]),
    (FrameClass::E, [0x94C, 0x971, 0x997]),
    (FrameClass::Control, [0xF67, 0xFC9, 0x1BE]),
];

/// A frame that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// A character that is not a hex digit, at this offset.
    NotHex {
        /// Byte offset in the text.
        offset: usize,
    },
    /// The hex text does not end on a whole byte once the frame type is read.
    Misaligned,
    /// The first 20 bits are not the preamble `0xAAAAA`.
    Preamble,
    /// Fewer bytes than a frame type needs.
    TooShort,
    /// A frame type that is none of the known ones.
    UnknownFrameType(u16),
    /// The frame is not as long as its class says.
    Length {
        /// The class.
        class: FrameClass,
        /// Bytes after the frame type the class requires.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// A length indicator that the class does not allow.
    LengthIndicator {
        /// The class.
        class: FrameClass,
        /// The LI value.
        li: u8,
    },
}

impl FrameError {
    /// The variant name, stable for machine-readable output.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NotHex { .. } => "NotHex",
            Self::Misaligned => "Misaligned",
            Self::Preamble => "Preamble",
            Self::TooShort => "TooShort",
            Self::UnknownFrameType(_) => "UnknownFrameType",
            Self::Length { .. } => "Length",
            Self::LengthIndicator { .. } => "LengthIndicator",
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotHex { offset } => write!(f, "frame: character {offset} is not a hex digit"),
            Self::Misaligned => write!(
                f,
                "frame: after the preamble and 3-digit frame type the rest must be whole bytes"
            ),
            Self::Preamble => write!(f, "frame: the preamble is not 0xAAAAA"),
            Self::TooShort => write!(f, "frame: too short to hold a frame type"),
            Self::UnknownFrameType(t) => write!(f, "frame: unknown frame type 0x{t:03x}"),
            Self::Length {
                class,
                expected,
                found,
            } => write!(
                f,
                "frame: class {} needs {expected} bytes after the frame type, found {found}",
                class.as_str()
            ),
            Self::LengthIndicator { class, li } => write!(
                f,
                "frame: length indicator {li} is not allowed in class {}",
                class.as_str()
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// A decoded uplink frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UplinkFrame {
    /// 0, 1 or 2: first, second or third transmission.
    pub replica: u8,
    /// The payload length class.
    pub class: FrameClass,
    /// The 12-bit frame type.
    pub frame_type: u16,
    /// The LI/BF/REP nibble.
    pub flags: u8,
    /// BF: the device listens for a downlink.
    pub downlink_request: bool,
    /// REP: the frame was relayed by a repeater.
    pub repeated: bool,
    /// The 12-bit sequence number.
    pub seq: u16,
    /// The device.
    pub device: DeviceId,
    /// The payload.
    pub payload: Vec<u8>,
    /// Class A: `Some(bit)` for a single-bit frame, `None` for an empty one; `None` elsewhere.
    pub single_bit: Option<bool>,
    /// The authentication code as sent.
    pub mac: Vec<u8>,
    /// The CRC as sent.
    pub crc: u16,
    /// Whether the CRC matches.
    pub crc_ok: bool,
    /// Decoded bytes from the flags nibble to the end of the code (MAC input and CRC input).
    packet: Vec<u8>,
}

fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    !crc
}

/// Undoes the convolutional code of replica 2 (`rank` 1) or 3 (`rank` 2).
fn deconvolve(bytes: &mut [u8], rank: usize) {
    let (mut p1, mut p2) = (0u8, 0u8);
    for byte in bytes.iter_mut() {
        let mut out = 0u8;
        for i in (0..8).rev() {
            let coded = (*byte >> i) & 1;
            let bit = if rank == 1 {
                coded ^ p1 ^ p2
            } else {
                coded ^ p2
            };
            out |= bit << i;
            p2 = p1;
            p1 = bit;
        }
        *byte = out;
    }
}

impl UplinkFrame {
    /// Decodes hex text, with or without the `aaaaa` preamble, either case.
    pub fn from_hex(text: &str) -> Result<Self, FrameError> {
        let text = text.trim();
        if let Some(offset) = text.bytes().position(|b| !b.is_ascii_hexdigit()) {
            return Err(FrameError::NotHex { offset });
        }
        // No frame type starts with the digit `a`, so a leading `aaaaa` is the preamble.
        let body = text
            .split_at_checked(5)
            .filter(|(preamble, _)| preamble.eq_ignore_ascii_case("aaaaa"))
            .map_or(text, |(_, body)| body);
        if body.len().is_multiple_of(2) {
            return Err(if body.len() < 3 {
                FrameError::TooShort
            } else {
                FrameError::Misaligned
            });
        }
        let mut full = String::with_capacity(body.len().saturating_add(5));
        full.push_str("aaaaa");
        full.push_str(body);
        let bytes = hex::decode(&full).map_err(|_| FrameError::Misaligned)?;
        Self::decode(&bytes)
    }

    /// Decodes a frame given as bytes, starting with the 20-bit preamble (`AA AA Ax`).
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let (head, rest) = bytes.split_at_checked(4).ok_or(FrameError::TooShort)?;
        let [p0, p1, p2, t1] = *head else {
            return Err(FrameError::TooShort);
        };
        if p0 != 0xAA || p1 != 0xAA || p2 >> 4 != 0xA {
            return Err(FrameError::Preamble);
        }
        let frame_type = (u16::from(p2 & 0x0F) << 8) | u16::from(t1);
        let (class, replica) = FRAME_TYPES
            .iter()
            .find_map(|(class, types)| {
                // The replica is the type's place in its class's list (of three).
                types
                    .iter()
                    .zip(0u8..)
                    .find(|(t, _)| **t == frame_type)
                    .map(|(_, r)| (*class, r))
            })
            .ok_or(FrameError::UnknownFrameType(frame_type))?;
        // flags+seq (2) + device (4) + payload and code + CRC (2).
        let expected = class.body_len().saturating_add(8);
        if rest.len() != expected {
            return Err(FrameError::Length {
                class,
                expected,
                found: rest.len(),
            });
        }
        let mut packet = rest.to_vec();
        if replica > 0 {
            deconvolve(&mut packet, usize::from(replica));
        }
        let crc_at = expected.saturating_sub(2);
        let (content, crc_bytes) = packet.split_at(crc_at);
        let crc = match *crc_bytes {
            [hi, lo] => u16::from_be_bytes([hi, lo]),
            _ => return Err(FrameError::TooShort),
        };
        let crc_ok = crc16(content) == crc;
        let &[f0, s1, d0, d1, d2, d3, ref body @ ..] = content else {
            return Err(FrameError::TooShort);
        };
        let flags = f0 >> 4;
        let li = flags >> 2;
        let (mac_len, single_bit) = match class {
            FrameClass::A => match li {
                0 => (2, None),
                2 => (2, Some(false)),
                3 => (2, Some(true)),
                _ => return Err(FrameError::LengthIndicator { class, li }),
            },
            FrameClass::B => match li {
                0 => (2, None),
                _ => return Err(FrameError::LengthIndicator { class, li }),
            },
            _ => (usize::from(li).saturating_add(2), None),
        };
        let payload_len = class.body_len().saturating_sub(mac_len);
        let (payload, mac) = body
            .split_at_checked(payload_len)
            .ok_or(FrameError::TooShort)?;
        let payload = payload.to_vec();
        let mac = mac.to_vec();
        packet.truncate(crc_at);
        Ok(Self {
            replica,
            class,
            frame_type,
            flags,
            downlink_request: flags & 0b0010 != 0,
            repeated: flags & 0b0001 != 0,
            seq: (u16::from(f0 & 0x0F) << 8) | u16::from(s1),
            device: DeviceId::from_value(u32::from_le_bytes([d0, d1, d2, d3])),
            payload,
            single_bit,
            mac,
            crc,
            crc_ok,
            packet,
        })
    }

    /// The authentication code this frame should carry under `key`.
    pub fn compute_mac(&self, key: &[u8; 16]) -> Vec<u8> {
        let input_len = 6usize.saturating_add(self.payload.len());
        // The MAC covers the packet's first 6 + payload bytes (its header, device id and
        // payload: the packet always holds them), repeated to fill the blocks.
        let input = self.packet.iter().take(input_len);
        let blocks = if self.payload.len() >= 11 { 2 } else { 1 };
        let cipher = Aes128::new(&(*key).into());
        let mut state = [0u8; 16];
        let mut cyclic = input.cycle();
        for _ in 0..blocks {
            for (s, b) in state.iter_mut().zip(&mut cyclic) {
                *s ^= b;
            }
            let mut block = state.into();
            cipher.encrypt_block(&mut block);
            state = block.into();
        }
        state.iter().take(self.mac.len()).copied().collect()
    }

    /// Whether the authentication code is right for `key`, compared in constant time.
    pub fn verify_mac(&self, key: &[u8; 16]) -> bool {
        let expected = self.compute_mac(key);
        let mut diff = u8::from(expected.len() != self.mac.len());
        for (a, b) in expected.iter().zip(&self.mac) {
            diff |= a ^ b;
        }
        std::hint::black_box(diff) == 0
    }

    /// The frame as JSON; `mac_ok` is `null` without a key.
    pub fn to_json(&self, key: Option<&[u8; 16]>) -> serde_json::Value {
        serde_json::json!({
            "replica": self.replica,
            "class": self.class.as_str(),
            "frame_type": format!("{:03x}", self.frame_type),
            "flags": self.flags,
            "downlink_request": self.downlink_request,
            "repeated": self.repeated,
            "seq": self.seq,
            "device": format!("{:08x}", self.device.value()),
            "payload": hex::encode(&self.payload),
            "single_bit": self.single_bit.map(u8::from),
            "mac": hex::encode(&self.mac),
            "crc": format!("{:04x}", self.crc),
            "crc_ok": self.crc_ok,
            "mac_ok": key.map(|k| self.verify_mac(k)),
        })
    }
}
