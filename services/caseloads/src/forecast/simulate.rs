//! Monte Carlo over an open request's remaining steps: each run draws every
//! step not yet done from its learnt distribution, conditioned on how long it
//! has already run, and walks the request to its outcome (not assessed, no
//! plan, or a final plan) and that outcome's statutory date. The share of runs
//! that end after their date is the probability of a breach; the runs' mean
//! dates are each remaining step's expected date; and the steps that most
//! often ran furthest over their usual time in the breaching runs are the
//! reasons given.
//!
//! Each request's runs are seeded by its id, so the same data give the same
//! answer, and a what-if that changes one input changes the answer only
//! through that input (common random numbers).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, TimeDelta};

use super::history::{Decision, Outcome, RequestRecord, first_asked};
use super::model::{Model, Step};
use super::survival::Rng;
use crate::domain::AdviceKind;

/// An educational psychologist's name and current load (open cases ÷ capacity).
#[derive(Clone, Debug, PartialEq)]
pub struct EpLoad {
    /// Their name, for the reasons.
    pub name: String,
    /// 1.0 at capacity: the load from today on.
    pub load: f64,
    /// The load the advice already asked of them has run at so far, when
    /// `load` is a what-if's (`None`: the same as `load`).
    pub so_far: Option<f64>,
}

/// The loads the forecast reads psychological advice against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Loads {
    /// By professional id.
    pub by_professional: HashMap<i32, EpLoad>,
    /// The team's average load, for advice not yet allocated to anyone.
    pub average: f64,
    /// The team's average so far, when `average` is a what-if's (`None`: the same).
    pub average_so_far: Option<f64>,
}

/// How many runs and from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Runs {
    /// Runs per request.
    pub simulations: u32,
    /// The seed every request's own seed is made from.
    pub seed: u64,
}

impl Default for Runs {
    fn default() -> Self {
        Runs { simulations: 1000, seed: 19 }
    }
}

/// A remaining step's expected date.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedStep {
    /// The step, in words.
    pub step: String,
    /// Its mean date over the runs in which it happens.
    pub expected_on: NaiveDate,
    /// The share of runs in which it happens.
    pub chance: f64,
}

/// One open request's forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    /// The referral's id.
    pub referral_id: i64,
    /// When it was received.
    pub received_on: NaiveDate,
    /// Its final plan's date (20 weeks).
    pub final_plan_due: NaiveDate,
    /// The probability its outcome misses its statutory date.
    pub breach: f64,
    /// Each remaining step's expected date.
    pub steps: Vec<ExpectedStep>,
    /// The two or three things driving the forecast, in words, most telling first.
    pub reasons: Vec<String>,
    /// The breach's chance by the month it becomes one (the month of the date
    /// missed; keyed by the month's first day).
    pub by_month: BTreeMap<NaiveDate, f64>,
}

/// Which step a breaching run is put down to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Driver {
    Decision,
    Advice(usize),
    Draft,
    Final,
}

fn add(day: NaiveDate, days: i64) -> NaiveDate {
    day.checked_add_signed(TimeDelta::days(days)).unwrap_or(NaiveDate::MAX)
}

fn days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// The first day of `day`'s month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// A draw from `step` stretched by the load's factor (accelerated failure
/// time): the step has run `elapsed` days at the factor `so_far`, i.e.
/// `elapsed / so_far` on the usual scale, and runs the rest at `from_now`. With
/// the two equal it is the usual time times the factor; a what-if that lightens
/// the load shortens only what is left, never what has already run.
fn draw_scaled(step: &Step, elapsed: i64, (so_far, from_now): (f64, f64), u: f64) -> i64 {
    let (so_far, from_now) = (so_far.max(0.1), from_now.max(0.1));
    let done = elapsed as f64 / so_far;
    let usual = step.survival.draw_after(done.floor() as i64, u) as f64;
    let rest = ((usual - done).max(0.0) * from_now - 1e-9).ceil() as i64;
    if elapsed > 0 { (elapsed + rest).max(elapsed + 1) } else { rest }
}

/// "3 weeks", "1 week" or "4 days".
pub fn weeks(days: i64) -> String {
    match days {
        d if d < 14 => format!("{d} day{}", if d == 1 { "" } else { "s" }),
        d => format!("{} weeks", (d as f64 / 7.0).round() as i64),
    }
}

/// The advice kinds a request waits on: the authority's usual ones and any asked.
fn kinds_of(model: &Model, request: &RequestRecord) -> Vec<AdviceKind> {
    let mut kinds = model.usual_advice.clone();
    for advice in &request.advice {
        if !kinds.contains(&advice.kind) {
            kinds.push(advice.kind);
        }
    }
    kinds
}

/// The professional whose load the request's psychological advice is read
/// against: the one asked for it, else the one the request is allocated to.
/// A forecast depends on the team's loads through this one's alone (or the
/// team's average when they are not in it).
pub fn read_against(request: &RequestRecord) -> Option<i32> {
    let asked = first_asked(request, AdviceKind::Psychological).and_then(|a| a.professional_id);
    asked.or(request.allocated_to)
}

/// The EP whose load the request's psychological advice is read against.
fn ep_of<'a>(request: &RequestRecord, loads: &'a Loads) -> Option<&'a EpLoad> {
    read_against(request).and_then(|id| loads.by_professional.get(&id))
}

/// The forecast for `request` on `today`, or `None` when it is not open
/// (ended, withdrawn, or under an exception).
pub fn forecast(
    model: &Model,
    request: &RequestRecord,
    loads: &Loads,
    today: NaiveDate,
    runs: Runs,
) -> Option<Forecast> {
    if !request.is_open() {
        return None;
    }
    let kinds = kinds_of(model, request);
    let ep = ep_of(request, loads);
    let from_now = ep.map_or(loads.average, |e| e.load);
    let so_far = ep.map_or(loads.average_so_far, |e| e.so_far).unwrap_or(from_now);
    let psych_factor = (model.load.factor(so_far), model.load.factor(from_now));
    let n = runs.simulations.max(1);
    let mut rng = Rng::seeded(runs.seed ^ (request.referral_id as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let (mut breaches, mut by_month) = (0u32, BTreeMap::new());
    let mut step_sums: BTreeMap<usize, (String, i64, u32)> = BTreeMap::new();
    let mut drivers: HashMap<Driver, u32> = HashMap::new();
    let mut note = |order: usize, step: &str, on: NaiveDate| {
        let entry = step_sums.entry(order).or_insert_with(|| (step.to_owned(), 0, 0));
        entry.1 += days(today, on);
        entry.2 += 1;
    };
    let received = request.received_on;
    for _ in 0..n {
        let mut excess: Vec<(Driver, i64)> = Vec::new();
        // The decision whether to assess.
        let (decided, assess) = match request.decision {
            Some(Decision::Assess(on)) => (on, true),
            Some(Decision::NotAssess(on)) => (on, false),
            None => {
                let took = model.decision.survival.draw_after(days(received, today), rng.uniform());
                let on = add(received, took);
                note(0, "decision whether to assess", on);
                (on, rng.uniform() >= model.not_assess_share)
            }
        };
        excess.push((Driver::Decision, days(received, decided) - model.decision.survival.median()));
        let outcome = if !assess {
            Outcome::NotAssessed(decided)
        } else {
            // Each kind of advice: in, awaited, or still to be asked for.
            let draft_known = request.draft_sent_on;
            let mut ready = decided;
            if draft_known.is_none() {
                for (i, kind) in kinds.iter().enumerate() {
                    let factor = if *kind == AdviceKind::Psychological { psych_factor } else { (1.0, 1.0) };
                    let (step, asking) = (model.advice(*kind), model.asking(*kind));
                    let usual = asking.survival.median() + step.survival.median();
                    let came = match first_asked(request, *kind) {
                        Some(a) => match a.received_on {
                            Some(on) => on,
                            None => add(a.asked_on, draw_scaled(&step, days(a.asked_on, today), factor, rng.uniform())),
                        },
                        None => {
                            let waited = if decided <= today { days(decided, today) } else { 0 };
                            let asked = add(decided, asking.survival.draw_after(waited, rng.uniform()));
                            add(asked, draw_scaled(&step, 0, factor, rng.uniform()))
                        }
                    };
                    if first_asked(request, *kind).is_none_or(|a| a.received_on.is_none()) {
                        note(1 + i, &format!("{} in", kind.name()), came);
                    }
                    excess.push((Driver::Advice(i), days(decided, came) - usual));
                    ready = ready.max(came);
                }
            }
            // The draft (or the notice not to issue), then the final plan.
            let (drafted, issue) = match draft_known {
                Some(on) => (on, true),
                None => {
                    let waited = if ready <= today { days(ready, today) } else { 0 };
                    let on = add(ready, model.draft.survival.draw_after(waited, rng.uniform()));
                    excess.push((Driver::Draft, days(ready, on) - model.draft.survival.median()));
                    note(10, "draft plan sent (or notice not to issue)", on);
                    (on, rng.uniform() >= model.not_issue_share)
                }
            };
            if issue {
                let waited = if drafted <= today { days(drafted, today) } else { 0 };
                let on = add(drafted, model.final_plan.survival.draw_after(waited, rng.uniform()));
                excess.push((Driver::Final, days(drafted, on) - model.final_plan.survival.median()));
                note(11, "final plan issued", on);
                Outcome::Issued(on)
            } else {
                Outcome::NotIssued(drafted)
            }
        };
        if outcome.late(received) {
            breaches += 1;
            *by_month.entry(month_of(outcome.due(received))).or_insert(0.0) += 1.0 / f64::from(n);
            // Put down to the step furthest over its usual time, if any was over.
            if let Some((driver, _)) = excess.iter().filter(|(_, e)| *e > 0).max_by_key(|(_, e)| *e) {
                *drivers.entry(*driver).or_insert(0) += 1;
            }
        }
    }
    let steps = step_sums
        .into_values()
        .map(|(step, sum, count)| ExpectedStep {
            step,
            expected_on: add(today, (sum as f64 / f64::from(count)).round() as i64),
            chance: f64::from(count) / f64::from(n),
        })
        .collect();
    let breach = f64::from(breaches) / f64::from(n);
    let reasons = reasons(model, request, (&kinds, ep), &drivers, breaches, today);
    Some(Forecast {
        referral_id: request.referral_id,
        received_on: received,
        final_plan_due: request.final_plan_due(),
        breach,
        steps,
        reasons,
        by_month,
    })
}

/// The two or three things that most often drove the breaching runs, in words.
fn reasons(
    model: &Model,
    request: &RequestRecord,
    (kinds, ep): (&[AdviceKind], Option<&EpLoad>),
    drivers: &HashMap<Driver, u32>,
    breaches: u32,
    today: NaiveDate,
) -> Vec<String> {
    let mut out = Vec::new();
    let due = request.final_plan_due();
    if today > due {
        out.push(format!("its 20-week date ({due}) has passed"));
    }
    if breaches == 0 {
        out.push("every remaining step usually fits before its date".to_owned());
        return out;
    }
    let mut ranked: Vec<(Driver, u32)> = drivers.iter().map(|(d, c)| (*d, *c)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if ranked.is_empty() {
        out.push("the steps left usually take longer, together, than the time left".to_owned());
    }
    for (driver, count) in ranked {
        if out.len() >= 3 || f64::from(count) < 0.1 * f64::from(breaches) {
            break;
        }
        out.push(driver_words(model, request, driver, kinds, today));
        if let (Driver::Advice(i), Some(ep)) = (driver, ep)
            && kinds.get(i) == Some(&AdviceKind::Psychological)
            && ep.load > 1.0
            && out.len() < 3
        {
            out.push(format!("{} is at {:.0} % of capacity", ep.name, ep.load * 100.0));
        }
    }
    out
}

fn driver_words(
    model: &Model,
    request: &RequestRecord,
    driver: Driver,
    kinds: &[AdviceKind],
    today: NaiveDate,
) -> String {
    let usual = |step: &Step| weeks(step.survival.median());
    match driver {
        Driver::Decision => match request.decision {
            None => format!(
                "no decision on assessing yet after {} (usually {})",
                weeks(days(request.received_on, today)),
                usual(&model.decision)
            ),
            Some(d) => format!(
                "the decision to assess took {} (usually {})",
                weeks(days(request.received_on, d.on())),
                usual(&model.decision)
            ),
        },
        Driver::Advice(i) => {
            let kind = kinds.get(i).copied().unwrap_or(AdviceKind::Other);
            match first_asked(request, kind) {
                None => match request.decision {
                    Some(d) => format!(
                        "{} not yet requested, {} after the decision to assess",
                        kind.name(),
                        weeks(days(d.on(), today))
                    ),
                    None => format!("{} not yet requested", kind.name()),
                },
                Some(a) => match a.received_on {
                    None => format!(
                        "{} asked for {} ago and not yet in (usually {})",
                        kind.name(),
                        weeks(days(a.asked_on, today)),
                        usual(&model.advice(kind))
                    ),
                    Some(on) => format!("{} took {} to come in", kind.name(), weeks(days(a.asked_on, on))),
                },
            }
        }
        Driver::Draft => format!("the draft plan usually follows the last advice by {}", usual(&model.draft)),
        Driver::Final => match request.draft_sent_on {
            Some(sent) => format!(
                "final plan not yet issued {} after the draft (usually {})",
                weeks(days(sent, today)),
                usual(&model.final_plan)
            ),
            None => format!("the final plan usually follows the draft by {}", usual(&model.final_plan)),
        },
    }
}
