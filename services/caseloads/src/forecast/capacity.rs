//! Capacity planning: the breaches expected month by month over the next
//! months, from the open requests' forecasts and from the requests still to
//! come (arriving at the last year's rate, each forecast as a fresh request);
//! the same under a what-if; and a greedy rebalancing of unstarted statutory
//! work.
//!
//! A what-if changes only the educational psychologists' loads, which change
//! the psychological advice's duration through the load effect:
//!
//! - extra EP days a week add `days ÷ 5` full-time equivalents, spread over
//!   the team in proportion to their FTE, so each EP's capacity grows by
//!   `1 + days ÷ (5 × team FTE)`;
//! - a change to the time-allocation model moves sessions (half-days) a term
//!   between schools' core time and statutory work: `sessions ÷ 2 ÷ 13` days a
//!   week (a term is 13 weeks), counted like extra days;
//! - a professional leaving takes their capacity away; their open cases are
//!   shared over the others in proportion to capacity, and their requests'
//!   advice is read at the team's average load.
//!
//! The rebalancing moves one case at a time: of all moves of an unstarted
//! statutory case (allocated, psychological advice not yet asked for) from its
//! EP to another less loaded with room for it (so ReassignCase needs no
//! override), it takes the one that lowers the expected breaches most,
//! recomputed with the same random numbers (so the difference is the move's,
//! not noise), and stops when no move lowers them by at least
//! [`WORTH_MOVING`] or after the number asked for. Greedy: each move is the
//! best one at the time, not the best set.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, TimeDelta};

use super::history::RequestRecord;
use super::model::Model;
use super::simulate::{EpLoad, Loads, Runs, forecast, month_of, read_against};

/// A move must lower the expected breaches by at least this much to be suggested.
pub const WORTH_MOVING: f64 = 0.02;
/// Weeks in a school term, for sessions a term.
const TERM_WEEKS: f64 = 13.0;

/// An educational psychologist as capacity planning sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// Professional id.
    pub id: i32,
    /// Name.
    pub name: String,
    /// Full-time equivalent.
    pub fte: f64,
    /// Their capacity, in the unit their load is counted in.
    pub capacity: f64,
    /// What they hold now, in the same unit.
    pub used: f64,
}

impl Member {
    fn load(&self) -> f64 {
        if self.capacity > 0.0 { self.used / self.capacity } else { self.used.max(1.0) }
    }
}

/// The manager's what-if.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WhatIf {
    /// Extra EP days a week.
    pub extra_ep_days_per_week: f64,
    /// A professional leaving (their id).
    pub leaving: Option<i32>,
    /// Sessions a term the time-allocation model moves to statutory work from
    /// schools' core time (negative: the other way).
    pub statutory_sessions_per_term: f64,
}

impl WhatIf {
    /// Whether it changes anything.
    pub fn is_empty(&self) -> bool {
        self.extra_ep_days_per_week == 0.0 && self.leaving.is_none() && self.statutory_sessions_per_term == 0.0
    }
}

/// The team's loads, as they are or under `what_if`.
pub fn loads(team: &[Member], what_if: &WhatIf) -> Loads {
    let leaving = team.iter().find(|m| Some(m.id) == what_if.leaving);
    let staying: Vec<&Member> = team.iter().filter(|m| Some(m.id) != what_if.leaving).collect();
    let fte: f64 = staying.iter().map(|m| m.fte).sum();
    let extra_days = what_if.extra_ep_days_per_week + what_if.statutory_sessions_per_term / 2.0 / TERM_WEEKS;
    let grow = if fte > 0.0 { (1.0 + extra_days / (5.0 * fte)).max(0.05) } else { 1.0 };
    let capacity: f64 = staying.iter().map(|m| m.capacity).sum();
    let mut out = Loads::default();
    for m in &staying {
        let inherited = match leaving {
            Some(l) if capacity > 0.0 => l.used * m.capacity / capacity,
            _ => 0.0,
        };
        let member = Member { capacity: m.capacity * grow, used: m.used + inherited, ..(*m).clone() };
        let ep = EpLoad { name: m.name.clone(), load: member.load(), so_far: Some(m.load()) };
        out.by_professional.insert(m.id, ep);
    }
    let n = out.by_professional.len();
    out.average = if n == 0 { 1.0 } else { out.by_professional.values().map(|e| e.load).sum::<f64>() / n as f64 };
    let today: Vec<f64> = team.iter().map(Member::load).collect();
    out.average_so_far = Some(if today.is_empty() { 1.0 } else { today.iter().sum::<f64>() / today.len() as f64 });
    out
}

/// EHC requests received in the year before `today`, a month.
pub fn arrivals_per_month(history: &[RequestRecord], today: NaiveDate) -> f64 {
    let year_ago = today.checked_sub_signed(TimeDelta::days(365)).unwrap_or(NaiveDate::MIN);
    history.iter().filter(|r| r.received_on > year_ago && r.received_on <= today).count() as f64 / 12.0
}

/// One month's expected breaches.
#[derive(Clone, Debug, PartialEq)]
pub struct MonthBreaches {
    /// The month's first day.
    pub month: NaiveDate,
    /// From requests open today.
    pub open_requests: f64,
    /// From requests still to come.
    pub new_requests: f64,
}

impl MonthBreaches {
    /// Both together.
    pub fn total(&self) -> f64 {
        self.open_requests + self.new_requests
    }
}

fn next_month(month: NaiveDate) -> NaiveDate {
    let (y, m) = if month.month() == 12 { (month.year() + 1, 1) } else { (month.year(), month.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MAX)
}

/// The breaches expected in each of the `months` months from today's, under `loads`.
pub fn by_month(
    model: &Model,
    history: &[RequestRecord],
    loads: &Loads,
    today: NaiveDate,
    months: u32,
    runs: Runs,
) -> Vec<MonthBreaches> {
    let mut out: Vec<MonthBreaches> = Vec::new();
    let mut month = month_of(today);
    for _ in 0..months {
        out.push(MonthBreaches { month, open_requests: 0.0, new_requests: 0.0 });
        month = next_month(month);
    }
    for request in history.iter().filter(|r| r.is_open()) {
        if let Some(f) = forecast(model, request, loads, today, runs) {
            for row in out.iter_mut() {
                // A date already missed is a breach now, not one to come.
                if row.month == month_of(today) && f.final_plan_due < today {
                    continue;
                }
                row.open_requests += f.by_month.get(&row.month).copied().unwrap_or(0.0);
            }
        }
    }
    let rate = arrivals_per_month(history, today);
    if rate > 0.0 {
        let months_ahead: Vec<NaiveDate> = out.iter().map(|r| r.month).collect();
        for (i, arrival_month) in months_ahead.iter().enumerate() {
            let day = arrival_month.with_day(15).unwrap_or(*arrival_month).max(today);
            let fresh = RequestRecord::received(-1 - i as i64, day);
            if let Some(f) = forecast(model, &fresh, loads, day, runs) {
                for row in out.iter_mut() {
                    row.new_requests += rate * f.by_month.get(&row.month).copied().unwrap_or(0.0);
                }
            }
        }
    }
    out
}

/// An unstarted statutory case that could move: allocated to `from`,
/// psychological advice not yet asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Movable {
    /// The case's id.
    pub case_id: i32,
    /// Its EHC request.
    pub referral_id: i64,
    /// Its EP now.
    pub from: i32,
}

/// A suggested move, with what it is expected to save.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    /// The case.
    pub case_id: i32,
    /// Its EHC request.
    pub referral_id: i64,
    /// From whom (id, name).
    pub from: (i32, String),
    /// To whom (id, name).
    pub to: (i32, String),
    /// Expected breaches fewer with this move (after the moves before it).
    pub lowers_by: f64,
}

/// The expected breaches of `requests` with their EP (`id`) at `load` from
/// today on, their advice so far having run at `so_far`.
fn expected_at(
    model: &Model,
    requests: &[&RequestRecord],
    (id, load, so_far): (i32, f64, f64),
    today: NaiveDate,
    runs: Runs,
) -> f64 {
    let mut loads = Loads { average: load, average_so_far: Some(so_far), ..Loads::default() };
    loads.by_professional.insert(id, EpLoad { name: String::new(), load, so_far: Some(so_far) });
    requests.iter().filter_map(|r| forecast(model, r, &loads, today, runs)).map(|f| f.breach).sum()
}

/// Each EP's expected breaches at a load, over the open requests read against
/// them, kept while their requests stay the same. A forecast depends on the
/// team's loads through its own EP's alone, so a move changes two EPs' sums
/// and the one request moved; everyone else's is computed once.
struct Sums<'a> {
    model: &'a Model,
    today: NaiveDate,
    runs: Runs,
    /// Each EP's load today, before any move: what their advice has run at so far.
    so_far: HashMap<i32, f64>,
    kept: HashMap<(i32, u64), f64>,
}

impl Sums<'_> {
    fn so_far(&self, id: i32) -> f64 {
        self.so_far.get(&id).copied().unwrap_or(1.0)
    }

    fn of(&mut self, open: &[RequestRecord], id: i32, load: f64) -> f64 {
        let (model, today, runs, so_far) = (self.model, self.today, self.runs, self.so_far(id));
        *self.kept.entry((id, load.to_bits())).or_insert_with(|| {
            let theirs: Vec<&RequestRecord> = open.iter().filter(|r| read_against(r) == Some(id)).collect();
            expected_at(model, &theirs, (id, load, so_far), today, runs)
        })
    }

    /// Forgets `id`'s sums: their requests have changed.
    fn forget(&mut self, id: i32) {
        self.kept.retain(|(who, _), _| *who != id);
    }
}

/// Up to `most` moves, best first, each lowering the expected breaches (see the module doc).
pub fn rebalance(
    model: &Model,
    history: &[RequestRecord],
    team: &[Member],
    movable: &[Movable],
    today: NaiveDate,
    (runs, most): (Runs, usize),
) -> Vec<Suggestion> {
    let mut team: Vec<Member> = team.to_vec();
    let mut open: Vec<RequestRecord> = history.iter().filter(|r| r.is_open()).cloned().collect();
    let mut movable: Vec<Movable> = movable.to_vec();
    let so_far = team.iter().map(|m| (m.id, m.load())).collect();
    let mut sums = Sums { model, today, runs, so_far, kept: HashMap::new() };
    let mut out = Vec::new();
    while out.len() < most {
        let mut best: Option<(f64, usize, usize)> = None;
        for (mi, mv) in movable.iter().enumerate() {
            let Some(from) = team.iter().position(|m| m.id == mv.from) else { continue };
            let Some(request) = open.iter().find(|r| r.referral_id == mv.referral_id) else { continue };
            let eased = Member { used: team[from].used - 1.0, ..team[from].clone() };
            let (from_now, from_after) = (team[from].load(), eased.load());
            // The EP's requests with the case gone: theirs at the lighter load, less this one.
            let left = sums.of(&open, mv.from, from_after)
                - expected_at(model, &[request], (mv.from, from_after, sums.so_far(mv.from)), today, runs)
                - sums.of(&open, mv.from, from_now);
            for (to, target) in team.iter().enumerate() {
                // Only to someone less loaded with room for one more: the move
                // must go through ReassignCase without an override.
                if to == from || target.load() >= from_now || target.used + 1.0 > target.capacity {
                    continue;
                }
                let busier = Member { used: target.used + 1.0, ..target.clone() };
                let mut moved = request.clone();
                moved.allocated_to = Some(target.id);
                let change = left + sums.of(&open, target.id, busier.load()) - sums.of(&open, target.id, target.load())
                    + expected_at(model, &[&moved], (target.id, busier.load(), sums.so_far(target.id)), today, runs);
                if best.is_none_or(|(b, _, _)| change < b) {
                    best = Some((change, mi, to));
                }
            }
        }
        let Some((change, mi, to)) = best.filter(|(change, _, _)| *change <= -WORTH_MOVING) else { break };
        let mv = movable.remove(mi);
        let Some(from) = team.iter().position(|m| m.id == mv.from) else { break };
        team[from].used -= 1.0;
        team[to].used += 1.0;
        for r in open.iter_mut().filter(|r| r.referral_id == mv.referral_id) {
            r.allocated_to = Some(team[to].id);
        }
        sums.forget(team[from].id);
        sums.forget(team[to].id);
        out.push(Suggestion {
            case_id: mv.case_id,
            referral_id: mv.referral_id,
            from: (team[from].id, team[from].name.clone()),
            to: (team[to].id, team[to].name.clone()),
            lowers_by: -change,
        });
    }
    out
}
