//! Arbitrary bytes as a callback body of every kind, in both encodings: parsing never panics;
//! an accepted callback produces a message whose payload is a JSON object with the device.

use sigfox_frame::{
    BodyEncoding, Callback, CallbackKind, CallbackOptions, Key, PayloadFormat, TopicTemplate,
};

/// One fuzz input: panics on a broken invariant.
pub fn run(data: &[u8]) {
    let options = CallbackOptions::new().rename(Key::Device, "id");
    let format =
        PayloadFormat::parse("a::bool:7 b::uint:12::3 c::int:16:little-endian s::char:3").ok();
    let topic = TopicTemplate::parse("sigfox/{deviceTypeId}/{device}")
        .ok()
        .unwrap_or_default();
    for kind in [
        CallbackKind::DataUplink,
        CallbackKind::DataAdvanced,
        CallbackKind::Acknowledge,
    ] {
        for encoding in [BodyEncoding::Json, BodyEncoding::Form] {
            match Callback::parse_as(kind, data, encoding, &options) {
                Ok(cb) => {
                    let m = cb.to_message(format.as_ref(), &topic);
                    assert!(m.payload.get("device").is_some());
                    assert!(!m.topic.contains(['+', '#']));
                }
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
    }
}
