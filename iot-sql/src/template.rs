//! Substitution templates for action fields: `"text ${expression} text"`, parsed once and
//! rendered per message (SQL reference, "Substitution templates").

use std::fmt;

use base64::Engine as _;

use crate::ast::Expr;
use crate::error::{EvalError, ParseError, ParseErrorKind};
use crate::eval::{Env, Limits, Message, NoExternalFunctions, Row, Scope};
use crate::parser::{ParseOptions, Parser};
use crate::value::Value;
use crate::version::SqlVersion;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr(Expr),
}

/// A parsed substitution template.
///
/// Expressions see the message payload, the message-context functions and the rule's SET
/// variables; they do not see the SELECT's aliases (a template is evaluated against the incoming
/// message, not the rule's output). A value renders as its text: strings without quotes, numbers
/// and booleans as written, objects and arrays as JSON, `Null` as `null`, `Undefined` as nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses a template. Expressions may use every feature of the latest SQL version; the
    /// rule's version decides how values are processed when rendering.
    pub fn parse(text: &str) -> Result<Template, ParseError> {
        let options = ParseOptions::default();
        if text.len() > options.max_len {
            return Err(ParseError::new(
                ParseErrorKind::TooLong {
                    len: text.len(),
                    max: options.max_len,
                },
                "",
                0,
            ));
        }
        let mut parts = Vec::new();
        let mut pos = 0usize;
        // `pos` is where the text starts or where the parser stopped (after a `}` token), so a
        // character boundary.
        while let Some((before, _)) = text.get(pos..).and_then(|rest| rest.split_once("${")) {
            let open = pos.saturating_add(before.len());
            if !before.is_empty() {
                parts.push(Part::Text(before.to_owned()));
            }
            let start = open.saturating_add(2);
            let mut parser = Parser::new(text, start, SqlVersion::Beta, &options);
            let expr = parser.parse_expr()?;
            match parser.expect_closing_brace() {
                Ok(()) => {}
                Err(e) if e.offset >= text.len() => {
                    return Err(ParseError::new(
                        ParseErrorKind::UnterminatedTemplate,
                        text,
                        open,
                    ));
                }
                Err(e) => return Err(e),
            }
            parts.push(Part::Expr(expr));
            pos = parser.position();
        }
        match text.get(pos..) {
            Some("") => {}
            Some(tail) => parts.push(Part::Text(tail.to_owned())),
            None => {
                return Err(ParseError::new(
                    ParseErrorKind::UnterminatedTemplate,
                    text,
                    pos,
                ));
            }
        }
        Ok(Template { parts })
    }

    /// Whether the template has no `${...}` (its text is constant).
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// Renders against a message alone (no rule: no SET variables, SQL version `version`).
    pub fn render(&self, message: &Message<'_>, version: SqlVersion) -> Result<String, EvalError> {
        let limits = Limits::default();
        let regexes = Default::default();
        let env = Env::new(message, version, &limits, &NoExternalFunctions, &regexes)?;
        let scope = Scope {
            row: Row::Payload,
            vars: &[],
        };
        self.render_in(&env, &scope)
    }

    pub(crate) fn render_in<'s>(
        &self,
        env: &'s Env<'_>,
        scope: &Scope<'s>,
    ) -> Result<String, EvalError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => {
                    let v = env.eval(e, scope)?.into_owned().normalize(env.version);
                    match v {
                        Value::String(s) => out.push_str(&s),
                        Value::Undefined => {}
                        Value::Null => out.push_str("null"),
                        Value::Binary(b) => {
                            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b))
                        }
                        Value::Int(i) => out.push_str(&i.to_string()),
                        Value::Decimal(d) => out.push_str(&d.to_string()),
                        Value::Bool(b) => out.push_str(&b.to_string()),
                        json @ (Value::Array(_) | Value::Object(_)) => {
                            out.push_str(&json.to_json_string())
                        }
                    }
                }
            }
            if out.len() > env.limits.max_value_bytes {
                return Err(EvalError::ValueTooLarge {
                    max: env.limits.max_value_bytes,
                });
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    /// The template text (expressions printed in canonical form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Text(t) => f.write_str(t)?,
                Part::Expr(e) => write!(f, "${{{e}}}")?,
            }
        }
        Ok(())
    }
}
