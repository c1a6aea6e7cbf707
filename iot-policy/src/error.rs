//! Why a policy document was rejected, and where.

use std::fmt;

/// One step of a JSON path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathSeg {
    Key(String),
    Index(usize),
}

/// Formats a path the way AWS error messages and IAM tools do: `Statement[2].Resource[0]`.
pub(crate) fn format_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            PathSeg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// What was wrong with a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The text is not well-formed JSON (RFC 8259); the message says what was expected.
    Syntax(&'static str),
    /// The document is longer than [`ParseOptions::max_size`](crate::ParseOptions::max_size)
    /// non-whitespace characters (AWS IoT: 2,048).
    TooLarge {
        /// Non-whitespace characters in the document.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// JSON nesting deeper than any policy needs.
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// An object has the same key twice, which would make the policy ambiguous.
    DuplicateKey(String),
    /// A key the policy grammar does not define (keys are case-sensitive, as in IAM).
    UnknownKey(String),
    /// `Principal` or `NotPrincipal`: AWS IoT policies are attached to a principal and
    /// reject these elements.
    UnsupportedKey(String),
    /// A required element is absent (`Statement`, `Effect`, `Action`/`NotAction`,
    /// `Resource`/`NotResource`).
    MissingKey(&'static str),
    /// Both elements of an exclusive pair are present (`Action` and `NotAction`).
    ConflictingKeys(&'static str, &'static str),
    /// A value has the wrong JSON type.
    WrongType {
        /// What the grammar wants here.
        expected: &'static str,
        /// What the document has.
        found: &'static str,
    },
    /// `Version` is neither `2012-10-17` nor `2008-10-17`.
    BadVersion(String),
    /// `Effect` is not exactly `Allow` or `Deny` (case-sensitive).
    BadEffect(String),
    /// A list that must not be empty is (`Statement`, `Action`, `Resource`, condition values).
    EmptyList,
    /// An action is not `*` or `service:name`.
    BadAction(String),
    /// An `iot:` action without wildcards that names no AWS IoT data-plane action.
    UnknownAction(String),
    /// A resource is neither `*` nor an ARN (`arn:...`).
    BadResource(String),
    /// A `${...}` is not closed, empty, or otherwise malformed; the text says which.
    MalformedVariable(String),
    /// A `${...}` names no policy variable that AWS IoT defines.
    UnknownVariable(String),
    /// A condition operator that IAM does not define.
    UnknownOperator(String),
    /// A condition value that its operator cannot use (a number for `NumericEquals`, a date,
    /// a CIDR block, `true`/`false`).
    BadConditionValue {
        /// The operator, as written.
        operator: String,
        /// The value, as written.
        value: String,
    },
}

impl PolicyErrorKind {
    /// The variant name, for machine-readable output (`"BadEffect"`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Syntax(_) => "Syntax",
            Self::TooLarge { .. } => "TooLarge",
            Self::TooDeep { .. } => "TooDeep",
            Self::DuplicateKey(_) => "DuplicateKey",
            Self::UnknownKey(_) => "UnknownKey",
            Self::UnsupportedKey(_) => "UnsupportedKey",
            Self::MissingKey(_) => "MissingKey",
            Self::ConflictingKeys(..) => "ConflictingKeys",
            Self::WrongType { .. } => "WrongType",
            Self::BadVersion(_) => "BadVersion",
            Self::BadEffect(_) => "BadEffect",
            Self::EmptyList => "EmptyList",
            Self::BadAction(_) => "BadAction",
            Self::UnknownAction(_) => "UnknownAction",
            Self::BadResource(_) => "BadResource",
            Self::MalformedVariable(_) => "MalformedVariable",
            Self::UnknownVariable(_) => "UnknownVariable",
            Self::UnknownOperator(_) => "UnknownOperator",
            Self::BadConditionValue { .. } => "BadConditionValue",
        }
    }
}

impl fmt::Display for PolicyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax(what) => write!(f, "invalid JSON: {what}"),
            Self::TooLarge { size, limit } => write!(
                f,
                "policy has {size} characters excluding whitespace, more than the limit of {limit}"
            ),
            Self::TooDeep { limit } => write!(f, "JSON nested deeper than {limit} levels"),
            Self::DuplicateKey(key) => write!(f, "duplicate key {key:?}"),
            Self::UnknownKey(key) => write!(f, "unknown key {key:?}"),
            Self::UnsupportedKey(key) => {
                write!(f, "{key:?} is not allowed in an AWS IoT policy")
            }
            Self::MissingKey(key) => write!(f, "missing required key {key:?}"),
            Self::ConflictingKeys(a, b) => write!(f, "{a:?} and {b:?} cannot both be present"),
            Self::WrongType { expected, found } => write!(f, "expected {expected}, found {found}"),
            Self::BadVersion(v) => {
                write!(f, "expected \"2012-10-17\" or \"2008-10-17\", found {v:?}")
            }
            Self::BadEffect(e) => write!(f, "expected \"Allow\" or \"Deny\", found {e:?}"),
            Self::EmptyList => write!(f, "list must not be empty"),
            Self::BadAction(a) => {
                write!(f, "action {a:?} is not \"*\" or \"service:action\"")
            }
            Self::UnknownAction(a) => write!(f, "{a:?} is not an AWS IoT action"),
            Self::BadResource(r) => write!(f, "resource {r:?} is not \"*\" or an ARN"),
            Self::MalformedVariable(why) => write!(f, "malformed policy variable: {why}"),
            Self::UnknownVariable(v) => write!(f, "unknown policy variable ${{{v}}}"),
            Self::UnknownOperator(op) => write!(f, "unknown condition operator {op:?}"),
            Self::BadConditionValue { operator, value } => {
                write!(f, "{value:?} is not a valid value for {operator}")
            }
        }
    }
}

/// A rejected policy document: what was wrong ([`PolicyErrorKind`]), the JSON path of the
/// offending element (`Statement[0].Effect`) and its byte offset in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    kind: PolicyErrorKind,
    path: String,
    offset: usize,
}

impl PolicyError {
    pub(crate) fn new(kind: PolicyErrorKind, path: &[PathSeg], offset: usize) -> Self {
        PolicyError {
            kind,
            path: format_path(path),
            offset,
        }
    }

    pub(crate) fn with_path(mut self, path: String) -> Self {
        self.path = path;
        self
    }

    /// What was wrong.
    pub fn kind(&self) -> &PolicyErrorKind {
        &self.kind
    }

    /// The JSON path of the offending element, e.g. `Statement[2].Resource[0]`; empty for the
    /// document itself.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The byte offset in the document where the offending element starts.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "policy"
        } else {
            &self.path
        };
        write!(f, "{path}: {} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for PolicyError {}
