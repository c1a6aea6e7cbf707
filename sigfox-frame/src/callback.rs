//! The typed model of a Sigfox backend callback and its template-tolerant parsing.
//!
//! A callback body is a user template: a value may arrive as a JSON number or as a string,
//! `null`, `"N/A"` and `""` mean absent, and key names are configurable ([`Key`],
//! [`CallbackOptions::rename`]). Every rejection names the field (by the key it arrived under)
//! and the rule it broke.

use std::fmt;

use serde_json::{Map, Value};

use crate::body::{self, BodyEncoding};
use crate::grammar::MAX_PAYLOAD_LEN;

/// Which callback the endpoint receives. Sigfox posts each callback type to the URL configured
/// for it, so the endpoint knows the kind; it is not guessed from the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum CallbackKind {
    /// DATA UPLINK.
    DataUplink,
    /// DATA BIDIR: an uplink that may ask for a downlink (`ack`).
    DataBidir,
    /// SERVICE DATA_ADVANCED: the uplink with all stations (`duplicates`) and `computedLocation`.
    DataAdvanced,
    /// SERVICE STATUS: temperature and battery.
    Status,
    /// SERVICE ACKNOWLEDGE: the downlink outcome (`infoCode` 0–8).
    Acknowledge,
    /// SERVICE REPEATER.
    Repeater,
    /// ERROR: communication loss and similar events.
    Error,
    /// Legacy SERVICE GEOLOC.
    Geoloc,
}

impl CallbackKind {
    /// Sigfox's name of the callback type.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::DataUplink => "DATA_UPLINK",
            Self::DataBidir => "DATA_BIDIR",
            Self::DataAdvanced => "DATA_ADVANCED",
            Self::Status => "STATUS",
            Self::Acknowledge => "ACKNOWLEDGE",
            Self::Repeater => "REPEATER",
            Self::Error => "ERROR",
            Self::Geoloc => "GEOLOC",
        }
    }
}

/// The fields a callback template can carry. Each has Sigfox's variable name as its default
/// key; [`CallbackOptions::rename`] maps it to another key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// `device`: the device id.
    Device,
    /// `deviceTypeId`.
    DeviceTypeId,
    /// `time`: epoch seconds.
    Time,
    /// `data`: the payload in hex.
    Data,
    /// `seqNumber`: 0–4095.
    SeqNumber,
    /// `station`: the base station id in hex.
    Station,
    /// `rssi` in dBm.
    Rssi,
    /// `snr` in dB.
    Snr,
    /// `avgSnr` in dB.
    AvgSnr,
    /// `lat`: latitude.
    Lat,
    /// `lng`: longitude.
    Lng,
    /// `radius` in metres (GEOLOC).
    Radius,
    /// `ack`: whether the device asks for a downlink (BIDIR).
    Ack,
    /// `duplicates`: the stations that received the frame (DATA_ADVANCED).
    Duplicates,
    /// `computedLocation` (DATA_ADVANCED).
    ComputedLocation,
    /// `infoCode`: 0–8 (ACKNOWLEDGE).
    InfoCode,
    /// `infoMessage` (ACKNOWLEDGE).
    InfoMessage,
    /// `downlinkAck` (ACKNOWLEDGE).
    DownlinkAck,
    /// `temp`: temperature in °C (STATUS).
    Temp,
    /// `batt`: battery voltage in V (STATUS).
    Batt,
    /// `info`: free text (ERROR).
    Info,
    /// `severity` (ERROR).
    Severity,
    /// `duplicate`: whether this callback is for a repetition of a message already received
    /// (the "send duplicate" option).
    Duplicate,
    /// `lqi`: the link quality by name (DATA_ADVANCED).
    Lqi,
    /// `linkQuality`: the link quality as 0–4 (DATA_ADVANCED).
    LinkQuality,
    /// `longPolling` (BIDIR).
    LongPolling,
    /// `operatorName`: the operator that received the message (DATA_ADVANCED).
    OperatorName,
    /// `countryCode`: the operator's country, ISO 3166-1 numeric (DATA_ADVANCED).
    CountryCode,
    /// `fixedLat`: the latitude set on the device's page (DATA_ADVANCED).
    FixedLat,
    /// `fixedLng`: the longitude set on the device's page (DATA_ADVANCED).
    FixedLng,
    /// `geolocSource`: where a GEOLOC location came from (legacy GEOLOC).
    GeolocSource,
}

impl Key {
    /// Every key, in the order the normalized message lists them.
    pub const ALL: [Key; 31] = [
        Key::Device,
        Key::DeviceTypeId,
        Key::Time,
        Key::Data,
        Key::SeqNumber,
        Key::Station,
        Key::Rssi,
        Key::Snr,
        Key::AvgSnr,
        Key::Lat,
        Key::Lng,
        Key::Radius,
        Key::Ack,
        Key::Duplicates,
        Key::ComputedLocation,
        Key::InfoCode,
        Key::InfoMessage,
        Key::DownlinkAck,
        Key::Temp,
        Key::Batt,
        Key::Info,
        Key::Severity,
        Key::Duplicate,
        Key::Lqi,
        Key::LinkQuality,
        Key::LongPolling,
        Key::OperatorName,
        Key::CountryCode,
        Key::FixedLat,
        Key::FixedLng,
        Key::GeolocSource,
    ];

    /// Sigfox's variable name, the default key and the key in the normalized message.
    pub fn default_name(&self) -> &'static str {
        match self {
            Key::Device => "device",
            Key::DeviceTypeId => "deviceTypeId",
            Key::Time => "time",
            Key::Data => "data",
            Key::SeqNumber => "seqNumber",
            Key::Station => "station",
            Key::Rssi => "rssi",
            Key::Snr => "snr",
            Key::AvgSnr => "avgSnr",
            Key::Lat => "lat",
            Key::Lng => "lng",
            Key::Radius => "radius",
            Key::Ack => "ack",
            Key::Duplicates => "duplicates",
            Key::ComputedLocation => "computedLocation",
            Key::InfoCode => "infoCode",
            Key::InfoMessage => "infoMessage",
            Key::DownlinkAck => "downlinkAck",
            Key::Temp => "temp",
            Key::Batt => "batt",
            Key::Info => "info",
            Key::Severity => "severity",
            Key::Duplicate => "duplicate",
            Key::Lqi => "lqi",
            Key::LinkQuality => "linkQuality",
            Key::LongPolling => "longPolling",
            Key::OperatorName => "operatorName",
            Key::CountryCode => "countryCode",
            Key::FixedLat => "fixedLat",
            Key::FixedLng => "fixedLng",
            Key::GeolocSource => "geolocSource",
        }
    }
}

/// Limits on a callback body, checked before anything is allocated for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackLimits {
    /// Largest body in bytes (default 16 KiB; a DATA_ADVANCED body with 20 stations is ~3 KiB).
    pub max_body_len: usize,
    /// Most top-level keys (default 64).
    pub max_keys: usize,
    /// Longest key in bytes (default 64).
    pub max_key_len: usize,
    /// Longest string value in bytes, for free-text fields and `customData#` values (default 1024).
    pub max_value_len: usize,
    /// Most entries in `duplicates` (default 64).
    pub max_duplicates: usize,
}

impl Default for CallbackLimits {
    fn default() -> Self {
        Self {
            max_body_len: 16 * 1024,
            max_keys: 64,
            max_key_len: 64,
            max_value_len: 1024,
            max_duplicates: 64,
        }
    }
}

/// How to read callbacks: key names and limits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CallbackOptions {
    renames: Vec<(Key, String)>,
    /// Size limits.
    pub limits: CallbackLimits,
}

impl CallbackOptions {
    /// Default key names and limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `key` from the body key `name` instead of its default name (a template may call
    /// `device` `id`).
    pub fn rename(mut self, key: Key, name: impl Into<String>) -> Self {
        let name = name.into();
        self.renames.retain(|(k, _)| *k != key);
        self.renames.push((key, name));
        self
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: CallbackLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The body key that `key` is read from.
    pub fn name_of(&self, key: Key) -> &str {
        self.renames
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key.default_name(), |(_, n)| n.as_str())
    }

    fn lookup(&self, name: &str) -> Option<Key> {
        if let Some((k, _)) = self.renames.iter().find(|(_, n)| n == name) {
            return Some(*k);
        }
        Key::ALL
            .iter()
            .copied()
            .find(|k| k.default_name() == name && !self.renames.iter().any(|(r, _)| r == k))
    }
}

/// Why a field or body was rejected.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reason {
    /// The body is larger than [`CallbackLimits::max_body_len`].
    BodyTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The body is not valid JSON.
    InvalidJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// The JSON body is not an object.
    NotAnObject,
    /// A `%` escape of a form body is not followed by two hex digits.
    InvalidPercentEncoding {
        /// Byte offset in the body.
        offset: usize,
    },
    /// A form value is not UTF-8 once decoded.
    InvalidUtf8 {
        /// Byte offset of the key or value in the body.
        offset: usize,
    },
    /// More keys than [`CallbackLimits::max_keys`].
    TooManyKeys {
        /// The limit.
        max: usize,
    },
    /// A key longer than [`CallbackLimits::max_key_len`].
    KeyTooLong {
        /// The limit.
        max: usize,
    },
    /// The same key twice in a form body.
    DuplicateKey,
    /// A required field is absent.
    Missing,
    /// Not hexadecimal.
    NotHex,
    /// Hex with an odd number of digits.
    OddHexLength,
    /// Too many hex digits.
    TooManyDigits {
        /// The most allowed.
        max: usize,
    },
    /// Not a number.
    NotANumber,
    /// Not a non-negative integer.
    NotAnInteger,
    /// A number outside its range.
    OutOfRange {
        /// The smallest allowed.
        min: f64,
        /// The largest allowed.
        max: f64,
    },
    /// Not `true`/`false` (or `1`/`0`).
    NotABoolean,
    /// Not a link quality: `LIMIT`, `AVERAGE`, `GOOD`, `EXCELLENT`, `NA`, or 0–4.
    NotALinkQuality,
    /// A string longer than [`CallbackLimits::max_value_len`].
    ValueTooLong {
        /// The limit.
        max: usize,
    },
    /// Not a string, number or boolean where one was expected.
    WrongType {
        /// What was expected.
        expected: &'static str,
    },
    /// `customData#` with a name outside `[A-Za-z0-9_-]{1,64}`.
    InvalidCustomName,
    /// `duplicates` has more entries than [`CallbackLimits::max_duplicates`].
    TooManyDuplicates {
        /// The limit.
        max: usize,
    },
}

impl Reason {
    /// The variant name, stable for machine-readable output.
    pub fn name(&self) -> &'static str {
        match self {
            Self::BodyTooLarge { .. } => "BodyTooLarge",
            Self::InvalidJson { .. } => "InvalidJson",
            Self::NotAnObject => "NotAnObject",
            Self::InvalidPercentEncoding { .. } => "InvalidPercentEncoding",
            Self::InvalidUtf8 { .. } => "InvalidUtf8",
            Self::TooManyKeys { .. } => "TooManyKeys",
            Self::KeyTooLong { .. } => "KeyTooLong",
            Self::DuplicateKey => "DuplicateKey",
            Self::Missing => "Missing",
            Self::NotHex => "NotHex",
            Self::OddHexLength => "OddHexLength",
            Self::TooManyDigits { .. } => "TooManyDigits",
            Self::NotANumber => "NotANumber",
            Self::NotAnInteger => "NotAnInteger",
            Self::OutOfRange { .. } => "OutOfRange",
            Self::NotABoolean => "NotABoolean",
            Self::NotALinkQuality => "NotALinkQuality",
            Self::ValueTooLong { .. } => "ValueTooLong",
            Self::WrongType { .. } => "WrongType",
            Self::InvalidCustomName => "InvalidCustomName",
            Self::TooManyDuplicates { .. } => "TooManyDuplicates",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BodyTooLarge { len, max } => {
                write!(f, "the body is {len} bytes, the limit is {max}")
            }
            Self::InvalidJson {
                line,
                column,
                message,
            } => write!(f, "invalid JSON at line {line}, column {column}: {message}"),
            Self::NotAnObject => write!(f, "the JSON body is not an object"),
            Self::InvalidPercentEncoding { offset } => {
                write!(f, "a % at byte {offset} is not followed by two hex digits")
            }
            Self::InvalidUtf8 { offset } => {
                write!(f, "the text at byte {offset} is not UTF-8 once decoded")
            }
            Self::TooManyKeys { max } => write!(f, "more than {max} keys"),
            Self::KeyTooLong { max } => write!(f, "the key is longer than {max} bytes"),
            Self::DuplicateKey => write!(f, "the key appears twice"),
            Self::Missing => write!(
                f,
                "is required but absent (null, \"N/A\" and \"\" count as absent)"
            ),
            Self::NotHex => write!(f, "is not hexadecimal"),
            Self::OddHexLength => write!(f, "has an odd number of hex digits"),
            Self::TooManyDigits { max } => write!(f, "has more than {max} hex digits"),
            Self::NotANumber => write!(f, "is not a decimal number"),
            Self::NotAnInteger => write!(f, "is not a non-negative integer"),
            Self::OutOfRange { min, max } => write!(f, "is outside {min}..={max}"),
            Self::NotABoolean => write!(f, "is not true or false (nor 1 or 0)"),
            Self::NotALinkQuality => write!(
                f,
                "is not a link quality (LIMIT, AVERAGE, GOOD, EXCELLENT, NA, or 0 to 4)"
            ),
            Self::ValueTooLong { max } => write!(f, "is longer than {max} bytes"),
            Self::WrongType { expected } => write!(f, "is not {expected}"),
            Self::InvalidCustomName => {
                write!(f, "customData names are 1 to 64 of A-Z a-z 0-9 _ -")
            }
            Self::TooManyDuplicates { max } => write!(f, "has more than {max} entries"),
        }
    }
}

/// A callback rejected: the field (the key it arrived under, or a path such as
/// `duplicates[1].rssi`; `(body)` for the body as a whole) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackError {
    /// The field, as named in the body.
    pub field: String,
    /// The rule it broke.
    pub reason: Reason,
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "callback field `{}` {}", self.field, self.reason)
    }
}

impl std::error::Error for CallbackError {}

/// A Sigfox device id: 1 to 8 hex digits, kept as the backend sent them (`0CB3` stays `0CB3`:
/// an id is an identifier, and a reply or a topic must name the device the way it was named).
/// Two ids are equal when they are the same 32-bit number, whatever their spelling; ids made
/// from a number ([`DeviceId::from_value`]) print upper-case without leading zeros (`B92A4`).
#[derive(Clone, Copy)]
pub struct DeviceId {
    value: u32,
    text: [u8; 8],
    len: u8,
}

impl DeviceId {
    /// Parses 1 to 8 hex digits, either case, and keeps them as written.
    pub fn parse(s: &str) -> Result<Self, Reason> {
        let value = parse_hex_u32(s)?;
        // `parse_hex_u32` accepted 1 to 8 digits: all of them are kept.
        Ok(DeviceId::spelled(value, s.as_bytes()))
    }

    /// The id `value` spelled with the first (at most 8) of `digits`.
    fn spelled(value: u32, digits: &[u8]) -> Self {
        let mut text = [0u8; 8];
        let mut len = 0u8;
        for (slot, &digit) in text.iter_mut().zip(digits) {
            *slot = digit;
            len = len.saturating_add(1);
        }
        DeviceId { value, text, len }
    }

    /// The id of device number `value`, spelled upper-case without leading zeros.
    pub fn from_value(value: u32) -> Self {
        // At most 8 hex digits for a u32.
        DeviceId::spelled(value, format!("{value:X}").as_bytes())
    }

    /// The id as a number.
    pub fn value(&self) -> u32 {
        self.value
    }

    /// The id as sent: hex digits, case and leading zeros kept.
    pub fn as_str(&self) -> &str {
        let digits = self.text.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(digits).unwrap_or_default()
    }
}

impl PartialEq for DeviceId {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for DeviceId {}

impl std::hash::Hash for DeviceId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl PartialOrd for DeviceId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DeviceId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({:?})", self.as_str())
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn parse_hex_u32(s: &str) -> Result<u32, Reason> {
    if s.len() > 8 {
        return Err(Reason::TooManyDigits { max: 8 });
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Reason::NotHex);
    }
    u32::from_str_radix(s, 16).map_err(|_| Reason::NotHex)
}

/// The link quality Sigfox computes for a message (`lqi` by name, `linkQuality` by number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "UPPERCASE"))]
#[non_exhaustive]
pub enum LinkQuality {
    /// `LIMIT`, 0.
    Limit,
    /// `AVERAGE`, 1.
    Average,
    /// `GOOD`, 2.
    Good,
    /// `EXCELLENT`, 3.
    Excellent,
    /// `NA`, 4: not available.
    #[cfg_attr(feature = "serde", serde(rename = "NA"))]
    NotAvailable,
}

impl LinkQuality {
    /// Sigfox's name (`lqi`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Limit => "LIMIT",
            Self::Average => "AVERAGE",
            Self::Good => "GOOD",
            Self::Excellent => "EXCELLENT",
            Self::NotAvailable => "NA",
        }
    }

    /// Sigfox's number (`linkQuality`).
    pub fn code(&self) -> u8 {
        match self {
            Self::Limit => 0,
            Self::Average => 1,
            Self::Good => 2,
            Self::Excellent => 3,
            Self::NotAvailable => 4,
        }
    }

    /// The quality of number `code` (0–4).
    pub fn from_code(code: u64) -> Option<Self> {
        Some(match code {
            0 => Self::Limit,
            1 => Self::Average,
            2 => Self::Good,
            3 => Self::Excellent,
            4 => Self::NotAvailable,
            _ => return None,
        })
    }

    /// A quality by name, any case (`Good`, `GOOD`), or by number, as a number or digits:
    /// templates and Sigfox's API write it all these ways.
    fn from_value(v: &Value) -> Result<Self, Reason> {
        if let Value::String(s) = v {
            let name = s.trim();
            for q in [
                Self::Limit,
                Self::Average,
                Self::Good,
                Self::Excellent,
                Self::NotAvailable,
            ] {
                if name.eq_ignore_ascii_case(q.as_str()) {
                    return Ok(q);
                }
            }
        }
        let code = integer(v, 4).map_err(|_| Reason::NotALinkQuality)?;
        Self::from_code(code).ok_or(Reason::NotALinkQuality)
    }
}

impl fmt::Display for LinkQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One station that received the frame (DATA_ADVANCED `duplicates[]`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Duplicate {
    /// `bsId`: the station id, upper-case hex.
    pub bs_id: String,
    /// `rssi` in dBm.
    pub rssi: Option<f64>,
    /// `snr` in dB.
    pub snr: Option<f64>,
    /// `nbRep`: how many of the three replicas the station received.
    pub nb_rep: Option<u64>,
}

/// The backend's location estimate (DATA_ADVANCED `computedLocation`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ComputedLocation {
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lng: Option<f64>,
    /// Radius of the estimate in metres.
    pub radius: Option<f64>,
    /// `source`: how it was computed (Sigfox's code).
    pub source: Option<u64>,
    /// `status`: Sigfox's status code.
    pub status: Option<u64>,
}

/// A parsed callback. Every field but `device` is optional, because templates choose what they
/// send; what is present is validated.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Callback {
    /// The callback type, as given to [`Callback::parse`].
    pub kind: CallbackKind,
    /// The device.
    pub device: DeviceId,
    /// `deviceTypeId`, as sent.
    pub device_type_id: Option<String>,
    /// Epoch seconds.
    pub time: Option<u64>,
    /// The payload, 0–12 bytes (`""` is the empty payload of a 1-bit or empty frame).
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_impls::hex_bytes"))]
    pub data: Option<Vec<u8>>,
    /// 0–4095.
    pub seq_number: Option<u16>,
    /// Station id, upper-case hex.
    pub station: Option<String>,
    /// dBm.
    pub rssi: Option<f64>,
    /// dB.
    pub snr: Option<f64>,
    /// dB.
    pub avg_snr: Option<f64>,
    /// −90..=90.
    pub lat: Option<f64>,
    /// −180..=180.
    pub lng: Option<f64>,
    /// Metres (GEOLOC).
    pub radius: Option<f64>,
    /// BIDIR: the device waits for a downlink.
    pub ack: Option<bool>,
    /// DATA_ADVANCED stations.
    pub duplicates: Vec<Duplicate>,
    /// DATA_ADVANCED location.
    pub computed_location: Option<ComputedLocation>,
    /// ACKNOWLEDGE: 0–8.
    pub info_code: Option<u8>,
    /// ACKNOWLEDGE text.
    pub info_message: Option<String>,
    /// ACKNOWLEDGE: the device acknowledged the downlink.
    pub downlink_ack: Option<bool>,
    /// STATUS: °C.
    pub temp: Option<f64>,
    /// STATUS: volts.
    pub batt: Option<f64>,
    /// ERROR text.
    pub info: Option<String>,
    /// ERROR severity, as sent.
    pub severity: Option<String>,
    /// A repetition of a message already received ("send duplicate").
    pub duplicate: Option<bool>,
    /// `lqi`: the link quality by name.
    pub lqi: Option<LinkQuality>,
    /// `linkQuality`: the link quality by number.
    pub link_quality: Option<LinkQuality>,
    /// BIDIR `longPolling`.
    pub long_polling: Option<bool>,
    /// The operator that received the message, as sent.
    pub operator_name: Option<String>,
    /// The operator's country: ISO 3166-1 numeric, 0–999.
    pub country_code: Option<u16>,
    /// −90..=90: the latitude set on the device's page.
    pub fixed_lat: Option<f64>,
    /// −180..=180: the longitude set on the device's page.
    pub fixed_lng: Option<f64>,
    /// GEOLOC: where the location came from, as sent.
    pub geoloc_source: Option<String>,
    /// `customData#name` values: untrusted strings; in body order for form bodies, in key order
    /// for JSON bodies.
    pub custom_data: Vec<(String, String)>,
    /// Keys that are none of the above, with their values as sent.
    pub extra: Vec<(String, Value)>,
}

/// `null`, `"N/A"` and `""` mean absent.
fn present(v: &Value) -> Option<&Value> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() || s == "N/A" => None,
        other => Some(other),
    }
}

fn text<'v>(v: &'v Value, max: usize) -> Result<std::borrow::Cow<'v, str>, Reason> {
    let s = match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        Value::Number(n) => std::borrow::Cow::Owned(n.to_string()),
        Value::Bool(b) => std::borrow::Cow::Owned(b.to_string()),
        _ => {
            return Err(Reason::WrongType {
                expected: "a string, number or boolean",
            });
        }
    };
    if s.len() > max {
        return Err(Reason::ValueTooLong { max });
    }
    Ok(s)
}

fn decimal(v: &Value, min: f64, max: f64) -> Result<f64, Reason> {
    let x = match v {
        Value::Number(n) => n.as_f64().ok_or(Reason::NotANumber)?,
        Value::String(s) => {
            let t = s.trim();
            // Only plain decimals: Rust's parser would also take "inf" and "NaN".
            if t.is_empty()
                || t.len() > 32
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
            {
                return Err(Reason::NotANumber);
            }
            t.parse::<f64>().map_err(|_| Reason::NotANumber)?
        }
        _ => return Err(Reason::NotANumber),
    };
    if !x.is_finite() || x < min || x > max {
        return Err(Reason::OutOfRange { min, max });
    }
    Ok(x)
}

/// [`integer`] in the type of its bound, which the bound proves it fits.
fn integer_as<T: Copy + Into<u64> + TryFrom<u64>>(v: &Value, max: T) -> Result<T, Reason> {
    T::try_from(integer(v, max.into())?).map_err(|_| Reason::NotAnInteger)
}

fn integer(v: &Value, max: u64) -> Result<u64, Reason> {
    let x = match v {
        Value::Number(n) => match n.as_u64() {
            Some(x) => x,
            // An integral float such as 12.0 is accepted; a fraction or a negative is not.
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && (0.0..=9.0e15).contains(&f) => f as u64,
                _ => return Err(Reason::NotAnInteger),
            },
        },
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() || t.len() > 20 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Reason::NotAnInteger);
            }
            t.parse::<u64>().map_err(|_| Reason::NotAnInteger)?
        }
        _ => return Err(Reason::NotAnInteger),
    };
    if x > max {
        return Err(Reason::OutOfRange {
            min: 0.0,
            max: max as f64,
        });
    }
    Ok(x)
}

/// `true`/`false` as JSON or text in any case, and `1`/`0` as a number or digit (templates
/// and older callbacks send `duplicate` that way).
fn boolean(v: &Value) -> Result<bool, Reason> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s == "0" => Ok(false),
        Value::Number(n) => match n.as_u64() {
            Some(1) => Ok(true),
            Some(0) => Ok(false),
            _ => Err(Reason::NotABoolean),
        },
        _ => Err(Reason::NotABoolean),
    }
}

fn hex_id(v: &Value) -> Result<String, Reason> {
    let s = text(v, 8).map_err(|e| match e {
        Reason::ValueTooLong { .. } => Reason::TooManyDigits { max: 8 },
        other => other,
    })?;
    parse_hex_u32(&s)?;
    Ok(s.to_ascii_uppercase())
}

fn payload(v: &Value) -> Result<Vec<u8>, Reason> {
    let s = match v {
        Value::String(s) => s.as_str(),
        _ => {
            return Err(Reason::WrongType {
                expected: "a hex string",
            });
        }
    };
    let max = MAX_PAYLOAD_LEN.saturating_mul(2);
    if s.len() > max {
        return Err(Reason::TooManyDigits { max });
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Reason::NotHex);
    }
    hex::decode(s).map_err(|_| Reason::OddHexLength)
}

/// A nested value (`duplicates`, `computedLocation`) may arrive as JSON or, in a form body,
/// as a JSON string.
fn nested(v: &Value) -> Result<std::borrow::Cow<'_, Value>, Reason> {
    match v {
        Value::String(s) => serde_json::from_str(s)
            .map(std::borrow::Cow::Owned)
            .map_err(|_| Reason::WrongType { expected: "JSON" }),
        other => Ok(std::borrow::Cow::Borrowed(other)),
    }
}

fn obj_field<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    obj.get(name).and_then(present)
}

fn at<T>(path: impl FnOnce() -> String, r: Result<T, Reason>) -> Result<T, CallbackError> {
    r.map_err(|reason| CallbackError {
        field: path(),
        reason,
    })
}

const RSSI: (f64, f64) = (-200.0, 50.0);
const SNR: (f64, f64) = (-50.0, 100.0);

fn duplicates(
    v: &Value,
    name: &str,
    limits: &CallbackLimits,
) -> Result<Vec<Duplicate>, CallbackError> {
    let v = at(|| name.to_owned(), nested(v))?;
    let items = match v.as_ref() {
        Value::Array(a) => a,
        _ => {
            return Err(CallbackError {
                field: name.to_owned(),
                reason: Reason::WrongType {
                    expected: "an array",
                },
            });
        }
    };
    if items.len() > limits.max_duplicates {
        return Err(CallbackError {
            field: name.to_owned(),
            reason: Reason::TooManyDuplicates {
                max: limits.max_duplicates,
            },
        });
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = |f: &str| format!("{name}[{i}].{f}");
        let obj = item.as_object().ok_or_else(|| CallbackError {
            field: format!("{name}[{i}]"),
            reason: Reason::WrongType {
                expected: "an object",
            },
        })?;
        let bs_id = match obj_field(obj, "bsId") {
            Some(v) => at(|| path("bsId"), hex_id(v))?,
            None => {
                return Err(CallbackError {
                    field: path("bsId"),
                    reason: Reason::Missing,
                });
            }
        };
        out.push(Duplicate {
            bs_id,
            rssi: obj_field(obj, "rssi")
                .map(|v| at(|| path("rssi"), decimal(v, RSSI.0, RSSI.1)))
                .transpose()?,
            snr: obj_field(obj, "snr")
                .map(|v| at(|| path("snr"), decimal(v, SNR.0, SNR.1)))
                .transpose()?,
            nb_rep: obj_field(obj, "nbRep")
                .map(|v| at(|| path("nbRep"), integer(v, 3)))
                .transpose()?,
        });
    }
    Ok(out)
}

fn computed_location(v: &Value, name: &str) -> Result<ComputedLocation, CallbackError> {
    let v = at(|| name.to_owned(), nested(v))?;
    let obj = v.as_object().ok_or_else(|| CallbackError {
        field: name.to_owned(),
        reason: Reason::WrongType {
            expected: "an object",
        },
    })?;
    let path = |f: &str| format!("{name}.{f}");
    Ok(ComputedLocation {
        lat: obj_field(obj, "lat")
            .map(|v| at(|| path("lat"), decimal(v, -90.0, 90.0)))
            .transpose()?,
        lng: obj_field(obj, "lng")
            .map(|v| at(|| path("lng"), decimal(v, -180.0, 180.0)))
            .transpose()?,
        radius: obj_field(obj, "radius")
            .map(|v| at(|| path("radius"), decimal(v, 0.0, 1.0e8)))
            .transpose()?,
        source: obj_field(obj, "source")
            .map(|v| at(|| path("source"), integer(v, u64::from(u32::MAX))))
            .transpose()?,
        status: obj_field(obj, "status")
            .map(|v| at(|| path("status"), integer(v, u64::from(u32::MAX))))
            .transpose()?,
    })
}

/// 9999-12-31T23:59:59Z: a later `time` is a template or unit mistake.
const MAX_TIME: u64 = 253_402_300_799;

const CUSTOM_PREFIX: &str = "customData#";

impl Callback {
    /// Parses a body whose encoding is detected from `content_type` and the body
    /// ([`BodyEncoding::detect`]).
    pub fn parse(
        kind: CallbackKind,
        body: &[u8],
        content_type: Option<&str>,
        options: &CallbackOptions,
    ) -> Result<Self, CallbackError> {
        Self::parse_as(
            kind,
            body,
            BodyEncoding::detect(content_type, body),
            options,
        )
    }

    /// Parses a body in the given encoding.
    pub fn parse_as(
        kind: CallbackKind,
        body: &[u8],
        encoding: BodyEncoding,
        options: &CallbackOptions,
    ) -> Result<Self, CallbackError> {
        let limits = &options.limits;
        let pairs = body::split(body, encoding, limits)?;
        let mut cb = Callback {
            kind,
            device: DeviceId::from_value(0),
            device_type_id: None,
            time: None,
            data: None,
            seq_number: None,
            station: None,
            rssi: None,
            snr: None,
            avg_snr: None,
            lat: None,
            lng: None,
            radius: None,
            ack: None,
            duplicates: Vec::new(),
            computed_location: None,
            info_code: None,
            info_message: None,
            downlink_ack: None,
            temp: None,
            batt: None,
            info: None,
            severity: None,
            duplicate: None,
            lqi: None,
            link_quality: None,
            long_polling: None,
            operator_name: None,
            country_code: None,
            fixed_lat: None,
            fixed_lng: None,
            geoloc_source: None,
            custom_data: Vec::new(),
            extra: Vec::new(),
        };
        let mut device = None;
        let max = limits.max_value_len;
        for (name, raw) in pairs {
            if let Some(custom) = name.strip_prefix(CUSTOM_PREFIX) {
                if custom.is_empty()
                    || custom.len() > 64
                    || !custom
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(CallbackError {
                        field: name,
                        reason: Reason::InvalidCustomName,
                    });
                }
                if let Some(v) = present(&raw) {
                    let value = at(|| name.clone(), text(v, max))?.into_owned();
                    cb.custom_data.push((custom.to_owned(), value));
                }
                continue;
            }
            let Some(key) = options.lookup(&name) else {
                if matches!(&raw, Value::String(s) if s.len() > max) {
                    return Err(CallbackError {
                        field: name,
                        reason: Reason::ValueTooLong { max },
                    });
                }
                cb.extra.push((name, raw));
                continue;
            };
            // `data: ""` is the empty payload, not an absent one.
            let v = match (&raw, key) {
                (Value::String(s), Key::Data) if s.is_empty() => &raw,
                _ => match present(&raw) {
                    Some(v) => v,
                    None => continue,
                },
            };
            let field = || name.clone();
            match key {
                Key::Device => {
                    let s = at(
                        field,
                        text(v, 8).map_err(|e| match e {
                            Reason::ValueTooLong { .. } => Reason::TooManyDigits { max: 8 },
                            other => other,
                        }),
                    )?;
                    device = Some(at(field, DeviceId::parse(&s))?);
                }
                Key::DeviceTypeId => {
                    cb.device_type_id = Some(at(field, text(v, max))?.into_owned())
                }
                Key::Time => cb.time = Some(at(field, integer(v, MAX_TIME))?),
                Key::Data => cb.data = Some(at(field, payload(v))?),
                Key::SeqNumber => {
                    cb.seq_number = Some(at(field, integer_as(v, 4095_u16))?);
                }
                Key::Station => cb.station = Some(at(field, hex_id(v))?),
                Key::Rssi => cb.rssi = Some(at(field, decimal(v, RSSI.0, RSSI.1))?),
                Key::Snr => cb.snr = Some(at(field, decimal(v, SNR.0, SNR.1))?),
                Key::AvgSnr => cb.avg_snr = Some(at(field, decimal(v, SNR.0, SNR.1))?),
                Key::Lat => cb.lat = Some(at(field, decimal(v, -90.0, 90.0))?),
                Key::Lng => cb.lng = Some(at(field, decimal(v, -180.0, 180.0))?),
                Key::Radius => cb.radius = Some(at(field, decimal(v, 0.0, 1.0e8))?),
                Key::Ack => cb.ack = Some(at(field, boolean(v))?),
                Key::Duplicates => cb.duplicates = duplicates(v, &name, limits)?,
                Key::ComputedLocation => cb.computed_location = Some(computed_location(v, &name)?),
                Key::InfoCode => {
                    cb.info_code = Some(at(field, integer_as(v, 8_u8))?);
                }
                Key::InfoMessage => cb.info_message = Some(at(field, text(v, max))?.into_owned()),
                Key::DownlinkAck => cb.downlink_ack = Some(at(field, boolean(v))?),
                Key::Temp => cb.temp = Some(at(field, decimal(v, -273.15, 1000.0))?),
                Key::Batt => cb.batt = Some(at(field, decimal(v, 0.0, 100.0))?),
                Key::Info => cb.info = Some(at(field, text(v, max))?.into_owned()),
                Key::Severity => cb.severity = Some(at(field, text(v, max))?.into_owned()),
                Key::Duplicate => cb.duplicate = Some(at(field, boolean(v))?),
                Key::Lqi => cb.lqi = Some(at(field, LinkQuality::from_value(v))?),
                Key::LinkQuality => cb.link_quality = Some(at(field, LinkQuality::from_value(v))?),
                Key::LongPolling => cb.long_polling = Some(at(field, boolean(v))?),
                Key::OperatorName => {
                    cb.operator_name = Some(at(field, text(v, max))?.into_owned());
                }
                Key::CountryCode => {
                    cb.country_code = Some(at(field, integer_as(v, 999_u16))?);
                }
                Key::FixedLat => cb.fixed_lat = Some(at(field, decimal(v, -90.0, 90.0))?),
                Key::FixedLng => cb.fixed_lng = Some(at(field, decimal(v, -180.0, 180.0))?),
                Key::GeolocSource => {
                    cb.geoloc_source = Some(at(field, text(v, max))?.into_owned());
                }
            }
        }
        cb.device = device.ok_or_else(|| CallbackError {
            field: options.name_of(Key::Device).to_owned(),
            reason: Reason::Missing,
        })?;
        Ok(cb)
    }
}
