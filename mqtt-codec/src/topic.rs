//! Topic names and topic filters (§4.7): validation, matching, and AWS IoT's extra limits.

use std::fmt;

use crate::string::{MAX_STRING_LEN, Scan, StringError, check_mqtt_text, utf8, validated_text};

/// AWS IoT Core: at most 7 forward slashes (8 levels) in a topic or topic filter.
pub const AWS_IOT_MAX_LEVELS: usize = 8;
/// AWS IoT Core: at most 256 bytes of UTF-8 in a topic.
pub const AWS_IOT_MAX_TOPIC_LEN: usize = 256;

/// Why a string is not a valid topic name or topic filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicError {
    /// Topic names and filters are at least one character long [MQTT-4.7.3-1].
    Empty,
    /// Longer than 65,535 bytes [MQTT-4.7.3-3].
    TooLong {
        /// Length in bytes.
        len: usize,
    },
    /// Not a valid MQTT string: ill-formed UTF-8, a surrogate, or U+0000.
    InvalidString(StringError),
    /// A topic name contains `+` or `#` [MQTT-3.3.2-2].
    WildcardInName {
        /// Offset of the wildcard.
        offset: usize,
    },
    /// `#` that is not alone in the last level [MQTT-4.7.1-2].
    MisplacedMultiLevelWildcard {
        /// Offset of the `#`.
        offset: usize,
    },
    /// `+` that does not occupy a whole level [MQTT-4.7.1-3].
    MisplacedSingleLevelWildcard {
        /// Offset of the `+`.
        offset: usize,
    },
    /// More levels than AWS IoT Core accepts (opt-in check).
    AwsTooManyLevels {
        /// Levels counted (Basic Ingest's `$aws/rules/<rule>/` prefix excluded).
        levels: usize,
    },
    /// Longer than AWS IoT Core accepts (opt-in check).
    AwsTooLong {
        /// Bytes counted (Basic Ingest's `$aws/rules/<rule>/` prefix excluded).
        len: usize,
    },
}

impl TopicError {
    /// The clause of MQTT 3.1.1 (or the AWS IoT quota) the topic broke.
    pub fn rule(&self) -> &'static str {
        match self {
            TopicError::Empty => "MQTT-4.7.3-1",
            TopicError::TooLong { .. } => "MQTT-4.7.3-3",
            TopicError::InvalidString(StringError::NullCharacter { .. }) => "MQTT-4.7.3-2",
            TopicError::InvalidString(StringError::TooLong { .. }) => "MQTT-4.7.3-3",
            TopicError::InvalidString(_) => "MQTT-1.5.3-1",
            TopicError::WildcardInName { .. } => "MQTT-3.3.2-2",
            TopicError::MisplacedMultiLevelWildcard { .. } => "MQTT-4.7.1-2",
            TopicError::MisplacedSingleLevelWildcard { .. } => "MQTT-4.7.1-3",
            TopicError::AwsTooManyLevels { .. } | TopicError::AwsTooLong { .. } => {
                "AWS IoT Core quota"
            }
        }
    }

    /// Offset of the offending byte within the topic, where one byte is at fault.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            TopicError::WildcardInName { offset }
            | TopicError::MisplacedMultiLevelWildcard { offset }
            | TopicError::MisplacedSingleLevelWildcard { offset }
            | TopicError::InvalidString(
                StringError::InvalidUtf8 { offset }
                | StringError::Utf16Surrogate { offset }
                | StringError::NullCharacter { offset },
            ) => Some(offset),
            _ => None,
        }
    }
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopicError::Empty => f.write_str("topic is empty"),
            TopicError::TooLong { len } => write!(f, "topic is {len} bytes, more than 65535"),
            TopicError::InvalidString(e) => write!(f, "topic is not a valid string: {e}"),
            TopicError::WildcardInName { offset } => {
                write!(f, "wildcard at byte {offset} in a topic name")
            }
            TopicError::MisplacedMultiLevelWildcard { offset } => write!(
                f,
                "'#' at byte {offset} must be alone in the last level of the filter"
            ),
            TopicError::MisplacedSingleLevelWildcard { offset } => {
                write!(f, "'+' at byte {offset} must occupy a whole level")
            }
            TopicError::AwsTooManyLevels { levels } => write!(
                f,
                "{levels} levels, more than AWS IoT's {AWS_IOT_MAX_LEVELS}"
            ),
            TopicError::AwsTooLong { len } => write!(
                f,
                "{len} bytes, more than AWS IoT's {AWS_IOT_MAX_TOPIC_LEN}"
            ),
        }
    }
}

impl std::error::Error for TopicError {}

/// Checks the rules every topic name obeys: non-empty, at most 65,535 bytes, a valid MQTT
/// string, no wildcard.
#[inline]
pub fn validate_topic_name(bytes: &[u8]) -> Result<(), TopicError> {
    let scan = check_topic_text(bytes)?;
    if scan.wildcard {
        if let Some(offset) = bytes.iter().position(|&b| b == b'+' || b == b'#') {
            return Err(TopicError::WildcardInName { offset });
        }
    }
    Ok(())
}

/// Checks the rules every topic filter obeys: non-empty, at most 65,535 bytes, a valid MQTT
/// string, `+` occupying whole levels and `#` alone in the last level.
#[inline]
pub fn validate_topic_filter(bytes: &[u8]) -> Result<(), TopicError> {
    let scan = check_topic_text(bytes)?;
    if scan.wildcard {
        check_wildcards(bytes)?;
    }
    Ok(())
}

/// [`validate_topic_name`], borrowing the topic as text.
#[inline]
pub(crate) fn topic_name_str(bytes: &[u8]) -> Result<&str, TopicError> {
    validate_topic_name(bytes)?;
    utf8(bytes).map_err(TopicError::InvalidString)
}

/// The checks names and filters share, in the order errors are reported: length, UTF-8, U+0000.
#[inline]
fn check_topic_text(bytes: &[u8]) -> Result<Scan, TopicError> {
    check_length(bytes)?;
    check_mqtt_text(bytes).map_err(TopicError::InvalidString)
}

fn check_wildcards(bytes: &[u8]) -> Result<(), TopicError> {
    let mut level_start = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'/' => level_start = i.saturating_add(1),
            b'+' | b'#' => {
                let alone =
                    i == level_start && matches!(bytes.get(i.saturating_add(1)), None | Some(b'/'));
                if b == b'+' && !alone {
                    return Err(TopicError::MisplacedSingleLevelWildcard { offset: i });
                }
                if b == b'#' && !(alone && i.saturating_add(1) == bytes.len()) {
                    return Err(TopicError::MisplacedMultiLevelWildcard { offset: i });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[inline]
fn check_length(bytes: &[u8]) -> Result<(), TopicError> {
    if bytes.is_empty() {
        return Err(TopicError::Empty);
    }
    if bytes.len() > MAX_STRING_LEN {
        return Err(TopicError::TooLong { len: bytes.len() });
    }
    Ok(())
}

/// Whether `filter` matches `name` under MQTT 3.1.1's rules (§4.7).
///
/// `+` matches exactly one level (which may be empty), `#` matches the parent level and any number
/// of child levels (`sport/#` matches `sport`), and a filter starting with a wildcard never
/// matches a name starting with `$` [MQTT-4.7.2-1]. No normalisation is done [MQTT-4.7.3-4].
pub fn matches(filter: &TopicFilter, name: &TopicName) -> bool {
    matches_bytes(filter.as_bytes(), name.as_bytes())
}

fn matches_bytes(filter: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'$') && matches!(filter.first(), Some(b'+' | b'#')) {
        return false;
    }
    let mut filter_levels = filter.split(|&b| b == b'/');
    let mut name_levels = name.split(|&b| b == b'/');
    loop {
        match (filter_levels.next(), name_levels.next()) {
            (Some(b"#"), _) => return true,
            (Some(b"+"), Some(_)) => {}
            (Some(f), Some(n)) if f == n => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Checks AWS IoT Core's quotas on a topic or filter: at most 8 levels (7 slashes) and 256
/// bytes, not counting the `$aws/rules/<rule-name>/` prefix of a Basic Ingest topic.
fn check_aws_limits(bytes: &[u8]) -> Result<(), TopicError> {
    let counted = strip_basic_ingest_prefix(bytes);
    if counted.len() > AWS_IOT_MAX_TOPIC_LEN {
        return Err(TopicError::AwsTooLong { len: counted.len() });
    }
    let levels = counted
        .iter()
        .filter(|&&b| b == b'/')
        .count()
        .saturating_add(1);
    if levels > AWS_IOT_MAX_LEVELS {
        return Err(TopicError::AwsTooManyLevels { levels });
    }
    Ok(())
}

/// The topic after `$aws/rules/<rule-name>/`; the whole topic when it has no such prefix (AWS
/// counts a topic that merely starts with `$aws/rules/` whole).
fn strip_basic_ingest_prefix(bytes: &[u8]) -> &[u8] {
    const PREFIX: &[u8] = b"$aws/rules/";
    match bytes.split_at_checked(PREFIX.len()) {
        Some((head, after)) if head.eq_ignore_ascii_case(PREFIX) => after
            .iter()
            .position(|&b| b == b'/')
            .and_then(|slash| after.get(slash.saturating_add(1)..))
            .unwrap_or(bytes),
        _ => bytes,
    }
}

validated_text!(
    /// A validated topic name: what a PUBLISH is sent to. Never contains `+` or `#`.
    ///
    /// Shares the buffer it was decoded from; equality, ordering and hashing are those of the bytes.
    TopicName,
    validate_topic_name,
    TopicError
);

validated_text!(
    /// A validated topic filter: what a SUBSCRIBE asks for. `+` and `#` are wildcards.
    ///
    /// Shares the buffer it was decoded from; equality, ordering and hashing are those of the bytes.
    TopicFilter,
    validate_topic_filter,
    TopicError
);

macro_rules! topic_methods {
    ($($name:ident),*) => {$(
        impl $name {
            /// The levels, split at `/`.
            pub fn levels(&self) -> impl Iterator<Item = &str> {
                self.as_str().split('/')
            }

            /// Checks AWS IoT Core's quotas: at most 8 levels and 256 bytes, not counting the
            /// `$aws/rules/<rule-name>/` prefix of a Basic Ingest topic.
            pub fn check_aws_iot_limits(&self) -> Result<(), TopicError> {
                check_aws_limits(&self.0)
            }
        }
    )*};
}
topic_methods!(TopicName, TopicFilter);

impl TopicFilter {
    /// Whether this filter matches `name`; see [`matches()`].
    pub fn matches(&self, name: &TopicName) -> bool {
        matches(self, name)
    }

    /// Whether the filter contains a wildcard.
    pub fn has_wildcards(&self) -> bool {
        self.0.iter().any(|&b| b == b'+' || b == b'#')
    }
}

impl From<TopicName> for TopicFilter {
    /// Every topic name is a filter that matches exactly itself.
    fn from(name: TopicName) -> Self {
        Self(name.0)
    }
}
