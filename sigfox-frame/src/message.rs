//! The normalized message a broker publishes for a callback: typed JSON and a topic.

use std::fmt;

use serde_json::{Map, Value};

use crate::callback::{Callback, Key};
use crate::grammar::PayloadFormat;

/// A topic template: literal text with `{device}`, `{deviceTypeId}` and `{kind}` placeholders.
/// The default is `sigfox`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Device,
    DeviceTypeId,
    Kind,
}

/// A topic template rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template is empty.
    Empty,
    /// A `{name}` that is not one of `device`, `deviceTypeId`, `kind`, at this byte offset.
    UnknownPlaceholder {
        /// The placeholder name.
        name: String,
        /// Byte offset of its `{`.
        offset: usize,
    },
    /// A `{` without its `}`, at this byte offset.
    Unclosed {
        /// Byte offset of the `{`.
        offset: usize,
    },
    /// `+`, `#` or NUL, which an MQTT topic name cannot hold, at this byte offset.
    ForbiddenCharacter {
        /// The character.
        found: char,
        /// Its byte offset.
        offset: usize,
    },
    /// Longer than 256 bytes.
    TooLong,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the topic template is empty"),
            Self::UnknownPlaceholder { name, offset } => write!(
                f,
                "topic template: unknown placeholder {{{name}}} at byte {offset}; use {{device}}, {{deviceTypeId}} or {{kind}}"
            ),
            Self::Unclosed { offset } => {
                write!(f, "topic template: the {{ at byte {offset} is not closed")
            }
            Self::ForbiddenCharacter { found, offset } => write!(
                f,
                "topic template: {found:?} at byte {offset} is not allowed in an MQTT topic name"
            ),
            Self::TooLong => write!(f, "topic template: longer than 256 bytes"),
        }
    }
}

impl std::error::Error for TemplateError {}

impl Default for TopicTemplate {
    fn default() -> Self {
        Self {
            parts: vec![Part::Literal(String::from("sigfox"))],
        }
    }
}

impl TopicTemplate {
    /// Parses a template such as `sigfox/{deviceTypeId}/{device}`.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        if template.is_empty() {
            return Err(TemplateError::Empty);
        }
        if template.len() > 256 {
            return Err(TemplateError::TooLong);
        }
        if let Some((offset, found)) = template
            .char_indices()
            .find(|(_, c)| matches!(c, '+' | '#' | '\0'))
        {
            return Err(TemplateError::ForbiddenCharacter { found, offset });
        }
        let mut parts = Vec::new();
        let mut rest = template;
        let mut offset = 0usize;
        while let Some((lit, tail)) = rest.split_once('{') {
            if !lit.is_empty() {
                parts.push(Part::Literal(lit.to_owned()));
            }
            let at = offset.saturating_add(lit.len());
            let (name, after) = tail
                .split_once('}')
                .ok_or(TemplateError::Unclosed { offset: at })?;
            parts.push(match name {
                "device" => Part::Device,
                "deviceTypeId" => Part::DeviceTypeId,
                "kind" => Part::Kind,
                other => {
                    return Err(TemplateError::UnknownPlaceholder {
                        name: other.to_owned(),
                        offset: at,
                    });
                }
            });
            // `after` is the end of `rest`: the bytes before it were consumed.
            offset = offset.saturating_add(rest.len().saturating_sub(after.len()));
            rest = after;
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The topic for a callback. A `deviceTypeId` that is absent or would not be a plain topic
    /// level (it holds `/`, `+`, `#` or NUL) is written `unknown`.
    pub fn render(&self, callback: &Callback) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Device => out.push_str(&callback.device.to_string()),
                Part::Kind => out.push_str(callback.kind.as_str()),
                Part::DeviceTypeId => match &callback.device_type_id {
                    Some(id) if !id.is_empty() && !id.contains(['/', '+', '#', '\0']) => {
                        out.push_str(id)
                    }
                    _ => out.push_str("unknown"),
                },
            }
        }
        out
    }
}

/// What a broker publishes for one callback.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Message {
    /// The topic.
    pub topic: String,
    /// The normalized JSON object.
    pub payload: Value,
}

fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

impl Callback {
    /// The normalized message: Sigfox's key names whatever the template called them, typed
    /// numbers and booleans, `data` in lower-case hex, `customData` as an object, unknown keys
    /// as sent (unless they collide with a normalized key), and — when `format` is given and
    /// `data` is present — the decoded fields under `decoded`.
    pub fn to_message(&self, format: Option<&PayloadFormat>, topic: &TopicTemplate) -> Message {
        let mut m = Map::new();
        let mut put = |k: Key, v: Value| {
            m.insert(k.default_name().to_owned(), v);
        };
        put(Key::Device, Value::String(self.device.to_string()));
        if let Some(v) = &self.device_type_id {
            put(Key::DeviceTypeId, Value::String(v.clone()));
        }
        if let Some(v) = self.time {
            put(Key::Time, Value::from(v));
        }
        if let Some(v) = &self.data {
            put(Key::Data, Value::String(hex::encode(v)));
        }
        if let Some(v) = self.seq_number {
            put(Key::SeqNumber, Value::from(v));
        }
        if let Some(v) = &self.station {
            put(Key::Station, Value::String(v.clone()));
        }
        for (k, v) in [
            (Key::Rssi, self.rssi),
            (Key::Snr, self.snr),
            (Key::AvgSnr, self.avg_snr),
            (Key::Lat, self.lat),
            (Key::Lng, self.lng),
            (Key::Radius, self.radius),
            (Key::Temp, self.temp),
            (Key::Batt, self.batt),
            (Key::FixedLat, self.fixed_lat),
            (Key::FixedLng, self.fixed_lng),
        ] {
            if let Some(v) = v {
                put(k, num(v));
            }
        }
        for (k, v) in [
            (Key::Ack, self.ack),
            (Key::DownlinkAck, self.downlink_ack),
            (Key::Duplicate, self.duplicate),
            (Key::LongPolling, self.long_polling),
        ] {
            if let Some(v) = v {
                put(k, Value::Bool(v));
            }
        }
        if !self.duplicates.is_empty() {
            let list = self
                .duplicates
                .iter()
                .map(|d| {
                    let mut o = Map::new();
                    o.insert("bsId".into(), Value::String(d.bs_id.clone()));
                    if let Some(x) = d.rssi {
                        o.insert("rssi".into(), num(x));
                    }
                    if let Some(x) = d.snr {
                        o.insert("snr".into(), num(x));
                    }
                    if let Some(x) = d.nb_rep {
                        o.insert("nbRep".into(), Value::from(x));
                    }
                    Value::Object(o)
                })
                .collect();
            put(Key::Duplicates, Value::Array(list));
        }
        if let Some(c) = &self.computed_location {
            let mut o = Map::new();
            for (k, v) in [("lat", c.lat), ("lng", c.lng), ("radius", c.radius)] {
                if let Some(v) = v {
                    o.insert(k.into(), num(v));
                }
            }
            for (k, v) in [("source", c.source), ("status", c.status)] {
                if let Some(v) = v {
                    o.insert(k.into(), Value::from(v));
                }
            }
            put(Key::ComputedLocation, Value::Object(o));
        }
        if let Some(v) = self.info_code {
            put(Key::InfoCode, Value::from(v));
        }
        if let Some(v) = self.lqi {
            put(Key::Lqi, Value::String(v.as_str().to_owned()));
        }
        if let Some(v) = self.link_quality {
            put(Key::LinkQuality, Value::from(v.code()));
        }
        if let Some(v) = self.country_code {
            put(Key::CountryCode, Value::from(v));
        }
        for (k, v) in [
            (Key::InfoMessage, &self.info_message),
            (Key::Info, &self.info),
            (Key::Severity, &self.severity),
            (Key::OperatorName, &self.operator_name),
            (Key::GeolocSource, &self.geoloc_source),
        ] {
            if let Some(v) = v {
                put(k, Value::String(v.clone()));
            }
        }
        if !self.custom_data.is_empty() {
            let o = self
                .custom_data
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            m.insert("customData".into(), Value::Object(o));
        }
        if let (Some(format), Some(data)) = (format, &self.data) {
            let decoded = format.decode(data).map_or(Value::Null, |d| d.to_json());
            m.insert("decoded".into(), decoded);
        }
        for (k, v) in &self.extra {
            if !m.contains_key(k) {
                m.insert(k.clone(), v.clone());
            }
        }
        m.insert("kind".into(), Value::String(self.kind.as_str().to_owned()));
        Message {
            topic: topic.render(self),
            payload: Value::Object(m),
        }
    }
}
