//! The `serde` feature's hand-written parts: a device id is written as sent and read back
//! through [`DeviceId::parse`]; a payload is written as lower-case hex.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::callback::DeviceId;

impl Serialize for DeviceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DeviceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DeviceId::parse(&text).map_err(|e| D::Error::custom(format_args!("device {text:?}: {e}")))
    }
}

/// `Option<Vec<u8>>` as an optional hex string.
pub(crate) mod hex_bytes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => serializer.serialize_some(&hex::encode(b)),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| {
                hex::decode(&text).map_err(|e| D::Error::custom(format_args!("data {text:?}: {e}")))
            })
            .transpose()
    }
}
