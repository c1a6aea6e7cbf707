//! Cutting a callback body (JSON, form-urlencoded or a query string) into `(key, value)` pairs.
//!
//! Sigfox callback bodies are user templates, so the same body may arrive in any of the three
//! encodings. Everything here is bounded by [`CallbackLimits`] before it allocates.

use serde_json::Value;

use crate::callback::{CallbackError, CallbackLimits, Reason};

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyEncoding {
    /// A JSON object.
    Json,
    /// `application/x-www-form-urlencoded`, or a URL query string (a leading `?` is skipped).
    Form,
}

impl BodyEncoding {
    /// Picks the encoding from the `Content-Type` header when it names JSON or form, otherwise
    /// from the body: JSON when its first non-blank byte is `{` or `[`.
    pub fn detect(content_type: Option<&str>, body: &[u8]) -> Self {
        if let Some(ct) = content_type {
            let ct = ct.to_ascii_lowercase();
            if ct.contains("json") {
                return Self::Json;
            }
            if ct.contains("x-www-form-urlencoded") {
                return Self::Form;
            }
        }
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => Self::Json,
            _ => Self::Form,
        }
    }
}

pub(crate) fn body_error(reason: Reason) -> CallbackError {
    CallbackError {
        field: String::from("(body)"),
        reason,
    }
}

/// Splits a body into pairs. Form values are strings; JSON values keep their JSON type.
pub(crate) fn split(
    body: &[u8],
    encoding: BodyEncoding,
    limits: &CallbackLimits,
) -> Result<Vec<(String, Value)>, CallbackError> {
    if body.len() > limits.max_body_len {
        return Err(body_error(Reason::BodyTooLarge {
            len: body.len(),
            max: limits.max_body_len,
        }));
    }
    let pairs = match encoding {
        BodyEncoding::Json => split_json(body)?,
        BodyEncoding::Form => split_form(body, limits)?,
    };
    if pairs.len() > limits.max_keys {
        return Err(body_error(Reason::TooManyKeys {
            max: limits.max_keys,
        }));
    }
    for (key, _) in &pairs {
        if key.len() > limits.max_key_len {
            return Err(CallbackError {
                field: key.chars().take(limits.max_key_len).collect(),
                reason: Reason::KeyTooLong {
                    max: limits.max_key_len,
                },
            });
        }
    }
    Ok(pairs)
}

fn split_json(body: &[u8]) -> Result<Vec<(String, Value)>, CallbackError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        body_error(Reason::InvalidJson {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    })?;
    match value {
        Value::Object(map) => Ok(map.into_iter().collect()),
        _ => Err(body_error(Reason::NotAnObject)),
    }
}

fn split_form(body: &[u8], limits: &CallbackLimits) -> Result<Vec<(String, Value)>, CallbackError> {
    let body = body.strip_prefix(b"?").unwrap_or(body);
    let mut pairs: Vec<(String, Value)> = Vec::new();
    let mut offset = 0usize;
    for part in body.split(|b| *b == b'&') {
        let start = offset;
        offset = offset.saturating_add(part.len()).saturating_add(1);
        // Trailing newline of a body typed by hand.
        let part = part.trim_ascii();
        if part.is_empty() {
            continue;
        }
        if pairs.len() >= limits.max_keys {
            return Err(body_error(Reason::TooManyKeys {
                max: limits.max_keys,
            }));
        }
        let mut halves = part.splitn(2, |b| *b == b'=');
        let (k, v, v_at) = match (halves.next(), halves.next()) {
            (Some(k), Some(v)) => (k, v, start.saturating_add(k.len()).saturating_add(1)),
            // No `=`: a key with an empty value.
            _ => (part, &[][..], start),
        };
        let key = percent_decode(k, start)?;
        let value = percent_decode(v, v_at)?;
        if pairs.iter().any(|(existing, _)| *existing == key) {
            return Err(CallbackError {
                field: key,
                reason: Reason::DuplicateKey,
            });
        }
        pairs.push((key, Value::String(value)));
    }
    Ok(pairs)
}

fn percent_decode(s: &[u8], offset: usize) -> Result<String, CallbackError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0usize;
    while let Some(&b) = s.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let mut byte = [0u8; 1];
                let digits = s.get(i.saturating_add(1)..i.saturating_add(3));
                match digits.map(|d| hex::decode_to_slice(d, &mut byte)) {
                    Some(Ok(())) => out.extend_from_slice(&byte),
                    _ => {
                        return Err(body_error(Reason::InvalidPercentEncoding {
                            offset: offset.saturating_add(i),
                        }));
                    }
                }
                i = i.saturating_add(2);
            }
            _ => out.push(b),
        }
        i = i.saturating_add(1);
    }
    String::from_utf8(out).map_err(|_| body_error(Reason::InvalidUtf8 { offset }))
}
