//! A small JSON reader that keeps the byte offset of every value and key, and rejects duplicate
//! keys. `serde_json::Value` does neither: it forgets positions and silently keeps the last of
//! two equal keys, which would make a policy with two `"Effect"` members ambiguous.

use crate::error::{PathSeg, PolicyError, PolicyErrorKind};

/// Nesting deeper than this is rejected before it can exhaust the stack. A valid policy nests
/// four levels (document, statement list, statement, condition block, key, values).
const MAX_DEPTH: usize = 32;

/// One JSON value and where it starts.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) offset: usize,
    pub(crate) value: Value,
}

/// A JSON value. Numbers keep their source text: policies never compute with them.
#[derive(Debug)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

/// One `"key": value` pair of an object, in document order.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) key: String,
    pub(crate) key_offset: usize,
    pub(crate) value: Node,
}

impl Value {
    /// The JSON type name, for "expected a string, found an array".
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Parses one JSON document; whitespace may surround it, anything else after it is an error.
pub(crate) fn parse(text: &str) -> Result<Node, PolicyError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        pos: 0,
        path: Vec::new(),
    };
    reader.skip_ws();
    let node = reader.value(0)?;
    reader.skip_ws();
    if reader.pos < reader.bytes.len() {
        return Err(reader.error(PolicyErrorKind::Syntax(
            "trailing characters after the document",
        )));
    }
    Ok(node)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: Vec<PathSeg>,
}

impl Reader<'_> {
    fn error(&self, kind: PolicyErrorKind) -> PolicyError {
        PolicyError::new(kind, &self.path, self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.bump();
        }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), PolicyError> {
        if self.peek() == Some(byte) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(PolicyErrorKind::Syntax(what)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, PolicyError> {
        if depth > MAX_DEPTH {
            return Err(self.error(PolicyErrorKind::TooDeep { limit: MAX_DEPTH }));
        }
        let offset = self.pos;
        let value = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.keyword("true", Value::Bool(true))?,
            Some(b'f') => self.keyword("false", Value::Bool(false))?,
            Some(b'n') => self.keyword("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error(PolicyErrorKind::Syntax("expected a JSON value"))),
            None => return Err(self.error(PolicyErrorKind::Syntax("unexpected end of input"))),
        };
        Ok(Node { offset, value })
    }

    fn keyword(&mut self, word: &'static str, value: Value) -> Result<Value, PolicyError> {
        let end = self.pos.saturating_add(word.len());
        if self.bytes.get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(value)
        } else {
            Err(self.error(PolicyErrorKind::Syntax("expected a JSON value")))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.bump();
        }
        self.pos.saturating_sub(start)
    }

    fn number(&mut self) -> Result<Value, PolicyError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        let int_start = self.pos;
        let int_digits = self.digits();
        if int_digits == 0 {
            return Err(self.error(PolicyErrorKind::Syntax("expected digits in a number")));
        }
        if int_digits > 1 && self.bytes.get(int_start) == Some(&b'0') {
            self.pos = int_start;
            return Err(self.error(PolicyErrorKind::Syntax("leading zero in a number")));
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if self.digits() == 0 {
                return Err(self.error(PolicyErrorKind::Syntax("expected digits after '.'")));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.bump();
            if let Some(b'+' | b'-') = self.peek() {
                self.bump();
            }
            if self.digits() == 0 {
                return Err(self.error(PolicyErrorKind::Syntax("expected digits in an exponent")));
            }
        }
        // `pos` only moved forward from `start`, over bytes of the input.
        let Some(text) = self.bytes.get(start..self.pos) else {
            return Err(self.error(PolicyErrorKind::Syntax("number past the end of the input")));
        };
        Ok(Value::Number(String::from_utf8_lossy(text).into_owned()))
    }

    fn hex4(&mut self) -> Result<u32, PolicyError> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| {
                    self.error(PolicyErrorKind::Syntax(
                        "expected four hex digits after \\u",
                    ))
                })?;
            code = (code << 4) | digit;
            self.bump();
        }
        Ok(code)
    }

    fn string(&mut self) -> Result<String, PolicyError> {
        self.expect(b'"', "expected '\"'")?;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump();
            }
            // The input is a `&str` and the run stops only at ASCII bytes, so it is valid UTF-8.
            // `pos` only moved forward from `run_start`, over bytes of the input.
            let Some(run) = self.bytes.get(run_start..self.pos) else {
                return Err(self.error(PolicyErrorKind::Syntax("string past the end of the input")));
            };
            out.push_str(&String::from_utf8_lossy(run));
            match self.peek() {
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.bump();
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.bump();
                            let escape_at = self.pos;
                            let first = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&first) {
                                if self.bytes.get(self.pos..self.pos.saturating_add(2))
                                    != Some(b"\\u")
                                {
                                    return Err(self.error(PolicyErrorKind::Syntax(
                                        "unpaired surrogate in \\u escape",
                                    )));
                                }
                                self.pos = self.pos.saturating_add(2);
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return Err(self.error(PolicyErrorKind::Syntax(
                                        "unpaired surrogate in \\u escape",
                                    )));
                                }
                                0x10000u32
                                    .saturating_add((first.saturating_sub(0xD800)) << 10)
                                    .saturating_add(second.saturating_sub(0xDC00))
                            } else {
                                first
                            };
                            let c = char::from_u32(code).ok_or_else(|| {
                                PolicyError::new(
                                    PolicyErrorKind::Syntax("unpaired surrogate in \\u escape"),
                                    &self.path,
                                    escape_at,
                                )
                            })?;
                            out.push(c);
                            continue;
                        }
                        _ => {
                            return Err(
                                self.error(PolicyErrorKind::Syntax("invalid escape in a string"))
                            );
                        }
                    };
                    self.bump();
                    out.push(escaped);
                }
                Some(_) => {
                    return Err(
                        self.error(PolicyErrorKind::Syntax("control character in a string"))
                    );
                }
                None => return Err(self.error(PolicyErrorKind::Syntax("unterminated string"))),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, PolicyError> {
        self.expect(b'[', "expected '['")?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            self.path.push(PathSeg::Index(items.len()));
            let item = self.value(depth.saturating_add(1))?;
            self.path.pop();
            items.push(item);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error(PolicyErrorKind::Syntax("expected ',' or ']'"))),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, PolicyError> {
        self.expect(b'{', "expected '{'")?;
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            let key_offset = self.pos;
            let key = self.string()?;
            if members.iter().any(|m| m.key == key) {
                self.path.push(PathSeg::Key(key.clone()));
                let err =
                    PolicyError::new(PolicyErrorKind::DuplicateKey(key), &self.path, key_offset);
                return Err(err);
            }
            self.skip_ws();
            self.expect(b':', "expected ':' after an object key")?;
            self.skip_ws();
            self.path.push(PathSeg::Key(key.clone()));
            let value = self.value(depth.saturating_add(1))?;
            self.path.pop();
            members.push(Member {
                key,
                key_offset,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.error(PolicyErrorKind::Syntax("expected ',' or '}'"))),
            }
        }
    }
}
