//! The model's pieces at known answers.

use std::collections::HashMap;

use chrono::{NaiveDate, TimeDelta};

use super::backtest::backtest;
use super::capacity::{Member, Movable, WhatIf, by_month, loads, rebalance};
use super::*;
use crate::domain::AdviceKind;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn plus(day: NaiveDate, days: i64) -> NaiveDate {
    day + TimeDelta::days(days)
}

/// A finished request: decided after `decision` days, draft `draft` days
/// later, final plan `last` days after that.
fn finished(id: i64, received: NaiveDate, (decision, draft, last): (i64, i64, i64)) -> RequestRecord {
    let decided = plus(received, decision);
    let sent = plus(decided, draft);
    RequestRecord {
        decision: Some(Decision::Assess(decided)),
        draft_sent_on: Some(sent),
        final_issued_on: Some(plus(sent, last)),
        ..RequestRecord::received(id, received)
    }
}

fn no_loads() -> Loads {
    Loads { average: 1.0, ..Loads::default() }
}

const RUNS: Runs = Runs { simulations: 4000, seed: 19 };
const TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 12, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

#[test]
fn when_every_step_always_takes_its_median_a_fresh_request_is_certain_either_way() {
    // 42 + 56 + 35 = 133 days: inside the 140; with 45 days for the final plan, 143: outside.
    let start = d(2025, 1, 6);
    let quick: Vec<RequestRecord> = (0..10).map(|i| finished(i, plus(start, i * 14), (42, 56, 35))).collect();
    let fresh = RequestRecord::received(100, TODAY);
    let model = learn(&quick, TODAY);
    let f = forecast(&model, &fresh, &no_loads(), TODAY, RUNS).unwrap();
    assert_eq!(f.breach, 0.0);
    let dates: Vec<NaiveDate> = f.steps.iter().map(|s| s.expected_on).collect();
    assert_eq!(dates, vec![plus(TODAY, 42), plus(TODAY, 98), plus(TODAY, 133)]);
    assert_eq!(f.reasons, vec!["every remaining step usually fits before its date".to_owned()]);

    let slow: Vec<RequestRecord> = (0..10).map(|i| finished(i, plus(start, i * 14), (42, 56, 45))).collect();
    let f = forecast(&learn(&slow, TODAY), &fresh, &no_loads(), TODAY, RUNS).unwrap();
    assert_eq!(f.breach, 1.0);
    // No step is slower than usual: the usual steps together do not fit.
    assert_eq!(f.reasons, ["the steps left usually take longer, together, than the time left"]);
}

#[test]
fn a_final_step_that_takes_30_days_half_the_time_and_50_the_other_half_breaches_half_the_time() {
    // 42 + 56 = 98 days to the draft; 98 + 30 = 128 is inside 140, 98 + 50 = 148 is not.
    let start = d(2025, 1, 6);
    let history: Vec<RequestRecord> =
        (0..20).map(|i| finished(i, plus(start, i * 14), (42, 56, if i % 2 == 0 { 30 } else { 50 }))).collect();
    let model = learn(&history, TODAY);
    let f = forecast(&model, &RequestRecord::received(100, TODAY), &no_loads(), TODAY, RUNS).unwrap();
    assert!((f.breach - 0.5).abs() < 0.03, "{}", f.breach);
    // Known to the day: the breach is in the month of its 20-week date.
    let due_month = simulate::month_of(plus(TODAY, 140));
    assert!((f.by_month[&due_month] - f.breach).abs() < 1e-9);
}

#[test]
fn a_request_already_past_its_20_week_date_breaches_for_certain_and_says_so() {
    let start = d(2025, 1, 6);
    let history: Vec<RequestRecord> = (0..10).map(|i| finished(i, plus(start, i * 14), (42, 56, 35))).collect();
    let received = plus(TODAY, -150);
    let late = RequestRecord {
        decision: Some(Decision::Assess(plus(received, 40))),
        ..RequestRecord::received(100, received)
    };
    let f = forecast(&learn(&history, TODAY), &late, &no_loads(), TODAY, RUNS).unwrap();
    assert_eq!(f.breach, 1.0);
    assert_eq!(f.reasons[0], format!("its 20-week date ({}) has passed", plus(received, 140)));
}

#[test]
fn requests_still_open_count_so_slow_steps_are_not_forgotten() {
    // Five final plans took 30 days; five drafts were sent 60 days ago and no
    // final plan is in yet. Learning from the finished ones alone, every final
    // plan takes 30 days and a request with 42 days left for it never breaches;
    // with the five open ones censored at 60 days, half take longer than 60.
    let start = d(2025, 1, 6);
    let mut history: Vec<RequestRecord> = (0..5).map(|i| finished(i, plus(start, i * 14), (42, 56, 30))).collect();
    for i in 5..10 {
        let received = plus(TODAY, -(42 + 56 + 60));
        let mut open = finished(i, received, (42, 56, 0));
        open.final_issued_on = None;
        history.push(open);
    }
    let model = learn(&history, TODAY);
    assert_eq!((model.final_plan.survival.events(), model.final_plan.survival.censored()), (5, 5));
    let f = forecast(&model, &RequestRecord::received(100, TODAY), &no_loads(), TODAY, RUNS).unwrap();
    assert!((f.breach - 0.5).abs() < 0.03, "{}", f.breach);
    let finished_only: Vec<RequestRecord> = history[..5].to_vec();
    let naive = forecast(&learn(&finished_only, TODAY), &RequestRecord::received(100, TODAY), &no_loads(), TODAY, RUNS);
    assert_eq!(naive.unwrap().breach, 0.0);
}

/// A history with psychological advice: asked 7 days after the decision,
/// in 35 days later, then 28 + 28 days to the final plan: 140 days exactly.
fn with_advice(id: i64, received: NaiveDate, advice_days: i64) -> RequestRecord {
    let decided = plus(received, 42);
    let asked = plus(decided, 7);
    let came = plus(asked, advice_days);
    let sent = plus(came, 28);
    RequestRecord {
        decision: Some(Decision::Assess(decided)),
        advice: vec![AdviceRecord {
            kind: AdviceKind::Psychological,
            professional_id: Some(1),
            asked_on: asked,
            received_on: Some(came),
            load_when_asked: None,
        }],
        draft_sent_on: Some(sent),
        final_issued_on: Some(plus(sent, 28)),
        ..RequestRecord::received(id, received)
    }
}

fn ep(name: &str, load: f64) -> EpLoad {
    EpLoad { name: name.into(), load, so_far: None }
}

#[test]
fn an_overloaded_psychologist_stretches_the_advice_and_is_named_in_the_reasons() {
    let start = d(2025, 1, 6);
    let history: Vec<RequestRecord> =
        (0..10).map(|i| with_advice(i, plus(start, i * 14), if i % 2 == 0 { 30 } else { 35 })).collect();
    let model = learn(&history, TODAY);
    assert_eq!(model.usual_advice, vec![AdviceKind::Psychological]);
    // Decided 3 days ago, 42 days after it came in: as usual so far.
    let open = RequestRecord {
        decision: Some(Decision::Assess(plus(TODAY, -3))),
        allocated_to: Some(7),
        ..RequestRecord::received(100, plus(TODAY, -45))
    };
    let light =
        Loads { by_professional: HashMap::from([(7, ep("Dr Jones", 0.5))]), average: 1.0, average_so_far: None };
    let heavy =
        Loads { by_professional: HashMap::from([(7, ep("Dr Jones", 1.4))]), average: 1.0, average_so_far: None };
    let calm = forecast(&model, &open, &light, TODAY, RUNS).unwrap();
    let busy = forecast(&model, &open, &heavy, TODAY, RUNS).unwrap();
    assert!(calm.breach < 0.05, "{}", calm.breach);
    assert_eq!(busy.breach, 1.0);
    assert_eq!(busy.reasons[0], "psychological advice not yet requested, 3 days after the decision to assess");
    assert_eq!(busy.reasons[1], "Dr Jones is at 140 % of capacity");
}

#[test]
fn the_same_data_give_the_same_forecast() {
    let start = d(2025, 1, 6);
    let history: Vec<RequestRecord> =
        (0..20).map(|i| finished(i, plus(start, i * 14), (30 + i % 20, 56, 20 + i))).collect();
    let model = learn(&history, TODAY);
    let fresh = RequestRecord::received(100, TODAY);
    assert_eq!(forecast(&model, &fresh, &no_loads(), TODAY, RUNS), forecast(&model, &fresh, &no_loads(), TODAY, RUNS));
}

#[test]
fn with_too_little_history_the_statutory_timetable_is_assumed_and_said() {
    let model = learn(&[], TODAY);
    assert!(!model.decision.learnt && !model.final_plan.learnt);
    let f = forecast(&model, &RequestRecord::received(1, TODAY), &no_loads(), TODAY, RUNS).unwrap();
    // Exactly the 20 weeks: on the date, not after it.
    assert_eq!(f.breach, 0.0);
    assert!(model.summary()[0].contains("statutory timetable assumed"), "{:?}", model.summary());
}

fn team() -> Vec<Member> {
    vec![
        Member { id: 1, name: "Dr Jones".into(), fte: 1.0, capacity: 10.0, used: 16.0 },
        Member { id: 2, name: "Dr Patel".into(), fte: 1.0, capacity: 10.0, used: 2.0 },
    ]
}

/// Requests with the decision made today and the advice to come from EP 1 or 2.
fn open_for(eps: &[i32]) -> Vec<RequestRecord> {
    eps.iter()
        .enumerate()
        .map(|(i, ep)| RequestRecord {
            decision: Some(Decision::Assess(plus(TODAY, -(i as i64 % 3)))),
            allocated_to: Some(*ep),
            ..RequestRecord::received(100 + i as i64, plus(TODAY, -42 - (i as i64 % 3)))
        })
        .collect()
}

#[test]
fn extra_ep_days_lower_the_expected_breaches_and_a_leaver_raises_them() {
    let start = d(2025, 1, 6);
    let mut history: Vec<RequestRecord> =
        (0..10).map(|i| with_advice(i, plus(start, i * 14), if i % 2 == 0 { 30 } else { 35 })).collect();
    history.extend(open_for(&[1, 1, 1, 2]));
    let model = learn(&history, TODAY);
    let runs = Runs { simulations: 500, seed: 1 };
    let total = |l: &Loads| by_month(&model, &history, l, TODAY, 6, runs).iter().map(|m| m.open_requests).sum::<f64>();
    let today = total(&loads(&team(), &WhatIf::default()));
    let more = total(&loads(&team(), &WhatIf { extra_ep_days_per_week: 10.0, ..WhatIf::default() }));
    let leaver = total(&loads(&team(), &WhatIf { leaving: Some(2), ..WhatIf::default() }));
    assert!(more < today, "{more} !< {today}");
    assert!(leaver > today, "{leaver} !> {today}");
    let rows = by_month(&model, &history, &loads(&team(), &WhatIf::default()), TODAY, 6, runs);
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0].month, d(2026, 12, 1));
}

#[test]
fn advice_is_never_quicker_under_a_heavier_load_even_where_the_fitted_factors_or_a_band_not_learnt_say_so() {
    use super::model::{LoadBand, LoadEffect};
    // Advice that took as long whatever the load: fitted factors are noise around 1.
    let noisy = LoadEffect { fitted: [(LoadBand::Light, 1.3), (LoadBand::Over, 0.9)].into() };
    assert_eq!([noisy.factor(0.5), noisy.factor(0.9), noisy.factor(1.5)], [1.3, 1.3, 1.3]);
    let rising = LoadEffect { fitted: [(LoadBand::Light, 0.9), (LoadBand::Over, 1.2)].into() };
    assert_eq!([rising.factor(0.5), rising.factor(0.9), rising.factor(1.5)], [0.9, 1.0, 1.2]);
    // Learnt only at 80 % and over: a lighter load is at least as quick as 80–100 %.
    let full_and_over = LoadEffect { fitted: [(LoadBand::Full, 0.84), (LoadBand::Over, 1.16)].into() };
    assert_eq!([full_and_over.factor(0.2), full_and_over.factor(0.9), full_and_over.factor(1.5)], [0.84, 0.84, 1.16]);
    // Where no band is fitted: as usual up to capacity, proportional above it.
    assert_eq!([LoadEffect::default().factor(0.5), LoadEffect::default().factor(1.4)], [1.0, 1.4]);
}

#[test]
fn more_capacity_never_makes_advice_already_asked_for_later() {
    // Advice of every length from 10 to 60 days, so that conditioning on how long
    // it has run reaches into the tail.
    let start = d(2025, 1, 6);
    let history: Vec<RequestRecord> = (0..20).map(|i| with_advice(i, plus(start, i * 14), 10 + i * 5 / 2)).collect();
    let model = learn(&history, TODAY);
    // Psychological advice asked of Dr Jones (EP 1, at 160 % today) 1 to 60 days ago.
    let asked: Vec<RequestRecord> = (1..=60)
        .map(|ago| {
            let decided = plus(TODAY, -ago - 7);
            RequestRecord {
                decision: Some(Decision::Assess(decided)),
                advice: vec![AdviceRecord {
                    kind: AdviceKind::Psychological,
                    professional_id: Some(1),
                    asked_on: plus(TODAY, -ago),
                    received_on: None,
                    load_when_asked: None,
                }],
                ..RequestRecord::received(200 + ago, plus(decided, -30))
            }
        })
        .collect();
    let team = vec![Member { id: 1, name: "Dr Jones".into(), fte: 1.0, capacity: 10.0, used: 16.0 }];
    let today = loads(&team, &WhatIf::default());
    let more = loads(&team, &WhatIf { extra_ep_days_per_week: 3.0, ..WhatIf::default() });
    let runs = Runs { simulations: 500, seed: 3 };
    let mut lowered = 0;
    for request in &asked {
        let (now, then) = (
            forecast(&model, request, &today, TODAY, runs).unwrap(),
            forecast(&model, request, &more, TODAY, runs).unwrap(),
        );
        assert!(
            then.breach <= now.breach,
            "request {}: {} with more capacity, {} today",
            request.referral_id,
            then.breach,
            now.breach
        );
        lowered += usize::from(then.breach < now.breach);
    }
    assert!(lowered > 0, "more capacity shortens some advice still to come");
}

#[test]
fn rebalancing_moves_unstarted_work_from_the_overloaded_psychologist() {
    let start = d(2025, 1, 6);
    let mut history: Vec<RequestRecord> =
        (0..10).map(|i| with_advice(i, plus(start, i * 14), if i % 2 == 0 { 30 } else { 35 })).collect();
    history.extend(open_for(&[1, 1, 1]));
    let model = learn(&history, TODAY);
    let movable: Vec<Movable> =
        (0..3).map(|i| Movable { case_id: 50 + i, referral_id: 100 + i64::from(i), from: 1 }).collect();
    let moves = rebalance(&model, &history, &team(), &movable, TODAY, (Runs { simulations: 300, seed: 1 }, 5));
    assert!(!moves.is_empty());
    assert!(moves.iter().all(|m| m.from.0 == 1 && m.to.0 == 2 && m.lowers_by >= capacity::WORTH_MOVING));
    // Nothing to gain between two equally loaded colleagues.
    let even = vec![
        Member { id: 1, name: "A".into(), fte: 1.0, capacity: 10.0, used: 5.0 },
        Member { id: 2, name: "B".into(), fte: 1.0, capacity: 10.0, used: 5.0 },
    ];
    assert!(rebalance(&model, &history, &even, &movable, TODAY, (Runs { simulations: 300, seed: 1 }, 5)).is_empty());
}

#[test]
fn the_backtest_scores_only_what_was_known_and_beats_the_baseline_when_the_pattern_is_learnable() {
    // A request every week for two years; the final plan takes 30 or 50 days by turns.
    let start = d(2024, 1, 1);
    let history: Vec<RequestRecord> =
        (0..104).map(|i| finished(i, plus(start, i * 7), (42, 56, if i % 2 == 0 { 30 } else { 50 }))).collect();
    let end = plus(start, 104 * 7 + 200);
    let report = backtest(&history, end, (d(2024, 9, 2), d(2025, 9, 1), 28), Runs { simulations: 400, seed: 2 });
    assert!(report.forecasts > 100, "{}", report.forecasts);
    // The slow ones are open longer, so forecast on more replay days: a little over half.
    assert!(report.breach_rate > 0.5 && report.breach_rate < 0.65, "{}", report.breach_rate);
    assert!(report.brier < report.baseline_brier, "{} !< {}", report.brier, report.baseline_brier);
    let counted: usize = report.deciles.iter().map(|dc| dc.count).sum();
    assert_eq!(counted, report.forecasts);
}

#[test]
fn a_request_as_known_on_an_earlier_day_forgets_what_came_later() {
    let r = finished(1, d(2025, 1, 6), (42, 56, 35));
    let then = r.as_known_on(plus(d(2025, 1, 6), 50)).unwrap();
    assert!(then.decision.is_some() && then.draft_sent_on.is_none() && then.final_issued_on.is_none());
    assert!(then.is_open());
    assert_eq!(r.as_known_on(d(2025, 1, 5)), None);
}
