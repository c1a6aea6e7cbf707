//! PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK (§3.4–3.7, §3.11): a packet identifier and
//! nothing else.

use bytes::{BufMut, BytesMut};

use super::{PacketId, PacketType};
use crate::encode::first_byte;
use crate::error::DecodeError;
use crate::reader::Reader;

/// The framing layer has already checked that the remaining length is exactly 2.
pub(crate) fn decode_packet_id_only(
    mut reader: Reader<'_>,
    packet_type: PacketType,
) -> Result<PacketId, DecodeError> {
    let id = reader.packet_id()?;
    reader.finish(packet_type)?;
    Ok(id)
}

pub(crate) fn encode_packet_id_only(packet_type: PacketType, id: PacketId, buf: &mut BytesMut) {
    buf.reserve(4);
    buf.put_u8(first_byte(packet_type));
    buf.put_u8(2);
    buf.put_u16(id.get());
}
