//! An exact decimal number: an `i128` coefficient and a power-of-ten exponent.
//!
//! AWS documents its `Decimal` as "a precision of 34 digits, with a minimum non-zero magnitude
//! of 1E-999 and a maximum magnitude 9.999...E999" (SQL reference, Data types): the IEEE 754
//! decimal128 context. This type keeps at most 34 significant digits, rounds half-even beyond
//! that (decimal128's default), and refuses magnitudes outside AWS's documented range (results
//! are `None`, which the evaluator turns into `Undefined`). Addition, subtraction and
//! multiplication are exact within 34 digits, so `0.1 + 0.2 = 0.3`; division is correctly rounded to 34 digits.
//!
//! Why not `rust_decimal`: its 96-bit coefficient holds 28 digits, not AWS's 34, and its scale is
//! limited to 28, so `5E-40` or `1E+100` from a payload would not be representable.

use std::cmp::Ordering;
use std::fmt;
use std::num::NonZeroU128;
use std::str::FromStr;

/// At most 34 significant digits, as AWS's `Decimal`.
pub(crate) const PRECISION: u32 = 34;
/// Bound on the coefficient's exponent, so that any value's adjusted exponent stays in range.
const MAX_EXPONENT: i32 = 6144;
/// AWS: "a minimum non-zero magnitude of 1E-999 and a maximum magnitude 9.999...E999". A result
/// whose leading digit falls outside 10^-999..=10^999 is `None` (Undefined).
const MAX_ADJUSTED: i64 = 999;

/// An exact decimal number `coefficient × 10^exponent`.
///
/// Equality and ordering are numeric (`1.0 == 1.00`); the exponent is kept so that a value prints
/// as it was written (`1.50` stays `1.50`), like Java's `BigDecimal`.
#[derive(Clone, Copy)]
pub struct Decimal {
    coef: Coefficient,
    exponent: i32,
}

/// An `i128` kept as two 64-bit halves: 8-byte alignment instead of `i128`'s 16 keeps a
/// `Decimal` at 24 bytes and a [`Value`](crate::Value) at 32 (as `serde_json::Value`), which
/// matters for payloads of many small objects.
#[derive(Clone, Copy)]
struct Coefficient {
    lo: u64,
    hi: u64,
}

impl Coefficient {
    const fn new(v: i128) -> Self {
        // Splitting into halves and joining them back is lossless.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Coefficient {
            lo: v as u64,
            hi: (v >> 64) as u64,
        }
    }

    const fn get(self) -> i128 {
        #[allow(clippy::cast_possible_wrap)]
        {
            (((self.hi as u128) << 64) | self.lo as u128) as i128
        }
    }
}

/// Why a string is not a decimal number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalParseError;

impl fmt::Display for DecimalParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a decimal number")
    }
}

impl std::error::Error for DecimalParseError {}

const fn pow10(n: u32) -> u128 {
    let mut v: u128 = 1;
    let mut i = 0;
    while i < n {
        v = v.wrapping_mul(10);
        i = i.wrapping_add(1);
    }
    v
}

const POW10: [u128; 39] = {
    let mut t = [0u128; 39];
    let mut i = 0;
    while i < 39 {
        #[allow(clippy::indexing_slicing)] // i < 39 by the loop condition, checked at compile time.
        {
            t[i] = pow10(i as u32);
        }
        i += 1;
    }
    t
};

/// `10^n` while it fits a `u128` (`n` ≤ 38); non-zero, so a divisor that needs no check.
fn p10(n: u32) -> Option<NonZeroU128> {
    POW10
        .get(usize::try_from(n).ok()?)
        .copied()
        .and_then(NonZeroU128::new)
}

/// Number of decimal digits of `v` (1 for 0).
fn digits(v: u128) -> u32 {
    let mut n = 1u32;
    while let Some(p) = p10(n) {
        if v < p.get() {
            return n;
        }
        n = n.saturating_add(1);
    }
    39
}

/// Divides `v` by `10^n`, rounding half-even; `sticky` says whether digits already dropped
/// below were non-zero.
fn div_round(v: u128, n: u32, sticky: bool) -> u128 {
    if n == 0 {
        return v;
    }
    // Past 10^38 the divisor exceeds every `u128`: the quotient and the remainder both round
    // to 0 (the value is below half of it).
    let Some(d) = p10(n) else { return 0 };
    let q = v / d;
    let r = v % d;
    let half = d.get() / 2;
    let round_up = match r.cmp(&half) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => sticky || q % 2 == 1,
    };
    if round_up { q.saturating_add(1) } else { q }
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal {
        coef: Coefficient::new(0),
        exponent: 0,
    };

    /// `1.0` or `0.0`: a boolean cast to DECIMAL (one fractional digit, as AWS prints it).
    pub(crate) const fn of_bool(b: bool) -> Decimal {
        Decimal {
            coef: Coefficient::new(if b { 10 } else { 0 }),
            exponent: -1,
        }
    }

    /// `coefficient × 10^exponent`, rounded to 34 digits; `None` if the exponent is out of range.
    pub fn new(coefficient: i128, exponent: i32) -> Option<Self> {
        Self::from_parts(coefficient < 0, coefficient.unsigned_abs(), exponent, false)
    }

    /// A decimal equal to `v`.
    pub fn from_i64(v: i64) -> Self {
        Decimal {
            coef: Coefficient::new(i128::from(v)),
            exponent: 0,
        }
    }

    /// Builds from a sign and magnitude, rounding to 34 digits.
    fn from_parts(
        negative: bool,
        mut magnitude: u128,
        mut exponent: i32,
        sticky: bool,
    ) -> Option<Self> {
        let d = digits(magnitude);
        if d > PRECISION {
            let drop = d.saturating_sub(PRECISION);
            magnitude = div_round(magnitude, drop, sticky);
            exponent = exponent.checked_add(i32::try_from(drop).ok()?)?;
            if digits(magnitude) > PRECISION {
                magnitude /= 10;
                exponent = exponent.checked_add(1)?;
            }
        }
        if magnitude == 0 {
            exponent = exponent.clamp(-MAX_EXPONENT, MAX_EXPONENT);
        }
        if !(-MAX_EXPONENT..=MAX_EXPONENT).contains(&exponent) {
            return None;
        }
        if magnitude != 0 {
            let adjusted = i64::from(exponent)
                .saturating_add(i64::from(digits(magnitude)))
                .saturating_sub(1);
            if !(-MAX_ADJUSTED..=MAX_ADJUSTED).contains(&adjusted) {
                return None;
            }
        }
        let m = i128::try_from(magnitude).ok()?;
        Some(Decimal {
            coef: Coefficient::new(if negative { m.checked_neg()? } else { m }),
            exponent,
        })
    }

    /// The coefficient (at most 34 digits).
    pub fn coefficient(&self) -> i128 {
        self.coef.get()
    }

    /// The power-of-ten exponent.
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.coefficient() == 0
    }

    /// -1, 0 or 1.
    pub fn signum(&self) -> i64 {
        match self.coefficient().cmp(&0) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }

    /// The negation.
    pub fn neg(&self) -> Self {
        Decimal {
            coef: Coefficient::new(self.coefficient().saturating_neg()),
            exponent: self.exponent,
        }
    }

    /// The absolute value.
    pub fn abs(&self) -> Self {
        Decimal {
            coef: Coefficient::new(self.coefficient().saturating_abs()),
            exponent: self.exponent,
        }
    }

    /// Whether the value has no fractional part.
    pub fn is_integer(&self) -> bool {
        if self.exponent >= 0 || self.coefficient() == 0 {
            return true;
        }
        match p10(self.exponent.unsigned_abs()) {
            Some(d) => self.coefficient().unsigned_abs() % d == 0,
            None => false,
        }
    }

    /// The same value with trailing zeros of the coefficient removed (`2.500` → `2.5`, `100` →
    /// `1E+2`).
    pub fn strip_trailing_zeros(&self) -> Self {
        if self.coefficient() == 0 {
            return Decimal::ZERO;
        }
        let mut c = self.coefficient();
        let mut e = self.exponent;
        while c % 10 == 0 && e < MAX_EXPONENT {
            c /= 10;
            e = e.saturating_add(1);
        }
        Decimal {
            coef: Coefficient::new(c),
            exponent: e,
        }
    }

    /// Rounds to `places` digits after the point, toward zero (the documented `trunc`).
    pub fn trunc_places(&self, places: i32) -> Self {
        let target = places.saturating_neg();
        if self.exponent >= target {
            return *self;
        }
        let drop = target.saturating_sub(self.exponent).unsigned_abs();
        // Toward zero: the magnitude's quotient with the sign back. A power of ten past 10^38
        // exceeds every coefficient (34 digits), so the quotient is then 0. `drop` ≥ 1, so the
        // quotient is at most 2^127 / 10 and fits an `i128`.
        let magnitude = p10(drop)
            .map_or(0, |d| self.coefficient().unsigned_abs() / d)
            .cast_signed();
        let c = if self.coefficient() < 0 {
            magnitude.saturating_neg()
        } else {
            magnitude
        };
        Decimal {
            coef: Coefficient::new(c),
            exponent: target,
        }
    }

    /// The integer part, rounded as `mode` says; `None` if it does not fit an `i64`.
    pub fn to_i64(&self, mode: Rounding) -> Option<i64> {
        if self.exponent >= 0 {
            let m = p10(self.exponent.unsigned_abs())?;
            let v = self
                .coefficient()
                .checked_mul(i128::try_from(m.get()).ok()?)?;
            return i64::try_from(v).ok();
        }
        let drop = self.exponent.unsigned_abs();
        let Some(d) = p10(drop) else {
            // |value| < 1 with more than 38 fractional digits.
            return Some(match mode {
                Rounding::Floor if self.coefficient() < 0 => -1,
                Rounding::Ceiling if self.coefficient() > 0 => 1,
                _ => 0,
            });
        };
        let d = i128::try_from(d.get()).ok()?;
        let q = self.coefficient().checked_div(d)?;
        let r = self.coefficient().checked_rem(d)?;
        let q = match mode {
            Rounding::Down => q,
            Rounding::Floor if r < 0 => q.checked_sub(1)?,
            Rounding::Floor => q,
            Rounding::Ceiling if r > 0 => q.checked_add(1)?,
            Rounding::Ceiling => q,
            Rounding::HalfUp => {
                // Java's Math.round: ties go toward positive infinity (`round(-1.5)` = -1 there,
                // but AWS's table says `Round(-1.5)` = -2: ties away from zero).
                let twice = r.unsigned_abs().saturating_mul(2);
                let d = d.unsigned_abs();
                if twice >= d {
                    if r < 0 {
                        q.checked_sub(1)?
                    } else {
                        q.checked_add(1)?
                    }
                } else {
                    q
                }
            }
        };
        i64::try_from(q).ok()
    }

    /// The nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// The decimal that prints as the shortest representation of `v` (what Java's
    /// `BigDecimal.valueOf(double)` gives); `None` for NaN and infinities.
    pub fn from_f64(v: f64) -> Option<Self> {
        if !v.is_finite() {
            return None;
        }
        if let Some(d) = Self::from_f64_short(v) {
            return Some(d);
        }
        let mut buf = ryu::Buffer::new();
        buf.format_finite(v).parse().ok()
    }

    /// [`from_f64`](Self::from_f64) without formatting, for the common doubles whose shortest
    /// representation has at most 17 fractional digits and fewer than 16 significant digits
    /// (`24.5`, `0.1`, `-122.25`); `None` sends any other double to the general path.
    ///
    /// The smallest `k` for which `m = round(|v|·10^k)` reads back as `|v|` (`m / 10^k`,
    /// one correctly rounded division of two exact doubles, is exactly what parsing the
    /// decimal text gives) yields the shortest digits. With `m < 2^50` the product's rounding
    /// error (≤ 1/8) and the round-trip interval (±1/8 around `|v|·10^k`) cannot make `round`
    /// miss the candidate or admit two, so `m` is the digits ryu prints. An integral double
    /// prints as `N.0` below 10^16 (ryu's layout), which [`from_str`](str::parse) reads as
    /// coefficient `10N`, exponent −1; every other form reads as coefficient `m`, exponent `−k`.
    fn from_f64_short(v: f64) -> Option<Self> {
        /// 2^50: below it `m` and `10m` are exact in a double, and the error bound holds.
        const LIMIT: f64 = 1_125_899_906_842_624.0;
        /// The powers of ten exact in a double that the search tries.
        const SCALES: [f64; 18] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17,
        ];
        let a = v.abs();
        if a == 0.0 || a >= LIMIT {
            return None;
        }
        for (k, scale) in (0i32..).zip(SCALES) {
            let scaled = a * scale;
            if scaled >= LIMIT {
                return None;
            }
            let m = scaled.round();
            if m / scale == a {
                // m < 2^50: the conversion is exact.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let m = m as u64 as i128;
                let (coefficient, exponent) = if k == 0 {
                    (m.checked_mul(10)?, -1)
                } else {
                    (m, k.checked_neg()?)
                };
                return Some(Decimal {
                    coef: Coefficient::new(if v < 0.0 {
                        coefficient.checked_neg()?
                    } else {
                        coefficient
                    }),
                    exponent,
                });
            }
        }
        None
    }

    /// Aligns both to the smaller exponent when that fits; returns the aligned coefficients and
    /// the common exponent.
    fn align(a: &Decimal, b: &Decimal) -> Option<(i128, i128, i32)> {
        let (hi, lo, swapped) = if a.exponent >= b.exponent {
            (a, b, false)
        } else {
            (b, a, true)
        };
        let shift = hi.exponent.checked_sub(lo.exponent)?.unsigned_abs();
        let scaled = hi
            .coefficient()
            .checked_mul(i128::try_from(p10(shift)?.get()).ok()?)?;
        if swapped {
            Some((lo.coefficient(), scaled, lo.exponent))
        } else {
            Some((scaled, lo.coefficient(), lo.exponent))
        }
    }

    /// `self + other`, exact to 34 digits.
    pub fn checked_add(&self, other: &Decimal) -> Option<Decimal> {
        if self.coefficient() == 0 && other.coefficient() == 0 {
            return Some(Decimal {
                coef: Coefficient::new(0),
                exponent: self.exponent.min(other.exponent),
            });
        }
        if let Some((a, b, e)) = Self::align(self, other) {
            if let Some(sum) = a.checked_add(b) {
                return Self::from_parts(sum < 0, sum.unsigned_abs(), e, false);
            }
        }
        // The exponents are too far apart to align exactly: the smaller operand only matters
        // below the 34th digit. Round it to a few guard digits under the larger one's precision.
        let (big, small) = if self.magnitude_exponent() >= other.magnitude_exponent() {
            (self, other)
        } else {
            (other, self)
        };
        let room = 37u32.saturating_sub(digits(big.coefficient().unsigned_abs()));
        let target = big.exponent.saturating_sub(i32::try_from(room).ok()?);
        let big_c = big
            .coefficient()
            .checked_mul(i128::try_from(p10(room)?.get()).ok()?)?;
        let small_c = if small.exponent >= target {
            let shift = small.exponent.saturating_sub(target).unsigned_abs();
            small
                .coefficient()
                .checked_mul(i128::try_from(p10(shift)?.get()).ok()?)?
        } else {
            let drop = target.saturating_sub(small.exponent).unsigned_abs();
            let mag = if drop > 38 {
                0
            } else {
                div_round(small.coefficient().unsigned_abs(), drop, false)
            };
            let mag = i128::try_from(mag).ok()?;
            if small.coefficient() < 0 {
                mag.checked_neg()?
            } else {
                mag
            }
        };
        let sticky = small_c == 0 && small.coefficient() != 0;
        let sum = big_c.checked_add(small_c)?;
        Self::from_parts(sum < 0, sum.unsigned_abs(), target, sticky)
    }

    /// `self - other`.
    pub fn checked_sub(&self, other: &Decimal) -> Option<Decimal> {
        self.checked_add(&other.neg())
    }

    /// `self × other`, exact to 34 digits.
    pub fn checked_mul(&self, other: &Decimal) -> Option<Decimal> {
        let e = self.exponent.checked_add(other.exponent)?;
        let negative = (self.coefficient() < 0) != (other.coefficient() < 0);
        let a = self.coefficient().unsigned_abs();
        let b = other.coefficient().unsigned_abs();
        if let Some(p) = a.checked_mul(b) {
            return Self::from_parts(negative && p != 0, p, e, false);
        }
        // Up to 68 digits: multiply into 256 bits, then divide by ten until 34 digits remain.
        let mut wide = mul_wide(a, b);
        let mut dropped = 0i32;
        let mut last = 0u64;
        let mut sticky = false;
        while !fits_34(&wide) {
            if last != 0 {
                sticky = true;
            }
            last = div10(&mut wide);
            dropped = dropped.checked_add(1)?;
        }
        let mut m = low_u128(&wide);
        let round_up = last > 5 || (last == 5 && (sticky || m % 2 == 1));
        if round_up {
            m = m.checked_add(1)?;
        }
        Self::from_parts(negative, m, e.checked_add(dropped)?, false)
    }

    /// `self / other`, correctly rounded to 34 digits; `None` when dividing by zero.
    pub fn checked_div(&self, other: &Decimal) -> Option<Decimal> {
        if other.coefficient() == 0 {
            return None;
        }
        let preferred = self.exponent.checked_sub(other.exponent)?;
        let negative = (self.coefficient() < 0) != (other.coefficient() < 0);
        let d = other.coefficient().unsigned_abs();
        let mut q = self.coefficient().unsigned_abs().checked_div(d)?;
        let mut r = self.coefficient().unsigned_abs().checked_rem(d)?;
        let mut e = preferred;
        // Long division: r < d ≤ 10^34, so r × 10 and q × 10 + 9 stay below 10^36.
        while r != 0 && digits(q) <= PRECISION {
            let r10 = r.checked_mul(10)?;
            q = q.checked_mul(10)?.checked_add(r10.checked_div(d)?)?;
            r = r10.checked_rem(d)?;
            e = e.checked_sub(1)?;
        }
        let result = Self::from_parts(negative && q != 0, q, e, r != 0)?;
        // Exact quotients lose the trailing zeros the long division added, down to the
        // preferred exponent (as BigDecimal.divide with a MathContext does).
        let mut c = result.coefficient();
        let mut e = result.exponent;
        while r == 0 && e < preferred && c % 10 == 0 && c != 0 {
            c /= 10;
            e = e.saturating_add(1);
        }
        Some(Decimal {
            coef: Coefficient::new(c),
            exponent: e,
        })
    }

    /// The remainder of `self / other` truncated toward zero (`BigDecimal.remainder`); `None`
    /// when dividing by zero or when the exponents are too far apart.
    pub fn rem(&self, other: &Decimal) -> Option<Decimal> {
        if other.coefficient() == 0 {
            return None;
        }
        let (a, b, e) = Self::align(self, other)?;
        let r = a.checked_rem(b)?;
        Self::new(r, e)
    }

    /// `floor(log10(|self|))`: the exponent of the leading digit.
    fn magnitude_exponent(&self) -> i64 {
        i64::from(self.exponent)
            .saturating_add(i64::from(digits(self.coefficient().unsigned_abs())))
            .saturating_sub(1)
    }

    /// Numeric comparison.
    pub fn numeric_cmp(&self, other: &Decimal) -> Ordering {
        let (sa, sb) = (self.signum(), other.signum());
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        let by_magnitude = self
            .magnitude_exponent()
            .cmp(&other.magnitude_exponent())
            .then_with(|| {
                // Same leading-digit position: pad the shorter coefficient to the other's length
                // (both ≤ 34 digits, so no overflow) and compare.
                let (a, b) = (
                    self.coefficient().unsigned_abs(),
                    other.coefficient().unsigned_abs(),
                );
                let (da, db) = (digits(a), digits(b));
                let a = a.saturating_mul(p10(db.saturating_sub(da)).map_or(1, NonZeroU128::get));
                let b = b.saturating_mul(p10(da.saturating_sub(db)).map_or(1, NonZeroU128::get));
                a.cmp(&b)
            });
        if sa < 0 {
            by_magnitude.reverse()
        } else {
            by_magnitude
        }
    }
}

/// How [`Decimal::to_i64`] rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Toward zero.
    Down,
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceiling,
    /// To nearest, ties away from zero.
    HalfUp,
}

/// `a * b` as four 64-bit limbs, least significant first (schoolbook on 64-bit halves).
fn mul_wide(a: u128, b: u128) -> [u64; 4] {
    let lo = |x: u128| u128::from(x as u64);
    let hi = |x: u128| x >> 64;
    let (a0, a1, b0, b1) = (lo(a), hi(a), lo(b), hi(b));
    // Each product of two halves is ≤ (2^64-1)^2, and each column adds at most four values
    // < 2^64 (with the carry): all fit a u128.
    let p00 = a0.wrapping_mul(b0);
    let p01 = a0.wrapping_mul(b1);
    let p10 = a1.wrapping_mul(b0);
    let p11 = a1.wrapping_mul(b1);
    let mid = hi(p00).wrapping_add(lo(p01)).wrapping_add(lo(p10));
    let high = hi(p01)
        .wrapping_add(hi(p10))
        .wrapping_add(lo(p11))
        .wrapping_add(hi(mid));
    let top = hi(p11).wrapping_add(hi(high));
    [p00 as u64, mid as u64, high as u64, top as u64]
}

/// Divides `v` by 10 in place; returns the remainder.
fn div10(v: &mut [u64; 4]) -> u64 {
    let mut rem: u128 = 0;
    for limb in v.iter_mut().rev() {
        // rem < 10, so the quotient fits a limb.
        let cur = (rem << 64) | u128::from(*limb);
        *limb = (cur / 10) as u64;
        rem = cur % 10;
    }
    rem as u64
}

fn low_u128(v: &[u64; 4]) -> u128 {
    u128::from(v[0]) | (u128::from(v[1]) << 64)
}

fn fits_34(v: &[u64; 4]) -> bool {
    v[2] == 0 && v[3] == 0 && digits(low_u128(v)) <= PRECISION
}

impl fmt::Debug for Decimal {
    /// As `#[derive(Debug)]` printed it when the coefficient was a plain `i128` field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decimal")
            .field("coefficient", &self.coefficient())
            .field("exponent", &self.exponent)
            .finish()
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.numeric_cmp(other) == Ordering::Equal
    }
}

impl FromStr for Decimal {
    type Err = DecimalParseError;

    /// Parses `-?digits[.digits][(e|E)[+-]digits]` (also `.5` and `5.`); more than 34
    /// significant digits are rounded half-even.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        let mut i = 0usize;
        let negative = match bytes.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let mut magnitude: u128 = 0;
        let mut exponent: i64 = 0;
        let mut any_digit = false;
        let mut seen_point = false;
        let mut sticky = false;
        let mut kept = 0u32;
        let mut round_digit: Option<u8> = None;
        while let Some(&c) = bytes.get(i) {
            match c {
                b'0'..=b'9' => {
                    any_digit = true;
                    let digit = c.wrapping_sub(b'0');
                    if magnitude == 0 && digit == 0 {
                        // Leading zeros carry no precision.
                        if seen_point {
                            exponent = exponent.saturating_sub(1);
                        }
                    } else if kept < 38 {
                        magnitude = magnitude
                            .saturating_mul(10)
                            .saturating_add(u128::from(digit));
                        kept = kept.saturating_add(1);
                        if seen_point {
                            exponent = exponent.saturating_sub(1);
                        }
                    } else {
                        // Digits beyond 38 only matter for rounding.
                        if round_digit.is_none() {
                            round_digit = Some(digit);
                        } else if digit != 0 {
                            sticky = true;
                        }
                        if !seen_point {
                            exponent = exponent.saturating_add(1);
                        }
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i = i.saturating_add(1);
        }
        if !any_digit {
            return Err(DecimalParseError);
        }
        if let Some(&(b'e' | b'E')) = bytes.get(i) {
            i = i.saturating_add(1);
            let exp_negative = match bytes.get(i) {
                Some(b'-') => {
                    i = i.saturating_add(1);
                    true
                }
                Some(b'+') => {
                    i = i.saturating_add(1);
                    false
                }
                _ => false,
            };
            let mut e: i64 = 0;
            let mut any = false;
            while let Some(&c) = bytes.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                any = true;
                e = e
                    .saturating_mul(10)
                    .saturating_add(i64::from(c.wrapping_sub(b'0')));
                i = i.saturating_add(1);
            }
            if !any {
                return Err(DecimalParseError);
            }
            exponent = if exp_negative {
                exponent.saturating_sub(e)
            } else {
                exponent.saturating_add(e)
            };
        }
        if i != bytes.len() {
            return Err(DecimalParseError);
        }
        if let Some(rd) = round_digit {
            // 38 digits kept, more dropped: fold the first dropped digit in as a rounding
            // decision at the 38th digit; from_parts then rounds to 34 with the sticky bit.
            let up = rd > 5 || (rd == 5 && (sticky || magnitude % 2 == 1));
            sticky = sticky || rd != 0;
            if up {
                magnitude = magnitude.saturating_add(1);
            }
        }
        let exponent = i32::try_from(exponent).map_err(|_| DecimalParseError)?;
        Decimal::from_parts(negative && magnitude != 0, magnitude, exponent, sticky)
            .ok_or(DecimalParseError)
    }
}

impl fmt::Display for Decimal {
    /// Java `BigDecimal.toString` notation: plain when the exponent is ≤ 0 and the number is not
    /// tiny (`0.000001` and up), scientific otherwise (`1E+3`, `1.5E-7`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.coefficient().unsigned_abs().to_string();
        let sign = if self.coefficient() < 0 { "-" } else { "" };
        let n = i64::try_from(digits.len()).unwrap_or(i64::MAX);
        let exp = i64::from(self.exponent);
        let adjusted = exp.saturating_add(n).saturating_sub(1);
        if exp <= 0 && adjusted >= -6 {
            if exp == 0 {
                return write!(f, "{sign}{digits}");
            }
            let frac = usize::try_from(exp.unsigned_abs()).unwrap_or(usize::MAX);
            if frac >= digits.len() {
                let zeros = frac.saturating_sub(digits.len());
                write!(f, "{sign}0.{}{digits}", "0".repeat(zeros))
            } else {
                let (int, fr) = digits.split_at(digits.len().saturating_sub(frac));
                write!(f, "{sign}{int}.{fr}")
            }
        } else {
            let (first, rest) = digits.split_at(1);
            let point = if rest.is_empty() { "" } else { "." };
            let esign = if adjusted >= 0 { "+" } else { "" };
            write!(f, "{sign}{first}{point}{rest}E{esign}{adjusted}")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]

    use proptest::prelude::*;

    use super::Decimal;

    #[test]
    fn wide_multiply_and_divide_by_ten() {
        // (2^128 - 1)^2 = 2^256 - 2^129 + 1.
        assert_eq!(
            super::mul_wide(u128::MAX, u128::MAX),
            [1, 0, u64::MAX - 1, u64::MAX]
        );
        assert_eq!(super::mul_wide(0, u128::MAX), [0; 4]);
        let a = 10u128.pow(34) - 1;
        let mut wide = super::mul_wide(a, 10);
        assert_eq!(super::div10(&mut wide), 0);
        assert_eq!(wide, [a as u64, (a >> 64) as u64, 0, 0]);
        let mut seven = [7, 0, 0, 0];
        assert_eq!(super::div10(&mut seven), 7);
        assert_eq!(seven, [0; 4]);
    }

    /// The general path: ryu's shortest text, parsed.
    fn via_text(v: f64) -> Decimal {
        ryu::Buffer::new().format_finite(v).parse().unwrap()
    }

    /// The fast path, when it answers, gives the same coefficient and exponent as the text.
    fn check(v: f64) {
        if let Some(d) = Decimal::from_f64_short(v) {
            let t = via_text(v);
            assert_eq!(
                (d.coefficient(), d.exponent),
                (t.coefficient(), t.exponent),
                "{v:e}"
            );
        }
        let d = Decimal::from_f64(v).unwrap();
        let t = via_text(v);
        assert_eq!(
            (d.coefficient(), d.exponent),
            (t.coefficient(), t.exponent),
            "{v:e}"
        );
    }

    #[test]
    fn short_doubles_match_the_shortest_text() {
        for v in [
            24.5,
            0.1,
            0.2,
            0.3,
            0.1 + 0.2,
            -122.25,
            1.0,
            -1.0,
            1000.0,
            36012.0,
            1e-5,
            1.5e-7,
            1e-17,
            1.2345678901234567e-3,
            123_456_789.123_456_79,
            1e15,
            1_125_899_906_842_623.0,
            1_125_899_906_842_623.5,
            1_125_899_906_842_624.0,
            9_007_199_254_740_993.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            0.0,
            -0.0,
        ] {
            check(v);
            check(-v);
        }
        // It answers for the payload numbers it exists for.
        assert!(Decimal::from_f64_short(24.5).is_some());
        assert!(Decimal::from_f64_short(0.1).is_some());
        assert!(Decimal::from_f64_short(-36012.0).is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

        #[test]
        fn any_double(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            if v.is_finite() {
                check(v);
            }
        }

        #[test]
        fn decimal_literals(m in 0u64..(1 << 54), k in 0i32..24, neg in any::<bool>()) {
            // The double nearest m·10^-k: what a JSON number with those digits parses to.
            let v: f64 = format!("{}{m}e-{k}", if neg { "-" } else { "" }).parse().unwrap();
            check(v);
        }

        #[test]
        fn doubles_near_short_decimals(m in 0u64..(1 << 50), k in 0i32..18, ulps in -3i64..=3) {
            let v: f64 = format!("{m}e-{k}").parse().unwrap();
            let v = f64::from_bits(v.to_bits().wrapping_add_signed(ulps));
            if v.is_finite() {
                check(v);
            }
        }
    }
}
