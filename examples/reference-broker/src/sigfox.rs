//! `POST /sigfox` and `POST /sigfox/bidir`: Sigfox callbacks authenticated by a shared secret,
//! de-duplicated by (device, seqNumber), decoded with the grammar of their device type, and
//! published like any device message.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use mqtt_wire::{QoS, TopicName};
use sigfox_frame::{
    BidirReply, Callback, CallbackKind, CallbackOptions, DeviceId, DownlinkData, PayloadFormat,
    SeqClass, SequenceOptions, SequenceTracker, SharedSecret, TopicTemplate,
};

use crate::broker::Message;
use crate::config::SigfoxConfig;
use crate::metrics::inc;
use crate::server::Shared;

/// The topic whose retained message (16 hex digits) is the downlink for a BIDIR callback of
/// a device without a configured one: `sigfox/downlink/<DEVICE>`.
pub const DOWNLINK_TOPIC_PREFIX: &str = "sigfox/downlink/";

/// The parsed `[sigfox]` section and the sequence tracker.
#[derive(Debug)]
pub(crate) struct SigfoxIngest {
    secret: SharedSecret,
    secret_header: String,
    topic: TopicTemplate,
    formats: HashMap<String, PayloadFormat>,
    downlinks: HashMap<DeviceId, DownlinkData>,
    options: CallbackOptions,
    tracker: Mutex<SequenceTracker>,
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

impl Reply {
    fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }
}

impl SigfoxIngest {
    /// Checks the section: secret strength, topic template, grammars, downlinks.
    pub(crate) fn new(config: &SigfoxConfig) -> Result<Self, String> {
        let secret = SharedSecret::new(config.secret.as_bytes().to_vec())
            .map_err(|e| format!("secret: {e}"))?;
        let topic = TopicTemplate::parse(&config.topic).map_err(|e| format!("topic: {e}"))?;
        let mut formats = HashMap::new();
        for (device_type, format) in &config.formats {
            let parsed =
                PayloadFormat::parse(format).map_err(|e| format!("formats.{device_type}: {e}"))?;
            formats.insert(device_type.clone(), parsed);
        }
        let mut downlinks = HashMap::new();
        for (device, data) in &config.downlinks {
            let id = DeviceId::parse(device).map_err(|e| format!("downlinks.{device}: {e}"))?;
            let data =
                DownlinkData::from_hex(data).map_err(|e| format!("downlinks.{device}: {e}"))?;
            downlinks.insert(id, data);
        }
        let tracker = SequenceTracker::new(SequenceOptions::default())
            .map_err(|e| format!("sequence tracker: {e}"))?;
        Ok(Self {
            secret,
            secret_header: config.secret_header.to_ascii_lowercase(),
            topic,
            formats,
            downlinks,
            options: CallbackOptions::new(),
            tracker: Mutex::new(tracker),
        })
    }

    /// Handles one callback. `headers` are (lower-case name, value).
    pub(crate) fn handle(
        &self,
        shared: &Shared,
        bidir: bool,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Reply {
        let broker = &shared.broker;
        let metrics = &*shared.metrics;
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        if !self.secret.verify_header(header(&self.secret_header)) {
            inc(&metrics.sigfox_rejected_total);
            return Reply::text(401, "missing or wrong shared secret\n");
        }
        let kind = if bidir {
            CallbackKind::DataBidir
        } else {
            CallbackKind::DataUplink
        };
        let callback = match Callback::parse(kind, body, header("content-type"), &self.options) {
            Ok(c) => c,
            Err(e) => {
                inc(&metrics.sigfox_rejected_total);
                return Reply::text(400, format!("{e}\n"));
            }
        };
        let fresh = match callback.seq_number {
            None => true,
            Some(seq) => {
                let mut tracker = self.tracker.lock().unwrap_or_else(|p| p.into_inner());
                match tracker.classify(callback.device, seq) {
                    Ok(SeqClass::New) => true,
                    // Duplicate, stale, or a class this version does not know: not new.
                    Ok(_) => false,
                    Err(e) => {
                        inc(&metrics.sigfox_rejected_total);
                        return Reply::text(503, format!("{e}\n"));
                    }
                }
            }
        };
        if fresh {
            let format = callback
                .device_type_id
                .as_ref()
                .and_then(|t| self.formats.get(t));
            let message = callback.to_message(format, &self.topic);
            let Ok(topic) = TopicName::new(&message.topic) else {
                inc(&metrics.sigfox_rejected_total);
                return Reply::text(400, format!("invalid topic {:?}\n", message.topic));
            };
            shared.ingest(
                &Message {
                    topic,
                    payload: Bytes::from(message.payload.to_string()),
                    qos: QoS::AtLeastOnce,
                    retain: false,
                    origin: None,
                },
                None,
                None,
            );
            inc(&metrics.sigfox_published_total);
        } else {
            inc(&metrics.sigfox_duplicates_total);
        }
        if !bidir {
            return Reply {
                status: 204,
                content_type: "text/plain",
                body: String::new(),
            };
        }
        let downlink = self.downlinks.get(&callback.device).copied().or_else(|| {
            let topic = format!("{DOWNLINK_TOPIC_PREFIX}{}", callback.device);
            broker
                .retained(&topic)
                .and_then(|m| {
                    std::str::from_utf8(&m.payload)
                        .ok()
                        .map(str::trim)
                        .map(str::to_owned)
                })
                .and_then(|hex| DownlinkData::from_hex(&hex).ok())
        });
        // Sigfox asks for a downlink only when `ack` is true; otherwise there is nothing to send.
        let reply = match (callback.ack, downlink) {
            (Some(true), Some(data)) => BidirReply::new().downlink(callback.device, data),
            (Some(true), None) => BidirReply::new().no_data(callback.device),
            _ => BidirReply::new(),
        };
        let http = reply.to_http();
        Reply {
            status: http.status,
            content_type: http.content_type.unwrap_or("text/plain"),
            body: http.body,
        }
    }
}
