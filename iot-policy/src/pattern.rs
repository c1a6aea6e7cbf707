//! Compiled string patterns: literal text, `*` and `?` wildcards, and `${...}` policy
//! variables, matched without allocating and in O(pattern × text) time at worst.

use crate::context::RequestContextOf;
use crate::error::PolicyErrorKind;
use crate::variables::{KeyRef, Resolution, parse_key};

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text matched exactly (escapes `${*}`, `${?}`, `${$}` already replaced).
    Lit(Box<str>),
    /// `*`: any run of characters, including `/` and `:`.
    Star,
    /// `?`: exactly one character.
    One,
    /// `${...}`: the variable's value, matched as literal text.
    Var(KeyRef),
}

/// A pattern as written in a policy, compiled into pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pub(crate) pieces: Box<[Piece]>,
    pub(crate) source: Box<str>,
}

/// How to read a pattern's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (resources, `StringLike`, `ArnLike`), or literal
    /// (`StringEquals`).
    pub(crate) wildcards: bool,
    /// `${...}` is a policy variable (`Version` 2012-10-17), or literal text (2008-10-17).
    pub(crate) variables: bool,
}

/// The outcome of matching a pattern against text in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    Yes,
    No,
    /// A variable in the pattern did not resolve (or was not substitutable): the entry
    /// matches nothing.
    Unresolved,
}

fn push_lit(pieces: &mut Vec<Piece>, lit: &mut String) {
    if !lit.is_empty() {
        pieces.push(Piece::Lit(std::mem::take(lit).into_boxed_str()));
    }
}

/// Compiles pattern text.
pub(crate) fn compile(text: &str, syntax: Syntax) -> Result<Pattern, PolicyErrorKind> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut rest = text;
    loop {
        if let Some(inner_and_after) = rest.strip_prefix("${").filter(|_| syntax.variables) {
            let Some((inner, after)) = inner_and_after.split_once('}') else {
                return Err(PolicyErrorKind::MalformedVariable(format!(
                    "\"${{\" without a closing \"}}\" in {text:?}"
                )));
            };
            rest = after;
            match inner {
                "*" | "?" | "$" => lit.push_str(inner),
                "" => {
                    return Err(PolicyErrorKind::MalformedVariable(format!(
                        "empty \"${{}}\" in {text:?}"
                    )));
                }
                _ if inner.contains(['$', '{']) || inner.trim() != inner => {
                    return Err(PolicyErrorKind::MalformedVariable(format!(
                        "\"${{{inner}}}\" in {text:?}"
                    )));
                }
                _ => match parse_key(inner, true) {
                    Ok(key) => {
                        push_lit(&mut pieces, &mut lit);
                        pieces.push(Piece::Var(key));
                    }
                    Err(crate::variables::KeyError::Unknown) => {
                        return Err(PolicyErrorKind::UnknownVariable(inner.to_owned()));
                    }
                    Err(crate::variables::KeyError::Malformed(why)) => {
                        return Err(PolicyErrorKind::MalformedVariable(format!(
                            "\"${{{inner}}}\": {why}"
                        )));
                    }
                },
            }
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            break;
        };
        rest = chars.as_str();
        match c {
            '*' if syntax.wildcards => {
                push_lit(&mut pieces, &mut lit);
                // `**` is the same as `*`.
                if pieces.last() != Some(&Piece::Star) {
                    pieces.push(Piece::Star);
                }
            }
            '?' if syntax.wildcards => {
                push_lit(&mut pieces, &mut lit);
                pieces.push(Piece::One);
            }
            _ => lit.push(c),
        }
    }
    push_lit(&mut pieces, &mut lit);
    Ok(Pattern {
        pieces: pieces.into_boxed_slice(),
        source: text.into(),
    })
}

impl Pattern {
    /// Whether the pattern has `${...}` variables.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &KeyRef> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(k) => Some(k),
            _ => None,
        })
    }

    /// Whether the pattern is exactly `*`.
    pub(crate) fn is_any(&self) -> bool {
        matches!(&*self.pieces, [Piece::Star])
    }

    /// Matches `text`, substituting variables from `ctx` as literal text. `fold` compares
    /// ASCII letters case-insensitively. Reports [`Match::Unresolved`] when a variable does not
    /// resolve, whatever the text.
    pub(crate) fn matches<S: AsRef<str>>(
        &self,
        text: &str,
        ctx: &RequestContextOf<'_, S>,
        fold: bool,
    ) -> Match {
        for key in self.variables() {
            if !matches!(key.substitute(ctx), Resolution::Value(_)) {
                return Match::Unresolved;
            }
        }
        if self.matches_lazily(text, ctx, fold) {
            Match::Yes
        } else {
            Match::No
        }
    }

    /// Whether the pattern matches `text`; a variable is resolved only when matching reaches
    /// it, and one that does not resolve matches nothing there — so the whole pattern cannot
    /// match, exactly as with [`matches`](Self::matches), only faster when the literal text
    /// before it already differs.
    pub(crate) fn matches_lazily<S: AsRef<str>>(
        &self,
        text: &str,
        ctx: &RequestContextOf<'_, S>,
        fold: bool,
    ) -> bool {
        let prefix = |piece: &Piece, rest: &[u8]| -> Option<usize> {
            let lit: &str = match piece {
                Piece::Lit(s) => s,
                Piece::Var(key) => match key.substitute(ctx) {
                    Resolution::Value(v) => v,
                    Resolution::Missing | Resolution::Unsafe(_) => return None,
                },
                Piece::Star | Piece::One => return None,
            };
            starts_with(rest, lit.as_bytes(), fold).then_some(lit.len())
        };
        glob(&self.pieces, text, fold, prefix)
    }
}

fn char_len_at(text: &[u8], at: usize) -> usize {
    match text.get(at) {
        Some(&b) if b < 0x80 => 1,
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(_) => 2,
        None => 1,
    }
}

#[inline]
fn starts_with(text: &[u8], prefix: &[u8], fold: bool) -> bool {
    match text.get(..prefix.len()) {
        Some(head) if fold => head.eq_ignore_ascii_case(prefix),
        // Short runs (`/`, a client id) are compared inline rather than through `memcmp`.
        Some(head) if prefix.len() <= 16 => head.iter().zip(prefix).all(|(a, b)| a == b),
        // ARNs share long prefixes (`arn:aws:iot:region:account:topic/`) and differ near the
        // end of a literal run: compare the last eight bytes (one word) before the whole run.
        Some(head) => {
            let split = prefix.len().saturating_sub(8);
            head.get(split..) == prefix.get(split..) && head == prefix
        }
        None => false,
    }
}

/// Where the literal `lit` can next start in `text` at or after `from`: the next occurrence
/// of its first byte (a `*` followed by `lit` need not try the positions in between).
fn next_candidate(text: &[u8], from: usize, lit: &[u8], fold: bool) -> Option<usize> {
    let first = *lit.first()?;
    let rest = text.get(from..)?;
    let found = if fold {
        rest.iter().position(|b| b.eq_ignore_ascii_case(&first))
    } else {
        rest.iter().position(|&b| b == first)
    };
    found.map(|i| from.saturating_add(i))
}

/// Two-pointer glob matching with a single backtrack point (the position after the last `*`
/// and where in the text it started): each `*` only ever moves forward, so the work is bounded
/// by pattern length × text length, with no exponential backtracking.
fn glob(
    pieces: &[Piece],
    text: &str,
    fold: bool,
    prefix: impl Fn(&Piece, &[u8]) -> Option<usize>,
) -> bool {
    let text = text.as_bytes();
    // A literal last piece must end the text: reject without scanning.
    if let Some(Piece::Lit(last)) = pieces.last() {
        let Some(tail) = text
            .len()
            .checked_sub(last.len())
            .and_then(|at| text.get(at..))
        else {
            return false;
        };
        if !starts_with(tail, last.as_bytes(), fold) {
            return false;
        }
    }
    let mut p = 0usize;
    let mut t = 0usize;
    let mut star: Option<(usize, usize)> = None;
    loop {
        let advanced = match pieces.get(p) {
            Some(Piece::Star) => {
                // Skip straight to where the following literal can start.
                if let Some(Piece::Lit(lit)) = pieces.get(p.saturating_add(1)) {
                    match next_candidate(text, t, lit.as_bytes(), fold) {
                        Some(at) => t = at,
                        None => return false,
                    }
                }
                star = Some((p.saturating_add(1), t));
                p = p.saturating_add(1);
                continue;
            }
            Some(Piece::One) => {
                if t < text.len() {
                    t = t.saturating_add(char_len_at(text, t));
                    true
                } else {
                    false
                }
            }
            Some(piece) => {
                // Nothing matches past the end of the text.
                match text.get(t..).and_then(|rest| prefix(piece, rest)) {
                    Some(len) => {
                        t = t.saturating_add(len);
                        true
                    }
                    None => false,
                }
            }
            None => {
                if t >= text.len() {
                    return true;
                }
                // A trailing `*` swallows the rest.
                if matches!(pieces.last(), Some(Piece::Star)) {
                    return true;
                }
                false
            }
        };
        if advanced {
            p = p.saturating_add(1);
            continue;
        }
        match star {
            Some((after, started)) if started < text.len() => {
                let mut next = started.saturating_add(char_len_at(text, started));
                if let Some(Piece::Lit(lit)) = pieces.get(after) {
                    match next_candidate(text, next, lit.as_bytes(), fold) {
                        Some(at) => next = at,
                        None => return false,
                    }
                }
                star = Some((after, next));
                p = after;
                t = next;
            }
            _ => return false,
        }
    }
}

/// Glob match of plain strings (no variables): `*` any run, `?` one character.
pub(crate) fn glob_match_str(pattern: &str, text: &str) -> bool {
    match compile(
        pattern,
        Syntax {
            wildcards: true,
            variables: false,
        },
    ) {
        Ok(compiled) => glob(&compiled.pieces, text, false, |piece, rest| match piece {
            Piece::Lit(s) => starts_with(rest, s.as_bytes(), false).then_some(s.len()),
            _ => None,
        }),
        Err(_) => false,
    }
}
