//! The Kaplan–Meier estimate of one step's duration, and draws from it.
//!
//! Each observation is a step's duration in days, either completed (an event)
//! or still running on the day the history was read (right-censored: the step
//! took at least that long). Fitting only the completed steps would forget the
//! slow ones still open and so understate every duration; the Kaplan–Meier
//! product-limit estimate counts each open step as at risk until it was last
//! seen and no further:
//!
//! ```text
//! S(t) = Π over event days t_i ≤ t of (1 − d_i / n_i)
//! ```
//!
//! with `d_i` the steps completed on day `t_i` and `n_i` those still running
//! at its start (censored on the same day counted at risk: the usual
//! convention). Beyond the last event the estimate says nothing; when the
//! longest observations are censored the remaining mass `S(t_last)` is spread
//! flat to the longest observation (the estimate's own horizon) and beyond it
//! by a constant hazard, the maximum-likelihood one over the whole step
//! (events ÷ days at risk), so a step already longer than anything seen still
//! has a finite expected end.
//!
//! Draws are by inverse transform, conditioned on what is already known: a
//! step running for `a` days is drawn from `T | T > a` by taking a uniform
//! `v` in `(0, S(a))` and the first day whose survival is at or below it.

/// One step's duration as seen in the history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observed {
    /// Days from the step's start to its end, or to the day it was last seen open.
    pub days: i64,
    /// True when the step ended (an event); false when it was still open (censored).
    pub ended: bool,
}

/// A step's survival function: the chance it is still running after `t` days.
#[derive(Clone, Debug, PartialEq)]
pub struct Survival {
    /// Event days, ascending, each once.
    days: Vec<i64>,
    /// S just after each of those days.
    surv: Vec<f64>,
    /// The longest observation, ended or not: the estimate holds up to here.
    horizon: i64,
    /// Constant hazard per day beyond it (events ÷ days at risk).
    tail_rate: f64,
    /// How many steps ended in the history.
    events: usize,
    /// How many were still open (censored).
    censored: usize,
}

impl Survival {
    /// The product-limit estimate from `observed`; `None` without a single
    /// ended step (nothing to learn a duration from).
    pub fn fit(observed: &[Observed]) -> Option<Survival> {
        let mut sorted: Vec<Observed> = observed.iter().copied().filter(|o| o.days >= 0).collect();
        sorted.sort_by_key(|o| (o.days, !o.ended));
        let events = sorted.iter().filter(|o| o.ended).count();
        if events == 0 {
            return None;
        }
        let exposure: i64 = sorted.iter().map(|o| o.days.max(1)).sum();
        let mut at_risk = sorted.len();
        let (mut days, mut surv) = (Vec::new(), Vec::new());
        let mut s = 1.0;
        let mut i = 0;
        while i < sorted.len() {
            let day = sorted[i].days;
            let same: Vec<&Observed> = sorted[i..].iter().take_while(|o| o.days == day).collect();
            let ended = same.iter().filter(|o| o.ended).count();
            if ended > 0 {
                s *= 1.0 - ended as f64 / at_risk as f64;
                days.push(day);
                surv.push(s);
            }
            at_risk -= same.len();
            i += same.len();
        }
        let horizon = sorted.last().map_or(0, |o| o.days);
        Some(Survival {
            days,
            surv,
            horizon,
            tail_rate: events as f64 / exposure.max(1) as f64,
            events,
            censored: sorted.len() - events,
        })
    }

    /// Every step takes exactly `days` (a point mass): the statutory timetable
    /// when the history has too little to learn from, and known-answer tests.
    pub fn exactly(days: i64) -> Survival {
        Survival {
            days: vec![days.max(0)],
            surv: vec![0.0],
            horizon: days.max(0),
            tail_rate: 1.0,
            events: 0,
            censored: 0,
        }
    }

    /// How many steps ended in the history (0 for [`Survival::exactly`]).
    pub fn events(&self) -> usize {
        self.events
    }

    /// How many were still open when read.
    pub fn censored(&self) -> usize {
        self.censored
    }

    /// The chance the step is still running after `t` days.
    pub fn at(&self, t: i64) -> f64 {
        // Event days ascend: the last at or before `t` by binary search.
        match self.days.partition_point(|&d| d <= t).checked_sub(1) {
            None => 1.0,
            Some(i) if i + 1 == self.days.len() && self.surv[i] > 0.0 && t > self.horizon => {
                self.surv[i] * (-self.tail_rate * (t - self.horizon) as f64).exp()
            }
            Some(i) => self.surv[i],
        }
    }

    /// The median duration: the first day the survival falls to a half or below.
    pub fn median(&self) -> i64 {
        self.quantile_day(0.5, 0)
    }

    /// The median when the history reaches it (an ended step on the day the
    /// survival falls to a half); `None` when it lies beyond every ended step,
    /// where only the tail's assumed constant hazard would place it.
    pub fn observed_median(&self) -> Option<i64> {
        let i = self.surv.partition_point(|&s| s > 0.5);
        self.days.get(i).copied()
    }

    /// The first day after `a` at which survival is at or below `level` (the tail beyond the last event).
    fn quantile_day(&self, level: f64, a: i64) -> i64 {
        // Days ascend and survival never rises: the days after `a` and the days
        // at or below `level` are each a suffix, and the answer starts both.
        let i = self.days.partition_point(|&d| d <= a).max(self.surv.partition_point(|&s| s > level));
        if let Some(&day) = self.days.get(i) {
            return day;
        }
        let from = self.horizon.max(a);
        let s_from = self.at(from);
        if s_from <= 0.0 || level <= 0.0 {
            // Past everything seen and nothing left: a constant hazard from here.
            return from + 1;
        }
        let extra = ((s_from / level).ln() / self.tail_rate.max(1e-9)).ceil().max(1.0) as i64;
        from + extra
    }

    /// A duration drawn given the step has already run `a` days without ending
    /// (`a` = 0 for a step not yet begun), from the uniform `u` in (0, 1).
    pub fn draw_after(&self, a: i64, u: f64) -> i64 {
        let a = a.max(0);
        let s_a = if a == 0 { 1.0 } else { self.at(a) };
        if s_a <= 0.0 {
            // Longer than every step seen, all of which ended: constant hazard beyond.
            let extra = (-(1.0 - u).ln() / self.tail_rate.max(1e-9)).ceil().max(1.0) as i64;
            return a + extra;
        }
        let day = self.quantile_day(u * s_a, if a == 0 { -1 } else { a });
        day.max(if a == 0 { 0 } else { a + 1 })
    }
}

/// A seeded generator (SplitMix64): the same seed gives the same draws, so a
/// forecast is reproducible and two forecasts that differ in one input differ
/// only by that input (common random numbers).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number strictly between 0 and 1.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(days: i64) -> Observed {
        Observed { days, ended: true }
    }

    fn open(days: i64) -> Observed {
        Observed { days, ended: false }
    }

    #[test]
    fn with_every_step_ended_the_survival_is_the_share_still_running() {
        let s = Survival::fit(&[ended(10), ended(20), ended(30), ended(40)]).unwrap();
        assert_eq!(s.at(9), 1.0);
        assert_eq!(s.at(10), 0.75);
        assert_eq!(s.at(25), 0.5);
        assert_eq!(s.at(40), 0.0);
        assert_eq!(s.median(), 20);
    }

    #[test]
    fn a_step_still_open_counts_as_at_risk_until_last_seen_and_no_further() {
        // Completed-only would say half are done by day 20 (median 20). With two
        // steps still open at 25 and 100 days, the product-limit estimate is
        // S(10) = 5/6, S(20) = 5/6 × 4/5 = 2/3, S(30) = 2/3 × 2/3 = 4/9 (the one
        // censored at 25 leaves the risk set), S(40) = 4/9 × 1/2 = 2/9.
        let s = Survival::fit(&[ended(10), ended(20), open(25), ended(30), ended(40), open(100)]).unwrap();
        assert!((s.at(10) - 5.0 / 6.0).abs() < 1e-12);
        assert!((s.at(20) - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.at(30) - 4.0 / 9.0).abs() < 1e-12);
        assert!((s.at(40) - 2.0 / 9.0).abs() < 1e-12);
        assert_eq!(s.median(), 30);
        assert_eq!((s.events(), s.censored()), (4, 2));
        // Flat to the longest observation (100 days), then the mass left decays
        // at 4 events / 225 days at risk.
        assert!((s.at(100) - 2.0 / 9.0).abs() < 1e-12);
        assert!((s.at(150) - 2.0 / 9.0 * (-4.0 * 50.0 / 225.0f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn a_median_beyond_every_ended_step_is_not_observed() {
        let reached = Survival::fit(&[ended(10), ended(20), open(25), ended(30), ended(40), open(100)]).unwrap();
        assert_eq!(reached.observed_median(), Some(30));
        // One in four ended by day 10, the rest still waiting: the median is the tail's guess.
        let beyond = Survival::fit(&[ended(10), open(50), open(60), open(70)]).unwrap();
        assert_eq!(beyond.observed_median(), None);
        assert!(beyond.median() > 70, "{}", beyond.median());
    }

    #[test]
    fn nothing_ended_learns_nothing() {
        assert_eq!(Survival::fit(&[open(10), open(20)]), None);
        assert_eq!(Survival::fit(&[]), None);
    }

    #[test]
    fn a_draw_given_the_step_has_run_a_days_is_always_later_than_a() {
        let s = Survival::fit(&[ended(10), ended(20), ended(30), ended(40)]).unwrap();
        let mut rng = Rng::seeded(7);
        for _ in 0..1000 {
            let t = s.draw_after(25, rng.uniform());
            assert!(t == 30 || t == 40, "{t}");
            let beyond = s.draw_after(45, rng.uniform());
            assert!(beyond > 45, "{beyond}");
        }
    }

    #[test]
    fn unconditioned_draws_follow_the_estimate() {
        let s = Survival::fit(&[ended(10), ended(20), ended(30), ended(40)]).unwrap();
        let mut rng = Rng::seeded(1);
        let n = 20_000;
        let short = (0..n).filter(|_| s.draw_after(0, rng.uniform()) <= 20).count();
        let share = short as f64 / f64::from(n);
        assert!((share - 0.5).abs() < 0.02, "{share}");
    }

    #[test]
    fn a_point_mass_always_draws_its_day() {
        let s = Survival::exactly(42);
        let mut rng = Rng::seeded(3);
        assert!((0..100).all(|_| s.draw_after(0, rng.uniform()) == 42));
        assert_eq!(s.median(), 42);
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let (mut a, mut b) = (Rng::seeded(99), Rng::seeded(99));
        assert!((0..50).all(|_| a.uniform() == b.uniform()));
        let mut c = Rng::seeded(100);
        assert!((0..50).any(|_| a.uniform() != c.uniform()));
    }
}
