//! The syntax tree. Every expression carries its byte span; `Display` prints SQL that parses
//! back to an equal tree (equality ignores spans).

use std::fmt;

use crate::decimal::Decimal;
use crate::error::Span;
use crate::functions::Function;

/// A whole rule statement: `[SET @v = e, ...] SELECT ... [FROM 'filter'] [WHERE e]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `SET` assignments, evaluated in order before WHERE.
    pub set: Vec<Assignment>,
    /// The top-level query.
    pub select: Select,
}

/// `@name = expr` in a SET clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The variable's name (without `@`).
    pub name: String,
    /// Its value.
    pub value: Expr,
}

/// `SELECT [VALUE] items [FROM source] [WHERE condition]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// `SELECT VALUE expr`: the output is the expression's value itself.
    pub value: bool,
    /// The select list.
    pub items: Vec<SelectItem>,
    /// The FROM clause.
    pub from: Option<Source>,
    /// The WHERE condition.
    pub condition: Option<Expr>,
}

/// What a SELECT reads from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Source {
    /// The top-level query's MQTT topic filter, as written.
    Topic(String),
    /// A nested query's source: an expression (a path like `e` or `a.b`, or `*`) evaluated in
    /// the enclosing scope. Over an array, the query runs once per element.
    Expr(Expr),
}

/// One item of a select list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SelectItem {
    /// `*`: every member of the current object.
    Wildcard,
    /// `expr [AS a.b.c]`.
    Expr {
        /// The expression.
        expr: Expr,
        /// The dotted alias, if any.
        alias: Option<Vec<String>>,
    },
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Literal {
    /// `NULL`.
    Null,
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a point or exponent, or too large for `Int`.
    Decimal(Decimal),
    /// `'text'` or `"text"`.
    String(String),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnaryOp {
    /// `-e`.
    Neg,
    /// `NOT e`.
    Not,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `OR`.
    Or,
    /// `AND`.
    And,
    /// `=`.
    Eq,
    /// `<>` (also written `!=`).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN`.
    In,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(&self) -> &'static str {
        match self {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "IN",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }
}

/// Target types of `cast(e AS type)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CastType {
    /// `String`, `Nvarchar`, `Text`, `Ntext`, `varchar`.
    String,
    /// `Int`, `Integer`.
    Int,
    /// `Double`: a decimal of double precision.
    Double,
    /// `Decimal` (2016-03-23).
    Decimal,
    /// `Bool`, `Boolean` (2016-03-23).
    Boolean,
}

impl CastType {
    /// The keyword printed for this type.
    pub fn as_str(&self) -> &'static str {
        match self {
            CastType::String => "String",
            CastType::Int => "Int",
            CastType::Double => "Double",
            CastType::Decimal => "Decimal",
            CastType::Boolean => "Boolean",
        }
    }
}

/// An expression with its span.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is in the SQL text.
    pub span: Span,
}

impl PartialEq for Expr {
    /// Spans are not compared: a tree printed and parsed again is equal to the original.
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Expr {
    /// An expression with an empty span (for building trees in code).
    pub fn new(kind: ExprKind) -> Self {
        Expr {
            kind,
            span: Span::default(),
        }
    }
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExprKind {
    /// A literal.
    Literal(Literal),
    /// A field of the current object (the payload, or a nested query's row). Case-sensitive.
    Field(String),
    /// `*` as a value: the whole current object (or binary payload).
    Wildcard,
    /// `@name`, a SET variable.
    Variable(String),
    /// `base.name`.
    Member(Box<Expr>, String),
    /// A unary operator.
    Unary(UnaryOp, Box<Expr>),
    /// A binary operator.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `name(args)`.
    Call(Function, Vec<Expr>),
    /// `cast(e AS type)`.
    Cast(Box<Expr>, CastType),
    /// `CASE operand WHEN v THEN r ... [ELSE d] END`.
    Case {
        /// The value compared with each WHEN.
        operand: Box<Expr>,
        /// `(WHEN value, THEN result)` pairs.
        whens: Vec<(Expr, Expr)>,
        /// The ELSE result.
        otherwise: Option<Box<Expr>>,
    },
    /// `{"key": value, ...}`.
    Object(Vec<(String, Expr)>),
    /// `[a, b, ...]`.
    Array(Vec<Expr>),
    /// `(SELECT ...)`.
    Subquery(Box<Select>),
}

/// Writes `s` as a single-quoted SQL string literal.
pub(crate) fn write_sql_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("NULL"),
            Literal::Bool(true) => f.write_str("TRUE"),
            Literal::Bool(false) => f.write_str("FALSE"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Decimal(d) => {
                let text = d.to_string();
                // A whole decimal without exponent ("10") would read back as Int: mark it.
                if text.contains(['.', 'E']) {
                    f.write_str(&text)
                } else {
                    write!(f, "{text}E0")
                }
            }
            Literal::String(s) => write_sql_string(f, s),
        }
    }
}

fn write_list<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    mut each: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        each(f, item)?;
    }
    Ok(())
}

/// Printing precedence, weakest first (matches the parser's).
const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_NOT: u8 = 3;
const P_CMP: u8 = 4;
const P_ADD: u8 = 5;
const P_MUL: u8 = 6;
const P_UNARY: u8 = 7;
const P_PRIMARY: u8 = 8;

impl BinaryOp {
    fn precedence(&self) -> u8 {
        match self {
            BinaryOp::Or => P_OR,
            BinaryOp::And => P_AND,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::In => P_CMP,
            BinaryOp::Add | BinaryOp::Sub => P_ADD,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => P_MUL,
        }
    }
}

impl Expr {
    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Binary(op, ..) => op.precedence(),
            ExprKind::Unary(UnaryOp::Not, _) => P_NOT,
            // Number literals are parenthesized as a member's base (`(1).a`, `(-5).a`).
            ExprKind::Unary(UnaryOp::Neg, _)
            | ExprKind::Literal(Literal::Int(_) | Literal::Decimal(_)) => P_UNARY,
            _ => P_PRIMARY,
        }
    }

    /// Writes the expression, in parentheses when it binds weaker than `min`: the fewest
    /// parentheses that parse back to the same tree (and so the same nesting depth).
    fn write_prec(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.precedence() < min {
            f.write_str("(")?;
            self.write_bare(f)?;
            return f.write_str(")");
        }
        self.write_bare(f)
    }

    fn write_bare(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => write!(f, "{l}"),
            ExprKind::Field(name) => f.write_str(name),
            ExprKind::Wildcard => f.write_str("*"),
            ExprKind::Variable(name) => write!(f, "@{name}"),
            ExprKind::Member(base, name) => {
                base.write_prec(f, P_PRIMARY)?;
                write!(f, ".{name}")
            }
            // The space keeps `- 5` a negation of 5 rather than the literal -5.
            ExprKind::Unary(UnaryOp::Neg, e) => {
                f.write_str("- ")?;
                e.write_prec(f, P_UNARY)
            }
            ExprKind::Unary(UnaryOp::Not, e) => {
                f.write_str("NOT ")?;
                e.write_prec(f, P_NOT)
            }
            ExprKind::Binary(op, l, r) => {
                let p = op.precedence();
                l.write_prec(f, p)?;
                write!(f, " {} ", op.as_str())?;
                r.write_prec(f, p.saturating_add(1))
            }
            ExprKind::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                write_list(f, args, |f, a| write!(f, "{a}"))?;
                f.write_str(")")
            }
            ExprKind::Cast(e, ty) => write!(f, "cast({e} AS {})", ty.as_str()),
            ExprKind::Case {
                operand,
                whens,
                otherwise,
            } => {
                write!(f, "CASE {operand}")?;
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = otherwise {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            ExprKind::Object(members) => {
                f.write_str("{")?;
                write_list(f, members, |f, (k, v)| {
                    write_sql_string(f, k)?;
                    write!(f, ": {v}")
                })?;
                f.write_str("}")
            }
            ExprKind::Array(items) => {
                f.write_str("[")?;
                write_list(f, items, |f, a| write!(f, "{a}"))?;
                f.write_str("]")
            }
            ExprKind::Subquery(select) => write!(f, "({select})"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_prec(f, 0)
    }
}

impl fmt::Display for SelectItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Wildcard => f.write_str("*"),
            SelectItem::Expr { expr, alias } => {
                write!(f, "{expr}")?;
                if let Some(path) = alias {
                    write!(f, " AS {}", path.join("."))?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Select {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        if self.value {
            f.write_str("VALUE ")?;
        }
        write_list(f, &self.items, |f, i| write!(f, "{i}"))?;
        match &self.from {
            Some(Source::Topic(t)) => {
                f.write_str(" FROM ")?;
                write_sql_string(f, t)?;
            }
            Some(Source::Expr(e)) => write!(f, " FROM {e}")?,
            None => {}
        }
        if let Some(c) = &self.condition {
            write!(f, " WHERE {c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.set.is_empty() {
            f.write_str("SET ")?;
            write_list(f, &self.set, |f, a| write!(f, "@{} = {}", a.name, a.value))?;
            f.write_str(" ")?;
        }
        write!(f, "{}", self.select)
    }
}
