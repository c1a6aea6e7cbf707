//! Parse and evaluation errors.

use std::fmt;

use mqtt_wire::TopicError;

use crate::version::SqlVersion;

/// A byte range of the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// What was wrong with the SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The text is longer than [`ParseOptions::max_len`](crate::ParseOptions).
    TooLong {
        /// Length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Expressions nest deeper than [`ParseOptions::max_depth`](crate::ParseOptions::max_depth)
    /// (parentheses, operands, arguments, nested SELECTs). The offset is where the level past
    /// the limit starts.
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The expression tree is deeper than
    /// [`ParseOptions::max_tree_depth`](crate::ParseOptions::max_tree_depth): typically a chain
    /// of operators (`a OR b OR ...`, `1 + 1 + ...`) or members (`a.b.c...`), one level per
    /// link. The offset is the token that would make the node past the limit: the operator, the
    /// member's `.`, the function name, `CASE`, the `(` of a nested SELECT, `{` or `[`.
    TreeTooDeep {
        /// The limit.
        max: usize,
    },
    /// An `AS a.b.c` alias path with more segments than
    /// [`ParseOptions::max_alias_segments`](crate::ParseOptions::max_alias_segments). The
    /// offset is the first segment past the limit.
    AliasTooLong {
        /// The limit.
        max: usize,
    },
    /// A character that starts no token.
    UnexpectedCharacter(char),
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A `\` escape that is not one of `\\ \' \" \n \t \r \b \f \/ \uXXXX`.
    InvalidEscape,
    /// A number literal that does not parse (or is out of the decimal range).
    InvalidNumber(String),
    /// A token other than the ones the grammar allows here.
    Unexpected {
        /// What was found (a token, or "end of input").
        found: String,
        /// What the grammar allows here.
        expected: &'static str,
    },
    /// A function name this crate does not know.
    UnknownFunction(String),
    /// A `cast(... AS type)` target that is not a type of the SQL version.
    UnknownCastType(String),
    /// A feature of a later SQL version.
    NotInVersion {
        /// The feature.
        feature: String,
        /// The rule's version.
        version: SqlVersion,
    },
    /// The FROM topic filter is not a valid MQTT topic filter.
    InvalidTopicFilter(TopicError),
    /// A template has `${` without its closing `}`.
    UnterminatedTemplate,
    /// A SET variable assigned twice ("Each variable can only be assigned once").
    DuplicateVariable(String),
    /// More SET variables than AWS allows (10 per statement).
    TooManyVariables {
        /// The limit.
        max: usize,
    },
    /// A variable name longer than AWS allows (64 characters).
    VariableNameTooLong(String),
}

/// A parse error with its position: byte offset, and 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// Byte offset in the text.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let mut line = 1usize;
        let mut column = 1usize;
        for (i, c) in text.char_indices() {
            if i >= offset {
                break;
            }
            if c == '\n' {
                line = line.saturating_add(1);
                column = 1;
            } else {
                column = column.saturating_add(1);
            }
        }
        ParseError {
            kind,
            offset,
            line,
            column,
        }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::TooLong { len, max } => {
                write!(
                    f,
                    "the SQL text is {len} bytes, more than the limit of {max}"
                )
            }
            ParseErrorKind::TooDeep { max } => {
                write!(f, "expressions nest more than {max} levels deep")
            }
            ParseErrorKind::TreeTooDeep { max } => {
                write!(
                    f,
                    "the expression tree is more than {max} levels deep (each operator or \
                     member of a chain is a level)"
                )
            }
            ParseErrorKind::AliasTooLong { max } => {
                write!(f, "alias path has more than {max} segments")
            }
            ParseErrorKind::UnexpectedCharacter(c) => write!(f, "unexpected character {c:?}"),
            ParseErrorKind::UnterminatedString => f.write_str("string literal is not closed"),
            ParseErrorKind::InvalidEscape => f.write_str("invalid escape sequence in string"),
            ParseErrorKind::InvalidNumber(n) => write!(f, "invalid number {n:?}"),
            ParseErrorKind::Unexpected { found, expected } => {
                write!(f, "expected {expected}, found {found}")
            }
            ParseErrorKind::UnknownFunction(name) => write!(f, "unknown function {name:?}"),
            ParseErrorKind::UnknownCastType(name) => write!(f, "unknown cast type {name:?}"),
            ParseErrorKind::NotInVersion { feature, version } => {
                write!(f, "{feature} is not available in SQL version {version}")
            }
            ParseErrorKind::InvalidTopicFilter(e) => write!(f, "invalid FROM topic filter: {e}"),
            ParseErrorKind::UnterminatedTemplate => {
                f.write_str("substitution template has `${` without a closing `}`")
            }
            ParseErrorKind::DuplicateVariable(name) => {
                write!(
                    f,
                    "variable @{name} is assigned twice (SET variables are immutable)"
                )
            }
            ParseErrorKind::TooManyVariables { max } => {
                write!(f, "more than {max} SET variables")
            }
            ParseErrorKind::VariableNameTooLong(name) => {
                write!(f, "variable name @{name} is longer than 64 characters")
            }
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for ParseError {}

/// Why a function that calls an AWS service failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalError {
    /// The function's name.
    pub function: &'static str,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ExternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.function, self.message)
    }
}

impl std::error::Error for ExternalError {}

/// Why evaluating a rule stopped. AWS terminates the rule (no action runs) in these cases;
/// invalid arguments and mismatched types are not errors but `Undefined`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvalError {
    /// The payload is larger than [`Limits::max_payload`](crate::Limits).
    PayloadTooLarge {
        /// Length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value built during evaluation (a string or array) grew past
    /// [`Limits::max_value_bytes`](crate::Limits).
    ValueTooLarge {
        /// The limit.
        max: usize,
    },
    /// A value built during evaluation (an object or array literal, a nested SELECT's result,
    /// the SELECT output, a function's result) nests arrays and objects deeper than
    /// [`Limits::max_value_depth`](crate::Limits::max_value_depth).
    ValueTooDeep {
        /// The limit.
        max: usize,
    },
    /// A function that calls an AWS service failed (or none is configured).
    External(ExternalError),
    /// `get_dynamodb()` was called more than once in one evaluation, which AWS documents as
    /// terminating the rule.
    RepeatedGetDynamoDb,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::PayloadTooLarge { len, max } => {
                write!(
                    f,
                    "the payload is {len} bytes, more than the limit of {max}"
                )
            }
            EvalError::ValueTooLarge { max } => {
                write!(f, "a value built by the rule grew past {max} bytes")
            }
            EvalError::ValueTooDeep { max } => {
                write!(
                    f,
                    "a value built by the rule nests arrays and objects more than {max} deep"
                )
            }
            EvalError::External(e) => write!(f, "external function failed: {e}"),
            EvalError::RepeatedGetDynamoDb => {
                f.write_str("get_dynamodb() may be called at most once per evaluation")
            }
        }
    }
}

impl std::error::Error for EvalError {}
