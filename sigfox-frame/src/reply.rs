//! The reply to a BIDIR callback: downlink data for one or more devices, or no downlink.

use std::fmt;

use serde_json::{Map, Value};

use crate::callback::DeviceId;

/// The 8 bytes of a downlink, written as exactly 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DownlinkData(pub [u8; 8]);

/// Downlink data rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownlinkError {
    /// Not exactly 16 hex digits.
    Length {
        /// The number of characters given.
        len: usize,
    },
    /// A character that is not a hex digit, at this offset.
    NotHex {
        /// Its byte offset.
        offset: usize,
    },
}

impl fmt::Display for DownlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { len } => write!(
                f,
                "downlinkData must be exactly 16 hex digits (8 bytes), got {len} characters"
            ),
            Self::NotHex { offset } => {
                write!(
                    f,
                    "downlinkData: the character at offset {offset} is not a hex digit"
                )
            }
        }
    }
}

impl std::error::Error for DownlinkError {}

impl DownlinkData {
    /// Parses exactly 16 hex digits, either case.
    pub fn from_hex(s: &str) -> Result<Self, DownlinkError> {
        if s.len() != 16 {
            return Err(DownlinkError::Length { len: s.len() });
        }
        if let Some(offset) = s.bytes().position(|b| !b.is_ascii_hexdigit()) {
            return Err(DownlinkError::NotHex { offset });
        }
        let mut arr = [0u8; 8];
        hex::decode_to_slice(s, &mut arr).map_err(|_| DownlinkError::Length { len: s.len() })?;
        Ok(Self(arr))
    }
}

impl fmt::Display for DownlinkData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// An HTTP response to send back to the Sigfox backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    /// 200 with a JSON body, or 204 with none.
    pub status: u16,
    /// `application/json` when there is a body.
    pub content_type: Option<&'static str>,
    /// The body, empty for 204.
    pub body: String,
}

/// The reply to one BIDIR callback: per device, downlink data or `noData`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BidirReply {
    entries: Vec<(DeviceId, Option<DownlinkData>)>,
}

impl BidirReply {
    /// A reply with no entry yet; sent as is, it is HTTP 204 (no downlink).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `data` to `device` (replacing an earlier entry for it).
    pub fn downlink(mut self, device: DeviceId, data: DownlinkData) -> Self {
        self.set(device, Some(data));
        self
    }

    /// Tells the backend there is nothing for `device`: `{"<id>":{"noData":true}}`.
    pub fn no_data(mut self, device: DeviceId) -> Self {
        self.set(device, None);
        self
    }

    fn set(&mut self, device: DeviceId, data: Option<DownlinkData>) {
        match self.entries.iter_mut().find(|(d, _)| *d == device) {
            Some(entry) => entry.1 = data,
            None => self.entries.push((device, data)),
        }
    }

    /// The JSON body, or `None` when there is no entry.
    pub fn to_json(&self) -> Option<Value> {
        if self.entries.is_empty() {
            return None;
        }
        let mut m = Map::new();
        for (device, data) in &self.entries {
            let mut inner = Map::new();
            match data {
                Some(d) => inner.insert("downlinkData".into(), Value::String(d.to_string())),
                None => inner.insert("noData".into(), Value::Bool(true)),
            };
            m.insert(device.to_string(), Value::Object(inner));
        }
        Some(Value::Object(m))
    }

    /// The HTTP response: 200 with the JSON body, or 204 without a body when empty.
    pub fn to_http(&self) -> HttpReply {
        match self.to_json() {
            Some(v) => HttpReply {
                status: 200,
                content_type: Some("application/json"),
                body: v.to_string(),
            },
            None => HttpReply {
                status: 204,
                content_type: None,
                body: String::new(),
            },
        }
    }
}
