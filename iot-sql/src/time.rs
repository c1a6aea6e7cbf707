//! `parse_time` (Joda-Time patterns) and `time_to_epoch` (java.time patterns).
//!
//! Time zones: `UTC`, `GMT`, `Z`, fixed offsets (`+01:00`, `-0500`, `+01`), `UTC+01:00` /
//! `GMT-5` style ids, and IANA region ids (`America/Los_Angeles`) from the tz database of
//! `chrono-tz`, with their daylight-saving rules and abbreviations (`PST`, `PDT`).

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::{OffsetName, Tz};

use crate::decimal::Rounding;
use crate::functions::given;
use crate::value::Value;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A zone at one instant: its offset, the name Joda's `z` prints (`PST`, `+01:00`, `UTC`) and
/// the id its `ZZZ` prints (`America/Los_Angeles`).
struct Zone {
    offset: FixedOffset,
    name: String,
    id: String,
}

/// A zone as named: a fixed offset, or a region whose offset depends on the instant.
enum ZoneRule {
    Fixed(Zone),
    Region(Tz),
}

impl ZoneRule {
    /// The zone in force at `utc`.
    fn at(self, utc: &DateTime<Utc>) -> Zone {
        match self {
            ZoneRule::Fixed(zone) => zone,
            ZoneRule::Region(tz) => {
                let offset = tz.offset_from_utc_datetime(&utc.naive_utc());
                let fixed = offset.fix();
                Zone {
                    offset: fixed,
                    name: offset
                        .abbreviation()
                        .map_or_else(|| offset_text(fixed.local_minus_utc(), true), str::to_owned),
                    id: tz.name().to_owned(),
                }
            }
        }
    }

    /// The offset to read local time `local` with, as java.time resolves it: in an overlap
    /// (clocks set back) the earlier offset; in a gap (clocks set forward) the offset before
    /// the gap, which moves the time later by the gap's length.
    fn offset_of_local(&self, local: &chrono::NaiveDateTime) -> Option<i32> {
        let tz = match self {
            ZoneRule::Fixed(zone) => return Some(zone.offset.local_minus_utc()),
            ZoneRule::Region(tz) => tz,
        };
        let offset = match tz.offset_from_local_datetime(local).earliest() {
            Some(offset) => offset,
            // A day earlier is before the gap and after any earlier change (changes are
            // months apart).
            None => {
                tz.offset_from_utc_datetime(&local.checked_sub_signed(chrono::TimeDelta::days(1))?)
            }
        };
        Some(offset.fix().local_minus_utc())
    }
}

fn offset_text(seconds: i32, colon: bool) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m) = (s / 3600, (s % 3600) / 60);
    if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// Parses `+HH:MM`, `+HHMM`, `+HH`, `+H` (and `-`).
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1i32, s.get(1..)?),
        b'-' => (-1i32, s.get(1..)?),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    let (h, m): (i32, i32) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits.get(..1)?.parse().ok()?,
            digits.get(1..)?.parse().ok()?,
        ),
        _ => (
            digits.get(..2)?.parse().ok()?,
            digits.get(2..)?.parse().ok()?,
        ),
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign.saturating_mul(h.saturating_mul(3600).saturating_add(m.saturating_mul(60))))
}

fn parse_zone(id: &str) -> Option<ZoneRule> {
    let fixed = |offset: FixedOffset, name: &str| {
        Some(ZoneRule::Fixed(Zone {
            offset,
            name: name.to_owned(),
            id: name.to_owned(),
        }))
    };
    match id {
        "UTC" | "Etc/UTC" | "Z" | "UCT" | "Zulu" | "Etc/Zulu" => return fixed(Utc.fix(), "UTC"),
        "GMT" | "Etc/GMT" => return fixed(Utc.fix(), "GMT"),
        _ => {}
    }
    let rest = id
        .strip_prefix("UTC")
        .or_else(|| id.strip_prefix("GMT"))
        .or_else(|| id.strip_prefix("UT"))
        .unwrap_or(id);
    if let Some(seconds) = parse_offset(rest) {
        return offset_zone(seconds);
    }
    // A region id, spelled as the tz database spells it.
    id.parse::<Tz>().ok().map(ZoneRule::Region)
}

/// The zone of a fixed offset east of UTC, in seconds.
fn offset_zone(seconds: i32) -> Option<ZoneRule> {
    let offset = FixedOffset::east_opt(seconds)?;
    let name = if seconds == 0 {
        "UTC".to_owned()
    } else {
        offset_text(seconds, true)
    };
    Some(ZoneRule::Fixed(Zone {
        offset,
        id: name.clone(),
        name,
    }))
}

/// Splits a pattern into runs of the same letter and quoted or other literal text.
enum Piece {
    Field(char, usize),
    Literal(String),
}

fn pieces(pattern: &str) -> Option<Vec<Piece>> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            let mut lit = String::new();
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push(Piece::Literal("'".to_owned()));
                continue;
            }
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        lit.push('\'');
                    }
                    Some('\'') => break,
                    Some(ch) => lit.push(ch),
                    None => return None,
                }
            }
            out.push(Piece::Literal(lit));
        } else if c.is_ascii_alphabetic() {
            let mut n = 1usize;
            while chars.peek() == Some(&c) {
                chars.next();
                n = n.saturating_add(1);
            }
            out.push(Piece::Field(c, n));
        } else {
            out.push(Piece::Literal(c.to_string()));
        }
    }
    Some(out)
}

fn padded(v: i64, width: usize) -> String {
    if v < 0 {
        format!("-{:0width$}", v.unsigned_abs())
    } else {
        format!("{v:0width$}")
    }
}

/// Formats `t` with a Joda-Time pattern; `None` for an unknown pattern letter.
fn format_joda(pattern: &str, t: &DateTime<FixedOffset>, zone: &Zone) -> Option<String> {
    let mut out = String::new();
    // Chrono's weekday and month numbers index the tables (7 and 12 names).
    let name = |names: &[&'static str], i: u32, n: usize| -> Option<String> {
        let full = names.get(usize::try_from(i).ok()?)?;
        Some(if n >= 4 {
            (*full).to_owned()
        } else {
            full.chars().take(3).collect()
        })
    };
    for piece in pieces(pattern)? {
        let (c, n) = match piece {
            Piece::Literal(l) => {
                out.push_str(&l);
                continue;
            }
            Piece::Field(c, n) => (c, n),
        };
        let year = i64::from(t.year());
        let text = match c {
            'G' => if year > 0 { "AD" } else { "BC" }.to_owned(),
            'C' => padded(year.div_euclid(100), n),
            'y' | 'Y' | 'u' if n == 2 => padded(year.rem_euclid(100), 2),
            'y' | 'Y' | 'u' => padded(year, n),
            'x' if n == 2 => padded(i64::from(t.iso_week().year()).rem_euclid(100), 2),
            'x' => padded(i64::from(t.iso_week().year()), n),
            'w' => padded(i64::from(t.iso_week().week()), n),
            'e' => padded(i64::from(t.weekday().number_from_monday()), n),
            'E' => name(&DAYS, t.weekday().num_days_from_monday(), n)?,
            'D' => padded(i64::from(t.ordinal()), n),
            'M' if n >= 3 => name(&MONTHS, t.month0(), n)?,
            'M' => padded(i64::from(t.month()), n),
            'd' => padded(i64::from(t.day()), n),
            'a' => if t.hour() < 12 { "AM" } else { "PM" }.to_owned(),
            'h' => padded(i64::from(t.hour12().1), n),
            'K' => padded(i64::from(t.hour() % 12), n),
            'H' => padded(i64::from(t.hour()), n),
            'k' => padded(i64::from(if t.hour() == 0 { 24 } else { t.hour() }), n),
            'm' => padded(i64::from(t.minute()), n),
            's' => padded(i64::from(t.second()), n),
            'S' => {
                let millis = format!("{:03}", t.timestamp_subsec_millis());
                let mut s: String = millis.chars().take(n).collect();
                while s.len() < n {
                    s.push('0');
                }
                s
            }
            'z' => zone.name.clone(),
            'Z' => {
                let secs = zone.offset.local_minus_utc();
                match n {
                    1 => offset_text(secs, false),
                    2 => offset_text(secs, true),
                    _ => zone.id.clone(),
                }
            }
            _ => return None,
        };
        out.push_str(&text);
    }
    Some(out)
}

/// `parse_time(pattern, timestamp[, timezone])`: formats epoch milliseconds.
pub(crate) fn parse_time(args: &[Cow<'_, Value>]) -> Value {
    if !(2..=3).contains(&args.len()) {
        return Value::Undefined;
    }
    let (Some(Value::String(pattern)), Some(ts)) = (given(args, 0), given(args, 1)) else {
        return Value::Undefined;
    };
    let Some(millis) = ts.to_int(Rounding::Down) else {
        return Value::Undefined;
    };
    let zone_id = match given(args, 2) {
        Some(Value::String(z)) => z.as_str(),
        Some(_) => return Value::Undefined,
        None => "UTC",
    };
    let Some(rule) = parse_zone(zone_id) else {
        return Value::Undefined;
    };
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(millis) else {
        return Value::Undefined;
    };
    let zone = rule.at(&utc);
    let local = utc.with_timezone(&zone.offset);
    format_joda(pattern, &local, &zone).map_or(Value::Undefined, Value::String)
}

/// A cursor over the text being parsed by `time_to_epoch`.
struct Input<'a> {
    s: &'a str,
}

impl<'a> Input<'a> {
    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        let len = self
            .s
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min {
            return None;
        }
        let (digits, rest) = self.s.split_at(len);
        self.s = rest;
        digits.parse().ok()
    }

    fn literal(&mut self, lit: &str) -> Option<()> {
        self.s = self.s.strip_prefix(lit)?;
        Some(())
    }

    fn name(&mut self, names: &[&str], n: usize) -> Option<usize> {
        for (i, full) in names.iter().enumerate() {
            let candidate: String = if n >= 4 {
                (*full).to_owned()
            } else {
                full.chars().take(3).collect()
            };
            if let Some((prefix, rest)) = self.s.split_at_checked(candidate.len()) {
                if prefix.eq_ignore_ascii_case(&candidate) {
                    self.s = rest;
                    return Some(i);
                }
            }
        }
        None
    }

    fn zone_id(&mut self) -> Option<ZoneRule> {
        let len = self
            .s
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/_+-:".contains(c)))
            .unwrap_or(self.s.len());
        let (id, rest) = self.s.split_at(len);
        self.s = rest;
        parse_zone(id)
    }
}

/// `time_to_epoch(timestamp, pattern)`: parses a date/time with a java.time pattern into epoch
/// milliseconds (UTC unless the text names a zone).
pub(crate) fn time_to_epoch(args: &[Cow<'_, Value>]) -> Value {
    let (Some(Value::String(text)), Some(Value::String(pattern)), 2) =
        (given(args, 0), given(args, 1), args.len())
    else {
        return Value::Undefined;
    };
    epoch_millis(text, pattern).map_or(Value::Undefined, Value::Int)
}

fn epoch_millis(text: &str, pattern: &str) -> Option<i64> {
    let mut input = Input { s: text };
    let (mut year, mut month, mut day) = (1970i64, 1i64, 1i64);
    let (mut hour, mut minute, mut second, mut nanos) = (0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let mut zone: Option<ZoneRule> = None;
    for piece in pieces(pattern)? {
        let (c, n) = match piece {
            Piece::Literal(l) => {
                input.literal(&l)?;
                continue;
            }
            Piece::Field(c, n) => (c, n),
        };
        let max = n.max(2);
        match c {
            'y' | 'u' if n == 2 => year = 2000i64.saturating_add(input.number(2, 2)?),
            'y' | 'u' => year = input.number(n.min(4), 9)?,
            'M' | 'L' if n >= 3 => {
                month = i64::try_from(input.name(&MONTHS, n)?)
                    .ok()?
                    .saturating_add(1)
            }
            'M' | 'L' => month = input.number(n, max)?,
            'd' => day = input.number(n, max)?,
            'H' | 'k' => hour = input.number(n, max)?,
            'h' | 'K' => hour = input.number(n, max)?,
            'm' => minute = input.number(n, max)?,
            's' => second = input.number(n, max)?,
            'S' => {
                let digits = input.number(n, n)?;
                let scale = 9u32.checked_sub(u32::try_from(n).ok()?)?;
                nanos = digits.saturating_mul(10i64.checked_pow(scale)?);
            }
            'a' => pm = Some(input.name(&["AM", "PM"], 4)? == 1),
            'E' => {
                input.name(&DAYS, n)?;
            }
            'V' | 'z' | 'O' => zone = Some(input.zone_id()?),
            'Z' | 'X' | 'x' => {
                let seconds = if c == 'X' && input.s.starts_with('Z') {
                    input.literal("Z")?;
                    0
                } else {
                    let len = input
                        .s
                        .find(|ch: char| !(ch.is_ascii_digit() || "+-:".contains(ch)))
                        .unwrap_or(input.s.len());
                    let (o, rest) = input.s.split_at(len);
                    input.s = rest;
                    parse_offset(o)?
                };
                zone = Some(offset_zone(seconds)?);
            }
            _ => return None,
        }
    }
    if !input.s.is_empty() {
        return None;
    }
    if let Some(pm) = pm {
        hour = hour.rem_euclid(12).saturating_add(if pm { 12 } else { 0 });
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )?;
    let time = date.and_hms_nano_opt(
        u32::try_from(hour).ok()?,
        u32::try_from(minute).ok()?,
        u32::try_from(second).ok()?,
        u32::try_from(nanos).ok()?,
    )?;
    let offset = match &zone {
        Some(rule) => rule.offset_of_local(&time)?,
        None => 0,
    };
    let utc_millis = time.and_utc().timestamp_millis();
    utc_millis.checked_sub(i64::from(offset).checked_mul(1000)?)
}
