//! The `ReferralsService` methods.

use std::pin::Pin;

use chrono::Datelike;
use sen_platform::dates::{checked_as_of, not_future, optional_date, past_date};
use sen_platform::fields::{AllChecked, field, text, version};
use sen_platform::identity::Identity;
use sen_platform::paging::Page;
use sen_proto::v1 as pb;
use sen_proto::v1::referrals_service_server::ReferralsService;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::{
    READERS, ReferralsApi, SERVICES, SUBMITTERS, TEAM, WITHDRAWERS, WORKERS, open_requests, stats, watch_audit, wire,
};
use crate::domain::{
    AssessmentDecision, ClockException, Event, PlanDecision, Timeliness, check_on_roll, check_support_is_own,
    consultation_default_end, event_note, health, months_ending, series_months, timeliness,
};
use crate::entity::referral;
use crate::error::Error;
use crate::store::{ExceptionRecord, ReadAction, clock_dates, status_of};

type Reply<T> = Result<Response<T>, Status>;

impl ReferralsApi {
    fn reply(&self, row: &referral::Model) -> Reply<pb::Referral> {
        Ok(Response::new(wire::referral_to_proto(row, (self.today)())?))
    }

    /// The statutory clock report's figures alone, as of `today` for `year`, from
    /// the tallies kept with every change (`store::clock`, `store::stats`): the
    /// same figures as the report judged request by request, with no request read.
    async fn clock_figures(
        &self,
        tenant: &sen_platform::identity::TenantScope,
        today: chrono::NaiveDate,
        year: i32,
    ) -> Result<pb::StatutoryClockReport, Error> {
        let (Some(first), Some(last)) =
            (chrono::NaiveDate::from_ymd_opt(year, 1, 1), chrono::NaiveDate::from_ymd_opt(year, 12, 31))
        else {
            return Err(Error::Corrupt(format!("{year} has no first or last day")));
        };
        let (open, figures) = tokio::try_join!(
            self.store.open_clock_figures(tenant, today),
            self.store.plan_timeliness(tenant, first..=last),
        )?;
        Ok(pb::StatutoryClockReport {
            open: Vec::new(),
            at_risk: open.at_risk,
            breached: open.breached,
            year,
            plans_issued: figures.issued,
            issued_within_20_weeks: figures.within_20_weeks,
            excluded_exceptions: figures.excluded_exceptions,
            percent_within_20_weeks: figures.percent,
            open_count: open.open,
            plans_issued_including_exceptions: figures.issued_including_exceptions,
            issued_within_20_weeks_including_exceptions: figures.within_20_weeks_including_exceptions,
            percent_within_20_weeks_including_exceptions: figures.percent_including_exceptions,
        })
    }
}

#[tonic::async_trait]
impl ReferralsService for ReferralsApi {
    #[tracing::instrument(skip_all)]
    async fn submit_referral(&self, request: Request<pb::SubmitReferralRequest>) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, SUBMITTERS)?;
        let scope = who.scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let (new, key) = (
            wire::new_referral(req.referral.as_ref(), "referral", today),
            text(&req.idempotency_key, "idempotency_key", 200),
        )
            .all()?;
        // The pupils service answers with the caller's scope: whether they can see
        // the pupil, and where the pupil is on roll; then, if the referral cites
        // any, the pupil's own support cycles and provision.
        let on_roll_at = self.pupils.school_of(who.token(), new.pupil_id).await?;
        check_on_roll(&new, on_roll_at).map_err(|refusal| wire::refused("referral", [refusal]))?;
        if new.tried.cites_support() {
            let (cycles, provision) = self.pupils.support_of(who.token(), new.pupil_id).await?;
            check_support_is_own(&new.tried, &cycles, &provision)
                .map_err(|refusals| wire::refused("referral", refusals))?;
        }
        self.warn_of_open_referral(&scope, &new, &key, req.confirm_duplicate).await?;
        let (row, entry) = self.store.submit(&scope, &who.actor(), &new, &key, today).await?;
        if entry.is_some() {
            tracing::info!(referral_id = row.id, kind = %row.kind, "referral submitted");
        }
        self.reply(&row)
    }

    async fn resubmit_referral(&self, request: Request<pb::ResubmitReferralRequest>) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, SUBMITTERS)?;
        let req = request.get_ref();
        let (concern, tried, note) = (
            text(&req.concern, "concern", wire::TEXT_MAX),
            wire::tried(req.graduated_approach.as_ref(), "graduated_approach"),
            text(&req.note, "note", wire::TEXT_MAX),
        )
            .all()?;
        let (row, _) =
            self.store.resubmit(&who.scope()?, &who.actor(), req.id, req.version, (&concern, &tried), &note).await?;
        self.reply(&row)
    }

    async fn get_referral(&self, request: Request<pb::GetReferralRequest>) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, READERS)?;
        let req = request.get_ref();
        let today = checked_as_of(req.as_of.as_ref(), (self.today)())?;
        let scope = who.scope()?;
        let row = self.store.get(&scope, req.id).await?;
        let answer = self.with_register_change(scope.tenant(), wire::referral_to_proto(&row, today)?).await?;
        self.store.audit_reads(&scope, &who.actor(), &[row.id], ReadAction::Read, "").await?;
        Ok(Response::new(answer))
    }

    async fn list_referrals(&self, request: Request<pb::ListReferralsRequest>) -> Reply<pb::ListReferralsResponse> {
        self.list_referrals_for(request).await
    }

    async fn change_referral_status(&self, request: Request<pb::ChangeReferralStatusRequest>) -> Reply<pb::Referral> {
        let req = request.get_ref();
        let event = field("event", wire::event(req.event));
        let allowed = match event {
            Ok(Event::Withdraw) => WITHDRAWERS,
            Ok(Event::Start | Event::Close) => WORKERS,
            _ => TEAM,
        };
        let who = Identity::caller(&request, allowed)?;
        let note = match &event {
            Ok(event) => field("note", event_note(*event, &req.note)),
            Err(_) => Ok(String::new()),
        };
        let (event, version, note) = (event, version(req.version, "version"), note).all()?;
        let (row, _) = self.store.change_status(&who.scope()?, &who.actor(), req.id, version, event, &note).await?;
        self.reply(&row)
    }

    async fn mark_allocated(&self, request: Request<pb::MarkAllocatedRequest>) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, SERVICES)?;
        let req = request.get_ref();
        let (professional, case_ref) =
            (text(&req.professional, "professional", 200), text(&req.case_ref, "case_ref", 100)).all()?;
        let (row, _) =
            self.store.mark_allocated(&who.tenant_scope()?, &who.actor(), req.id, &professional, &case_ref).await?;
        self.reply(&row)
    }

    async fn forget_pupil(&self, request: Request<pb::ForgetPupilRequest>) -> Reply<pb::ForgetPupilResponse> {
        let who = Identity::caller(&request, SERVICES)?;
        let pupil_id = request.get_ref().pupil_id;
        let forgotten = self.store.forget_pupil(&who.tenant_scope()?, pupil_id).await?;
        tracing::info!(pupil_id, referrals = forgotten.referrals, "a pupil past retention forgotten");
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(Response::new(pb::ForgetPupilResponse {
            referrals: count(forgotten.referrals),
            timeline_entries: count(forgotten.timeline_entries),
            attachments: count(forgotten.attachments),
        }))
    }

    async fn get_referral_timeline(
        &self,
        request: Request<pb::GetReferralTimelineRequest>,
    ) -> Reply<pb::ReferralTimeline> {
        let who = Identity::caller(&request, READERS)?;
        let scope = who.scope()?;
        let entries = self.store.timeline(&scope, request.get_ref().id).await?;
        if let Some(first) = entries.first() {
            self.store.audit_reads(&scope, &who.actor(), &[first.referral_id], ReadAction::Timeline, "").await?;
        }
        Ok(Response::new(pb::ReferralTimeline { entries: entries.iter().map(wire::entry_to_proto).collect() }))
    }

    type WatchReferralsStream = Pin<Box<dyn Stream<Item = Result<pb::ReferralChange, Status>> + Send + 'static>>;

    async fn watch_referrals(&self, request: Request<pb::WatchReferralsRequest>) -> Reply<Self::WatchReferralsStream> {
        let who = Identity::caller(&request, READERS)?;
        let start = wire::watch_start(request.get_ref())?;
        let scope = who.scope()?;
        let watching = self.feed.watch(scope.clone(), start).await?;
        let changes = watch_audit::audited(watching.changes, self.store.clone(), scope, who.actor());
        let mut response = Response::new(changes);
        // The position to resume from before any change has arrived.
        response.metadata_mut().insert(sen_proto::WATCH_POSITION_METADATA, watching.after.get().into());
        Ok(response)
    }

    async fn record_assessment_decision(
        &self,
        request: Request<pb::RecordAssessmentDecisionRequest>,
    ) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        let (decision, on) = (
            field("decision", AssessmentDecision::parse(&req.decision)),
            past_date(req.decided_on.as_ref(), "decided_on", today),
        )
            .all()?;
        let (scope, actor) = (who.scope()?, who.actor());
        let (row, _) = self.store.record_assessment_decision(&scope, &actor, req.id, req.version, decision, on).await?;
        self.reply(&row)
    }

    async fn record_plan_decision(&self, request: Request<pb::RecordPlanDecisionRequest>) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        let (decision, on) = (
            field("decision", PlanDecision::parse(&req.decision)),
            past_date(req.decided_on.as_ref(), "decided_on", today),
        )
            .all()?;
        let (scope, actor) = (who.scope()?, who.actor());
        let (row, _) = self.store.record_plan_decision(&scope, &actor, req.id, req.version, decision, on).await?;
        self.reply(&row)
    }

    async fn record_final_plan_issued(
        &self,
        request: Request<pb::RecordFinalPlanIssuedRequest>,
    ) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let on = past_date(req.issued_on.as_ref(), "issued_on", (self.today)())?;
        let (scope, actor) = (who.scope()?, who.actor());
        let (row, _) = self.store.record_final_plan_issued(&scope, &actor, req.id, req.version, on).await?;
        self.reply_after_plan_issued(&who, &row).await
    }

    async fn record_clock_exception(&self, request: Request<pb::RecordClockExceptionRequest>) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        // reg. 10(4): which exception, the day it arose (not in the future; today
        // when unset) and what happened. Empty clears it.
        let exception = if req.exception.is_empty() {
            None
        } else {
            let on = optional_date(req.exception_on.as_ref(), "exception_on")
                .and_then(|on| not_future(on.unwrap_or(today), today, "exception_on"));
            let (exception, on, note) =
                (field("exception", ClockException::parse(&req.exception)), on, wire::optional_text(&req.note, "note"))
                    .all()?;
            Some(ExceptionRecord { exception, on, note })
        };
        let (scope, actor) = (who.scope()?, who.actor());
        let (row, _) = self.store.record_clock_exception(&scope, &actor, req.id, req.version, exception).await?;
        self.reply(&row)
    }

    async fn record_ehc_request(&self, request: Request<pb::RecordEhcRequestRequest>) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        let (recorded, key) =
            (wire::recorded_request(req, today), text(&req.idempotency_key, "idempotency_key", 200)).all()?;
        // The pupils service answers with the caller's scope: whether they can see
        // the pupil, and where the pupil is on roll.
        let on_roll_at = self.pupils.school_of(who.token(), recorded.pupil_id).await?;
        match on_roll_at {
            None => return Err(Error::invalid("pupil_id", "is not a pupil you can record a request for").into()),
            Some(current) if current != recorded.school => {
                return Err(
                    Error::invalid("school_urn", format!("is not the pupil's current school ({current})")).into()
                );
            }
            Some(_) => {}
        }
        let (row, entry) = self.store.record_request(&who.scope()?, &who.actor(), &recorded, &key).await?;
        if entry.is_some() {
            tracing::info!(
                referral_id = row.id,
                requester = recorded.requester.code(),
                "EHC needs assessment request recorded"
            );
        }
        self.reply(&row)
    }

    async fn record_draft_plan_sent(&self, request: Request<pb::RecordDraftPlanSentRequest>) -> Reply<pb::Referral> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        let (sent_on, ends_on) = (
            past_date(req.sent_on.as_ref(), "sent_on", today),
            optional_date(req.consultation_ends_on.as_ref(), "consultation_ends_on"),
        )
            .all()?;
        // reg. 13(1)(b): at least 15 days; 15 when the council gives no other day.
        let ends_on = ends_on.unwrap_or_else(|| consultation_default_end(sent_on));
        let (scope, actor) = (who.scope()?, who.actor());
        let (row, _) =
            self.store.record_draft_plan_sent(&scope, &actor, req.id, req.version, (sent_on, ends_on), today).await?;
        self.reply(&row)
    }

    async fn get_statutory_clock_report(
        &self,
        request: Request<pb::GetStatutoryClockReportRequest>,
    ) -> Reply<pb::StatutoryClockReport> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let clock_today = (self.today)();
        let as_of = checked_as_of(req.as_of.as_ref(), clock_today);
        let year = if req.year == 0 { as_of.as_ref().map_or(clock_today, |day| *day).year() } else { req.year };
        let year = field(
            "year",
            if (2014..=2200).contains(&year) {
                Ok(year)
            } else {
                Err("is not a calendar year since the 2014 Regulations".into())
            },
        );
        let (today, year) = (as_of, year).all()?;
        if req.figures_only {
            return Ok(Response::new(self.clock_figures(&who.tenant_scope()?, today, year).await?));
        }
        let rows = self.store.statutory_requests(&who.tenant_scope()?).await?;
        let mut report = pb::StatutoryClockReport { year, ..Default::default() };
        let mut all = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(dates) = clock_dates(row)? else { continue };
            all.push(dates);
            let status = status_of(row)?;
            match health(status, &dates, today) {
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
                        clock: Some(wire::clock_to_proto(row, status, &dates, today)),
                    });
                }
            }
        }
        let figures = timeliness(&all, year);
        report.plans_issued = figures.issued;
        report.issued_within_20_weeks = figures.within_20_weeks;
        report.excluded_exceptions = figures.excluded_exceptions;
        report.percent_within_20_weeks = figures.percent;
        report.plans_issued_including_exceptions = figures.issued_including_exceptions;
        report.issued_within_20_weeks_including_exceptions = figures.within_20_weeks_including_exceptions;
        report.percent_within_20_weeks_including_exceptions = figures.percent_including_exceptions;
        report.open_count = u32::try_from(report.open.len()).unwrap_or(u32::MAX);
        Ok(Response::new(report))
    }

    async fn list_open_requests(
        &self,
        request: Request<pb::ListOpenRequestsRequest>,
    ) -> Reply<pb::ListOpenRequestsResponse> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let (today, page, sort, wanted) = (
            checked_as_of(req.as_of.as_ref(), (self.today)()),
            Page::checked(req.page.as_ref(), "page"),
            field("sort", open_requests::sort_of(&req.sort)),
            field("health", open_requests::health_of(&req.health)),
        )
            .all()?;
        let rows = self.store.open_statutory_requests(&who.tenant_scope()?).await?;
        let mut open = Vec::new();
        for row in &rows {
            let Some(dates) = clock_dates(row)? else { continue };
            let status = status_of(row)?;
            if health(status, &dates, today).is_some() {
                open.push(pb::OpenRequest {
                    referral_id: i64::from(row.id),
                    pupil_id: row.pupil_id,
                    school_urn: row.school_urn.to_string(),
                    clock: Some(wire::clock_to_proto(row, status, &dates, today)),
                });
            }
        }
        let (open, next_page_token, total) = open_requests::page_of(open, req, &wanted, sort, &page)?;
        // As a page of referrals: each request shown is a read of the child's referral.
        let shown: Vec<i32> = open.iter().filter_map(|r| i32::try_from(r.referral_id).ok()).collect();
        self.store.audit_reads(&who.scope()?, &who.actor(), &shown, ReadAction::List, "statutory clock").await?;
        Ok(Response::new(pb::ListOpenRequestsResponse { open, total, next_page_token }))
    }

    async fn upload_referral_attachment(
        &self,
        request: Request<tonic::Streaming<pb::UploadReferralAttachmentRequest>>,
    ) -> Reply<pb::ReferralAttachment> {
        self.upload_attachment(request).await
    }

    async fn list_referral_attachments(
        &self,
        request: Request<pb::ListReferralAttachmentsRequest>,
    ) -> Reply<pb::ListReferralAttachmentsResponse> {
        self.list_attachments(request).await
    }

    async fn get_referral_attachment(
        &self,
        request: Request<pb::GetReferralAttachmentRequest>,
    ) -> Reply<pb::ReferralAttachmentContent> {
        self.get_attachment(request).await
    }

    async fn get_referral_stats(&self, request: Request<pb::GetReferralStatsRequest>) -> Reply<pb::ReferralStats> {
        let who = Identity::caller(&request, TEAM)?;
        let req = request.get_ref();
        let (today, months) =
            (checked_as_of(req.as_of.as_ref(), (self.today)()), field("months", series_months(req.months))).all()?;
        let tenant = who.tenant_scope()?;
        let months = months_ending(today, months);
        let (Some(first), Some(last)) = (months.first(), months.last()) else {
            return Err(Error::Corrupt(format!("no months end with {today}")).into());
        };
        let window = first.first_day()..=last.last_day();
        // Each from the tallies kept with every change (`store::stats`): no referral is read.
        let (counts, submitted, issued) = tokio::try_join!(
            self.store.status_counts(&tenant),
            self.store.submissions_per_month(&tenant, window.clone()),
            self.store.plan_timeliness_by_month(&tenant, window),
        )?;
        let plans = |month| issued.get(&month).copied().unwrap_or(Timeliness::NONE);
        Ok(Response::new(stats::referral_stats(&counts, &months, &submitted, plans)))
    }
}
