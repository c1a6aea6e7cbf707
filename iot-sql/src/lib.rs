#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod ast;
mod decimal;
mod error;
mod eval;
mod functions;
mod lexer;
mod ops;
mod parser;
mod template;
mod time;
mod value;
mod version;

pub use ast::{
    Assignment, BinaryOp, CastType, Expr, ExprKind, Literal, Select, SelectItem, Source, Statement,
    UnaryOp,
};
pub use decimal::{Decimal, DecimalParseError, Rounding};
pub use error::{EvalError, ExternalError, ParseError, ParseErrorKind, Span};
pub use eval::{
    Context, ExternalFunctions, Limits, Message, NoExternalFunctions, Output, Rule,
    evaluate_expression,
};
pub use functions::{Function, Volatility};
pub use parser::{ParseOptions, is_keyword, parse_expression};
pub use template::Template;
pub use value::{Map, Value};
pub use version::{SqlVersion, UnknownSqlVersion};
