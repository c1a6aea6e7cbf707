//! The parser: precedence climbing over [`Prec`], depth guards (nesting, tree depth, alias
//! length), and version switches.

use std::collections::VecDeque;

use mqtt_wire::TopicFilter;

use crate::ast::{
    Assignment, BinaryOp, CastType, Expr, ExprKind, Literal, Select, SelectItem, Source, Statement,
    UnaryOp,
};
use crate::decimal::Decimal;
use crate::error::{ParseError, ParseErrorKind, Span};
use crate::functions::Function;
use crate::lexer::{Lexer, Punct, Tok, Token};
use crate::version::SqlVersion;

/// Limits applied while parsing, with safe defaults.
///
/// `max_depth`, `max_tree_depth` and `max_alias_segments` bound every recursion over what the
/// parser accepts: the parser's own, and the walks over the tree and the output (evaluation,
/// `Display`, `Debug`, `Clone`, `PartialEq`, drop). With the defaults the deepest accepted rule
/// of every shape needs under 600 KiB of stack in an unoptimized build, within a 2 MiB thread
/// stack (a tokio worker's default); raising them needs a larger stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Longest SQL text accepted, in bytes. Default 64 KiB, far above any real rule; AWS does not
    /// publish its own limit.
    pub max_len: usize,
    /// Deepest nesting accepted: parentheses, operands of operators, function arguments, CASE
    /// parts, object and array members, nested SELECTs each open a level. Default 64: deep
    /// enough for any hand-written rule, shallow enough that parsing stays far from the thread's
    /// stack limit. Past it: [`ParseErrorKind::TooDeep`].
    pub max_depth: usize,
    /// Deepest expression tree accepted: the number of nodes on its longest root-to-leaf path
    /// (a field or literal is 1, parentheses add nothing). Every operator, `.member`, function
    /// call, CASE, literal object or array and nested SELECT is a node, so a left-associative
    /// chain such as `a OR b OR c` or `a.b.c` is one level deeper per link although it nests
    /// nothing in the text. Default 256: a chain of 255 operators or members, far more than a
    /// hand-written rule has (a long list of alternatives is `x IN [a, b, ...]`, which is three
    /// levels however long). Past it: [`ParseErrorKind::TreeTooDeep`].
    pub max_tree_depth: usize,
    /// Most segments in an `AS a.b.c` alias path (each segment is one level of the output
    /// object). Default 16. Past it: [`ParseErrorKind::AliasTooLong`].
    pub max_alias_segments: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_len: 64 * 1024,
            max_depth: 64,
            max_tree_depth: 256,
            max_alias_segments: 16,
        }
    }
}

/// AWS's SET clause limits: 10 variables per statement, names up to 64 characters.
const MAX_VARIABLES: usize = 10;
const MAX_VARIABLE_NAME: usize = 64;

/// Keywords: case-insensitive. All are fine as aliases and member names (`AS value`,
/// `a.end`); all but [`FIELD_KEYWORDS`] are refused as bare field names (read such a field
/// with `*.end` or `get(*, 'end')`).
const KEYWORDS: [&str; 18] = [
    "SELECT", "VALUE", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IN", "CASE", "WHEN", "THEN",
    "ELSE", "END", "TRUE", "FALSE", "NULL", "SET",
];

/// Keywords that are field names too wherever an expression goes: neither can continue or
/// end an expression (`SET` only starts a statement; `VALUE` only follows SELECT, and
/// `SELECT value FROM …` reads the field), and both are common payload keys.
const FIELD_KEYWORDS: [&str; 2] = ["VALUE", "SET"];

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

/// An expression and its depth: the nodes on its longest root-to-leaf path (a leaf is 1).
struct Tree {
    expr: Expr,
    depth: usize,
}

impl Tree {
    fn leaf(kind: ExprKind, span: Span) -> Tree {
        Tree {
            expr: Expr { kind, span },
            depth: 1,
        }
    }
}

pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: VecDeque<Token>,
    version: SqlVersion,
    depth: usize,
    max_depth: usize,
    max_tree_depth: usize,
    max_alias_segments: usize,
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
            max_tree_depth: options.max_tree_depth,
            max_alias_segments: options.max_alias_segments,
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

    fn at_punct(&mut self, p: Punct) -> PResult<bool> {
        Ok(matches!(self.peek()?.tok, Tok::Punct(q) if q == p))
    }

    fn eat_punct(&mut self, p: Punct) -> PResult<bool> {
        if self.at_punct(p)? {
            self.bump()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn expect_punct(&mut self, p: Punct, expected: &'static str) -> PResult<Span> {
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

    /// The depth of a node whose deepest child is `below` deep (0 for none), failing past the
    /// tree depth limit at `offset`, the token that makes the node (an operator, the `.` of a
    /// member, a function name, `CASE`, the `(` of a nested SELECT, `{`, `[`).
    fn node_depth(&self, below: usize, offset: usize) -> PResult<usize> {
        if below >= self.max_tree_depth {
            return Err(self.error(
                ParseErrorKind::TreeTooDeep {
                    max: self.max_tree_depth,
                },
                offset,
            ));
        }
        Ok(below.saturating_add(1))
    }

    /// A node over children at most `below` deep.
    fn node(&self, kind: ExprKind, span: Span, below: usize, offset: usize) -> PResult<Tree> {
        let depth = self.node_depth(below, offset)?;
        Ok(Tree {
            expr: Expr { kind, span },
            depth,
        })
    }

    pub(crate) fn expect_eof(&mut self) -> PResult<()> {
        if matches!(self.peek()?.tok, Tok::Eof) {
            return Ok(());
        }
        Err(self.unexpected("end of input"))
    }

    /// Consumes the `}` that closes a template's `${`.
    pub(crate) fn expect_closing_brace(&mut self) -> PResult<()> {
        self.expect_punct(Punct::RBrace, "`}` closing the template expression")
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
                self.expect_punct(Punct::Eq, "`=`")?;
                let value = self.parse_expr()?;
                set.push(Assignment { name, value });
                if !self.eat_punct(Punct::Comma)? {
                    break;
                }
            }
        }
        let (select, _) = self.parse_select(true)?;
        self.expect_eof()?;
        Ok(Statement { set, select })
    }

    /// A SELECT and the depth of its deepest expression (items, FROM, WHERE).
    fn parse_select(&mut self, top: bool) -> PResult<(Select, usize)> {
        self.expect_keyword("SELECT", "SELECT")?;
        let value = self.parse_select_value()?;
        let (items, items_depth) = self.parse_select_list(value)?;
        let (from, from_depth) = self.parse_from(top)?;
        let (condition, condition_depth) = self.parse_where()?;
        let select = Select {
            value,
            items,
            from,
            condition,
        };
        Ok((select, items_depth.max(from_depth).max(condition_depth)))
    }

    /// Whether `VALUE` follows SELECT: the keyword, unless what follows it ends or continues
    /// a field (`SELECT value FROM`, `SELECT value, x`, `SELECT value AS v`, `SELECT
    /// value.x`), which makes it the payload's `value` field.
    fn parse_select_value(&mut self) -> PResult<bool> {
        if !self.at_keyword("VALUE")? {
            return Ok(false);
        }
        let field = match self.peek_at(1)? {
            Tok::Punct(Punct::Comma) | Tok::Punct(Punct::Dot) | Tok::Eof => true,
            Tok::Ident(s) => ["FROM", "WHERE", "AS"]
                .iter()
                .any(|k| s.eq_ignore_ascii_case(k)),
            _ => false,
        };
        if field {
            return Ok(false);
        }
        let at = self.bump()?.span.start;
        self.require(self.version.supports_select_value(), "SELECT VALUE", at)?;
        Ok(true)
    }

    /// The select list (a single item after SELECT VALUE), and its deepest expression's depth.
    fn parse_select_list(&mut self, value: bool) -> PResult<(Vec<SelectItem>, usize)> {
        let mut depth = 0;
        let mut items = Vec::new();
        loop {
            let (item, d) = self.parse_select_item(value)?;
            depth = depth.max(d);
            items.push(item);
            if value || !self.eat_punct(Punct::Comma)? {
                return Ok((items, depth));
            }
        }
    }

    fn parse_where(&mut self) -> PResult<(Option<Expr>, usize)> {
        if !self.eat_keyword("WHERE")? {
            return Ok((None, 0));
        }
        let c = self.expr()?;
        Ok((Some(c.expr), c.depth))
    }

    /// One item of a select list, and its expression's depth.
    fn parse_select_item(&mut self, value: bool) -> PResult<(SelectItem, usize)> {
        if self.star_item()? {
            let span = self.bump()?.span;
            if value {
                let expr = Expr {
                    kind: ExprKind::Wildcard,
                    span,
                };
                return Ok((SelectItem::Expr { expr, alias: None }, 1));
            }
            return Ok((SelectItem::Wildcard, 1));
        }
        let e = self.expr()?;
        let alias = if self.eat_keyword("AS")? {
            Some(self.parse_alias()?)
        } else {
            None
        };
        Ok((
            SelectItem::Expr {
                expr: e.expr,
                alias,
            },
            e.depth,
        ))
    }

    /// An optional FROM clause: the top-level query's quoted topic filter, a nested query's `*`
    /// or expression (with its depth).
    fn parse_from(&mut self, top: bool) -> PResult<(Option<Source>, usize)> {
        if !self.eat_keyword("FROM")? {
            return Ok((None, 0));
        }
        if top {
            return Ok((Some(self.parse_topic_filter()?), 0));
        }
        if self.at_punct(Punct::Star)? {
            let span = self.bump()?.span;
            let expr = Expr {
                kind: ExprKind::Wildcard,
                span,
            };
            return Ok((Some(Source::Expr(expr)), 1));
        }
        let e = self.parse_expr_prec(Prec::Unary)?;
        Ok((Some(Source::Expr(e.expr)), e.depth))
    }

    fn parse_topic_filter(&mut self) -> PResult<Source> {
        let t = self.bump()?;
        match t.tok {
            Tok::Str(filter) => match TopicFilter::new(&filter) {
                Ok(_) => Ok(Source::Topic(filter)),
                Err(e) => Err(self.error(ParseErrorKind::InvalidTopicFilter(e), t.span.start)),
            },
            other => Err(self.error(
                ParseErrorKind::Unexpected {
                    found: other.to_string(),
                    expected: "a quoted topic filter",
                },
                t.span.start,
            )),
        }
    }

    /// Whether the next token is a `*` standing alone as a select item.
    fn star_item(&mut self) -> PResult<bool> {
        if !self.at_punct(Punct::Star)? {
            return Ok(false);
        }
        Ok(match self.peek_at(1)? {
            Tok::Punct(Punct::Comma) | Tok::Punct(Punct::RParen) | Tok::Eof => true,
            Tok::Ident(s) => s.eq_ignore_ascii_case("FROM") || s.eq_ignore_ascii_case("WHERE"),
            _ => false,
        })
    }

    /// `a.b.c` after AS, at most `max_alias_segments` segments (each one level of the output).
    /// A segment may be a keyword (`AS value`, as AWS's documentation writes): after AS only
    /// a name can come.
    fn parse_alias(&mut self) -> PResult<Vec<String>> {
        let mut path = vec![self.parse_alias_segment("an alias")?];
        while self.eat_punct(Punct::Dot)? {
            if path.len() >= self.max_alias_segments {
                let fallback = self.last_end;
                let offset = self.peek().map_or(fallback, |t| t.span.start);
                return Err(self.error(
                    ParseErrorKind::AliasTooLong {
                        max: self.max_alias_segments,
                    },
                    offset,
                ));
            }
            path.push(self.parse_alias_segment("an alias segment")?);
        }
        Ok(path)
    }

    fn parse_alias_segment(&mut self, expected: &'static str) -> PResult<String> {
        match &self.peek()?.tok {
            Tok::Ident(name) => {
                let name = name.clone();
                self.bump()?;
                Ok(name)
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        Ok(self.expr()?.expr)
    }

    fn expr(&mut self) -> PResult<Tree> {
        self.parse_expr_prec(Prec::Lowest)
    }

    fn binary_op(&mut self) -> PResult<Option<(BinaryOp, Prec)>> {
        Ok(match &self.peek()?.tok {
            Tok::Ident(s) if s.eq_ignore_ascii_case("OR") => Some((BinaryOp::Or, Prec::Or)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("AND") => Some((BinaryOp::And, Prec::And)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("IN") => Some((BinaryOp::In, Prec::Comparison)),
            Tok::Punct(p) => match p {
                Punct::Eq => Some((BinaryOp::Eq, Prec::Comparison)),
                Punct::LtGt | Punct::BangEq => Some((BinaryOp::Ne, Prec::Comparison)),
                Punct::Lt => Some((BinaryOp::Lt, Prec::Comparison)),
                Punct::LtEq => Some((BinaryOp::Le, Prec::Comparison)),
                Punct::Gt => Some((BinaryOp::Gt, Prec::Comparison)),
                Punct::GtEq => Some((BinaryOp::Ge, Prec::Comparison)),
                Punct::Plus => Some((BinaryOp::Add, Prec::Additive)),
                Punct::Minus => Some((BinaryOp::Sub, Prec::Additive)),
                Punct::Star => Some((BinaryOp::Mul, Prec::Multiplicative)),
                Punct::Slash => Some((BinaryOp::Div, Prec::Multiplicative)),
                Punct::Percent => Some((BinaryOp::Mod, Prec::Multiplicative)),
                _ => None,
            },
            _ => None,
        })
    }

    /// Precedence climbing, one nesting level deeper.
    fn parse_expr_prec(&mut self, min: Prec) -> PResult<Tree> {
        self.nested(|p| p.parse_chain(min))
    }

    /// A prefix expression, then binary operators binding tighter than `min`, each
    /// left-associative: `a + b + c` is `(a + b) + c`, a tree one level deeper per operator.
    fn parse_chain(&mut self, min: Prec) -> PResult<Tree> {
        let mut left = self.parse_prefix(min)?;
        while let Some((op, prec, at)) = self.chain_operator(min, left.depth)? {
            let right = self.parse_expr_prec(prec)?;
            left = self.binary(op, left, right, at)?;
        }
        Ok(left)
    }

    /// Consumes the next binary operator if it binds tighter than `min`: the operator, its
    /// precedence and offset. The tree depth is checked here, before the right operand, so a
    /// long chain stops at the first operator past the limit instead of reading the rest.
    fn chain_operator(
        &mut self,
        min: Prec,
        left_depth: usize,
    ) -> PResult<Option<(BinaryOp, Prec, usize)>> {
        let Some((op, prec)) = self.binary_op()? else {
            return Ok(None);
        };
        if prec <= min {
            return Ok(None);
        }
        let at = self.bump()?.span.start;
        self.node_depth(left_depth, at)?;
        Ok(Some((op, prec, at)))
    }

    fn binary(&self, op: BinaryOp, left: Tree, right: Tree, at: usize) -> PResult<Tree> {
        let below = left.depth.max(right.depth);
        let span = left.expr.span.to(right.expr.span);
        let kind = ExprKind::Binary(op, Box::new(left.expr), Box::new(right.expr));
        self.node(kind, span, below, at)
    }

    fn unary(&self, op: UnaryOp, at: Span, operand: Tree) -> PResult<Tree> {
        let span = at.to(operand.expr.span);
        let kind = ExprKind::Unary(op, Box::new(operand.expr));
        self.node(kind, span, operand.depth, at.start)
    }

    fn parse_prefix(&mut self, min: Prec) -> PResult<Tree> {
        if self.at_keyword("NOT")? {
            return self.parse_not(min);
        }
        if self.at_punct(Punct::Minus)? {
            return self.parse_minus();
        }
        self.parse_primary_postfix()
    }

    fn parse_not(&mut self, min: Prec) -> PResult<Tree> {
        if min > Prec::Not {
            return Err(self.unexpected("an expression (wrap NOT in parentheses here)"));
        }
        let at = self.bump()?.span;
        let operand = self.parse_expr_prec(Prec::Not)?;
        self.unary(UnaryOp::Not, at, operand)
    }

    fn parse_minus(&mut self) -> PResult<Tree> {
        let minus = self.bump()?.span;
        if let Some(literal) = self.negative_number(minus)? {
            return self.parse_postfix(literal);
        }
        let operand = self.parse_expr_prec(Prec::Multiplicative)?;
        self.unary(UnaryOp::Neg, minus, operand)
    }

    fn parse_primary_postfix(&mut self) -> PResult<Tree> {
        let primary = self.parse_primary()?;
        self.parse_postfix(primary)
    }

    /// `-` directly followed by a number is a negative literal (so i64::MIN parses).
    fn negative_number(&mut self, minus: Span) -> PResult<Option<Tree>> {
        let Token {
            tok: Tok::Number(text),
            span,
        } = self.peek()?.clone()
        else {
            return Ok(None);
        };
        if span.start != minus.end {
            return Ok(None);
        }
        self.bump()?;
        let lit = self.number(&format!("-{text}"), minus.start)?;
        Ok(Some(Tree::leaf(ExprKind::Literal(lit), minus.to(span))))
    }

    fn parse_postfix(&mut self, mut e: Tree) -> PResult<Tree> {
        while self.at_punct(Punct::Dot)? {
            let dot = self.bump()?.span.start;
            self.node_depth(e.depth, dot)?;
            let t = self.bump()?;
            match t.tok {
                // Member names after `.` may be keywords (`a.value`), since no keyword can follow
                // a dot.
                Tok::Ident(name) => {
                    let span = e.expr.span.to(t.span);
                    let kind = ExprKind::Member(Box::new(e.expr), name);
                    e = self.node(kind, span, e.depth, dot)?;
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

    /// A primary expression. Each kind has its own function, so the frames on the recursive
    /// path (`(`, `{`, `[`, calls, CASE) stay small.
    fn parse_primary(&mut self) -> PResult<Tree> {
        let t = self.bump()?;
        match t.tok {
            // `*.path`: a member of the whole input (`SELECT VALUE *.messages FROM 't'`).
            Tok::Punct(Punct::Star) if matches!(self.peek()?.tok, Tok::Punct(Punct::Dot)) => {
                Ok(Tree::leaf(ExprKind::Wildcard, t.span))
            }
            Tok::Punct(Punct::LParen) => self.parse_parenthesized(t.span),
            Tok::Punct(Punct::LBrace) => self.parse_object(t.span),
            Tok::Punct(Punct::LBracket) => self.parse_array(t.span),
            Tok::Ident(name) => self.parse_identifier(name, t.span),
            other => self.parse_literal(other, t.span),
        }
    }

    fn parse_literal(&self, tok: Tok, span: Span) -> PResult<Tree> {
        let kind = match tok {
            Tok::Number(text) => ExprKind::Literal(self.number(&text, span.start)?),
            Tok::Str(s) => ExprKind::Literal(Literal::String(s)),
            Tok::Var(name) => ExprKind::Variable(name),
            other => {
                return Err(self.error(
                    ParseErrorKind::Unexpected {
                        found: other.to_string(),
                        expected: "an expression",
                    },
                    span.start,
                ));
            }
        };
        Ok(Tree::leaf(kind, span))
    }

    /// TRUE, FALSE, NULL, CASE, a function call or a field.
    fn parse_identifier(&mut self, name: String, start: Span) -> PResult<Tree> {
        let literal = |l| Ok(Tree::leaf(ExprKind::Literal(l), start));
        if name.eq_ignore_ascii_case("TRUE") {
            return literal(Literal::Bool(true));
        }
        if name.eq_ignore_ascii_case("FALSE") {
            return literal(Literal::Bool(false));
        }
        if name.eq_ignore_ascii_case("NULL") {
            return literal(Literal::Null);
        }
        if name.eq_ignore_ascii_case("CASE") {
            return self.parse_case(start);
        }
        if is_keyword(&name) && !FIELD_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&name)) {
            return Err(self.error(
                ParseErrorKind::Unexpected {
                    found: Tok::Ident(name).to_string(),
                    expected: "an expression",
                },
                start.start,
            ));
        }
        if self.at_punct(Punct::LParen)? {
            if name.eq_ignore_ascii_case("cast") {
                return self.parse_cast(start);
            }
            return self.parse_call(name, start);
        }
        Ok(Tree::leaf(ExprKind::Field(name), start))
    }

    /// After `(`: a nested SELECT, or a parenthesized expression (not a node of its own).
    fn parse_parenthesized(&mut self, start: Span) -> PResult<Tree> {
        if self.at_keyword("SELECT")? {
            return self.parse_subquery(start);
        }
        let mut e = self.expr()?;
        let end = self.expect_punct(Punct::RParen, "`)`")?;
        e.expr.span = start.to(end);
        Ok(e)
    }

    fn parse_subquery(&mut self, start: Span) -> PResult<Tree> {
        let (select, below) = self.parse_nested_select()?;
        let end = self.expect_punct(Punct::RParen, "`)` after the nested SELECT")?;
        let kind = ExprKind::Subquery(Box::new(select));
        self.node(kind, start.to(end), below, start.start)
    }

    /// A nested SELECT at the next token (2016-03-23 and later), and its depth.
    fn parse_nested_select(&mut self) -> PResult<(Select, usize)> {
        let at = self.peek()?.span.start;
        self.require(
            self.version.supports_nested_queries(),
            "a nested SELECT",
            at,
        )?;
        self.nested(|p| p.parse_select(false))
    }

    fn parse_object(&mut self, start: Span) -> PResult<Tree> {
        self.require(
            self.version.supports_literals(),
            "an object literal",
            start.start,
        )?;
        let mut members = Vec::new();
        let mut below = 0;
        if !self.at_punct(Punct::RBrace)? {
            loop {
                let key = self.parse_object_key()?;
                self.expect_punct(Punct::Colon, "`:` after the object key")?;
                let v = self.expr()?;
                below = v.depth.max(below);
                members.push((key, v.expr));
                if !self.eat_punct(Punct::Comma)? {
                    break;
                }
            }
        }
        let end = self.expect_punct(Punct::RBrace, "`,` or `}`")?;
        self.node(ExprKind::Object(members), start.to(end), below, start.start)
    }

    fn parse_object_key(&mut self) -> PResult<String> {
        match self.bump()? {
            Token {
                tok: Tok::Str(k), ..
            }
            | Token {
                tok: Tok::Ident(k), ..
            } => Ok(k),
            t => Err(self.error(
                ParseErrorKind::Unexpected {
                    found: t.tok.to_string(),
                    expected: "an object key (a string)",
                },
                t.span.start,
            )),
        }
    }

    fn parse_array(&mut self, start: Span) -> PResult<Tree> {
        self.require(
            self.version.supports_literals(),
            "an array literal",
            start.start,
        )?;
        let mut items = Vec::new();
        let mut below = 0;
        if !self.at_punct(Punct::RBracket)? {
            loop {
                let item = self.expr()?;
                below = item.depth.max(below);
                items.push(item.expr);
                if !self.eat_punct(Punct::Comma)? {
                    break;
                }
            }
        }
        let end = self.expect_punct(Punct::RBracket, "`,` or `]`")?;
        self.node(ExprKind::Array(items), start.to(end), below, start.start)
    }

    fn parse_case(&mut self, start: Span) -> PResult<Tree> {
        let operand = self.expr()?;
        let (whens, whens_depth) = self.parse_whens()?;
        let (otherwise, otherwise_depth) = self.parse_else()?;
        let end = self.expect_keyword("END", "WHEN, ELSE or END")?;
        let below = operand.depth.max(whens_depth).max(otherwise_depth);
        let kind = ExprKind::Case {
            operand: Box::new(operand.expr),
            whens,
            otherwise,
        };
        self.node(kind, start.to(end), below, start.start)
    }

    /// CASE's `WHEN v THEN r` pairs (at least one), and the deepest one's depth.
    fn parse_whens(&mut self) -> PResult<(Vec<(Expr, Expr)>, usize)> {
        let mut whens = Vec::new();
        let mut below = 0;
        while self.eat_keyword("WHEN")? {
            let w = self.expr()?;
            self.expect_keyword("THEN", "THEN")?;
            let t = self.expr()?;
            below = below.max(w.depth).max(t.depth);
            whens.push((w.expr, t.expr));
        }
        if whens.is_empty() {
            return Err(self.unexpected("WHEN"));
        }
        Ok((whens, below))
    }

    fn parse_else(&mut self) -> PResult<(Option<Box<Expr>>, usize)> {
        if !self.eat_keyword("ELSE")? {
            return Ok((None, 0));
        }
        let o = self.expr()?;
        Ok((Some(Box::new(o.expr)), o.depth))
    }

    /// `cast(value AS type)`, at its `(`.
    fn parse_cast(&mut self, start: Span) -> PResult<Tree> {
        self.bump()?; // (
        let e = self.expr()?;
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
        let end = self.expect_punct(Punct::RParen, "`)`")?;
        let kind = ExprKind::Cast(Box::new(e.expr), ty);
        self.node(kind, start.to(end), e.depth, start.start)
    }

    /// A function call, at its `(`.
    fn parse_call(&mut self, name: String, start: Span) -> PResult<Tree> {
        let function = self.function(name, start.start)?;
        self.bump()?; // (
        let (args, below, end) = self.parse_arguments()?;
        let kind = ExprKind::Call(function, args);
        self.node(kind, start.to(end), below, start.start)
    }

    /// The function called `name`, if it exists in the rule's SQL version.
    fn function(&self, name: String, offset: usize) -> PResult<Function> {
        let Some(function) = Function::lookup(&name) else {
            return Err(self.error(ParseErrorKind::UnknownFunction(name), offset));
        };
        if function.since() > self.version {
            return Err(self.error(
                ParseErrorKind::NotInVersion {
                    feature: format!("the function {}()", function.name()),
                    version: self.version,
                },
                offset,
            ));
        }
        Ok(function)
    }

    /// A call's arguments after `(`: the arguments, the deepest one's depth, the `)`.
    fn parse_arguments(&mut self) -> PResult<(Vec<Expr>, usize, Span)> {
        let mut args = Vec::new();
        let mut below = 0;
        if !self.at_punct(Punct::RParen)? {
            loop {
                let a = self.parse_argument()?;
                below = below.max(a.depth);
                args.push(a.expr);
                if !self.eat_punct(Punct::Comma)? {
                    break;
                }
            }
        }
        let end = self.expect_punct(Punct::RParen, "`,` or `)` in the argument list")?;
        Ok((args, below, end))
    }

    /// An argument: an expression, `*` standing alone, or a nested SELECT without parentheses
    /// of its own (`isNull(SELECT VALUE x FROM y)`, which AWS accepts): it ends at the `,` or
    /// `)` that ends the argument.
    fn parse_argument(&mut self) -> PResult<Tree> {
        if self.at_punct(Punct::Star)?
            && matches!(
                self.peek_at(1)?,
                Tok::Punct(Punct::Comma) | Tok::Punct(Punct::RParen)
            )
        {
            let span = self.bump()?.span;
            return Ok(Tree::leaf(ExprKind::Wildcard, span));
        }
        if self.at_keyword("SELECT")? {
            let start = self.peek()?.span;
            let (select, below) = self.parse_nested_select()?;
            let span = start.to(Span::new(self.last_end, self.last_end));
            return self.node(
                ExprKind::Subquery(Box::new(select)),
                span,
                below,
                start.start,
            );
        }
        self.expr()
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
