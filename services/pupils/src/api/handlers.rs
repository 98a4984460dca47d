//! The `PupilsService` methods.

use std::collections::HashMap;

use sen_platform::dates::to_proto;
use sen_platform::error::FieldViolations;
use sen_platform::ids::Urn;
use sen_platform::paging::Page;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_server::PupilsService;
use tonic::{Request, Response, Status};

use super::{AUDITORS, EDITORS, PupilsApi, READERS, SERVICES, TEAM, caller, done, reports, wire};
use crate::domain::{Pupil, PupilDetails, SenStatus, is_review_overdue, minutes_per_week};
use crate::error::Error;
use crate::store::{AnnualReviewInput, EhcpView, NewCycle, NewProvision, PupilFilter, SenChange};

type Reply<T> = Result<Response<T>, Status>;

impl PupilsApi {
    /// Checks with the schools service that the caller may record pupils at `urn`.
    async fn check_school(&self, token: &str, urn: Urn, field: &str) -> Result<(), Error> {
        match self.schools.get(token, urn).await? {
            Some(_) => Ok(()),
            None => Err(Error::invalid(
                field,
                format!("{urn} is not a school of this authority that you can record pupils at"),
            )),
        }
    }

    fn to_pupil(row: crate::entity::pupil::Model) -> Result<Pupil, Error> {
        crate::store::pupil_from_row(row)
    }

    async fn ehcp_reply(&self, token: &str, view: EhcpView) -> Result<pb::Ehcp, Error> {
        let today = (self.today)();
        let pupil = Self::to_pupil(view.pupil.clone())?;
        let plan = &view.ehcp;
        let active = plan.status == "active";
        let transfer = if active {
            let school = self.schools.get(token, pupil.details.school_urn).await?;
            reports::transfer_of(&pupil, school.as_ref(), today).map(|transfer| {
                let (next, issued) = reports::decision_for(&view, &transfer);
                wire::transfer_to_proto(&transfer, next.as_deref(), issued, today)
            })
        } else {
            None
        };
        Ok(pb::Ehcp {
            pupil_id: pupil.id,
            issued_on: Some(to_proto(plan.issued_on)),
            named_setting: plan.named_setting.clone(),
            status: if active { pb::EhcpStatus::Active as i32 } else { pb::EhcpStatus::Ceased as i32 },
            ceased_on: sen_platform::dates::to_proto_opt(plan.ceased_on),
            ceased_reason: plan.ceased_reason.clone().unwrap_or_default(),
            last_annual_review_on: sen_platform::dates::to_proto_opt(plan.last_review_on),
            next_review_due: Some(to_proto(plan.next_review_due)),
            review_overdue: active && is_review_overdue(plan.next_review_due, today),
            transfer,
            version: plan.version,
        })
    }
}

fn page_of(page: Option<&pb::PageRequest>, errors: &mut FieldViolations) -> Page {
    Page::parse(page, "page", errors)
}

#[tonic::async_trait]
impl PupilsService for PupilsApi {
    #[tracing::instrument(skip_all)]
    async fn create_pupil(&self, request: Request<pb::CreatePupilRequest>) -> Reply<pb::Pupil> {
        let (who, actor) = caller(&request, EDITORS)?;
        let scope = who.scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let mut errors = FieldViolations::new();
        let details = wire::pupil_details(req.pupil.as_ref(), "pupil", today, &mut errors);
        let sen = wire::sen_record(req.sen_status, req.primary_need, req.secondary_need, &mut errors);
        let plan = match sen.map(|s| s.status) {
            Some(SenStatus::EhcPlan) => wire::new_ehcp(req.ehcp.as_ref(), "ehcp", today, &mut errors),
            _ => None,
        };
        let (details, sen) = done(errors, details.zip(sen))?;
        self.check_school(who.token(), details.school_urn, "pupil.school_urn").await?;
        let pupil = self.store.create_pupil(&scope, &actor, &details, &sen, plan.as_ref(), today).await?;
        tracing::info!(pupil_id = pupil.id, "pupil added to the register");
        Ok(Response::new(wire::pupil_to_proto(&pupil, today)))
    }

    #[tracing::instrument(skip_all, fields(pupil_id = request.get_ref().id))]
    async fn get_pupil(&self, request: Request<pb::GetPupilRequest>) -> Reply<pb::Pupil> {
        let (who, actor) = caller(&request, READERS)?;
        let pupil = self.store.get_pupil(&who.scope()?, &actor, request.get_ref().id).await?;
        Ok(Response::new(wire::pupil_to_proto(&pupil, (self.today)())))
    }

    #[tracing::instrument(skip_all, fields(pupil_id = request.get_ref().id))]
    async fn update_pupil(&self, request: Request<pb::UpdatePupilRequest>) -> Reply<pb::Pupil> {
        let (who, actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let today = (self.today)();
        let mut errors = FieldViolations::new();
        if req.version < 1 {
            errors.add("version", "is required: send the version you read");
        }
        let details: Option<PupilDetails> = wire::pupil_details(req.pupil.as_ref(), "pupil", today, &mut errors);
        let details = done(errors, details)?;
        self.check_school(who.token(), details.school_urn, "pupil.school_urn").await?;
        let pupil = self.store.update_pupil(&who.scope()?, &actor, req.id, req.version, &details, today).await?;
        Ok(Response::new(wire::pupil_to_proto(&pupil, today)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_pupils(&self, request: Request<pb::ListPupilsRequest>) -> Reply<pb::ListPupilsResponse> {
        let (who, actor) = caller(&request, READERS)?;
        let req = request.get_ref();
        let today = (self.today)();
        let mut errors = FieldViolations::new();
        let page = page_of(req.page.as_ref(), &mut errors);
        let filter = PupilFilter {
            school: if req.school_urn.is_empty() {
                None
            } else {
                errors.check("school_urn", Urn::parse(&req.school_urn))
            },
            status: errors.check("sen_status", wire::sen_status(req.sen_status)).flatten(),
            primary_need: errors.check("primary_need", wire::need(req.primary_need)).flatten(),
            nc_year: if req.nc_year.is_empty() {
                None
            } else {
                errors.check("nc_year", crate::domain::NcYear::parse(&req.nc_year))
            },
            looked_after: req.looked_after,
            upn: if req.upn.is_empty() { None } else { errors.check("upn", crate::domain::Upn::parse(&req.upn)) },
        };
        errors.into_result().map_err(Error::from)?;
        let (pupils, next_page_token) = self.store.list_pupils(&who.scope()?, &actor, &filter, &page, today).await?;
        Ok(Response::new(pb::ListPupilsResponse {
            pupils: pupils.iter().map(|p| wire::pupil_to_proto(p, today)).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(pupil_id = request.get_ref().pupil_id))]
    async fn change_sen_status(&self, request: Request<pb::ChangeSenStatusRequest>) -> Reply<pb::Pupil> {
        let (who, actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let today = (self.today)();
        let mut errors = FieldViolations::new();
        if req.version < 1 {
            errors.add("version", "is required: send the version you read");
        }
        let sen = wire::sen_record(req.sen_status, req.primary_need, req.secondary_need, &mut errors);
        let effective_on = wire::date(req.effective_on.as_ref(), "effective_on", &mut errors);
        if effective_on.is_some_and(|d| d > today) {
            errors.add("effective_on", "is in the future");
        }
        let reason = wire::text(&req.reason, "reason", &mut errors);
        let plan = match (sen.map(|s| s.status), req.ehcp.as_ref()) {
            (Some(SenStatus::EhcPlan), Some(_)) => wire::new_ehcp(req.ehcp.as_ref(), "ehcp", today, &mut errors),
            _ => None,
        };
        let (sen, (effective_on, reason)) = done(errors, sen.zip(effective_on.zip(reason)))?;
        let change = SenChange { sen, effective_on, reason, ehcp: plan };
        let pupil = self.store.change_sen_status(&who.scope()?, &actor, req.pupil_id, req.version, &change).await?;
        Ok(Response::new(wire::pupil_to_proto(&pupil, today)))
    }

    async fn list_pupil_history(
        &self,
        request: Request<pb::ListPupilHistoryRequest>,
    ) -> Reply<pb::ListPupilHistoryResponse> {
        let (who, actor) = caller(&request, READERS)?;
        let entries = self.store.pupil_history(&who.scope()?, &actor, request.get_ref().pupil_id).await?;
        Ok(Response::new(pb::ListPupilHistoryResponse {
            entries: entries.iter().map(wire::history_to_proto).collect(),
        }))
    }

    async fn add_support_cycle(&self, request: Request<pb::AddSupportCycleRequest>) -> Reply<pb::SupportCycle> {
        let (who, actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let today = (self.today)();
        let mut errors = FieldViolations::new();
        let started_on = wire::date(req.started_on.as_ref(), "started_on", &mut errors);
        let review_due = wire::date(req.review_due.as_ref(), "review_due", &mut errors);
        if let (Some(start), Some(due)) = (started_on, review_due)
            && due <= start
        {
            errors.add("review_due", format!("{due} is not after the start on {start}"));
        }
        let outcomes_sought = wire::text(&req.outcomes_sought, "outcomes_sought", &mut errors);
        let planned_provision = wire::text(&req.planned_provision, "planned_provision", &mut errors);
        let (started_on, (review_due, (outcomes_sought, planned_provision))) =
            done(errors, started_on.zip(review_due.zip(outcomes_sought.zip(planned_provision))))?;
        let cycle = NewCycle { started_on, outcomes_sought, planned_provision, review_due };
        let row = self.store.add_support_cycle(&who.scope()?, &actor, req.pupil_id, &cycle).await?;
        Ok(Response::new(wire::cycle_to_proto(&row, today)))
    }

    async fn record_support_review(&self, request: Request<pb::RecordSupportReviewRequest>) -> Reply<pb::SupportCycle> {
        let (who, actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let today = (self.today)();
        let mut errors = FieldViolations::new();
        let reviewed_on = wire::date(req.reviewed_on.as_ref(), "reviewed_on", &mut errors);
        if reviewed_on.is_some_and(|d| d > today) {
            errors.add("reviewed_on", "is in the future");
        }
        let outcome = errors.check("outcome", wire::outcome(req.outcome));
        let notes = errors.check("review_notes", crate::domain::optional_text(&req.review_notes, wire::TEXT_MAX));
        let (reviewed_on, (outcome, notes)) = done(errors, reviewed_on.zip(outcome.zip(notes)))?;
        let row =
            self.store.record_support_review(&who.scope()?, &actor, req.cycle_id, reviewed_on, outcome, notes).await?;
        Ok(Response::new(wire::cycle_to_proto(&row, today)))
    }

    async fn list_support_cycles(
        &self,
        request: Request<pb::ListSupportCyclesRequest>,
    ) -> Reply<pb::ListSupportCyclesResponse> {
        let (who, actor) = caller(&request, READERS)?;
        let today = (self.today)();
        let rows = self.store.support_cycles(&who.scope()?, &actor, request.get_ref().pupil_id).await?;
        Ok(Response::new(pb::ListSupportCyclesResponse {
            cycles: rows.iter().map(|c| wire::cycle_to_proto(c, today)).collect(),
        }))
    }

    async fn list_support_reviews_overdue(
        &self,
        request: Request<pb::ListSupportReviewsOverdueRequest>,
    ) -> Reply<pb::ListSupportReviewsOverdueResponse> {
        let (who, actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        let page = page_of(req.page.as_ref(), &mut errors);
        errors.into_result().map_err(Error::from)?;
        let (rows, next_page_token) = self.store.overdue_support_reviews(&who.scope()?, &actor, today, &page).await?;
        let mut reviews = Vec::with_capacity(rows.len());
        for (pupil, cycle) in rows {
            let pupil = Self::to_pupil(pupil)?;
            reviews.push(pb::OverdueReview {
                pupil: Some(wire::summary(&pupil, today)),
                days_overdue: i32::try_from((today - cycle.review_due).num_days()).unwrap_or(i32::MAX),
                cycle: Some(wire::cycle_to_proto(&cycle, today)),
            });
        }
        Ok(Response::new(pb::ListSupportReviewsOverdueResponse { reviews, next_page_token }))
    }

    async fn add_provision(&self, request: Request<pb::AddProvisionRequest>) -> Reply<pb::Provision> {
        let (who, actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let provision_type = errors.check("provision_type", crate::domain::clean_text(&req.provision_type, 200));
        let provider = errors.check("provider", crate::domain::clean_text(&req.provider, 200));
        let minutes = errors.check("hours_per_week", minutes_per_week(req.hours_per_week));
        let start_on = wire::date(req.start_on.as_ref(), "start_on", &mut errors);
        let end_on = wire::optional_date(req.end_on.as_ref(), "end_on", &mut errors);
        if let (Some(start), Some(Some(end))) = (start_on, end_on)
            && end < start
        {
            errors.add("end_on", format!("{end} is before the start on {start}"));
        }
        let (provision_type, (provider, (minutes_per_week, (start_on, end_on)))) =
            done(errors, provision_type.zip(provider.zip(minutes.zip(start_on.zip(end_on)))))?;
        let new = NewProvision { provision_type, provider, minutes_per_week, start_on, end_on };
        let row = self.store.add_provision(&who.scope()?, &actor, req.pupil_id, &new).await?;
        Ok(Response::new(wire::provision_to_proto(&row)))
    }

    async fn end_provision(&self, request: Request<pb::EndProvisionRequest>) -> Reply<pb::Provision> {
        let (who, actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let end_on = wire::date(req.end_on.as_ref(), "end_on", &mut errors);
        let end_on = done(errors, end_on)?;
        let row = self.store.end_provision(&who.scope()?, &actor, req.provision_id, end_on).await?;
        Ok(Response::new(wire::provision_to_proto(&row)))
    }

    async fn list_provision(&self, request: Request<pb::ListProvisionRequest>) -> Reply<pb::ListProvisionResponse> {
        let (who, actor) = caller(&request, READERS)?;
        let rows = self.store.provisions(&who.scope()?, &actor, request.get_ref().pupil_id).await?;
        Ok(Response::new(pb::ListProvisionResponse { provision: rows.iter().map(wire::provision_to_proto).collect() }))
    }

    async fn get_ehcp(&self, request: Request<pb::GetEhcpRequest>) -> Reply<pb::Ehcp> {
        let (who, actor) = caller(&request, READERS)?;
        let view = self.store.ehcp(&who.scope()?, &actor, request.get_ref().pupil_id).await?;
        Ok(Response::new(self.ehcp_reply(who.token(), view).await?))
    }

    async fn record_annual_review(&self, request: Request<pb::RecordAnnualReviewRequest>) -> Reply<pb::AnnualReview> {
        let (who, actor) = caller(&request, TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        let mut errors = FieldViolations::new();
        let meeting_on = wire::date(req.meeting_on.as_ref(), "meeting_on", &mut errors);
        let report_sent_on = wire::optional_date(req.report_sent_on.as_ref(), "report_sent_on", &mut errors);
        let decision = errors.check("decision", wire::decision(req.decision));
        let decision_on = wire::optional_date(req.decision_on.as_ref(), "decision_on", &mut errors);
        for (name, when) in [
            ("meeting_on", meeting_on),
            ("report_sent_on", report_sent_on.flatten()),
            ("decision_on", decision_on.flatten()),
        ] {
            if when.is_some_and(|d| d > today) {
                errors.add(name, "is in the future");
            }
        }
        if let Some(meeting) = meeting_on {
            for (name, when) in [("report_sent_on", report_sent_on.flatten()), ("decision_on", decision_on.flatten())] {
                if when.is_some_and(|d| d < meeting) {
                    errors.add(name, format!("is before the meeting on {meeting}"));
                }
            }
        }
        match (decision.flatten(), decision_on.flatten()) {
            (Some(_), None) => errors.add("decision_on", "is required with a decision"),
            (None, Some(_)) => errors.add("decision", "is required with a decision date"),
            _ => {}
        }
        let (meeting_on, (report_sent_on, (decision, decision_on))) =
            done(errors, meeting_on.zip(report_sent_on.zip(decision.zip(decision_on))))?;
        let input = AnnualReviewInput { meeting_on, report_sent_on, decision, decision_on };
        let row = self.store.record_annual_review(&who.scope()?, &actor, req.pupil_id, &input).await?;
        Ok(Response::new(wire::review_to_proto(&row, today)))
    }

    async fn list_annual_reviews(
        &self,
        request: Request<pb::ListAnnualReviewsRequest>,
    ) -> Reply<pb::ListAnnualReviewsResponse> {
        let (who, actor) = caller(&request, READERS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        errors.into_result().map_err(Error::from)?;
        let rows = self.store.annual_reviews(&who.scope()?, &actor, req.pupil_id).await?;
        Ok(Response::new(pb::ListAnnualReviewsResponse {
            reviews: rows.iter().map(|r| wire::review_to_proto(r, today)).collect(),
        }))
    }

    async fn record_transfer_decision(&self, request: Request<pb::RecordTransferDecisionRequest>) -> Reply<pb::Ehcp> {
        let (who, actor) = caller(&request, TEAM)?;
        let req = request.get_ref();
        let today = (self.today)();
        let scope = who.scope()?;
        let mut errors = FieldViolations::new();
        let next_setting = errors.check("next_setting", crate::domain::clean_text(&req.next_setting, 200));
        let issued_on = wire::date(req.amended_plan_issued_on.as_ref(), "amended_plan_issued_on", &mut errors);
        if issued_on.is_some_and(|d| d > today) {
            errors.add("amended_plan_issued_on", "is in the future");
        }
        let (next_setting, issued_on) = done(errors, next_setting.zip(issued_on))?;
        // The decision belongs to the transfer the pupil has ahead this academic year.
        let view = self.store.ehcp(&scope, &actor, req.pupil_id).await?;
        let pupil = Self::to_pupil(view.pupil.clone())?;
        let school = self.schools.get(who.token(), pupil.details.school_urn).await?;
        let transfer = reports::transfer_of(&pupil, school.as_ref(), today).ok_or_else(|| {
            Error::FailedPrecondition(format!("pupil {} has no phase transfer ahead this academic year", pupil.id))
        })?;
        use chrono::Datelike;
        let view = self
            .store
            .record_transfer_decision(
                &scope,
                &actor,
                req.pupil_id,
                &next_setting,
                issued_on,
                transfer.transfer_on.year(),
            )
            .await?;
        Ok(Response::new(self.ehcp_reply(who.token(), view).await?))
    }

    async fn list_transitions_due(
        &self,
        request: Request<pb::ListTransitionsDueRequest>,
    ) -> Reply<pb::ListTransitionsDueResponse> {
        let (who, actor) = caller(&request, EDITORS)?;
        let scope = who.scope()?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        let page = page_of(req.page.as_ref(), &mut errors);
        let window = if req.window_days == 0 { 365 } else { req.window_days };
        if window > 3660 {
            errors.add("window_days", "is more than ten years");
        }
        errors.into_result().map_err(Error::from)?;
        let candidates = self.store.transfer_candidates(&scope).await?;
        let schools: HashMap<Urn, _> = self.schools.all(who.token()).await?.into_iter().map(|s| (s.urn, s)).collect();
        let candidates = candidates
            .into_iter()
            .map(|c| Ok((Self::to_pupil(c.pupil.clone())?, c)))
            .collect::<Result<Vec<_>, Error>>()?;
        let due = reports::transfers_due(candidates, &schools, today, window);
        let after = page.after.as_deref();
        let remaining: Vec<_> = due
            .into_iter()
            .filter(|d| after.is_none_or(|a| format!("{}/{:012}", d.transfer.deadline, d.pupil.id).as_str() > a))
            .collect();
        let (rows, next_page_token) = page.finish(remaining, |d| format!("{}/{:012}", d.transfer.deadline, d.pupil.id));
        let ids: Vec<i64> = rows.iter().map(|d| d.pupil.id).collect();
        self.store.audit_reads(&scope, &actor, &ids, "ehcp.transitions_list").await?;
        let transitions = rows
            .iter()
            .map(|d| pb::TransitionDue {
                pupil: Some(wire::summary(&d.pupil, today)),
                transfer: Some(wire::transfer_to_proto(&d.transfer, d.next_setting.as_deref(), d.issued_on, today)),
            })
            .collect();
        Ok(Response::new(pb::ListTransitionsDueResponse { transitions, next_page_token }))
    }

    async fn list_annual_reviews_due(
        &self,
        request: Request<pb::ListAnnualReviewsDueRequest>,
    ) -> Reply<pb::ListAnnualReviewsDueResponse> {
        let (who, actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        let page = page_of(req.page.as_ref(), &mut errors);
        let window = if req.window_days == 0 { 60 } else { req.window_days };
        if window > 3660 {
            errors.add("window_days", "is more than ten years");
        }
        errors.into_result().map_err(Error::from)?;
        let (rows, next_page_token) = self.store.reviews_due(&who.scope()?, &actor, today, window, &page).await?;
        let mut reviews = Vec::with_capacity(rows.len());
        for row in rows {
            let due = row.ehcp.next_review_due;
            let pupil = Self::to_pupil(row.pupil)?;
            reviews.push(pb::ReviewDue {
                pupil: Some(wire::summary(&pupil, today)),
                next_review_due: Some(to_proto(due)),
                days_left: i32::try_from((due - today).num_days()).unwrap_or(i32::MIN),
                overdue: is_review_overdue(due, today),
            });
        }
        Ok(Response::new(pb::ListAnnualReviewsDueResponse { reviews, next_page_token }))
    }

    async fn get_register_stats(&self, request: Request<pb::GetRegisterStatsRequest>) -> Reply<pb::RegisterStats> {
        let (who, _actor) = caller(&request, EDITORS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let today = wire::as_of(req.as_of.as_ref(), (self.today)(), &mut errors);
        errors.into_result().map_err(Error::from)?;
        let scope = who.scope()?;
        let (counts, schools) = tokio::join!(self.store.register_counts(&scope), self.schools.all(who.token()));
        Ok(Response::new(reports::register_stats(&counts?, &schools?, today)))
    }

    async fn grant_case_access(&self, request: Request<pb::GrantCaseAccessRequest>) -> Reply<pb::CaseAccess> {
        let (who, actor) = caller(&request, SERVICES)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let person = errors.check("person", crate::domain::clean_text(&req.person, 200));
        let case_ref = errors.check("case_ref", crate::domain::clean_text(&req.case_ref, 100));
        let (person, case_ref) = done(errors, person.zip(case_ref))?;
        let row = self.store.grant_case_access(&who.tenant_scope()?, &actor, req.pupil_id, &person, &case_ref).await?;
        Ok(Response::new(wire::access_to_proto(&row)))
    }

    async fn revoke_case_access(&self, request: Request<pb::RevokeCaseAccessRequest>) -> Reply<pb::CaseAccess> {
        let (who, actor) = caller(&request, SERVICES)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let person = errors.check("person", crate::domain::clean_text(&req.person, 200));
        let case_ref = errors.check("case_ref", crate::domain::clean_text(&req.case_ref, 100));
        let (person, case_ref) = done(errors, person.zip(case_ref))?;
        let row = self.store.revoke_case_access(&who.tenant_scope()?, &actor, req.pupil_id, &person, &case_ref).await?;
        Ok(Response::new(wire::access_to_proto(&row)))
    }

    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> Reply<pb::ListAuditEventsResponse> {
        let (who, _actor) = caller(&request, AUDITORS)?;
        let req = request.get_ref();
        let mut errors = FieldViolations::new();
        let page = page_of(req.page.as_ref(), &mut errors);
        errors.into_result().map_err(Error::from)?;
        let pupil = (req.pupil_id > 0).then_some(req.pupil_id);
        let (events, next_page_token) = self.store.audit_events(&who.tenant_scope()?, pupil, &page).await?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            events: events.iter().map(wire::audit_to_proto).collect(),
            next_page_token,
        }))
    }
}
