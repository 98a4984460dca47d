//! The backtest: the history replayed as it stood on past days (only what was
//! recorded by each day: later dates, advice and exceptions unknown), the
//! model learnt from that alone, each request then open forecast, and the
//! forecasts scored against what happened.
//!
//! Scores: the Brier score (mean squared difference between the probability
//! and the 0/1 outcome; 0 is perfect, 0.25 is a coin toss), against the naive
//! baseline that gives every open request the breach rate of the requests
//! decided in the 12 months before the day; and calibration, the forecasts
//! grouped by tenths of probability with the share of each that breached.
//! A request is scored only once its answer is known at the end of the data
//! (an outcome, or its 20-week date passed without one); requests under an
//! exception or withdrawn are not scored. The same request open on several
//! replay days is scored on each, so the scores are not independent.

use chrono::{NaiveDate, TimeDelta};

use super::history::{RequestRecord, breached};
use super::model::learn;
use super::simulate::{Loads, Runs, forecast};

/// One tenth of the probability scale.
#[derive(Clone, Debug, PartialEq)]
pub struct Decile {
    /// Its lower bound (0.0, 0.1, … 0.9).
    pub from: f64,
    /// Forecasts in it.
    pub count: usize,
    /// Their mean probability.
    pub predicted: f64,
    /// The share that breached.
    pub observed: f64,
}

/// The backtest's scores.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Replay days.
    pub days: usize,
    /// Forecasts scored.
    pub forecasts: usize,
    /// The share of them that breached.
    pub breach_rate: f64,
    /// The model's Brier score.
    pub brier: f64,
    /// The naive baseline's.
    pub baseline_brier: f64,
    /// Calibration by tenth (empty tenths left out).
    pub deciles: Vec<Decile>,
}

/// The breach rate of the requests whose answer became known in the year
/// before `day`, as known on `day` (0.5 with none).
pub fn baseline(known: &[RequestRecord], day: NaiveDate) -> f64 {
    let year_ago = day.checked_sub_signed(TimeDelta::days(365)).unwrap_or(NaiveDate::MIN);
    let decided: Vec<bool> = known
        .iter()
        .filter(|r| !r.exception)
        .filter_map(|r| {
            let settled = r.outcome().map_or(r.final_plan_due(), |o| o.on());
            let breach = breached(r, day)?;
            (settled > year_ago && settled <= day).then_some(breach)
        })
        .collect();
    if decided.is_empty() { 0.5 } else { decided.iter().filter(|b| **b).count() as f64 / decided.len() as f64 }
}

/// Replays `history` (as known on `end`) on every `step_days` from `from` to `to`.
pub fn backtest(
    history: &[RequestRecord],
    end: NaiveDate,
    (from, to, step_days): (NaiveDate, NaiveDate, i64),
    runs: Runs,
) -> Report {
    let step = TimeDelta::days(step_days.max(1));
    let (mut day, mut days) = (from, 0usize);
    let mut scored: Vec<(f64, f64, bool)> = Vec::new();
    while day <= to.min(end) {
        let known: Vec<RequestRecord> = history.iter().filter_map(|r| r.as_known_on(day)).collect();
        let model = learn(&known, day);
        let naive = baseline(&known, day);
        let loads = Loads { average: 1.0, ..Loads::default() };
        for then in history.iter().filter(|r| !r.exception && !r.withdrawn) {
            let (Some(now), Some(actual)) = (then.as_known_on(day), breached(then, end)) else { continue };
            if let Some(f) = forecast(&model, &now, &loads, day, runs) {
                scored.push((f.breach, naive, actual));
            }
        }
        days += 1;
        day = match day.checked_add_signed(step) {
            Some(next) => next,
            None => break,
        };
    }
    let n = scored.len().max(1) as f64;
    let y = |b: bool| if b { 1.0 } else { 0.0 };
    let brier = scored.iter().map(|(p, _, b)| (p - y(*b)).powi(2)).sum::<f64>() / n;
    let baseline_brier = scored.iter().map(|(_, q, b)| (q - y(*b)).powi(2)).sum::<f64>() / n;
    let mut deciles = Vec::new();
    for tenth in 0..10 {
        let lo = f64::from(tenth) / 10.0;
        let in_it: Vec<&(f64, f64, bool)> =
            scored.iter().filter(|(p, _, _)| (*p >= lo && *p < lo + 0.1) || (tenth == 9 && *p >= 1.0)).collect();
        if in_it.is_empty() {
            continue;
        }
        let k = in_it.len() as f64;
        deciles.push(Decile {
            from: lo,
            count: in_it.len(),
            predicted: in_it.iter().map(|(p, _, _)| p).sum::<f64>() / k,
            observed: in_it.iter().filter(|(_, _, b)| *b).count() as f64 / k,
        });
    }
    Report {
        days,
        forecasts: scored.len(),
        breach_rate: scored.iter().filter(|(_, _, b)| *b).count() as f64 / n,
        brier,
        baseline_brier,
        deciles,
    }
}
