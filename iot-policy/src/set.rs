//! A compiled set of policies, evaluated per request: explicit deny, then allow, else
//! implicit deny.

use std::fmt;
use std::sync::Arc;

use crate::action::Action;
use crate::context::RequestContextOf;
use crate::explain::{Explanation, Reason, Resolved, StatementInfo, VariableInfo};
use crate::pattern::Match;
use crate::policy::{Effect, Policy, Statement};
use crate::variables::{KeyRef, Resolution};

/// The outcome of an authorization request, with AWS's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "SCREAMING_SNAKE_CASE"))]
pub enum Decision {
    /// An `Allow` statement applies and no `Deny` does.
    Allowed,
    /// A `Deny` statement applies; it wins over every `Allow`.
    ExplicitDeny,
    /// No statement applies: denied by default.
    ImplicitDeny,
}

impl Decision {
    /// `ALLOWED`, `EXPLICIT_DENY` or `IMPLICIT_DENY`, as the IAM policy simulator prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "ALLOWED",
            Decision::ExplicitDeny => "EXPLICIT_DENY",
            Decision::ImplicitDeny => "IMPLICIT_DENY",
        }
    }

    /// Whether the request may proceed.
    pub fn is_allowed(self) -> bool {
        self == Decision::Allowed
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
struct Entry {
    /// The name of the policy the statement comes from (shared by its statements).
    policy: Arc<str>,
    index: usize,
    statement: Statement,
}

/// The policies attached to one principal, compiled once: statements are indexed by action
/// and effect, so a decision visits only the statements that can apply.
#[derive(Debug, Clone)]
pub struct PolicySet {
    names: Vec<String>,
    entries: Vec<Entry>,
    /// Per action (by [`Action::index`]): entries of `Deny` statements, then of `Allow` ones.
    deny: Vec<Box<[usize]>>,
    allow: Vec<Box<[usize]>>,
}

impl PolicySet {
    /// Compiles named policies (the names appear in explanations).
    pub fn compile<N: Into<String>>(policies: impl IntoIterator<Item = (N, Policy)>) -> PolicySet {
        let mut names = Vec::new();
        let mut entries = Vec::new();
        for (name, policy) in policies {
            let name: String = name.into();
            let shared: Arc<str> = Arc::from(name.as_str());
            names.push(name);
            for (index, statement) in policy.statements.into_iter().enumerate() {
                entries.push(Entry {
                    policy: Arc::clone(&shared),
                    index,
                    statement,
                });
            }
        }
        let index_for = |effect: Effect, action: Action| -> Box<[usize]> {
            entries
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    e.statement.effect == effect && e.statement.actions & action.bit() != 0
                })
                .map(|(i, _)| i)
                .collect()
        };
        let deny = Action::ALL
            .iter()
            .map(|&a| index_for(Effect::Deny, a))
            .collect();
        let allow = Action::ALL
            .iter()
            .map(|&a| index_for(Effect::Allow, a))
            .collect();
        PolicySet {
            names,
            entries,
            deny,
            allow,
        }
    }

    /// Decides one request. Allocation-free.
    pub fn evaluate<S: AsRef<str>>(
        &self,
        action: Action,
        resource: &str,
        ctx: &RequestContextOf<'_, S>,
    ) -> Decision {
        let applies = |i: &usize| {
            self.entries
                .get(*i)
                .is_some_and(|e| statement_applies_fast(&e.statement, resource, ctx))
        };
        // Both tables have one list per action of `Action::ALL` (see `compile`); were one
        // missing, nothing would allow the action, which AWS's default answers with a deny.
        let (Some(denies), Some(allows)) = (
            self.deny.get(action.index()),
            self.allow.get(action.index()),
        ) else {
            return Decision::ImplicitDeny;
        };
        if denies.iter().any(applies) {
            return Decision::ExplicitDeny;
        }
        if allows.iter().any(applies) {
            Decision::Allowed
        } else {
            Decision::ImplicitDeny
        }
    }

    /// Decides one request and says why: the deciding statements, what each policy variable
    /// resolved to, and, with `all_statements`, why every other statement did not apply.
    pub fn explain<S: AsRef<str>>(
        &self,
        action: Action,
        resource: &str,
        ctx: &RequestContextOf<'_, S>,
        all_statements: bool,
    ) -> Explanation {
        let decision = self.evaluate(action, resource, ctx);
        let mut deciding = Vec::new();
        let mut not_applied = Vec::new();
        let mut variables: Vec<VariableInfo> = Vec::new();
        let mut note_variable = |key: &KeyRef| {
            if variables.iter().any(|v| *v.name == *key.name) {
                return;
            }
            let resolved = match key.substitute(ctx) {
                Resolution::Value(v) => Resolved::Value(v.to_owned()),
                Resolution::Missing => Resolved::Missing,
                Resolution::Unsafe(v) => Resolved::Unsafe(v.to_owned()),
            };
            variables.push(VariableInfo {
                name: key.name.to_string(),
                resolved,
            });
        };
        let deciding_effect = match decision {
            Decision::Allowed => Some(Effect::Allow),
            Decision::ExplicitDeny => Some(Effect::Deny),
            Decision::ImplicitDeny => None,
        };
        for entry in &self.entries {
            let st = &entry.statement;
            let info = StatementInfo {
                policy: entry.policy.to_string(),
                index: entry.index,
                sid: st.sid.clone(),
                effect: st.effect,
            };
            if st.actions & action.bit() == 0 {
                if all_statements {
                    not_applied.push((info, Reason::Action));
                }
                continue;
            }
            for r in &st.resources {
                r.pattern.variables().for_each(&mut note_variable);
            }
            for c in &st.conditions {
                c.value_variables().for_each(&mut note_variable);
            }
            match statement_applies(st, resource, ctx) {
                Ok(()) if Some(st.effect) == deciding_effect => deciding.push(info),
                Ok(()) => {
                    if all_statements {
                        not_applied.push((info, Reason::Overridden));
                    }
                }
                Err(reason) => {
                    if all_statements {
                        not_applied.push((info, reason));
                    }
                }
            }
        }
        Explanation {
            decision,
            action,
            resource: resource.to_owned(),
            deciding,
            variables,
            not_applied,
        }
    }

    /// The policy names, in the order given to [`compile`](Self::compile).
    pub fn policy_names(&self) -> &[String] {
        &self.names
    }
}

/// Whether a statement (already known to cover the action) applies to the resource and
/// context; on `Err`, why not.
fn statement_applies<S: AsRef<str>>(
    st: &Statement,
    resource: &str,
    ctx: &RequestContextOf<'_, S>,
) -> Result<(), Reason> {
    if st.not_resource {
        let mut unresolved = false;
        for r in &st.resources {
            match r.pattern.matches(resource, ctx, false) {
                Match::Yes => return Err(Reason::Resource),
                Match::Unresolved => unresolved = true,
                Match::No => {}
            }
        }
        // An entry that cannot be evaluated must not widen what an Allow grants, nor narrow
        // what a Deny denies: fail closed either way.
        if unresolved && st.effect == Effect::Allow {
            return Err(Reason::Unresolved);
        }
    } else {
        let mut unresolved = false;
        let mut matched = false;
        for r in &st.resources {
            match r.pattern.matches(resource, ctx, false) {
                Match::Yes => {
                    matched = true;
                    break;
                }
                Match::Unresolved => unresolved = true,
                Match::No => {}
            }
        }
        if !matched {
            return Err(if unresolved {
                Reason::Unresolved
            } else {
                Reason::Resource
            });
        }
    }
    for c in &st.conditions {
        if !c.evaluate(ctx) {
            return Err(Reason::Condition {
                operator: c.operator.to_string(),
                key: c.key_name().to_owned(),
            });
        }
    }
    Ok(())
}

/// [`statement_applies`] without the reason: the same answer, but `Resource` entries resolve
/// their variables lazily (an unresolvable entry matches nothing either way).
fn statement_applies_fast<S: AsRef<str>>(
    st: &Statement,
    resource: &str,
    ctx: &RequestContextOf<'_, S>,
) -> bool {
    if st.not_resource {
        return statement_applies(st, resource, ctx).is_ok();
    }
    st.resources
        .iter()
        .any(|r| r.pattern.matches_lazily(resource, ctx, false))
        && st.conditions.iter().all(|c| c.evaluate(ctx))
}
