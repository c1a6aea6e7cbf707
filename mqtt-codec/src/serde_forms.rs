//! The `serde` feature's hand-written forms: a packet identifier is its number (0 refused);
//! SUBSCRIBE, UNSUBSCRIBE and SUBACK, which keep their validated payload as bytes, are written
//! as their lists and rebuilt through their constructors, so that what is read obeys the same
//! rules as what is built (at least one entry, the lengths of §2.2.3).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::packet::{PacketId, SubAck, SubAckReturnCode, Subscribe, SubscribeFilter, Unsubscribe};
use crate::topic::TopicFilter;

impl Serialize for PacketId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.get())
    }
}

impl<'de> Deserialize<'de> for PacketId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u16::deserialize(deserializer)?;
        PacketId::new(value).ok_or_else(|| D::Error::custom("a packet identifier is never 0"))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubscribeForm {
    packet_id: PacketId,
    filters: Vec<SubscribeFilter>,
}

impl Serialize for Subscribe {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SubscribeForm {
            packet_id: self.packet_id,
            filters: self.filters().collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Subscribe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let form = SubscribeForm::deserialize(deserializer)?;
        Subscribe::new(form.packet_id, form.filters).map_err(D::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UnsubscribeForm {
    packet_id: PacketId,
    filters: Vec<TopicFilter>,
}

impl Serialize for Unsubscribe {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        UnsubscribeForm {
            packet_id: self.packet_id,
            filters: self.filters().collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Unsubscribe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let form = UnsubscribeForm::deserialize(deserializer)?;
        Unsubscribe::new(form.packet_id, form.filters).map_err(D::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubAckForm {
    packet_id: PacketId,
    return_codes: Vec<SubAckReturnCode>,
}

impl Serialize for SubAck {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SubAckForm {
            packet_id: self.packet_id,
            return_codes: self.return_codes().collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SubAck {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let form = SubAckForm::deserialize(deserializer)?;
        SubAck::new(form.packet_id, form.return_codes).map_err(D::Error::custom)
    }
}
