//! GetBreachForecast and GetCapacityForecast: the forecast of `crate::forecast`
//! over the authority's own data. The history is every EHC needs assessment
//! request with its statutory clock (referrals service, as the caller may see
//! it), the advice asked for in each and every case allocated (this service's
//! records), and the team's loads as the caseload balance counts them.
//!
//! Computed once per authority and kept for [`FRESH_FOR`]: the steps it
//! forecasts move in days, so a forecast minutes old says the same, and one
//! computation a ten minutes serves every manager and case officer of the
//! authority however often the dashboard is opened. A reassignment here forgets
//! the authority's forecast at once (the rebalancing it suggested has changed).
//! Each authority has its own lock: of two callers at once, one computes and
//! the other waits for its answer, and authorities never wait on each other.
//! The simulation runs off the async workers (`spawn_blocking`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sen_platform::dates::{from_proto_opt, to_proto};
use sen_platform::error::FieldViolations;
use sen_platform::fields::AllChecked;
use sen_platform::identity::{Identity, TenantScope};
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{CaseloadsApi, TEAM};
use crate::domain::{AdviceKind, Capacity, ReferralKind, can_take, load};
use crate::error::Error;
use crate::forecast::capacity::{self, Member, MonthBreaches, Movable, Suggestion, WhatIf};
use crate::forecast::{AdviceRecord, Decision, Forecast, Model, RequestRecord, Runs, forecast, learn};
use crate::store::{AdviceFilter, CaseSpan};

type Reply<T> = Result<Response<T>, Status>;

/// How long a computed forecast is served before it is computed again.
pub const FRESH_FOR: TimeDelta = TimeDelta::minutes(10);
/// The most rebalancing moves worked out (and asked for).
const MOST_MOVES: u32 = 10;
/// Unstarted cases considered for moving, from the most loaded EPs first.
const MOVABLE_CASES: usize = 30;
/// Months of expected breaches.
const MONTHS: u32 = 6;

/// The forecasts computed, one slot per authority.
#[derive(Debug, Default)]
pub(super) struct ForecastCache {
    tenants: Mutex<HashMap<String, Slot>>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Computed>>>>;

impl ForecastCache {
    fn slot(&self, tenant: &str) -> Slot {
        let mut tenants = self.tenants.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tenants.entry(tenant.to_owned()).or_default().clone()
    }

    /// Forgets the authority's forecast: the next call computes it afresh.
    pub fn forget(&self, tenant: &str) {
        self.tenants.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(tenant);
    }
}

/// What a request is shown with beside its forecast.
#[derive(Clone, Debug, Default)]
struct Meta {
    pupil_id: i64,
    school_urn: String,
    case: Option<(i32, String)>,
}

/// One authority's forecast as computed.
#[derive(Debug)]
pub(super) struct Computed {
    computed_at: DateTime<Utc>,
    as_of: NaiveDate,
    model: Model,
    history: Vec<RequestRecord>,
    team: Vec<Member>,
    forecasts: Vec<Forecast>,
    months: Vec<MonthBreaches>,
    suggestions: Vec<Suggestion>,
    meta: HashMap<i64, Meta>,
}

/// The inputs read from the services and the store.
struct Inputs {
    history: Vec<RequestRecord>,
    team: Vec<Member>,
    movable: Vec<Movable>,
    meta: HashMap<i64, Meta>,
}

fn date_of(d: Option<&pb::Date>) -> Option<NaiveDate> {
    from_proto_opt(d).ok().flatten()
}

/// The request as the forecast reads it, from its statutory clock (and the
/// advice asked for in it, and the professional it is allocated to); `None`
/// without a clock. `sen forecast backtest` reads the history the same way.
pub fn record(referral: &pb::Referral, advice: Vec<AdviceRecord>, allocated_to: Option<i32>) -> Option<RequestRecord> {
    let clock = referral.clock.as_ref()?;
    let received_on = date_of(clock.received_on.as_ref())?;
    let decided = date_of(clock.assessment_decision_on.as_ref());
    let decision = match (clock.assessment_decision.as_str(), decided) {
        ("assess", Some(on)) => Some(Decision::Assess(on)),
        ("not_assess", Some(on)) => Some(Decision::NotAssess(on)),
        _ => None,
    };
    let not_issued_on =
        if clock.plan_decision == "not_issue" { date_of(clock.plan_decision_on.as_ref()) } else { None };
    // A record without the draft's own day has the decision to issue, which
    // the draft follows (reg. 13(1)): the nearest step recorded.
    let decided_to_issue = if clock.plan_decision == "issue" { date_of(clock.plan_decision_on.as_ref()) } else { None };
    let mut r = RequestRecord {
        decision,
        advice,
        draft_sent_on: date_of(clock.draft_plan_sent_on.as_ref()).or(decided_to_issue),
        not_issued_on,
        final_issued_on: date_of(clock.final_plan_issued_on.as_ref()),
        exception: !clock.exception.is_empty(),
        allocated_to,
        ..RequestRecord::received(referral.id, received_on)
    };
    // Withdrawn, declined or returned to the requester without an outcome: not
    // with the council. A referral closed when its professional finished their
    // part (the psychological advice) stops the clock only before a decision to
    // assess: after it, the assessment and the plan are the council's own duty
    // and its clock runs on (the referrals service's `ended_by`).
    let ended = [pb::ReferralStatus::Withdrawn, pb::ReferralStatus::Declined, pb::ReferralStatus::Returned];
    let closed_undecided = referral.status == pb::ReferralStatus::Closed as i32 && r.decision.is_none();
    r.withdrawn = r.outcome().is_none() && (closed_undecided || ended.iter().any(|s| *s as i32 == referral.status));
    Some(r)
}

/// A professional's load on `day` from their case spans: their cases open
/// then over their capacity in open cases (unknown for a capacity counted in sessions).
fn load_on(spans: &[&CaseSpan], capacity: Capacity, day: NaiveDate) -> Option<f64> {
    match capacity {
        Capacity::OpenCases(n) if n > 0 => {
            let open = spans.iter().filter(|s| s.open_on(day)).count();
            Some(open as f64 / f64::from(n))
        }
        _ => None,
    }
}

impl CaseloadsApi {
    async fn inputs(&self, who: &Identity, tenant: &TenantScope) -> Result<Inputs, Error> {
        let referrals = self.peers.ehc_requests(who.token()).await?;
        let advice_rows = self.store.advice_requests(tenant, &AdviceFilter::default()).await?;
        let spans = self.store.case_spans(tenant).await?;
        let people = self.candidates(tenant, 0).await?;
        let capacities: HashMap<i32, Capacity> = people.iter().map(|(p, c)| (p.id, c.capacity)).collect();
        let names: HashMap<i32, String> = people.iter().map(|(p, _)| (p.id, p.name.clone())).collect();
        let team: Vec<Member> = people
            .iter()
            .filter(|(p, c)| p.active && can_take(c.role, ReferralKind::EhcNeedsAssessment))
            .map(|(p, c)| Member {
                id: p.id,
                name: p.name.clone(),
                fte: p.fte,
                capacity: f64::from(c.capacity.amount()),
                used: load(c) * f64::from(c.capacity.amount()),
            })
            .collect();
        let ehc = ReferralKind::EhcNeedsAssessment.code();
        let open_case: HashMap<i64, &CaseSpan> =
            spans.iter().filter(|s| s.kind == ehc && s.closed_on.is_none()).map(|s| (s.referral_id, s)).collect();
        let mut spans_of: HashMap<i32, Vec<&CaseSpan>> = HashMap::new();
        for span in &spans {
            spans_of.entry(span.professional_id).or_default().push(span);
        }
        let mut advice: HashMap<i64, Vec<AdviceRecord>> = HashMap::new();
        for row in advice_rows {
            let Ok(kind) = AdviceKind::parse(&row.kind) else { continue };
            let load_when_asked = row
                .professional_id
                .and_then(|id| Some((spans_of.get(&id).map_or(&[][..], Vec::as_slice), *capacities.get(&id)?)))
                .and_then(|(theirs, capacity)| load_on(theirs, capacity, row.asked_on));
            advice.entry(row.referral_id).or_default().push(AdviceRecord {
                kind,
                professional_id: row.professional_id,
                asked_on: row.asked_on,
                received_on: row.received_on,
                load_when_asked,
            });
        }
        let (mut history, mut meta) = (Vec::new(), HashMap::new());
        for referral in &referrals {
            let case = open_case.get(&referral.id);
            let asked = advice.remove(&referral.id).unwrap_or_default();
            let Some(r) = record(referral, asked, case.map(|c| c.professional_id)) else { continue };
            let body = referral.body.clone().unwrap_or_default();
            let case = case.map(|c| (c.case_id, names.get(&c.professional_id).cloned().unwrap_or_default()));
            meta.insert(referral.id, Meta { pupil_id: body.pupil_id, school_urn: body.school_urn, case });
            history.push(r);
        }
        // Unstarted statutory work: open requests allocated to an EP of the
        // team whose psychological advice is not yet asked for.
        let load_of: HashMap<i32, f64> =
            team.iter().map(|m| (m.id, if m.capacity > 0.0 { m.used / m.capacity } else { m.used })).collect();
        let mut movable: Vec<Movable> = history
            .iter()
            .filter(|r| r.is_open() && !r.advice.iter().any(|a| a.kind == AdviceKind::Psychological))
            .filter_map(|r| {
                let case = open_case.get(&r.referral_id)?;
                load_of.contains_key(&case.professional_id).then_some(Movable {
                    case_id: case.case_id,
                    referral_id: r.referral_id,
                    from: case.professional_id,
                })
            })
            .collect();
        let load = |id: &i32| load_of.get(id).copied().unwrap_or(0.0);
        movable.sort_by(|a, b| load(&b.from).total_cmp(&load(&a.from)).then(a.case_id.cmp(&b.case_id)));
        movable.truncate(MOVABLE_CASES);
        Ok(Inputs { history, team, movable, meta })
    }

    /// The authority's forecast: the one kept when fresh, else computed now.
    pub(super) async fn computed_forecast(&self, who: &Identity) -> Result<Arc<Computed>, Error> {
        let tenant = who.tenant_scope()?;
        let slot = self.forecasts.slot(&tenant.key());
        let mut kept = slot.lock().await;
        let now = Utc::now();
        if let Some(fresh) = kept.as_ref().filter(|c| now - c.computed_at < FRESH_FOR && c.as_of == (self.today)()) {
            return Ok(fresh.clone());
        }
        let inputs = self.inputs(who, &tenant).await?;
        let today = (self.today)();
        let computed = tokio::task::spawn_blocking(move || compute(inputs, today, now))
            .await
            .map_err(|e| Error::Unavailable(format!("the forecast could not be computed: {e}")))?;
        let computed = Arc::new(computed);
        *kept = Some(computed.clone());
        Ok(computed)
    }

    pub(super) async fn get_breach_forecast_call(
        &self,
        request: Request<pb::GetBreachForecastRequest>,
    ) -> Reply<pb::BreachForecast> {
        let who = Identity::caller(&request, TEAM)?;
        let (min, figures_only) = (request.get_ref().min_probability, request.get_ref().figures_only);
        if !(0.0..=1.0).contains(&min) {
            return Err(FieldViolations::one("min_probability", "must be between 0 and 1").into());
        }
        let c = self.computed_forecast(&who).await?;
        let requests = c
            .forecasts
            .iter()
            .filter(|f| !figures_only && f.breach >= min)
            .map(|f| {
                let meta = c.meta.get(&f.referral_id).cloned().unwrap_or_default();
                pb::RequestForecast {
                    referral_id: f.referral_id,
                    pupil_id: meta.pupil_id,
                    school_urn: meta.school_urn,
                    received_on: Some(to_proto(f.received_on)),
                    final_plan_due: Some(to_proto(f.final_plan_due)),
                    breach_probability: f.breach,
                    steps: f
                        .steps
                        .iter()
                        .map(|s| pb::ForecastStep {
                            step: s.step.clone(),
                            expected_on: Some(to_proto(s.expected_on)),
                            chance: s.chance,
                        })
                        .collect(),
                    reasons: f.reasons.clone(),
                    case_id: meta.case.as_ref().map_or(0, |(id, _)| i64::from(*id)),
                    allocated_to: meta.case.map(|(_, name)| name).unwrap_or_default(),
                }
            })
            .collect();
        Ok(Response::new(pb::BreachForecast {
            computed_at: c.computed_at.to_rfc3339(),
            as_of: Some(to_proto(c.as_of)),
            requests,
            likely_breaches: u32::try_from(c.forecasts.iter().filter(|f| f.breach > 0.5).count()).unwrap_or(u32::MAX),
            expected_breaches: c.forecasts.iter().map(|f| f.breach).sum(),
            model: c.model.summary(),
            requests_learnt: u32::try_from(c.model.requests).unwrap_or(u32::MAX),
        }))
    }

    pub(super) async fn get_capacity_forecast_call(
        &self,
        request: Request<pb::GetCapacityForecastRequest>,
    ) -> Reply<pb::CapacityForecast> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let check = |ok: bool, name: &str, message: &str| {
            if ok { Ok(()) } else { Err(FieldViolations::one(name, message)) }
        };
        let days = req.extra_ep_days_per_week;
        (
            check(days.is_finite() && (0.0..=50.0).contains(&days), "extra_ep_days_per_week", "must be 0 to 50 days"),
            check(req.leaving_professional_id >= 0, "leaving_professional_id", "must be a professional's id or 0"),
            check(
                (-2000..=2000).contains(&req.sessions_to_statutory_per_term),
                "sessions_to_statutory_per_term",
                "must be -2000 to 2000 sessions a term",
            ),
            check(req.suggestions <= MOST_MOVES, "suggestions", "at most 10 moves"),
        )
            .all()?;
        let c = self.computed_forecast(&who).await?;
        let leaving = match req.leaving_professional_id {
            0 => None,
            id => match c.team.iter().find(|m| i64::from(m.id) == id) {
                Some(m) => Some(m.id),
                None => {
                    let why = format!("{id} is not an active educational psychologist of this authority");
                    return Err(FieldViolations::one("leaving_professional_id", why).into());
                }
            },
        };
        let what_if = WhatIf {
            extra_ep_days_per_week: days,
            leaving,
            statutory_sessions_per_term: f64::from(req.sessions_to_statutory_per_term),
        };
        let summary = summary(&what_if, &c.team);
        let months = if what_if.is_empty() {
            c.months.clone()
        } else {
            let kept = c.clone();
            tokio::task::spawn_blocking(move || {
                let loads = capacity::loads(&kept.team, &what_if);
                capacity::by_month(&kept.model, &kept.history, &loads, kept.as_of, MONTHS, month_runs())
            })
            .await
            .map_err(|e| Error::Unavailable(format!("the what-if could not be computed: {e}")))?
        };
        let most = if req.suggestions == 0 { 5 } else { req.suggestions } as usize;
        Ok(Response::new(pb::CapacityForecast {
            computed_at: c.computed_at.to_rfc3339(),
            as_of: Some(to_proto(c.as_of)),
            today: c.months.iter().map(month_to_proto).collect(),
            what_if: months.iter().map(month_to_proto).collect(),
            what_if_summary: summary,
            suggestions: c
                .suggestions
                .iter()
                .take(most)
                .map(|s| pb::RebalanceSuggestion {
                    case_id: i64::from(s.case_id),
                    referral_id: s.referral_id,
                    from_professional_id: i64::from(s.from.0),
                    from_name: s.from.1.clone(),
                    to_professional_id: i64::from(s.to.0),
                    to_name: s.to.1.clone(),
                    lowers_by: s.lowers_by,
                })
                .collect(),
            arrivals_per_month: capacity::arrivals_per_month(&c.history, c.as_of),
        }))
    }
}

fn month_runs() -> Runs {
    Runs { simulations: 500, ..Runs::default() }
}

/// Everything the two methods answer from, computed off the async workers.
fn compute(inputs: Inputs, today: NaiveDate, now: DateTime<Utc>) -> Computed {
    let Inputs { history, team, movable, meta } = inputs;
    let model = learn(&history, today);
    let loads = capacity::loads(&team, &WhatIf::default());
    let mut forecasts: Vec<Forecast> =
        history.iter().filter_map(|r| forecast(&model, r, &loads, today, Runs::default())).collect();
    forecasts.sort_by(|a, b| b.breach.total_cmp(&a.breach).then(a.final_plan_due.cmp(&b.final_plan_due)));
    let months = capacity::by_month(&model, &history, &loads, today, MONTHS, month_runs());
    let moves = (Runs { simulations: 200, ..Runs::default() }, MOST_MOVES as usize);
    let suggestions = capacity::rebalance(&model, &history, &team, &movable, today, moves);
    Computed { computed_at: now, as_of: today, model, history, team, forecasts, months, suggestions, meta }
}

fn month_to_proto(m: &MonthBreaches) -> pb::MonthForecast {
    pb::MonthForecast {
        month: Some(to_proto(m.month)),
        open_requests: m.open_requests,
        new_requests: m.new_requests,
        total: m.total(),
    }
}

/// The what-if in words, e.g. "2 extra EP days a week; Dr Jones leaving".
fn summary(what_if: &WhatIf, team: &[Member]) -> String {
    let mut parts = Vec::new();
    if what_if.extra_ep_days_per_week != 0.0 {
        parts.push(format!("{} extra EP days a week", what_if.extra_ep_days_per_week));
    }
    if let Some(m) = what_if.leaving.and_then(|id| team.iter().find(|m| m.id == id)) {
        parts.push(format!("{} leaving", m.name));
    }
    match what_if.statutory_sessions_per_term {
        0.0 => {}
        n if n > 0.0 => parts.push(format!("{n} sessions a term moved to statutory work")),
        n => parts.push(format!("{} sessions a term moved from statutory work to schools", -n)),
    }
    if parts.is_empty() { "the team as it is".to_owned() } else { parts.join("; ") }
}
