//! The breach forecast: for each open EHC needs assessment request, the
//! probability that its outcome (the final plan, the notice not to issue, or
//! the decision not to assess) misses its statutory date, the expected date of
//! each remaining step, and the two or three reasons behind it; the breaches
//! expected month by month under the current team and under a what-if; and a
//! rebalancing of unstarted statutory work that lowers them. Pure: the history,
//! the team and "today" are passed in (the api reads them).
//!
//! The model, in words a statistician will recognise (docs/FORECAST.md has it
//! at length, with the backtest's figures):
//!
//! 1. Each statutory step's duration is learnt from the authority's own
//!    history as an empirical distribution: the Kaplan–Meier estimate, with the
//!    requests still in that step right-censored on the day the history is read
//!    ([`survival`], [`model`]).
//! 2. The branches (not assessed, not issued) are taken with their historical
//!    shares.
//! 3. Psychological advice is stretched by the asked EP's load, by an
//!    accelerated-failure-time factor fitted per load band where the history
//!    allows, assumed proportional above capacity otherwise ([`model::LoadEffect`]).
//! 4. Monte Carlo over the remaining steps, each drawn conditionally on how
//!    long it has already run, seeded per request ([`simulate`]).
//!
//! The backtest ([`backtest`]) replays the history as known on past days and
//! scores the forecasts against what happened.

pub mod backtest;
pub mod capacity;
pub mod history;
pub mod model;
pub mod simulate;
pub mod survival;

pub use history::{AdviceRecord, Decision, Outcome, RequestRecord, breached};
pub use model::{Model, learn};
pub use simulate::{EpLoad, ExpectedStep, Forecast, Loads, Runs, forecast};

#[cfg(test)]
mod tests;
