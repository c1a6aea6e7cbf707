//! A small deterministic generator (xorshift64*) for picking agents: reproducible runs, no
//! dependency, and never on a security path.

/// xorshift64* (Vigna 2014).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced: xorshift has no zero state).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0); the modulo bias is below 2^-40 for the counts
    /// used here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64().checked_rem(n).unwrap_or(0)
    }

    /// An index into `weights`, chosen with probability proportional to its weight (0 if all
    /// weights are zero).
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total = weights.iter().copied().fold(0u64, u64::saturating_add);
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r = r.saturating_sub(*w);
        }
        0
    }
}
