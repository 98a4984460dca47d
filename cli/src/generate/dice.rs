//! The generator's only source of chance: splitmix64, a small, fast and
//! well-mixed generator (Steele, Lea and Flood, "Fast splittable pseudorandom
//! number generators", 2014). Every stream is derived from the run's seed and
//! what it is for (an authority, a pupil), so a record comes out the same
//! whatever order the others are made in, and the same seed makes the same
//! dataset on any machine.

use chrono::{Duration, NaiveDate};

/// A deterministic stream of numbers.
#[derive(Clone, Debug)]
pub struct Dice(u64);

impl Dice {
    /// The stream for `purpose` under the run's `seed`.
    pub fn new(seed: u64, purpose: u64) -> Self {
        let mut dice = Dice(seed ^ purpose.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        // Stir once so that neighbouring purposes start far apart.
        dice.next();
        dice
    }

    /// A stream of its own for `purpose`, drawn from this one's seed.
    pub fn split(&self, purpose: u64) -> Self {
        Self::new(self.0, purpose)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { ((u128::from(self.next()) * u128::from(n)) >> 64) as u64 }
    }

    /// A number in `low..=high` (`low` when the range is empty).
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low { low } else { low + self.below((high - low + 1) as u64) as i64 }
    }

    /// True with probability `p` (0 to 1).
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One of `items`, evenly.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// The index of one weight of `weights`, in proportion to it.
    pub fn weighted(&mut self, weights: impl IntoIterator<Item = u32> + Clone) -> usize {
        let total: u64 = weights.clone().into_iter().map(u64::from).sum();
        let mut roll = self.below(total);
        for (i, weight) in weights.into_iter().enumerate() {
            if roll < u64::from(weight) {
                return i;
            }
            roll -= u64::from(weight);
        }
        0
    }

    /// A day `from` to `to` days (inclusive) after `day`.
    pub fn day_after(&mut self, day: NaiveDate, from: i64, to: i64) -> NaiveDate {
        day + Duration::days(self.between(from, to))
    }

    /// A day between `first` and `last` inclusive (`first` when `last` is earlier).
    pub fn day_between(&mut self, first: NaiveDate, last: NaiveDate) -> NaiveDate {
        self.day_after(first, 0, (last - first).num_days())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_purpose_give_the_same_stream() {
        let (mut a, mut b) = (Dice::new(7, 886), Dice::new(7, 886));
        let (xs, ys): (Vec<u64>, Vec<u64>) = (0..8).map(|_| (a.next(), b.next())).unzip();
        assert_eq!(xs, ys);
        assert_ne!(Dice::new(7, 886).next(), Dice::new(7, 887).next());
        assert_ne!(Dice::new(7, 886).next(), Dice::new(8, 886).next());
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut dice = Dice::new(1, 2);
        for _ in 0..10_000 {
            assert!(dice.below(7) < 7);
            assert!((3..=9).contains(&dice.between(3, 9)));
            assert!(dice.weighted([0, 5, 0]) == 1);
        }
        assert_eq!(dice.below(0), 0);
        assert_eq!(dice.between(5, 5), 5);
    }
}
