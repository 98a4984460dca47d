//! Learning the authority's own step durations from its history, each step's
//! Kaplan–Meier estimate (requests still open are censored on the day the
//! history is read), the share of requests that end early (not assessed, no
//! plan issued), which advice the authority usually asks for, and how an
//! educational psychologist's load stretches their advice.
//!
//! The steps, in days:
//!
//! | step | from | to |
//! | --- | --- | --- |
//! | decision | request received | decision whether to assess |
//! | asking for advice of a kind | decision to assess | that advice asked for |
//! | advice of a kind | asked for | received |
//! | draft | the later of the decision and the last advice in | draft plan sent, or notice not to issue |
//! | final | draft plan sent | final plan issued |
//!
//! A step with fewer than [`MIN_EVENTS`] completed observations is not learnt:
//! it takes its place in the statutory timetable exactly (decision at 6 weeks,
//! advice asked a week later and in 5 weeks after that, the draft 4 weeks after
//! the last advice, the final plan 4 weeks after the draft: 20 weeks in all),
//! and the model says so.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::history::{Decision, RequestRecord, first_asked};
use super::survival::{Observed, Survival};
use crate::domain::AdviceKind;

/// Fewer completed observations than this and a step is assumed, not learnt.
pub const MIN_EVENTS: usize = 5;

/// One step's duration distribution and whether it was learnt.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Its survival function.
    pub survival: Survival,
    /// True when learnt from the history; false when the statutory timetable is assumed.
    pub learnt: bool,
}

impl Step {
    fn learn(observed: &[Observed], assumed_days: i64) -> Step {
        match Survival::fit(observed) {
            Some(survival) if survival.events() >= MIN_EVENTS => Step { survival, learnt: true },
            _ => Step { survival: Survival::exactly(assumed_days), learnt: false },
        }
    }
}

/// An educational psychologist's load band on the day advice is asked of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoadBand {
    /// Under 80 % of capacity.
    Light,
    /// 80 % to 100 %.
    Full,
    /// Over capacity.
    Over,
}

impl LoadBand {
    /// The band of `load` (open cases ÷ capacity).
    pub fn of(load: f64) -> LoadBand {
        if load > 1.0 {
            Self::Over
        } else if load >= 0.8 {
            Self::Full
        } else {
            Self::Light
        }
    }

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Light => "under 80 % of capacity",
            Self::Full => "80–100 % of capacity",
            Self::Over => "over capacity",
        }
    }
}

/// How load stretches psychological advice (an accelerated-failure-time
/// factor on its duration): for a band with [`MIN_EVENTS`] advice returns in
/// the history, the band's median over the median of all; otherwise the
/// assumption that above capacity the advice takes as much longer as the
/// load is over (140 % of capacity: 1.4 times as long; at or under: as usual),
/// the queue's throughput being fixed. A band is fitted only where its own
/// median is reached in the history. Never less than a lighter band's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadEffect {
    /// The fitted factor of each band, where the history allows.
    pub fitted: BTreeMap<LoadBand, f64>,
}

impl LoadEffect {
    /// The factor on the advice's duration for an EP at `load`. A heavier load
    /// never makes advice quicker: a band's factor is at least every lighter
    /// band's fitted one (so the factor never falls as the load rises, and a
    /// what-if that adds capacity never adds breaches), which matters where
    /// the history's advice took as long whatever the load and the fitted
    /// factors are noise around 1. A band not fitted is assumed as usual (or
    /// proportional over capacity), but never slower than a heavier band's
    /// fitted factor: a lighter load never makes advice slower either.
    pub fn factor(&self, load: f64) -> f64 {
        let band = LoadBand::of(load);
        let own = match self.fitted.get(&band) {
            Some(fitted) => *fitted,
            None => self.fitted.range(band..).map(|(_, f)| *f).fold(load.max(1.0), f64::min),
        };
        self.fitted.range(..band).map(|(_, f)| *f).fold(own, f64::max)
    }

    /// Whether the factor at `load` is learnt (true) or assumed (false).
    pub fn is_fitted(&self, load: f64) -> bool {
        self.fitted.contains_key(&LoadBand::of(load))
    }
}

/// What the forecast learnt from one authority's history.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The day the history was read.
    pub as_of: NaiveDate,
    /// Requests learnt from.
    pub requests: usize,
    /// Received → decision whether to assess.
    pub decision: Step,
    /// Of the decisions, the share not to assess.
    pub not_assess_share: f64,
    /// The advice the authority usually asks for (in at least half its assessments).
    pub usual_advice: Vec<AdviceKind>,
    /// Decision → advice of each kind asked for.
    pub asking: BTreeMap<&'static str, Step>,
    /// Advice of each kind asked for → received (psychological: at the pooled load).
    pub advice: BTreeMap<&'static str, Step>,
    /// How load stretches psychological advice.
    pub load: LoadEffect,
    /// Last advice in → draft sent or notice not to issue.
    pub draft: Step,
    /// Of the assessments past advice, the share given a notice not to issue.
    pub not_issue_share: f64,
    /// Draft sent → final plan issued.
    pub final_plan: Step,
}

/// The statutory timetable's days, for steps the history cannot teach.
const ASSUMED_DECISION: i64 = 42;
const ASSUMED_ASKING: i64 = 7;
const ASSUMED_ADVICE: i64 = 35;
const ASSUMED_DRAFT: i64 = 28;
const ASSUMED_FINAL: i64 = 28;

fn days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days().max(0)
}

/// When a request's steps stop being watched: today, or for a request known
/// to be withdrawn the last day anything happened on it.
fn seen_until(request: &RequestRecord, as_of: NaiveDate) -> NaiveDate {
    if request.withdrawn { request.last_seen().min(as_of) } else { as_of }
}

/// The day the request was ready for its draft: every `usual` kind of advice
/// asked for and all advice asked for in (the decision day when none was);
/// `None` before then, or when it was not assessed.
pub fn ready_to_draft(request: &RequestRecord, usual: &[AdviceKind]) -> Option<NaiveDate> {
    let Some(Decision::Assess(decided)) = request.decision else { return None };
    if usual.iter().any(|kind| first_asked(request, *kind).is_none()) && request.draft_sent_on.is_none() {
        return None;
    }
    let mut ready = decided;
    for advice in &request.advice {
        ready = ready.max(advice.received_on?);
    }
    Some(ready)
}

/// Learns the model from `history` as it stood on `as_of` (the caller passes
/// records already cut to that day for a backtest).
pub fn learn(history: &[RequestRecord], as_of: NaiveDate) -> Model {
    let history: Vec<&RequestRecord> = history.iter().filter(|r| !r.exception && r.received_on <= as_of).collect();
    let (mut decision, mut decided, mut not_assessed) = (Vec::new(), 0usize, 0usize);
    for request in &history {
        let until = seen_until(request, as_of);
        match request.decision {
            Some(d) => {
                decision.push(Observed { days: days(request.received_on, d.on()), ended: true });
                decided += 1;
                not_assessed += usize::from(matches!(d, Decision::NotAssess(_)));
            }
            None => decision.push(Observed { days: days(request.received_on, until), ended: false }),
        }
    }
    // Which advice the authority asks for: kinds asked in at least half of the
    // assessments that reached their draft or notice.
    let moved_on: Vec<&&RequestRecord> = history
        .iter()
        .filter(|r| matches!(r.decision, Some(Decision::Assess(_))))
        .filter(|r| r.draft_sent_on.is_some() || r.not_issued_on.is_some())
        .collect();
    let usual_advice: Vec<AdviceKind> = if moved_on.len() < MIN_EVENTS {
        Vec::new()
    } else {
        AdviceKind::ALL
            .into_iter()
            .filter(|kind| {
                let asked = moved_on.iter().filter(|r| first_asked(r, *kind).is_some()).count();
                asked * 2 >= moved_on.len()
            })
            .collect()
    };
    let (mut asking, mut advice) = (BTreeMap::new(), BTreeMap::new());
    let mut by_band: BTreeMap<LoadBand, Vec<Observed>> = BTreeMap::new();
    for kind in AdviceKind::ALL {
        let (mut ask, mut back) = (Vec::new(), Vec::new());
        for request in &history {
            let until = seen_until(request, as_of);
            let end = request.outcome().map_or(until, |o| o.on().min(until));
            if let Some(Decision::Assess(decided)) = request.decision {
                match first_asked(request, kind) {
                    Some(first) => ask.push(Observed { days: days(decided, first.asked_on), ended: true }),
                    None if request.draft_sent_on.is_none() && request.outcome().is_none() => {
                        ask.push(Observed { days: days(decided, until), ended: false })
                    }
                    None => {}
                }
            }
            for a in request.advice.iter().filter(|a| a.kind == kind) {
                let seen = match a.received_on {
                    Some(on) => Observed { days: days(a.asked_on, on), ended: true },
                    None => Observed { days: days(a.asked_on, end), ended: false },
                };
                back.push(seen);
                if let (AdviceKind::Psychological, Some(load)) = (kind, a.load_when_asked) {
                    by_band.entry(LoadBand::of(load)).or_default().push(seen);
                }
            }
        }
        asking.insert(kind.code(), Step::learn(&ask, ASSUMED_ASKING));
        advice.insert(kind.code(), Step::learn(&back, ASSUMED_ADVICE));
    }
    let mut load = LoadEffect::default();
    if let Some(pooled) = advice.get(AdviceKind::Psychological.code()).filter(|s| s.learnt) {
        let pooled_median = pooled.survival.median().max(1) as f64;
        // A band whose median the history does not reach (most of its advice
        // still awaited) is not fitted: its median would be the tail's guess.
        for (band, seen) in by_band {
            let fitted = Survival::fit(&seen).filter(|s| s.events() >= MIN_EVENTS);
            if let Some(median) = fitted.and_then(|s| s.observed_median()) {
                load.fitted.insert(band, median.max(1) as f64 / pooled_median);
            }
        }
    }
    let (mut draft, mut past_advice, mut not_issued) = (Vec::new(), 0usize, 0usize);
    let mut final_plan = Vec::new();
    for request in &history {
        let until = seen_until(request, as_of);
        if let Some(ready) = ready_to_draft(request, &usual_advice) {
            let end = request.draft_sent_on.or(request.not_issued_on);
            match end {
                Some(on) => {
                    draft.push(Observed { days: days(ready, on), ended: true });
                    past_advice += 1;
                    not_issued += usize::from(request.draft_sent_on.is_none());
                }
                // A final plan with no draft day recorded: the draft's day is unknown.
                None if request.final_issued_on.is_some() => {}
                None if ready <= until => draft.push(Observed { days: days(ready, until), ended: false }),
                None => {}
            }
        }
        if let Some(sent) = request.draft_sent_on {
            match (request.final_issued_on, request.not_issued_on) {
                (Some(on), _) => final_plan.push(Observed { days: days(sent, on), ended: true }),
                (None, None) => final_plan.push(Observed { days: days(sent, until), ended: false }),
                (None, Some(_)) => {}
            }
        }
    }
    let share = |part: usize, whole: usize| if whole >= MIN_EVENTS { part as f64 / whole as f64 } else { 0.0 };
    Model {
        as_of,
        requests: history.len(),
        decision: Step::learn(&decision, ASSUMED_DECISION),
        not_assess_share: share(not_assessed, decided),
        usual_advice,
        asking,
        advice,
        load,
        draft: Step::learn(&draft, ASSUMED_DRAFT),
        not_issue_share: share(not_issued, past_advice),
        final_plan: Step::learn(&final_plan, ASSUMED_FINAL),
    }
}

impl Model {
    /// The step for asking for advice of `kind` (the timetable's when never seen).
    pub fn asking(&self, kind: AdviceKind) -> Step {
        self.asking.get(kind.code()).cloned().unwrap_or(Step::learn(&[], ASSUMED_ASKING))
    }

    /// The step for advice of `kind` coming in.
    pub fn advice(&self, kind: AdviceKind) -> Step {
        self.advice.get(kind.code()).cloned().unwrap_or(Step::learn(&[], ASSUMED_ADVICE))
    }

    /// Each step in words with its median and whether it was learnt, for the
    /// model's own description on the pages and in the backtest.
    pub fn summary(&self) -> Vec<String> {
        let line = |name: &str, step: &Step| {
            let how = if step.learnt {
                format!("learnt from {} ended and {} still open", step.survival.events(), step.survival.censored())
            } else {
                "too few in the history: the statutory timetable assumed".to_owned()
            };
            format!("{name}: median {} days ({how})", step.survival.median())
        };
        let mut lines = vec![line("decision whether to assess", &self.decision)];
        for kind in &self.usual_advice {
            lines.push(line(&format!("asking for {}", kind.name()), &self.asking(*kind)));
            lines.push(line(kind.name(), &self.advice(*kind)));
        }
        lines.push(line("draft plan (or notice not to issue)", &self.draft));
        lines.push(line("final plan after the draft", &self.final_plan));
        for (band, factor) in &self.load.fitted {
            lines.push(format!("psychological advice from an EP {}: {factor:.2} × the usual time", band.name()));
        }
        lines
    }
}
