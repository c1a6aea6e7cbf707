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
    Punct(Punct),
    Eof,
}

/// A punctuation token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Punct {
    /// `<>`
    LtGt,
    /// `!=`
    BangEq,
    /// `<=`
    LtEq,
    /// `>=`
    GtEq,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `=`
    Eq,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `:`
    Colon,
    /// `*`
    Star,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `/`
    Slash,
    /// `%`
    Percent,
}

impl Punct {
    /// The punctuation at the start of `rest`, the longest that fits (`<=` before `<`).
    fn at_start(rest: &[u8]) -> Option<Punct> {
        let next = rest.get(1).copied();
        Some(match (*rest.first()?, next) {
            (b'<', Some(b'>')) => Punct::LtGt,
            (b'<', Some(b'=')) => Punct::LtEq,
            (b'<', _) => Punct::Lt,
            (b'>', Some(b'=')) => Punct::GtEq,
            (b'>', _) => Punct::Gt,
            (b'!', Some(b'=')) => Punct::BangEq,
            (b'=', _) => Punct::Eq,
            (b'(', _) => Punct::LParen,
            (b')', _) => Punct::RParen,
            (b'[', _) => Punct::LBracket,
            (b']', _) => Punct::RBracket,
            (b'{', _) => Punct::LBrace,
            (b'}', _) => Punct::RBrace,
            (b',', _) => Punct::Comma,
            (b'.', _) => Punct::Dot,
            (b':', _) => Punct::Colon,
            (b'*', _) => Punct::Star,
            (b'+', _) => Punct::Plus,
            (b'-', _) => Punct::Minus,
            (b'/', _) => Punct::Slash,
            (b'%', _) => Punct::Percent,
            _ => return None,
        })
    }

    /// The punctuation as written.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Punct::LtGt => "<>",
            Punct::BangEq => "!=",
            Punct::LtEq => "<=",
            Punct::GtEq => ">=",
            Punct::Lt => "<",
            Punct::Gt => ">",
            Punct::Eq => "=",
            Punct::LParen => "(",
            Punct::RParen => ")",
            Punct::LBracket => "[",
            Punct::RBracket => "]",
            Punct::LBrace => "{",
            Punct::RBrace => "}",
            Punct::Comma => ",",
            Punct::Dot => ".",
            Punct::Colon => ":",
            Punct::Star => "*",
            Punct::Plus => "+",
            Punct::Minus => "-",
            Punct::Slash => "/",
            Punct::Percent => "%",
        }
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Number(s) => write!(f, "number {s}"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::Var(s) => write!(f, "variable @{s}"),
            Tok::Punct(p) => write!(f, "`{}`", p.as_str()),
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

    /// The text from the current position. The position starts where the caller said and
    /// moves by whole tokens; one inside a character, or past the end, is an error.
    fn rest(&self) -> Result<&'a str, ParseError> {
        self.text.get(self.pos..).ok_or_else(|| {
            self.error(
                ParseErrorKind::Unexpected {
                    found: "a position inside a character".to_owned(),
                    expected: "a token",
                },
                self.pos,
            )
        })
    }

    fn error(&self, kind: ParseErrorKind, offset: usize) -> ParseError {
        ParseError::new(kind, self.text, offset)
    }

    pub(crate) fn next_token(&mut self) -> Result<Token, ParseError> {
        // Skips white space. AWS IoT SQL has no comments (SQL reference: "Comments are not
        // currently supported"), so `--` is two minus signs.
        let untrimmed = self.rest()?;
        let rest = untrimmed.trim_start();
        self.pos = self
            .pos
            .saturating_add(untrimmed.len().saturating_sub(rest.len()));
        let start = self.pos;
        let Some(c) = rest.chars().next() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        let tok = if is_ident_start(c) {
            Tok::Ident(rest.chars().take_while(|&c| is_ident_char(c)).collect())
        } else if let Some(name) = rest.strip_prefix('@') {
            if !name.starts_with(is_ident_start) {
                return Err(self.error(ParseErrorKind::UnexpectedCharacter('@'), start));
            }
            Tok::Var(name.chars().take_while(|&c| is_ident_char(c)).collect())
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
        } else if let Some(p) = Punct::at_start(rest.as_bytes()) {
            Tok::Punct(p)
        } else {
            return Err(self.error(ParseErrorKind::UnexpectedCharacter(c), start));
        };
        let len = match &tok {
            Tok::Ident(s) | Tok::Number(s) => s.len(),
            Tok::Var(s) => s.len().saturating_add(1),
            Tok::Punct(p) => p.as_str().len(),
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
        // The `i` bytes counted are all ASCII (digits, `.`, `e`, sign): one char each.
        b.iter().take(i).map(|&b| char::from(b)).collect()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::arithmetic_side_effects)]
    use super::*;

    fn puncts(text: &str) -> Vec<(Punct, usize, usize)> {
        let mut lexer = Lexer::new(text, 0);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token().unwrap();
            match token.tok {
                Tok::Punct(p) => out.push((p, token.span.start, token.span.end)),
                Tok::Eof => return out,
                other => panic!("{other}"),
            }
        }
    }

    #[test]
    fn punctuation_takes_the_longest_that_fits() {
        assert_eq!(
            puncts("<><=<>=!=>=> <"),
            vec![
                (Punct::LtGt, 0, 2),
                (Punct::LtEq, 2, 4),
                (Punct::LtGt, 4, 6),
                (Punct::Eq, 6, 7),
                (Punct::BangEq, 7, 9),
                (Punct::GtEq, 9, 11),
                (Punct::Gt, 11, 12),
                (Punct::Lt, 13, 14),
            ]
        );
        for p in puncts("()[]{},.:*+-/%=") {
            assert_eq!(p.2 - p.1, p.0.as_str().len());
        }
    }

    #[test]
    fn a_lone_bang_is_an_unexpected_character() {
        let mut lexer = Lexer::new("a ! b", 0);
        assert_eq!(lexer.next_token().unwrap().tok, Tok::Ident("a".to_owned()));
        let err = lexer.next_token().unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::UnexpectedCharacter('!'));
        assert_eq!(err.offset, 2);
    }
}
