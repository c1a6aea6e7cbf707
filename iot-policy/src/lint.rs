//! Lints: legal policies that probably do not mean what their author meant.

use std::fmt;

use crate::action::{ALL_ACTIONS, Action};
use crate::pattern::{Pattern, Piece};
use crate::policy::{Effect, Policy, ResourceEntry, Statement, Version};
use crate::variables::Key;

/// What a lint is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LintKind {
    /// `*` inside a `topic/` or `topicfilter/` resource with more text after it: `*` crosses
    /// `/` levels, where the MQTT `+` (one level) was probably meant.
    StarCrossesLevels,
    /// `+` or `#` in a `topic/` resource: topic names never contain them, so the entry is
    /// literal text that matches no publish.
    MqttWildcardInTopic,
    /// An `Allow` of `*` or `iot:*`: every action, including ones added later.
    AllActions,
    /// An `Allow` on `Resource: "*"`.
    AllResources,
    /// `iot:Subscribe` is allowed but `iot:Receive` never is: the subscription succeeds and no
    /// message is ever delivered.
    SubscribeWithoutReceive,
    /// `iot:Connect` allowed on `client/*` (without a variable): a device can connect with any
    /// client id, including another device's, and take over its session.
    ConnectAnyClient,
    /// A thing policy variable: it resolves only when the client id is the name of a thing
    /// attached to the certificate; otherwise the entry matches nothing.
    ThingVariable,
    /// `${...}` in a policy without `"Version": "2012-10-17"`: it is literal text.
    VariableNotSubstituted,
    /// A statement that can never decide anything, because an unconditional statement covers
    /// all its actions and resources (a Deny, or an earlier statement of the same effect).
    Shadowed,
}

/// One lint warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// What it is about.
    pub kind: LintKind,
    /// The JSON path of the element, e.g. `Statement[0].Resource[1]`.
    pub path: String,
    /// A sentence explaining the problem.
    pub message: String,
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The part of an ARN after `topic/`, `topicfilter/` or `client/`, if it is that kind.
fn after<'s>(source: &'s str, kind: &str) -> Option<&'s str> {
    let (_, rest) = source.split_once(':')?;
    let mut parts = rest.splitn(5, ':');
    let resource = parts.nth(4)?;
    resource.strip_prefix(kind)
}

impl Policy {
    /// Warnings for legal constructs that are usually mistakes, each with its JSON path.
    pub fn lint(&self) -> Vec<Lint> {
        let mut out = Vec::new();
        let mut push = |kind, path: &str, message: String| {
            out.push(Lint {
                kind,
                path: path.to_owned(),
                message,
            })
        };
        for st in &self.statements {
            let allow = st.effect == Effect::Allow;
            for (text, path) in &st.action_entries {
                if allow && !st.not_action && (text == "*" || text.eq_ignore_ascii_case("iot:*")) {
                    push(
                        LintKind::AllActions,
                        path,
                        format!("{text:?} allows every action; list the actions the device needs"),
                    );
                }
            }
            for r in &st.resources {
                lint_resource(self, st, r, &mut push);
            }
        }
        let allows = |action: Action| {
            self.statements
                .iter()
                .any(|s| s.effect == Effect::Allow && s.actions & action.bit() != 0)
        };
        if allows(Action::Subscribe) && !allows(Action::Receive) {
            if let Some(st) = self
                .statements
                .iter()
                .find(|s| s.effect == Effect::Allow && s.actions & Action::Subscribe.bit() != 0)
            {
                push(
                    LintKind::SubscribeWithoutReceive,
                    &st.path,
                    "iot:Subscribe is allowed but iot:Receive is not: subscribers will never get a message".to_owned(),
                );
            }
        }
        for (i, st) in self.statements.iter().enumerate() {
            let shadow = self.statements.iter().enumerate().find(|&(j, other)| {
                j != i
                    && (other.effect == Effect::Deny || (other.effect == st.effect && j < i))
                    && covers(other, st)
            });
            if let Some((_, other)) = shadow {
                push(
                    LintKind::Shadowed,
                    &st.path,
                    format!(
                        "{} covers every action and resource of this statement, which therefore never decides",
                        other.path
                    ),
                );
            }
        }
        out
    }
}

fn lint_resource(
    policy: &Policy,
    st: &Statement,
    r: &ResourceEntry,
    push: &mut impl FnMut(LintKind, &str, String),
) {
    let source = &*r.pattern.source;
    let allow = st.effect == Effect::Allow && !st.not_resource;
    // `*`, or an ARN whose whole resource part is `*` (`arn:aws:iot:us-east-1:123456789012:*`).
    if allow && (source == "*" || after(source, "") == Some("*")) {
        push(
            LintKind::AllResources,
            &r.path,
            "Resource \"*\" grants the actions on every client id, topic and thing".to_owned(),
        );
    }
    for kind in ["topic/", "topicfilter/"] {
        if let Some(rest) = after(source, kind) {
            if let Some((_, tail)) = rest.split_once('*') {
                if !tail.is_empty() {
                    push(
                        LintKind::StarCrossesLevels,
                        &r.path,
                        format!(
                            "\"*\" in {source:?} matches across topic levels, including \"/\"; if one level was meant, list the levels or use a variable"
                        ),
                    );
                }
            }
        }
    }
    if let Some(rest) = after(source, "topic/") {
        if rest.contains(['+', '#']) {
            push(
                LintKind::MqttWildcardInTopic,
                &r.path,
                format!(
                    "\"+\" and \"#\" are literal characters in a topic/ resource ({source:?}); use \"*\" there, and topicfilter/ for subscriptions"
                ),
            );
        }
    }
    if allow && st.actions & Action::Connect.bit() != 0 {
        if let Some(rest) = after(source, "client/") {
            if rest.starts_with('*') && r.pattern.variables().next().is_none() {
                push(
                    LintKind::ConnectAnyClient,
                    &r.path,
                    format!(
                        "{source:?} lets a device connect with any client id, including another device's; use client/${{iot:Connection.Thing.ThingName}}"
                    ),
                );
            }
        }
    }
    if r.pattern
        .variables()
        .any(|k| k.key.is_thing() || k.key == Key::ThingIsAttached)
    {
        push(
            LintKind::ThingVariable,
            &r.path,
            "a thing policy variable resolves only when the client id is the name of a thing attached to the certificate; otherwise this entry matches nothing".to_owned(),
        );
    }
    if policy.version == Version::V2008_10_17 && source.contains("${") {
        let why = if policy.version_given {
            "\"Version\": \"2008-10-17\""
        } else {
            "a policy without \"Version\""
        };
        push(
            LintKind::VariableNotSubstituted,
            &r.path,
            format!(
                "\"${{\" is literal text in {why}; use \"Version\": \"2012-10-17\" for policy variables"
            ),
        );
    }
}

/// Whether unconditional statement `t` covers every action and resource of `s`.
fn covers(t: &Statement, s: &Statement) -> bool {
    if !t.conditions.is_empty() || t.not_resource || s.not_resource {
        return false;
    }
    if s.actions & !t.actions & ALL_ACTIONS != 0 || s.actions == 0 {
        return false;
    }
    s.resources.iter().all(|sr| {
        t.resources
            .iter()
            .any(|tr| pattern_covers(&tr.pattern, &sr.pattern))
    })
}

/// A sound, partial test that every text `s` matches, `t` matches too: `t` is `*`, equal to
/// `s`, or a literal prefix followed by one `*` that `s` literally starts with.
fn pattern_covers(t: &Pattern, s: &Pattern) -> bool {
    if t.is_any() || (t.source == s.source && t.pieces == s.pieces) {
        return true;
    }
    match &*t.pieces {
        [Piece::Lit(prefix), Piece::Star] => {
            !prefix.contains('$')
                && match s.pieces.first() {
                    Some(Piece::Lit(first)) => first.starts_with(&**prefix),
                    _ => false,
                }
        }
        _ => false,
    }
}
