//! Explanations: why a request was allowed or denied.

use std::fmt;

use crate::action::Action;
use crate::policy::Effect;
use crate::set::Decision;

/// Which statement: policy name, index in the policy, `Sid`, effect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StatementInfo {
    /// The policy's name in the [`PolicySet`](crate::PolicySet).
    pub policy: String,
    /// The statement's position in its policy, from 0.
    pub index: usize,
    /// Its `Sid`, if any.
    pub sid: Option<String>,
    /// Its `Effect`.
    pub effect: Effect,
}

impl fmt::Display for StatementInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy {:?} statement {}", self.policy, self.index)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid {sid:?})")?;
        }
        write!(f, " [{}]", self.effect)
    }
}

/// Why a statement did not decide the request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Reason {
    /// Its `Action`/`NotAction` does not cover the action.
    Action,
    /// No `Resource` entry matched (or a `NotResource` entry did).
    Resource,
    /// The resource entries that could have matched use a policy variable that did not
    /// resolve in this request.
    Unresolved,
    /// A condition was false.
    Condition {
        /// The operator as written.
        operator: String,
        /// The key as written.
        key: String,
    },
    /// It applies, but it is an `Allow` and an explicit deny decided.
    Overridden,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Action => f.write_str("action not covered"),
            Reason::Resource => f.write_str("resource did not match"),
            Reason::Unresolved => {
                f.write_str("resource uses a policy variable that did not resolve")
            }
            Reason::Condition { operator, key } => {
                write!(f, "condition {operator} on {key} was false")
            }
            Reason::Overridden => f.write_str("applies, but an explicit deny wins"),
        }
    }
}

/// What a policy variable resolved to in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Resolved {
    /// Substituted as this literal text.
    Value(String),
    /// Absent from the request: entries using it match nothing.
    Missing,
    /// A certificate value containing `*`, `$`, `+`, `?` or `#`: not substituted.
    Unsafe(String),
}

/// One policy variable and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VariableInfo {
    /// The name inside `${...}`.
    pub name: String,
    /// Its resolution.
    pub resolved: Resolved,
}

/// The answer of [`PolicySet::explain`](crate::PolicySet::explain).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Explanation {
    /// The decision, identical to [`PolicySet::evaluate`](crate::PolicySet::evaluate)'s.
    pub decision: Decision,
    /// The action asked for.
    pub action: Action,
    /// The resource asked for.
    pub resource: String,
    /// The statements that decided: every applying `Deny` for an explicit deny, every applying
    /// `Allow` for an allow; none for an implicit deny.
    pub deciding: Vec<StatementInfo>,
    /// Each policy variable used by a statement covering the action, with its value.
    pub variables: Vec<VariableInfo>,
    /// When asked for all statements: every other statement and why it did not decide.
    pub not_applied: Vec<(StatementInfo, Reason)>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} on {}", self.decision, self.action, self.resource)?;
        match self.decision {
            Decision::ImplicitDeny => write!(f, "\nno statement allows it")?,
            Decision::Allowed => {
                for s in &self.deciding {
                    write!(f, "\nallowed by {s}")?;
                }
            }
            Decision::ExplicitDeny => {
                for s in &self.deciding {
                    write!(f, "\ndenied by {s}")?;
                }
            }
        }
        for v in &self.variables {
            match &v.resolved {
                Resolved::Value(value) => write!(f, "\n${{{}}} = {value:?}", v.name)?,
                Resolved::Missing => write!(f, "\n${{{}}} did not resolve", v.name)?,
                Resolved::Unsafe(value) => write!(
                    f,
                    "\n${{{}}} not substituted: certificate value {value:?} contains one of * $ + ? #",
                    v.name
                )?,
            }
        }
        for (s, reason) in &self.not_applied {
            write!(f, "\nnot applied: {s}: {reason}")?;
        }
        Ok(())
    }
}
