//! The lexer: SQL text to tokens with byte spans. Pulled one token at a time, so a template can
//! stop at the `}` that closes `${...}`.

use std::fmt;

use crate::error::{ParseError, ParseErrorKind, Span};

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name: keyword, field or function (keywords are recognised by the parser).
    Ident(String),
    /// A number literal's text (digits, point, exponent; no sign).
    Number(String),
    /// A string literal's value (quotes removed, escapes resolved).
    Str(String),
    /// `@name`.
    Var(String),
    Punct(&'static str),
    Eof,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Number(s) => write!(f, "number {s}"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::Var(s) => write!(f, "variable @{s}"),
            Tok::Punct(p) => write!(f, "`{p}`"),
            Tok::Eof => f.write_str("end of input"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Span,
}

pub(crate) struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

/// Punctuation, longest first.
const PUNCT: [&str; 21] = [
    "<>", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "*", "+", "-", "/", "%",
    "=", "<", ">",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str, pos: usize) -> Self {
        Lexer { text, pos }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn error(&self, kind: ParseErrorKind, offset: usize) -> ParseError {
        ParseError::new(kind, self.text, offset)
    }

    /// Skips white space. AWS IoT SQL has no comments (SQL reference: "Comments are not
    /// currently supported"), so `--` is two minus signs.
    fn skip_space(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos = self
            .pos
            .saturating_add(rest.len().saturating_sub(trimmed.len()));
    }

    pub(crate) fn next_token(&mut self) -> Result<Token, ParseError> {
        self.skip_space();
        let start = self.pos;
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        let tok = if is_ident_start(c) {
            let len = rest.find(|c| !is_ident_char(c)).unwrap_or(rest.len());
            Tok::Ident(rest.get(..len).unwrap_or_default().to_owned())
        } else if c == '@' {
            let name = rest.get(1..).unwrap_or_default();
            let len = name.find(|c| !is_ident_char(c)).unwrap_or(name.len());
            if len == 0 || !name.starts_with(is_ident_start) {
                return Err(self.error(ParseErrorKind::UnexpectedCharacter('@'), start));
            }
            Tok::Var(name.get(..len).unwrap_or_default().to_owned())
        } else if c.is_ascii_digit()
            || (c == '.'
                && rest
                    .get(1..)
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit())))
        {
            Tok::Number(self.number_text(rest))
        } else if c == '\'' || c == '"' {
            let (value, len) = self.string(rest, c, start)?;
            self.pos = start.saturating_add(len);
            return Ok(Token {
                tok: Tok::Str(value),
                span: Span::new(start, self.pos),
            });
        } else if let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) {
            Tok::Punct(p)
        } else {
            return Err(self.error(ParseErrorKind::UnexpectedCharacter(c), start));
        };
        let len = match &tok {
            Tok::Ident(s) | Tok::Number(s) => s.len(),
            Tok::Var(s) => s.len().saturating_add(1),
            Tok::Punct(p) => p.len(),
            Tok::Str(_) | Tok::Eof => 0,
        };
        self.pos = start.saturating_add(len);
        Ok(Token {
            tok,
            span: Span::new(start, self.pos),
        })
    }

    /// `digits [. digits] [(e|E) [+-] digits]`, also `.5`.
    fn number_text(&self, rest: &str) -> String {
        let b = rest.as_bytes();
        let mut i = 0usize;
        let digits = |i: &mut usize| {
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i = i.saturating_add(1);
            }
        };
        digits(&mut i);
        if b.get(i) == Some(&b'.') && b.get(i.saturating_add(1)).is_some_and(u8::is_ascii_digit) {
            i = i.saturating_add(1);
            digits(&mut i);
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i.saturating_add(1);
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j = j.saturating_add(1);
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                i = j;
                digits(&mut i);
            }
        }
        rest.get(..i).unwrap_or_default().to_owned()
    }

    /// A string literal quoted with `quote`: a doubled quote or a backslash escape stands for
    /// the character. Returns the value and the literal's length in bytes.
    fn string(&self, rest: &str, quote: char, start: usize) -> Result<(String, usize), ParseError> {
        let mut out = String::new();
        let mut chars = rest.char_indices().skip(1).peekable();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                if chars.peek().is_some_and(|&(_, n)| n == quote) {
                    chars.next();
                    out.push(quote);
                    continue;
                }
                return Ok((out, i.saturating_add(1)));
            }
            if c == '\\' {
                let Some((j, e)) = chars.next() else { break };
                let escaped = match e {
                    '\\' => '\\',
                    '\'' => '\'',
                    '"' => '"',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'u' => {
                        let hex = rest.get(j.saturating_add(1)..j.saturating_add(5));
                        let code = hex
                            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .and_then(char::from_u32);
                        let Some(ch) = code else {
                            return Err(
                                self.error(ParseErrorKind::InvalidEscape, start.saturating_add(i))
                            );
                        };
                        for _ in 0..4 {
                            chars.next();
                        }
                        ch
                    }
                    _ => {
                        return Err(
                            self.error(ParseErrorKind::InvalidEscape, start.saturating_add(i))
                        );
                    }
                };
                out.push(escaped);
                continue;
            }
            out.push(c);
        }
        Err(self.error(ParseErrorKind::UnterminatedString, start))
    }
}
