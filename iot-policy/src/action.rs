//! AWS IoT data-plane actions and the action patterns of `Action`/`NotAction`.

use std::fmt;

use crate::pattern::glob_match_str;

/// An AWS IoT data-plane action that a policy can allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Action {
    /// `iot:Connect`, on `client/<clientId>`.
    Connect,
    /// `iot:Publish`, on `topic/<topicName>`.
    Publish,
    /// `iot:Subscribe`, on `topicfilter/<topicFilter>`.
    Subscribe,
    /// `iot:Receive`, on `topic/<topicName>`, checked on every delivery.
    Receive,
    /// `iot:RetainPublish`, on `topic/<topicName>`, for a PUBLISH with the retain flag.
    RetainPublish,
    /// `iot:GetRetainedMessage`.
    GetRetainedMessage,
    /// `iot:ListRetainedMessages`.
    ListRetainedMessages,
    /// `iot:GetThingShadow`.
    GetThingShadow,
    /// `iot:UpdateThingShadow`.
    UpdateThingShadow,
    /// `iot:DeleteThingShadow`.
    DeleteThingShadow,
    /// `iot:ListNamedShadowsForThing`.
    ListNamedShadowsForThing,
    /// `iot:DescribeJobExecution`.
    DescribeJobExecution,
    /// `iot:GetPendingJobExecutions`.
    GetPendingJobExecutions,
    /// `iot:StartNextPendingJobExecution`.
    StartNextPendingJobExecution,
    /// `iot:UpdateJobExecution`.
    UpdateJobExecution,
    /// `iot:AssumeRoleWithCertificate` (the credentials provider).
    AssumeRoleWithCertificate,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 16] = [
        Action::Connect,
        Action::Publish,
        Action::Subscribe,
        Action::Receive,
        Action::RetainPublish,
        Action::GetRetainedMessage,
        Action::ListRetainedMessages,
        Action::GetThingShadow,
        Action::UpdateThingShadow,
        Action::DeleteThingShadow,
        Action::ListNamedShadowsForThing,
        Action::DescribeJobExecution,
        Action::GetPendingJobExecutions,
        Action::StartNextPendingJobExecution,
        Action::UpdateJobExecution,
        Action::AssumeRoleWithCertificate,
    ];

    /// The action's name as policies write it, e.g. `iot:Publish`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Connect => "iot:Connect",
            Action::Publish => "iot:Publish",
            Action::Subscribe => "iot:Subscribe",
            Action::Receive => "iot:Receive",
            Action::RetainPublish => "iot:RetainPublish",
            Action::GetRetainedMessage => "iot:GetRetainedMessage",
            Action::ListRetainedMessages => "iot:ListRetainedMessages",
            Action::GetThingShadow => "iot:GetThingShadow",
            Action::UpdateThingShadow => "iot:UpdateThingShadow",
            Action::DeleteThingShadow => "iot:DeleteThingShadow",
            Action::ListNamedShadowsForThing => "iot:ListNamedShadowsForThing",
            Action::DescribeJobExecution => "iot:DescribeJobExecution",
            Action::GetPendingJobExecutions => "iot:GetPendingJobExecutions",
            Action::StartNextPendingJobExecution => "iot:StartNextPendingJobExecution",
            Action::UpdateJobExecution => "iot:UpdateJobExecution",
            Action::AssumeRoleWithCertificate => "iot:AssumeRoleWithCertificate",
        }
    }

    /// Looks an action up by name, ignoring ASCII case as IAM does (`IOT:publish`).
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Position in [`Action::ALL`], used as a bit and an index.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn bit(self) -> u32 {
        1u32 << (self as u32)
    }
}

/// The kind of resource an action applies to, from AWS IoT Core's table of action
/// resources: a policy names it in the resource's ARN,
/// `arn:aws:iot:<region>:<account>:<type>/<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// `client/<clientId>`.
    Client,
    /// `topic/<topicName>`.
    Topic,
    /// `topicfilter/<topicFilter>`.
    TopicFilter,
    /// `thing/<thingName>` (and `thing/<thingName>/<shadowName>` for named shadows).
    Thing,
    /// `rolealias/<alias>`.
    RoleAlias,
    /// No resource of its own: the policy's resource must be `*`.
    All,
}

impl ResourceKind {
    /// The resource type as ARNs write it (`client`, `topicfilter`, ...); `None` for
    /// [`ResourceKind::All`].
    pub fn arn_type(self) -> Option<&'static str> {
        match self {
            ResourceKind::Client => Some("client"),
            ResourceKind::Topic => Some("topic"),
            ResourceKind::TopicFilter => Some("topicfilter"),
            ResourceKind::Thing => Some("thing"),
            ResourceKind::RoleAlias => Some("rolealias"),
            ResourceKind::All => None,
        }
    }
}

impl Action {
    /// The kind of resource the action applies to: what to build the resource's ARN from.
    pub fn resource_kind(self) -> ResourceKind {
        match self {
            Action::Connect => ResourceKind::Client,
            Action::Publish
            | Action::Receive
            | Action::RetainPublish
            | Action::GetRetainedMessage => ResourceKind::Topic,
            Action::Subscribe => ResourceKind::TopicFilter,
            Action::GetThingShadow
            | Action::UpdateThingShadow
            | Action::DeleteThingShadow
            | Action::DescribeJobExecution
            | Action::GetPendingJobExecutions
            | Action::StartNextPendingJobExecution
            | Action::UpdateJobExecution => ResourceKind::Thing,
            Action::AssumeRoleWithCertificate => ResourceKind::RoleAlias,
            Action::ListRetainedMessages | Action::ListNamedShadowsForThing => ResourceKind::All,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Written as its AWS name (`iot:Publish`); read back by [`Action::from_name`].
#[cfg(feature = "serde")]
impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Action::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format_args!("{name:?} is not an AWS IoT action"))
        })
    }
}

/// Bit set of every action.
pub(crate) const ALL_ACTIONS: u32 = (1u32 << Action::ALL.len()) - 1;

/// Why an action string was rejected.
pub(crate) enum ActionPatternError {
    Malformed,
    Unknown,
}

/// Compiles one `Action` entry into the set of known actions it matches. Matching is
/// case-insensitive with `*` and `?` wildcards, as in IAM. Entries of another service
/// (`greengrass:*`) are accepted and match no IoT action; an `iot:` entry without wildcards that
/// names no action is rejected, since it is always a typo.
pub(crate) fn compile_action_pattern(pattern: &str) -> Result<u32, ActionPatternError> {
    if pattern == "*" {
        return Ok(ALL_ACTIONS);
    }
    let Some((service, name)) = pattern.split_once(':') else {
        return Err(ActionPatternError::Malformed);
    };
    let service_ok = !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*' || b == b'?');
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?');
    if !service_ok || !name_ok {
        return Err(ActionPatternError::Malformed);
    }
    let lower = pattern.to_ascii_lowercase();
    let mut mask = 0u32;
    for action in Action::ALL {
        if glob_match_str(&lower, &action.name().to_ascii_lowercase()) {
            mask |= action.bit();
        }
    }
    let has_wildcard = pattern.contains(['*', '?']);
    if mask == 0 && !has_wildcard && service.eq_ignore_ascii_case("iot") {
        return Err(ActionPatternError::Unknown);
    }
    Ok(mask)
}
