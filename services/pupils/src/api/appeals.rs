//! `RecordAppeal`, `UpdateAppeal`, `ListAppeals`, `ListOpenAppeals` and
//! `GetAppealStats`: a family's mediation and appeal to the First-tier
//! Tribunal (SEND) (`domain::appeal`).
//!
//! The council SEN team only (la_manager, case_officer). An appeal is the
//! family's legal dispute with the council: a school's SENCO, an educational
//! psychologist or an advisory teacher has no part in it and sees none of it,
//! even for a pupil they otherwise see.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sen_platform::dates::{checked_as_of, date, to_proto, to_proto_opt};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, Checked, field, none_of, version};
use sen_platform::identity::{Identity, Role};
use sen_platform::paging::Page;
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{PupilsApi, wire};
use crate::domain::{AppealFacts, AppealGround, AppealOutcome, AppealStage, MediationOutcome, PlanSections};
use crate::entity::appeal;
use crate::error::Error;
use crate::store::{AppealView, appeal_facts};

/// Who sees and records appeals: the council SEN team, not schools or professionals.
pub(super) const APPEAL_TEAM: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// Longest idempotency key.
const KEY_MAX: usize = 100;

/// How many recent outcomes the counts show.
const RECENT_OUTCOMES: usize = 5;

/// Years counted when the request does not say, and the most it may ask for.
const DEFAULT_YEARS: u32 = 3;
const MOST_YEARS: u32 = 10;

type Reply<T> = Result<Response<T>, Status>;

fn ground(value: i32) -> Result<AppealGround, String> {
    match pb::AppealGround::try_from(value) {
        Ok(pb::AppealGround::RefusalToAssess) => Ok(AppealGround::RefusalToAssess),
        Ok(pb::AppealGround::RefusalToIssue) => Ok(AppealGround::RefusalToIssue),
        Ok(pb::AppealGround::FinalPlan) => Ok(AppealGround::FinalPlan),
        Ok(pb::AppealGround::AmendedPlan) => Ok(AppealGround::AmendedPlan),
        Ok(pb::AppealGround::Cessation) => Ok(AppealGround::Cessation),
        Ok(pb::AppealGround::Unspecified) => Err("is required".into()),
        Err(_) => Err(format!("{value} is not a ground of appeal")),
    }
}

fn ground_to_proto(ground: AppealGround) -> pb::AppealGround {
    match ground {
        AppealGround::RefusalToAssess => pb::AppealGround::RefusalToAssess,
        AppealGround::RefusalToIssue => pb::AppealGround::RefusalToIssue,
        AppealGround::FinalPlan => pb::AppealGround::FinalPlan,
        AppealGround::AmendedPlan => pb::AppealGround::AmendedPlan,
        AppealGround::Cessation => pb::AppealGround::Cessation,
    }
}

fn sections(values: &[i32]) -> Result<PlanSections, String> {
    let mut sections = PlanSections::default();
    for &value in values {
        let slot = match pb::PlanSection::try_from(value) {
            Ok(pb::PlanSection::B) => &mut sections.needs_b,
            Ok(pb::PlanSection::F) => &mut sections.provision_f,
            Ok(pb::PlanSection::I) => &mut sections.placement_i,
            _ => return Err(format!("{value} is not a section an appeal may dispute (B, F or I)")),
        };
        if *slot {
            return Err("name each section once".into());
        }
        *slot = true;
    }
    Ok(sections)
}

fn sections_to_proto(sections: PlanSections) -> Vec<i32> {
    [(sections.needs_b, pb::PlanSection::B), (sections.provision_f, pb::PlanSection::F)]
        .into_iter()
        .chain([(sections.placement_i, pb::PlanSection::I)])
        .filter_map(|(on, section)| on.then_some(section as i32))
        .collect()
}

fn mediation_outcome(value: i32) -> Result<Option<MediationOutcome>, String> {
    match pb::MediationOutcome::try_from(value) {
        Ok(pb::MediationOutcome::Unspecified) => Ok(None),
        Ok(pb::MediationOutcome::Resolved) => Ok(Some(MediationOutcome::Resolved)),
        Ok(pb::MediationOutcome::PartlyResolved) => Ok(Some(MediationOutcome::PartlyResolved)),
        Ok(pb::MediationOutcome::NotResolved) => Ok(Some(MediationOutcome::NotResolved)),
        Err(_) => Err(format!("{value} is not a mediation outcome")),
    }
}

fn mediation_outcome_to_proto(outcome: Option<MediationOutcome>) -> pb::MediationOutcome {
    match outcome {
        None => pb::MediationOutcome::Unspecified,
        Some(MediationOutcome::Resolved) => pb::MediationOutcome::Resolved,
        Some(MediationOutcome::PartlyResolved) => pb::MediationOutcome::PartlyResolved,
        Some(MediationOutcome::NotResolved) => pb::MediationOutcome::NotResolved,
    }
}

fn outcome(value: i32) -> Result<Option<AppealOutcome>, String> {
    match pb::AppealOutcome::try_from(value) {
        Ok(pb::AppealOutcome::Unspecified) => Ok(None),
        Ok(pb::AppealOutcome::Upheld) => Ok(Some(AppealOutcome::Upheld)),
        Ok(pb::AppealOutcome::PartlyUpheld) => Ok(Some(AppealOutcome::PartlyUpheld)),
        Ok(pb::AppealOutcome::Dismissed) => Ok(Some(AppealOutcome::Dismissed)),
        Ok(pb::AppealOutcome::Withdrawn) => Ok(Some(AppealOutcome::Withdrawn)),
        Ok(pb::AppealOutcome::Conceded) => Ok(Some(AppealOutcome::Conceded)),
        Err(_) => Err(format!("{value} is not an appeal outcome")),
    }
}

fn outcome_to_proto(outcome: Option<AppealOutcome>) -> pb::AppealOutcome {
    match outcome {
        None => pb::AppealOutcome::Unspecified,
        Some(AppealOutcome::Upheld) => pb::AppealOutcome::Upheld,
        Some(AppealOutcome::PartlyUpheld) => pb::AppealOutcome::PartlyUpheld,
        Some(AppealOutcome::Dismissed) => pb::AppealOutcome::Dismissed,
        Some(AppealOutcome::Withdrawn) => pb::AppealOutcome::Withdrawn,
        Some(AppealOutcome::Conceded) => pb::AppealOutcome::Conceded,
    }
}

fn stage_to_proto(stage: AppealStage) -> pb::AppealStage {
    match stage {
        AppealStage::Mediation => pb::AppealStage::Mediation,
        AppealStage::AwaitingRegistration => pb::AppealStage::AwaitingRegistration,
        AppealStage::AwaitingResponse => pb::AppealStage::AwaitingResponse,
        AppealStage::AwaitingHearing => pb::AppealStage::AwaitingHearing,
        AppealStage::AwaitingDecision => pb::AppealStage::AwaitingDecision,
        AppealStage::ResolvedInMediation => pb::AppealStage::ResolvedInMediation,
        AppealStage::Closed => pb::AppealStage::Closed,
    }
}

/// An appeal's facts from the request, every bad field named under `appeal.`.
pub fn appeal_fields(input: Option<&pb::AppealFields>, today: NaiveDate) -> Checked<AppealFacts> {
    let Some(input) = input else {
        return Err(FieldViolations::one("appeal", "is required"));
    };
    let mut bad = FieldViolations::new();
    let mut day = |value: Option<&pb::Date>, name: &str| {
        let name = format!("appeal.{name}");
        bad.check(&name, sen_platform::dates::from_proto_opt(value)).flatten()
    };
    let mediation_requested_on = day(input.mediation_requested_on.as_ref(), "mediation_requested_on");
    let mediation_on = day(input.mediation_on.as_ref(), "mediation_on");
    let certificate_issued_on = day(input.certificate_issued_on.as_ref(), "certificate_issued_on");
    let registered_on = day(input.registered_on.as_ref(), "registered_on");
    let response_due_given = day(input.response_due_on.as_ref(), "response_due_on");
    let response_sent_on = day(input.response_sent_on.as_ref(), "response_sent_on");
    let hearing_on = day(input.hearing_on.as_ref(), "hearing_on");
    let decided_on = day(input.decided_on.as_ref(), "decided_on");
    let required = (
        field("appeal.ground", ground(input.ground)),
        field("appeal.sections", sections(&input.sections)),
        date(input.decision_on.as_ref(), "appeal.decision_on"),
        field("appeal.mediation_outcome", mediation_outcome(input.mediation_outcome)),
        field("appeal.outcome", outcome(input.outcome)),
        none_of(bad),
    )
        .all();
    let (ground, sections, decision_on, mediation_outcome, outcome, ()) = required?;
    let facts = AppealFacts {
        ground,
        sections,
        decision_on,
        mediation_requested_on,
        mediation_on,
        mediation_outcome,
        certificate_issued_on,
        registered_on,
        response_due_given,
        response_sent_on,
        hearing_on,
        decided_on,
        outcome,
    };
    none_of(facts.violations(today, "appeal."))?;
    Ok(facts)
}

fn idempotency_key(value: &str) -> Result<String, String> {
    sen_platform::fields::clean_line(value, KEY_MAX)
}

/// The wire form of a stored appeal, judged on `today`.
pub fn appeal_to_proto(row: &appeal::Model, today: NaiveDate) -> Result<pb::Appeal, Error> {
    let facts = appeal_facts(row)?;
    let next = facts.next_date(today);
    Ok(pb::Appeal {
        id: i64::from(row.id),
        pupil_id: i64::from(row.pupil_id),
        appeal: Some(pb::AppealFields {
            ground: ground_to_proto(facts.ground) as i32,
            sections: sections_to_proto(facts.sections),
            decision_on: Some(to_proto(facts.decision_on)),
            mediation_requested_on: to_proto_opt(facts.mediation_requested_on),
            mediation_on: to_proto_opt(facts.mediation_on),
            mediation_outcome: mediation_outcome_to_proto(facts.mediation_outcome) as i32,
            certificate_issued_on: to_proto_opt(facts.certificate_issued_on),
            registered_on: to_proto_opt(facts.registered_on),
            response_due_on: to_proto_opt(facts.response_due_given),
            response_sent_on: to_proto_opt(facts.response_sent_on),
            hearing_on: to_proto_opt(facts.hearing_on),
            decided_on: to_proto_opt(facts.decided_on),
            outcome: outcome_to_proto(facts.outcome) as i32,
        }),
        stage: stage_to_proto(facts.stage(today)) as i32,
        mediation_due: to_proto_opt(facts.mediation_due()),
        appeal_deadline: Some(to_proto(facts.appeal_deadline())),
        response_due: to_proto_opt(row.response_due.or(facts.response_due())),
        response_late: facts.response_late(today),
        next_date: to_proto_opt(next.map(|(day, _)| day)),
        next_step: next.map(|(_, step)| step.to_owned()).unwrap_or_default(),
        version: row.version,
    })
}

fn row_to_proto(view: &AppealView, today: NaiveDate) -> Result<pb::AppealRow, Error> {
    let pupil = crate::store::pupil_from_row(view.pupil.clone())?;
    Ok(pb::AppealRow { pupil: Some(wire::summary(&pupil, today)), appeal: Some(appeal_to_proto(&view.appeal, today)?) })
}

/// The order of the open list: the next date, soonest first (those heard and
/// awaiting the decision last), then the appeal.
fn open_key(view: &AppealView, facts: &AppealFacts, today: NaiveDate) -> String {
    let next = facts.next_date(today).map_or_else(|| "9999-12-31".to_owned(), |(day, _)| day.to_string());
    format!("{next}/{:012}", view.appeal.id)
}

/// An outcome's key in the counts.
fn outcome_key(outcome: AppealOutcome) -> &'static str {
    outcome.code()
}

impl PupilsApi {
    pub(super) async fn record_appeal_for(&self, request: Request<pb::RecordAppealRequest>) -> Reply<pb::Appeal> {
        let who = Identity::caller(&request, APPEAL_TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        let (facts, key) = (
            appeal_fields(req.appeal.as_ref(), today),
            field("idempotency_key", idempotency_key(&req.idempotency_key)),
        )
            .all()?;
        let row = self.store.record_appeal(&who.scope()?, &who.actor(), req.pupil_id, &facts, &key).await?;
        tracing::info!(appeal_id = row.id, "appeal recorded");
        Ok(Response::new(appeal_to_proto(&row, today)?))
    }

    pub(super) async fn update_appeal_for(&self, request: Request<pb::UpdateAppealRequest>) -> Reply<pb::Appeal> {
        let who = Identity::caller(&request, APPEAL_TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        let (facts, expected) = (appeal_fields(req.appeal.as_ref(), today), version(req.version, "version")).all()?;
        let row = self.store.update_appeal(&who.scope()?, &who.actor(), req.id, expected, &facts).await?;
        Ok(Response::new(appeal_to_proto(&row, today)?))
    }

    pub(super) async fn list_appeals_for(
        &self,
        request: Request<pb::ListAppealsRequest>,
    ) -> Reply<pb::ListAppealsResponse> {
        let who = Identity::caller(&request, APPEAL_TEAM)?;
        let req = request.get_ref();
        let today = checked_as_of(req.as_of.as_ref(), (self.today)())?;
        let rows = self.store.appeals_of(&who.scope()?, &who.actor(), req.pupil_id).await?;
        let appeals = rows.iter().map(|row| appeal_to_proto(row, today)).collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListAppealsResponse { appeals }))
    }

    pub(super) async fn list_open_appeals_for(
        &self,
        request: Request<pb::ListOpenAppealsRequest>,
    ) -> Reply<pb::ListOpenAppealsResponse> {
        let who = Identity::caller(&request, APPEAL_TEAM)?;
        let req = request.get_ref();
        let (today, page) =
            (checked_as_of(req.as_of.as_ref(), (self.today)()), Page::checked(req.page.as_ref(), "page")).all()?;
        let scope = who.scope()?;
        let mut open = Vec::new();
        for view in self.store.appeals_without_outcome(&scope).await? {
            let facts = appeal_facts(&view.appeal)?;
            if facts.stage(today).is_open() {
                open.push((open_key(&view, &facts, today), view));
            }
        }
        open.sort_by(|a, b| a.0.cmp(&b.0));
        let after = page.after.as_deref();
        let remaining: Vec<_> = open.into_iter().filter(|(key, _)| after.is_none_or(|a| key.as_str() > a)).collect();
        let (rows, next_page_token) = page.finish(remaining, |(key, _)| key.clone());
        let ids: Vec<i64> = rows.iter().map(|(_, v)| i64::from(v.pupil.id)).collect();
        self.store.audit_reads(&scope, &who.actor(), &ids, "appeal.open_list").await?;
        let appeals = rows.iter().map(|(_, view)| row_to_proto(view, today)).collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListOpenAppealsResponse { appeals, next_page_token }))
    }

    pub(super) async fn get_appeal_stats_for(
        &self,
        request: Request<pb::GetAppealStatsRequest>,
    ) -> Reply<pb::AppealStats> {
        let who = Identity::caller(&request, APPEAL_TEAM)?;
        let req = request.get_ref();
        let years = match req.years {
            0 => Ok(DEFAULT_YEARS),
            n if n > MOST_YEARS => Err(FieldViolations::one("years", format!("is more than {MOST_YEARS}"))),
            n => Ok(n),
        };
        let (today, years) = (checked_as_of(req.as_of.as_ref(), (self.today)()), years).all()?;
        let scope = who.scope()?;
        let views = self.store.all_appeals(&scope).await?;
        let judged =
            views.into_iter().map(|view| Ok((appeal_facts(&view.appeal)?, view))).collect::<Result<Vec<_>, Error>>()?;
        let stats = appeal_stats(&judged, today, years);
        let mut recent: Vec<&(AppealFacts, AppealView)> =
            judged.iter().filter(|(f, _)| f.outcome.is_some() && f.decided_on.is_some_and(|d| d <= today)).collect();
        recent.sort_by_key(|(facts, view)| std::cmp::Reverse((facts.decided_on, view.appeal.id)));
        recent.truncate(RECENT_OUTCOMES);
        let ids: Vec<i64> = recent.iter().map(|(_, v)| i64::from(v.pupil.id)).collect();
        self.store.audit_reads(&scope, &who.actor(), &ids, "appeal.recent_outcomes").await?;
        let recent_outcomes = recent.iter().map(|(_, view)| row_to_proto(view, today)).collect::<Result<_, _>>()?;
        Ok(Response::new(pb::AppealStats { recent_outcomes, ..stats }))
    }
}

/// One calendar year's counts.
#[derive(Default)]
struct YearCount {
    registered: u32,
    ended: BTreeMap<&'static str, u32>,
    mediations: u32,
}

/// The counts of `appeals` on `today`: open by stage, and per calendar year
/// (this one and `years - 1` before it) registered, ended by outcome and mediated.
fn appeal_stats(appeals: &[(AppealFacts, AppealView)], today: NaiveDate, years: u32) -> pb::AppealStats {
    let first = today.year() - i32::try_from(years).unwrap_or(1) + 1;
    let mut by_year: BTreeMap<i32, YearCount> = (first..=today.year()).map(|y| (y, YearCount::default())).collect();
    let mut open_by_stage: BTreeMap<&'static str, u32> = BTreeMap::new();
    let (mut open, mut overdue) = (0, 0);
    for (facts, _) in appeals {
        let stage = facts.stage(today);
        if stage.is_open() {
            open += 1;
            *open_by_stage.entry(stage.code()).or_default() += 1;
            if facts.response_sent_on.is_none() && facts.response_late(today) {
                overdue += 1;
            }
        }
        // Counted in the year of the day it happened, days after `today` not yet.
        let year_of = |day: Option<NaiveDate>| day.filter(|d| *d <= today).map(|d| d.year());
        if let Some(year) = year_of(facts.registered_on).and_then(|y| by_year.get_mut(&y)) {
            year.registered += 1;
        }
        if let (Some(outcome), Some(year)) =
            (facts.outcome, year_of(facts.decided_on).and_then(|y| by_year.get_mut(&y)))
        {
            *year.ended.entry(outcome_key(outcome)).or_default() += 1;
        }
        if let Some(year) = year_of(facts.mediation_on).and_then(|y| by_year.get_mut(&y)) {
            year.mediations += 1;
        }
    }
    let counts = |map: BTreeMap<&'static str, u32>| -> Vec<pb::CountByKey> {
        map.into_iter().map(|(key, count)| pb::CountByKey { key: key.to_owned(), count }).collect()
    };
    pb::AppealStats {
        as_of: Some(to_proto(today)),
        open,
        open_by_stage: counts(open_by_stage),
        responses_overdue: overdue,
        years: by_year
            .into_iter()
            .rev()
            .map(|(year, count)| pb::AppealYear {
                year,
                registered: count.registered,
                ended: count.ended.values().sum(),
                ended_by_outcome: counts(count.ended),
                mediations: count.mediations,
            })
            .collect(),
        recent_outcomes: Vec::new(),
    }
}
