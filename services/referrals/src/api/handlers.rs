//! The `ReferralsService` methods.

use std::pin::Pin;

use chrono::Datelike;
use sen_platform::error::FieldViolations;
use sen_platform::ids::Urn;
use sen_platform::paging::Page;
use sen_proto::v1 as pb;
use sen_proto::v1::referrals_service_server::ReferralsService;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::{Change, READERS, ReferralsApi, SERVICES, SUBMITTERS, TEAM, WITHDRAWERS, WORKERS, caller, stats, wire};
use crate::domain::{
    AssessmentDecision, ClockException, Event, PlanDecision, ReferralKind, health, months_ending, note_required,
    series_months, timeliness,
};
use crate::entity::{referral, referral_event};
use crate::error::Error;
use crate::store::{ReferralFilter, Store, clock_dates};

type Reply<T> = Result<Response<T>, Status>;

impl ReferralsApi {
    /// Tells this process's watchers about a committed change (SQLite). On
    /// PostgreSQL the change went to the outbox with the commit and reaches
    /// watchers through the relay, once, so nothing is sent here. Never waits:
    /// with nobody watching, or everyone behind, the send has no receiver to fill.
    fn announce(&self, row: &referral::Model, entry: &referral_event::Model) -> Result<(), Error> {
        if self.relay.is_some() {
            return Ok(());
        }
        let change = Change {
            tenant: row.la_code.clone(),
            school: row.school_urn,
            allocated_to: row.allocated_to.clone(),
            message: super::change_message(row, entry, (self.today)())?,
        };
        let _ = self.changes.send(change);
        Ok(())
    }

    fn reply(&self, row: &referral::Model) -> Reply<pb::Referral> {
        Ok(Response::new(wire::referral_to_proto(row, (self.today)())?))
    }
}

#[tonic::async_trait]
impl ReferralsService for ReferralsApi {
    #[tracing::instrument(skip_all)]
    async fn submit_referral(&self, request: Request<pb::SubmitReferralRequest>) -> Reply<pb::Referral> {
        let (who, actor) = caller(&request, SUBMITTERS)?;
        let scope = who.scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let mut errors = FieldViolations::new();
        let body = wire::body(req.referral.as_ref(), "referral", today, &mut errors);
        let key = wire::text(&req.idempotency_key, "idempotency_key", 200, &mut errors);
        errors.into_result().map_err(Error::from)?;
        let (Some(body), Some(key)) = (body, key) else { return Err(Error::Corrupt("lost a field".into()).into()) };
        // The school must be the pupil's current school, and the caller must be
        // able to see the pupil: the pupils service answers with the caller's scope.
        match self.pupils.school_of(who.token(), body.pupil_id).await? {
            None => return Err(Error::invalid("referral.pupil_id", "is not a pupil you can refer").into()),
            Some(current) if current != body.school => {
                return Err(Error::invalid(
                    "referral.school_urn",
                    format!("is not the pupil's current school ({current})"),
                )
                .into());
            }
            Some(_) => {}
        }
        // Cycles and provision named as tried must be the pupil's own, as the pupils service records them.
        if !body.tried.cycles.is_empty() || !body.tried.provisions.is_empty() {
            let (cycles, provision) = self.pupils.support_of(who.token(), body.pupil_id).await?;
            let mut errors = FieldViolations::new();
            if let Some(id) = body.tried.cycles.iter().find(|id| !cycles.contains(id)) {
                errors.add(
                    "referral.graduated_approach.support_cycle_ids",
                    format!("{id} is not a support cycle of this pupil"),
                );
            }
            if let Some(id) = body.tried.provisions.iter().find(|id| !provision.contains(id)) {
                errors.add("referral.graduated_approach.provision_ids", format!("{id} is not provision of this pupil"));
            }
            errors.into_result().map_err(Error::from)?;
        }
        let (row, entry) = self.store.submit(&scope, &actor, &body, &key, today).await?;
        if let Some(entry) = entry {
            tracing::info!(referral_id = row.id, kind = %row.kind, "referral submitted");
            self.announce(&row, &entry)?;
        }
        self.reply(&row)
    }

    async fn resubmit_referral(&self, request: Request<pb::ResubmitReferralRequest>) -> Reply<pb::Referral> {
        let (who, actor) = caller(&request, SUBMITTERS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let concern = wire::text(&req.concern, "concern", wire::TEXT_MAX, &mut errors);
        let tried = wire::tried(req.graduated_approach.as_ref(), "graduated_approach", &mut errors);
        let note = wire::text(&req.note, "note", wire::TEXT_MAX, &mut errors);
        errors.into_result().map_err(Error::from)?;
        let (Some(concern), Some(tried), Some(note)) = (concern, tried, note) else {
            return Err(Error::Corrupt("lost a field".into()).into());
        };
        let (row, entry) =
            self.store.resubmit(&who.scope()?, &actor, req.id, req.version, (&concern, &tried), &note).await?;
        self.announce(&row, &entry)?;
        self.reply(&row)
    }

    async fn get_referral(&self, request: Request<pb::GetReferralRequest>) -> Reply<pb::Referral> {
        let (who, _) = caller(&request, READERS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        errors.into_result().map_err(Error::from)?;
        let row = self.store.get(&who.scope()?, req.id).await?;
        Ok(Response::new(wire::referral_to_proto(&row, today)?))
    }

    async fn list_referrals(&self, request: Request<pb::ListReferralsRequest>) -> Reply<pb::ListReferralsResponse> {
        let (who, _) = caller(&request, READERS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let page = Page::parse(req.page.as_ref(), "page", &mut errors);
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        let filter = ReferralFilter {
            school: if req.school_urn.is_empty() {
                None
            } else {
                errors.check("school_urn", Urn::parse(&req.school_urn))
            },
            kind: if req.kind.is_empty() { None } else { errors.check("kind", ReferralKind::parse(&req.kind)) },
            status: errors.check("status", wire::status(req.status)).flatten(),
            submitted_by: (req.older_than_days > 0).then(|| Store::submitted_before(today, req.older_than_days)),
            overdue_on: req.overdue.then_some(today),
        };
        errors.into_result().map_err(Error::from)?;
        let (rows, next_page_token) = self.store.list(&who.scope()?, &filter, &page).await?;
        let referrals = rows.iter().map(|r| wire::referral_to_proto(r, today)).collect::<Result<Vec<_>, Error>>()?;
        Ok(Response::new(pb::ListReferralsResponse { referrals, next_page_token }))
    }

    async fn change_referral_status(&self, request: Request<pb::ChangeReferralStatusRequest>) -> Reply<pb::Referral> {
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let event = errors.check("event", wire::event(req.event));
        let allowed = match event {
            Some(Event::Withdraw) => WITHDRAWERS,
            Some(Event::Start | Event::Close) => WORKERS,
            _ => TEAM,
        };
        let (who, actor) = caller(&request, allowed)?;
        if req.version < 1 {
            errors.add("version", "is required: send the version you read");
        }
        let note = match event.and_then(note_required) {
            Some(what) if req.note.trim().is_empty() => {
                errors.add("note", format!("is required: {what}"));
                None
            }
            _ => Some(req.note.trim().to_owned()),
        };
        errors.into_result().map_err(Error::from)?;
        let (Some(event), Some(note)) = (event, note) else { return Err(Error::Corrupt("lost a field".into()).into()) };
        let note = if note.is_empty() { event.name().to_owned() } else { note };
        let (row, entry) = self.store.change_status(&who.scope()?, &actor, req.id, req.version, event, &note).await?;
        self.announce(&row, &entry)?;
        self.reply(&row)
    }

    async fn mark_allocated(&self, request: Request<pb::MarkAllocatedRequest>) -> Reply<pb::Referral> {
        let (who, actor) = caller(&request, SERVICES)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let professional = wire::text(&req.professional, "professional", 200, &mut errors);
        let case_ref = wire::text(&req.case_ref, "case_ref", 100, &mut errors);
        errors.into_result().map_err(Error::from)?;
        let (Some(professional), Some(case_ref)) = (professional, case_ref) else {
            return Err(Error::Corrupt("lost a field".into()).into());
        };
        let (row, entry) =
            self.store.mark_allocated(&who.tenant_scope()?, &actor, req.id, &professional, &case_ref).await?;
        if let Some(entry) = entry {
            self.announce(&row, &entry)?;
        }
        self.reply(&row)
    }

    async fn get_referral_timeline(
        &self,
        request: Request<pb::GetReferralTimelineRequest>,
    ) -> Reply<pb::ReferralTimeline> {
        let (who, _) = caller(&request, READERS)?;
        let entries = self.store.timeline(&who.scope()?, request.get_ref().id).await?;
        Ok(Response::new(pb::ReferralTimeline { entries: entries.iter().map(wire::entry_to_proto).collect() }))
    }

    type WatchReferralsStream = Pin<Box<dyn Stream<Item = Result<pb::ReferralChange, Status>> + Send + 'static>>;

    async fn watch_referrals(&self, request: Request<pb::WatchReferralsRequest>) -> Reply<Self::WatchReferralsStream> {
        let (who, _) = caller(&request, READERS)?;
        let scope = who.scope()?;
        let changes = self.changes.subscribe();
        if let Some(relay) = &self.relay {
            relay.ready().await?;
        }
        let stream = super::watch(changes, scope);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn record_assessment_decision(
        &self,
        request: Request<pb::RecordAssessmentDecisionRequest>,
    ) -> Reply<pb::Referral> {
        let (who, actor) = caller(&request, TEAM)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let decision = errors.check("decision", AssessmentDecision::parse(&req.decision));
        let on = wire::date(req.decided_on.as_ref(), "decided_on", &mut errors);
        future_check(on, (self.today)(), "decided_on", &mut errors);
        errors.into_result().map_err(Error::from)?;
        let (Some(decision), Some(on)) = (decision, on) else {
            return Err(Error::Corrupt("lost a field".into()).into());
        };
        let (row, entry) = self.store.record_assessment_decision(&who.scope()?, &actor, req.id, decision, on).await?;
        self.announce(&row, &entry)?;
        self.reply(&row)
    }

    async fn record_plan_decision(&self, request: Request<pb::RecordPlanDecisionRequest>) -> Reply<pb::Referral> {
        let (who, actor) = caller(&request, TEAM)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let decision = errors.check("decision", PlanDecision::parse(&req.decision));
        let on = wire::date(req.decided_on.as_ref(), "decided_on", &mut errors);
        future_check(on, (self.today)(), "decided_on", &mut errors);
        errors.into_result().map_err(Error::from)?;
        let (Some(decision), Some(on)) = (decision, on) else {
            return Err(Error::Corrupt("lost a field".into()).into());
        };
        let (row, entry) = self.store.record_plan_decision(&who.scope()?, &actor, req.id, decision, on).await?;
        self.announce(&row, &entry)?;
        self.reply(&row)
    }

    async fn record_final_plan_issued(
        &self,
        request: Request<pb::RecordFinalPlanIssuedRequest>,
    ) -> Reply<pb::Referral> {
        let (who, actor) = caller(&request, TEAM)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let on = wire::date(req.issued_on.as_ref(), "issued_on", &mut errors);
        future_check(on, (self.today)(), "issued_on", &mut errors);
        errors.into_result().map_err(Error::from)?;
        let Some(on) = on else { return Err(Error::Corrupt("lost a field".into()).into()) };
        let (row, entry) = self.store.record_final_plan_issued(&who.scope()?, &actor, req.id, on).await?;
        self.announce(&row, &entry)?;
        self.reply(&row)
    }

    async fn record_clock_exception(&self, request: Request<pb::RecordClockExceptionRequest>) -> Reply<pb::Referral> {
        let (who, actor) = caller(&request, TEAM)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let exception = if req.exception.is_empty() {
            Some(None)
        } else {
            errors.check("exception", ClockException::parse(&req.exception).map(Some))
        };
        errors.into_result().map_err(Error::from)?;
        let Some(exception) = exception else { return Err(Error::Corrupt("lost a field".into()).into()) };
        let (row, entry) = self.store.record_clock_exception(&who.scope()?, &actor, req.id, exception).await?;
        self.announce(&row, &entry)?;
        self.reply(&row)
    }

    async fn get_statutory_clock_report(
        &self,
        request: Request<pb::GetStatutoryClockReportRequest>,
    ) -> Reply<pb::StatutoryClockReport> {
        let (who, _) = caller(&request, TEAM)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        let year = if req.year == 0 { today.year() } else { req.year };
        if !(2014..=2200).contains(&year) {
            errors.add("year", "is not a calendar year since the 2014 Regulations");
        }
        errors.into_result().map_err(Error::from)?;
        let rows = self.store.statutory_requests(&who.tenant_scope()?).await?;
        let mut report = pb::StatutoryClockReport { year, ..Default::default() };
        let mut all = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(dates) = clock_dates(row)? else { continue };
            all.push(dates);
            match health(&dates, today) {
                None => {}
                Some(state) => {
                    use crate::domain::ClockHealth;
                    match state {
                        ClockHealth::AtRisk => report.at_risk += 1,
                        ClockHealth::Breached => report.breached += 1,
                        ClockHealth::OnTrack => {}
                    }
                    report.open.push(pb::OpenRequest {
                        referral_id: i64::from(row.id),
                        pupil_id: row.pupil_id,
                        school_urn: row.school_urn.to_string(),
                        clock: Some(wire::clock_to_proto(row, &dates, today)),
                    });
                }
            }
        }
        let figures = timeliness(&all, year);
        report.plans_issued = figures.issued;
        report.issued_within_20_weeks = figures.within_20_weeks;
        report.excluded_exceptions = figures.excluded_exceptions;
        report.percent_within_20_weeks = figures.percent;
        Ok(Response::new(report))
    }

    async fn get_referral_stats(&self, request: Request<pb::GetReferralStatsRequest>) -> Reply<pb::ReferralStats> {
        let (who, _) = caller(&request, TEAM)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        let months = errors.check("months", series_months(req.months));
        errors.into_result().map_err(Error::from)?;
        let Some(months) = months else { return Err(Error::Corrupt("lost a field".into()).into()) };
        let tenant = who.tenant_scope()?;
        let months = months_ending(today, months);
        let (Some(first), Some(last)) = (months.first(), months.last()) else {
            return Err(Error::Corrupt(format!("no months end with {today}")).into());
        };
        let window = first.first_day()..=last.last_day();
        let (counts, submitted, issued) = tokio::try_join!(
            self.store.status_counts(&tenant),
            self.store.submissions_per_day(&tenant, window.clone()),
            self.store.plans_issued_in(&tenant, window),
        )?;
        let mut plans = Vec::with_capacity(issued.len());
        for row in &issued {
            plans.extend(clock_dates(row)?);
        }
        Ok(Response::new(stats::referral_stats(&counts, &months, &submitted, &plans)))
    }
}

fn future_check(on: Option<chrono::NaiveDate>, today: chrono::NaiveDate, field: &str, errors: &mut FieldViolations) {
    if on.is_some_and(|d| d > today) {
        errors.add(field, "is in the future");
    }
}
