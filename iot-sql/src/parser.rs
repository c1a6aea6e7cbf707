//! The parser: precedence climbing over [`Prec`], a depth guard, and version switches.

use std::collections::VecDeque;

use mqtt_wire::TopicFilter;

use crate::ast::{
    Assignment, BinaryOp, CastType, Expr, ExprKind, From, Literal, Select, SelectItem, Statement,
    UnaryOp,
};
use crate::decimal::Decimal;
use crate::error::{ParseError, ParseErrorKind, Span};
use crate::functions::Function;
use crate::lexer::{Lexer, Tok, Token};
use crate::version::SqlVersion;

/// Limits applied while parsing, with safe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Longest SQL text accepted, in bytes. Default 64 KiB, far above any real rule; AWS does not
    /// publish its own limit.
    pub max_len: usize,
    /// Deepest expression nesting accepted. Default 64: deep enough for any hand-written rule,
    /// shallow enough that parsing and evaluation stay far from the thread's stack limit.
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_len: 64 * 1024,
            max_depth: 64,
        }
    }
}

/// AWS's SET clause limits: 10 variables per statement, names up to 64 characters.
const MAX_VARIABLES: usize = 10;
const MAX_VARIABLE_NAME: usize = 64;

/// Keywords: case-insensitive, and not usable as field names (read such a field with
/// `get(*, 'name')`).
const KEYWORDS: [&str; 18] = [
    "SELECT", "VALUE", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IN", "CASE", "WHEN", "THEN",
    "ELSE", "END", "TRUE", "FALSE", "NULL", "SET",
];

/// Whether `name` is a keyword (case-insensitive).
pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name))
}

/// Binding strength, weakest first (standard SQL precedence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Lowest,
    Or,
    And,
    Not,
    Comparison,
    Additive,
    Multiplicative,
    Unary,
}

pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: VecDeque<Token>,
    version: SqlVersion,
    depth: usize,
    max_depth: usize,
    last_end: usize,
}

type PResult<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    pub(crate) fn new(
        text: &'a str,
        start: usize,
        version: SqlVersion,
        options: &ParseOptions,
    ) -> Self {
        Parser {
            lexer: Lexer::new(text, start),
            peeked: VecDeque::new(),
            version,
            depth: 0,
            max_depth: options.max_depth,
            last_end: start,
        }
    }

    fn error(&self, kind: ParseErrorKind, offset: usize) -> ParseError {
        ParseError::new(kind, self.lexer.text(), offset)
    }

    fn fill(&mut self, n: usize) -> PResult<()> {
        while self.peeked.len() <= n {
            let t = self.lexer.next_token()?;
            self.peeked.push_back(t);
        }
        Ok(())
    }

    fn peek(&mut self) -> PResult<&Token> {
        self.fill(0)?;
        match self.peeked.front() {
            Some(t) => Ok(t),
            None => Err(self.error(ParseErrorKind::UnterminatedTemplate, 0)),
        }
    }

    fn peek_at(&mut self, n: usize) -> PResult<Tok> {
        self.fill(n)?;
        Ok(self.peeked.get(n).map_or(Tok::Eof, |t| t.tok.clone()))
    }

    fn bump(&mut self) -> PResult<Token> {
        self.fill(0)?;
        let t = self.peeked.pop_front().unwrap_or(Token {
            tok: Tok::Eof,
            span: Span::new(self.last_end, self.last_end),
        });
        self.last_end = t.span.end;
        Ok(t)
    }

    fn unexpected(&mut self, expected: &'static str) -> ParseError {
        match self.peek() {
            Ok(t) => {
                let found = t.tok.to_string();
                let offset = t.span.start;
                self.error(ParseErrorKind::Unexpected { found, expected }, offset)
            }
            Err(e) => e,
        }
    }

    fn at_keyword(&mut self, kw: &str) -> PResult<bool> {
        Ok(matches!(&self.peek()?.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw)))
    }

    fn eat_keyword(&mut self, kw: &str) -> PResult<bool> {
        if self.at_keyword(kw)? {
            self.bump()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn expect_keyword(&mut self, kw: &str, expected: &'static str) -> PResult<Span> {
        if self.at_keyword(kw)? {
            return Ok(self.bump()?.span);
        }
        Err(self.unexpected(expected))
    }

    fn at_punct(&mut self, p: &str) -> PResult<bool> {
        Ok(matches!(self.peek()?.tok, Tok::Punct(q) if q == p))
    }

    fn eat_punct(&mut self, p: &str) -> PResult<bool> {
        if self.at_punct(p)? {
            self.bump()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn expect_punct(&mut self, p: &str, expected: &'static str) -> PResult<Span> {
        if self.at_punct(p)? {
            return Ok(self.bump()?.span);
        }
        Err(self.unexpected(expected))
    }

    fn require(&self, supported: bool, feature: &str, offset: usize) -> PResult<()> {
        if supported {
            return Ok(());
        }
        Err(self.error(
            ParseErrorKind::NotInVersion {
                feature: feature.to_owned(),
                version: self.version,
            },
            offset,
        ))
    }

    /// Runs `f` one nesting level deeper, failing cleanly past the depth limit.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= self.max_depth {
            let fallback = self.last_end;
            let offset = self.peek().map_or(fallback, |t| t.span.start);
            return Err(self.error(
                ParseErrorKind::TooDeep {
                    max: self.max_depth,
                },
                offset,
            ));
        }
        self.depth = self.depth.saturating_add(1);
        let out = f(self);
        self.depth = self.depth.saturating_sub(1);
        out
    }

    pub(crate) fn expect_eof(&mut self) -> PResult<()> {
        if matches!(self.peek()?.tok, Tok::Eof) {
            return Ok(());
        }
        Err(self.unexpected("end of input"))
    }

    /// Consumes the `}` that closes a template's `${`.
    pub(crate) fn expect_closing_brace(&mut self) -> PResult<()> {
        self.expect_punct("}", "`}` closing the template expression")
            .map(|_| ())
    }

    /// The offset just after the last token consumed.
    pub(crate) fn position(&self) -> usize {
        self.last_end
    }

    pub(crate) fn parse_statement(&mut self) -> PResult<Statement> {
        let mut set = Vec::new();
        if self.at_keyword("SET")? {
            let at = self.bump()?.span.start;
            self.require(self.version.supports_set(), "the SET clause", at)?;
            loop {
                let (name, at) = match self.bump()? {
                    Token {
                        tok: Tok::Var(name),
                        span,
                    } => (name, span.start),
                    t => {
                        return Err(self.error(
                            ParseErrorKind::Unexpected {
                                found: t.tok.to_string(),
                                expected: "a variable like @name",
                            },
                            t.span.start,
                        ));
                    }
                };
                // SET clause limits: at most 10 variables, names up to 64 characters, each
                // assigned once.
                if name.chars().count() > MAX_VARIABLE_NAME {
                    return Err(self.error(ParseErrorKind::VariableNameTooLong(name), at));
                }
                if set.iter().any(|a: &Assignment| a.name == name) {
                    return Err(self.error(ParseErrorKind::DuplicateVariable(name), at));
                }
                if set.len() >= MAX_VARIABLES {
                    return Err(
                        self.error(ParseErrorKind::TooManyVariables { max: MAX_VARIABLES }, at)
                    );
                }
                self.expect_punct("=", "`=`")?;
                let value = self.parse_expr()?;
                set.push(Assignment { name, value });
                if !self.eat_punct(",")? {
                    break;
                }
            }
        }
        let select = self.parse_select(true)?;
        self.expect_eof()?;
        Ok(Statement { set, select })
    }

    fn parse_select(&mut self, top: bool) -> PResult<Select> {
        self.expect_keyword("SELECT", "SELECT")?;
        let mut value = false;
        if self.at_keyword("VALUE")? {
            let at = self.bump()?.span.start;
            self.require(self.version.supports_select_value(), "SELECT VALUE", at)?;
            value = true;
        }
        let mut items = Vec::new();
        loop {
            if self.star_item()? {
                let span = self.bump()?.span;
                if value {
                    items.push(SelectItem::Expr {
                        expr: Expr {
                            kind: ExprKind::Wildcard,
                            span,
                        },
                        alias: None,
                    });
                } else {
                    items.push(SelectItem::Wildcard);
                }
            } else {
                let expr = self.parse_expr()?;
                let alias = if self.eat_keyword("AS")? {
                    Some(self.parse_alias()?)
                } else {
                    None
                };
                items.push(SelectItem::Expr { expr, alias });
            }
            if value || !self.eat_punct(",")? {
                break;
            }
        }
        let from = if self.eat_keyword("FROM")? {
            if top {
                let t = self.bump()?;
                match t.tok {
                    Tok::Str(filter) => {
                        if let Err(e) = TopicFilter::new(&filter) {
                            return Err(
                                self.error(ParseErrorKind::InvalidTopicFilter(e), t.span.start)
                            );
                        }
                        Some(From::Topic(filter))
                    }
                    other => {
                        return Err(self.error(
                            ParseErrorKind::Unexpected {
                                found: other.to_string(),
                                expected: "a quoted topic filter",
                            },
                            t.span.start,
                        ));
                    }
                }
            } else if self.at_punct("*")? {
                let span = self.bump()?.span;
                Some(From::Expr(Expr {
                    kind: ExprKind::Wildcard,
                    span,
                }))
            } else {
                Some(From::Expr(self.parse_expr_prec(Prec::Unary)?))
            }
        } else {
            None
        };
        let condition = if self.eat_keyword("WHERE")? {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(Select {
            value,
            items,
            from,
            condition,
        })
    }

    /// Whether the next token is a `*` standing alone as a select item.
    fn star_item(&mut self) -> PResult<bool> {
        if !self.at_punct("*")? {
            return Ok(false);
        }
        Ok(match self.peek_at(1)? {
            Tok::Punct(",") | Tok::Punct(")") | Tok::Eof => true,
            Tok::Ident(s) => s.eq_ignore_ascii_case("FROM") || s.eq_ignore_ascii_case("WHERE"),
            _ => false,
        })
    }

    fn parse_alias(&mut self) -> PResult<Vec<String>> {
        let mut path = vec![self.parse_name("an alias")?];
        while self.eat_punct(".")? {
            path.push(self.parse_name("an alias segment")?);
        }
        Ok(path)
    }

    fn parse_name(&mut self, expected: &'static str) -> PResult<String> {
        match &self.peek()?.tok {
            Tok::Ident(name) if !is_keyword(name) => {
                let name = name.clone();
                self.bump()?;
                Ok(name)
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        self.parse_expr_prec(Prec::Lowest)
    }

    fn binary_op(&mut self) -> PResult<Option<(BinaryOp, Prec)>> {
        Ok(match &self.peek()?.tok {
            Tok::Ident(s) if s.eq_ignore_ascii_case("OR") => Some((BinaryOp::Or, Prec::Or)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("AND") => Some((BinaryOp::And, Prec::And)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("IN") => Some((BinaryOp::In, Prec::Comparison)),
            Tok::Punct(p) => match *p {
                "=" => Some((BinaryOp::Eq, Prec::Comparison)),
                "<>" | "!=" => Some((BinaryOp::Ne, Prec::Comparison)),
                "<" => Some((BinaryOp::Lt, Prec::Comparison)),
                "<=" => Some((BinaryOp::Le, Prec::Comparison)),
                ">" => Some((BinaryOp::Gt, Prec::Comparison)),
                ">=" => Some((BinaryOp::Ge, Prec::Comparison)),
                "+" => Some((BinaryOp::Add, Prec::Additive)),
                "-" => Some((BinaryOp::Sub, Prec::Additive)),
                "*" => Some((BinaryOp::Mul, Prec::Multiplicative)),
                "/" => Some((BinaryOp::Div, Prec::Multiplicative)),
                "%" => Some((BinaryOp::Mod, Prec::Multiplicative)),
                _ => None,
            },
            _ => None,
        })
    }

    /// Precedence climbing: a prefix expression, then binary operators binding tighter than
    /// `min`, each left-associative.
    fn parse_expr_prec(&mut self, min: Prec) -> PResult<Expr> {
        self.nested(|p| {
            let mut left = p.parse_prefix(min)?;
            while let Some((op, prec)) = p.binary_op()? {
                if prec <= min {
                    break;
                }
                p.bump()?;
                let right = p.parse_expr_prec(prec)?;
                let span = left.span.to(right.span);
                left = Expr {
                    kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                    span,
                };
            }
            Ok(left)
        })
    }

    fn parse_prefix(&mut self, min: Prec) -> PResult<Expr> {
        if self.at_keyword("NOT")? && min <= Prec::Not {
            let start = self.bump()?.span;
            let e = self.parse_expr_prec(Prec::Not)?;
            let span = start.to(e.span);
            return Ok(Expr {
                kind: ExprKind::Unary(UnaryOp::Not, Box::new(e)),
                span,
            });
        }
        if self.at_keyword("NOT")? {
            return Err(self.unexpected("an expression (wrap NOT in parentheses here)"));
        }
        if self.at_punct("-")? {
            let minus = self.bump()?.span;
            // `-` directly followed by a number is a negative literal (so i64::MIN parses).
            if let Token {
                tok: Tok::Number(text),
                span,
            } = self.peek()?.clone()
            {
                if span.start == minus.end {
                    self.bump()?;
                    let lit = self.number(&format!("-{text}"), minus.start)?;
                    return self.parse_postfix(Expr {
                        kind: ExprKind::Literal(lit),
                        span: minus.to(span),
                    });
                }
            }
            let e = self.parse_expr_prec(Prec::Multiplicative)?;
            let span = minus.to(e.span);
            return Ok(Expr {
                kind: ExprKind::Unary(UnaryOp::Neg, Box::new(e)),
                span,
            });
        }
        let primary = self.parse_primary()?;
        self.parse_postfix(primary)
    }

    fn parse_postfix(&mut self, mut e: Expr) -> PResult<Expr> {
        while self.at_punct(".")? {
            self.bump()?;
            let t = self.bump()?;
            match t.tok {
                // Member names after `.` may be keywords (`a.value`), since no keyword can follow
                // a dot.
                Tok::Ident(name) => {
                    let span = e.span.to(t.span);
                    e = Expr {
                        kind: ExprKind::Member(Box::new(e), name),
                        span,
                    };
                }
                other => {
                    return Err(self.error(
                        ParseErrorKind::Unexpected {
                            found: other.to_string(),
                            expected: "a member name after `.`",
                        },
                        t.span.start,
                    ));
                }
            }
        }
        Ok(e)
    }

    fn number(&self, text: &str, offset: usize) -> PResult<Literal> {
        let plain = text.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        if plain {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Literal::Int(i));
            }
        }
        match text.parse::<Decimal>() {
            Ok(d) => Ok(Literal::Decimal(d)),
            Err(_) => Err(self.error(ParseErrorKind::InvalidNumber(text.to_owned()), offset)),
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let t = self.bump()?;
        let start = t.span;
        let lit = |kind| Ok(Expr { kind, span: start });
        match t.tok {
            Tok::Number(text) => {
                let l = self.number(&text, start.start)?;
                lit(ExprKind::Literal(l))
            }
            Tok::Str(s) => lit(ExprKind::Literal(Literal::String(s))),
            Tok::Var(name) => lit(ExprKind::Variable(name)),
            Tok::Ident(name) => {
                if name.eq_ignore_ascii_case("TRUE") {
                    return lit(ExprKind::Literal(Literal::Bool(true)));
                }
                if name.eq_ignore_ascii_case("FALSE") {
                    return lit(ExprKind::Literal(Literal::Bool(false)));
                }
                if name.eq_ignore_ascii_case("NULL") {
                    return lit(ExprKind::Literal(Literal::Null));
                }
                if name.eq_ignore_ascii_case("CASE") {
                    return self.parse_case(start);
                }
                if is_keyword(&name) {
                    return Err(self.error(
                        ParseErrorKind::Unexpected {
                            found: Tok::Ident(name).to_string(),
                            expected: "an expression",
                        },
                        start.start,
                    ));
                }
                if self.at_punct("(")? {
                    return self.parse_call(name, start);
                }
                lit(ExprKind::Field(name))
            }
            Tok::Punct("(") => {
                if self.at_keyword("SELECT")? {
                    let at = self.peek()?.span.start;
                    self.require(
                        self.version.supports_nested_queries(),
                        "a nested SELECT",
                        at,
                    )?;
                    let select = self.nested(|p| p.parse_select(false))?;
                    let end = self.expect_punct(")", "`)` after the nested SELECT")?;
                    return Ok(Expr {
                        kind: ExprKind::Subquery(Box::new(select)),
                        span: start.to(end),
                    });
                }
                let mut e = self.parse_expr()?;
                let end = self.expect_punct(")", "`)`")?;
                e.span = start.to(end);
                Ok(e)
            }
            Tok::Punct("{") => {
                self.require(
                    self.version.supports_literals(),
                    "an object literal",
                    start.start,
                )?;
                let mut members = Vec::new();
                if !self.at_punct("}")? {
                    loop {
                        let key = match self.bump()? {
                            Token {
                                tok: Tok::Str(k), ..
                            }
                            | Token {
                                tok: Tok::Ident(k), ..
                            } => k,
                            t => {
                                return Err(self.error(
                                    ParseErrorKind::Unexpected {
                                        found: t.tok.to_string(),
                                        expected: "an object key (a string)",
                                    },
                                    t.span.start,
                                ));
                            }
                        };
                        self.expect_punct(":", "`:` after the object key")?;
                        let v = self.parse_expr()?;
                        members.push((key, v));
                        if !self.eat_punct(",")? {
                            break;
                        }
                    }
                }
                let end = self.expect_punct("}", "`,` or `}`")?;
                Ok(Expr {
                    kind: ExprKind::Object(members),
                    span: start.to(end),
                })
            }
            Tok::Punct("[") => {
                self.require(
                    self.version.supports_literals(),
                    "an array literal",
                    start.start,
                )?;
                let mut items = Vec::new();
                if !self.at_punct("]")? {
                    loop {
                        items.push(self.parse_expr()?);
                        if !self.eat_punct(",")? {
                            break;
                        }
                    }
                }
                let end = self.expect_punct("]", "`,` or `]`")?;
                Ok(Expr {
                    kind: ExprKind::Array(items),
                    span: start.to(end),
                })
            }
            other => Err(self.error(
                ParseErrorKind::Unexpected {
                    found: other.to_string(),
                    expected: "an expression",
                },
                start.start,
            )),
        }
    }

    fn parse_case(&mut self, start: Span) -> PResult<Expr> {
        let operand = self.parse_expr()?;
        let mut whens = Vec::new();
        while self.eat_keyword("WHEN")? {
            let w = self.parse_expr()?;
            self.expect_keyword("THEN", "THEN")?;
            let t = self.parse_expr()?;
            whens.push((w, t));
        }
        if whens.is_empty() {
            return Err(self.unexpected("WHEN"));
        }
        let otherwise = if self.eat_keyword("ELSE")? {
            Some(Box::new(self.parse_expr()?))
        } else {
            None
        };
        let end = self.expect_keyword("END", "WHEN, ELSE or END")?;
        Ok(Expr {
            kind: ExprKind::Case {
                operand: Box::new(operand),
                whens,
                otherwise,
            },
            span: start.to(end),
        })
    }

    fn parse_call(&mut self, name: String, start: Span) -> PResult<Expr> {
        self.bump()?; // (
        if name.eq_ignore_ascii_case("cast") {
            let e = self.parse_expr()?;
            self.expect_keyword("AS", "AS in cast(value AS type)")?;
            let t = self.bump()?;
            let ty = match &t.tok {
                Tok::Ident(ty) => cast_type(ty),
                _ => None,
            };
            let Some(ty) = ty else {
                return Err(self.error(
                    ParseErrorKind::UnknownCastType(t.tok.to_string()),
                    t.span.start,
                ));
            };
            if matches!(ty, CastType::Decimal | CastType::Boolean) {
                self.require(
                    self.version >= SqlVersion::V2016_03_23,
                    &format!("cast to {}", ty.as_str()),
                    t.span.start,
                )?;
            }
            let end = self.expect_punct(")", "`)`")?;
            return Ok(Expr {
                kind: ExprKind::Cast(Box::new(e), ty),
                span: start.to(end),
            });
        }
        let Some(function) = Function::lookup(&name) else {
            return Err(self.error(ParseErrorKind::UnknownFunction(name), start.start));
        };
        if function.since() > self.version {
            return Err(self.error(
                ParseErrorKind::NotInVersion {
                    feature: format!("the function {}()", function.name()),
                    version: self.version,
                },
                start.start,
            ));
        }
        let mut args = Vec::new();
        if !self.at_punct(")")? {
            loop {
                if self.at_punct("*")?
                    && matches!(self.peek_at(1)?, Tok::Punct(",") | Tok::Punct(")"))
                {
                    let span = self.bump()?.span;
                    args.push(Expr {
                        kind: ExprKind::Wildcard,
                        span,
                    });
                } else {
                    args.push(self.parse_expr()?);
                }
                if !self.eat_punct(",")? {
                    break;
                }
            }
        }
        let end = self.expect_punct(")", "`,` or `)` in the argument list")?;
        Ok(Expr {
            kind: ExprKind::Call(function, args),
            span: start.to(end),
        })
    }
}

fn cast_type(name: &str) -> Option<CastType> {
    const TYPES: [(&str, CastType); 11] = [
        ("String", CastType::String),
        ("Nvarchar", CastType::String),
        ("Text", CastType::String),
        ("Ntext", CastType::String),
        ("varchar", CastType::String),
        ("Int", CastType::Int),
        ("Integer", CastType::Int),
        ("Double", CastType::Double),
        ("Decimal", CastType::Decimal),
        ("Bool", CastType::Boolean),
        ("Boolean", CastType::Boolean),
    ];
    TYPES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| *t)
}

/// Parses a whole statement, checking the length limit first.
pub(crate) fn parse_statement(
    sql: &str,
    version: SqlVersion,
    options: &ParseOptions,
) -> Result<Statement, ParseError> {
    if sql.len() > options.max_len {
        return Err(ParseError::new(
            ParseErrorKind::TooLong {
                len: sql.len(),
                max: options.max_len,
            },
            "",
            0,
        ));
    }
    Parser::new(sql, 0, version, options).parse_statement()
}

/// Parses a lone expression (the `sql-test` example's `"expr"` mode, and tests).
pub fn parse_expression(sql: &str, version: SqlVersion) -> Result<Expr, ParseError> {
    let options = ParseOptions::default();
    if sql.len() > options.max_len {
        return Err(ParseError::new(
            ParseErrorKind::TooLong {
                len: sql.len(),
                max: options.max_len,
            },
            "",
            0,
        ));
    }
    let mut p = Parser::new(sql, 0, version, &options);
    let e = p.parse_expr()?;
    p.expect_eof()?;
    Ok(e)
}
