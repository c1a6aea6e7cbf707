#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod action;
mod condition;
mod context;
mod error;
mod explain;
mod json;
mod lint;
mod pattern;
mod policy;
mod set;
mod variables;

pub use action::{Action, ResourceKind};
pub use context::{AltNameKind, DnAttribute, RequestContext, RequestContextOf};
pub use error::{PolicyError, PolicyErrorKind};
pub use explain::{Explanation, Reason, Resolved, StatementInfo, VariableInfo};
pub use lint::{Lint, LintKind};
pub use policy::{DEFAULT_MAX_POLICY_SIZE, Effect, ParseOptions, Policy, Statement, Version};
pub use set::{Decision, PolicySet};
