//! The `PupilsService` methods.

use chrono::NaiveDate;
use sen_platform::dates::{checked_as_of, date, to_proto};
use sen_platform::identity::Identity;
use sen_platform::ids::Urn;
use sen_platform::paging::Page;
use sen_proto::v1 as pb;
use sen_proto::v1::pupils_service_server::PupilsService;
use tonic::{Request, Response, Status};

use super::{AUDITORS, EDITORS, MANAGERS, PupilsApi, READERS, SERVICES, TEAM, reports, requests, wire};
use crate::domain::{NcYear, Pupil, TransferKind, is_review_overdue};
use crate::error::Error;
use crate::store::{EhcpView, TransferDecision};

type Reply<T> = Result<Response<T>, Status>;

/// The first year group past compulsory school age.
const FIRST_POST16_YEAR: i8 = 12;
/// Age on 31 August at which a young person not following the national
/// curriculum is past compulsory school age.
const POST16_AGE: i32 = 16;

/// Matches a transfer decision to the pupil: a post-16 move is for a young
/// person past Year 11 (reg. 18(2)); staying in their own sixth form for a
/// Year 11 pupil at a school with one (reg. 18(1)(a)); any other decision for
/// the phase transfer ahead of them (this academic year's, from 1 April next
/// year's).
fn transfer_decision_for(
    pupil: &Pupil,
    school: Option<&crate::schools::SchoolInfo>,
    asked: requests::TransferDecisionRequest,
    today: NaiveDate,
) -> Result<TransferDecision, Error> {
    use chrono::Datelike;
    if let Some(moving_on) = asked.post16_move_on {
        let year = pupil.details.nc_year(today);
        let post16 = match year {
            Some(NcYear::NotFollowing) => {
                let cutoff = NaiveDate::from_ymd_opt(crate::domain::academic_year_start(today), 8, 31).unwrap_or(today);
                cutoff
                    .years_since(pupil.details.date_of_birth)
                    .is_some_and(|age| i64::from(age) >= i64::from(POST16_AGE))
            }
            Some(y) => y.ordinal().is_some_and(|o| o >= FIRST_POST16_YEAR),
            None => false,
        };
        if !post16 {
            return Err(Error::FailedPrecondition(format!(
                "pupil {} is not past Year 11: a move between post-16 institutions is for a young person in post-16 education",
                pupil.id
            )));
        }
        let next_setting = asked.next_setting.unwrap_or_default();
        return Ok(TransferDecision {
            transfer_year: None,
            next_setting,
            amended_plan_issued_on: asked.amended_plan_issued_on,
            staying_in_sixth_form: false,
            post16_move_on: Some(moving_on),
        });
    }
    let transfer = reports::transfer_of(pupil, school, today).ok_or_else(|| {
        Error::FailedPrecondition(format!("pupil {} has no phase transfer ahead this academic year", pupil.id))
    })?;
    if asked.staying_in_own_sixth_form {
        if transfer.kind != TransferKind::SecondaryToPost16 {
            return Err(Error::invalid(
                "staying_in_own_sixth_form",
                format!("pupil {} is not in Year 11: their transfer is {}", pupil.id, transfer.kind.name()),
            ));
        }
        let Some(school) = school.filter(|s| s.stage.has_sixth_form()) else {
            return Err(Error::invalid(
                "staying_in_own_sixth_form",
                format!(
                    "school {} has no sixth form (its statutory high age is not over 16)",
                    pupil.details.school_urn
                ),
            ));
        };
        return Ok(TransferDecision {
            transfer_year: Some(transfer.transfer_on.year()),
            next_setting: asked.next_setting.unwrap_or_else(|| school.name.clone()),
            amended_plan_issued_on: asked.amended_plan_issued_on,
            staying_in_sixth_form: true,
            post16_move_on: None,
        });
    }
    Ok(TransferDecision {
        transfer_year: Some(transfer.transfer_on.year()),
        next_setting: asked.next_setting.unwrap_or_default(),
        amended_plan_issued_on: asked.amended_plan_issued_on,
        staying_in_sixth_form: false,
        post16_move_on: None,
    })
}

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
        let mut staying_in_own_sixth_form = false;
        let transfer = if active {
            let ahead = match reports::post16_move_of(&view) {
                Some(moving) => Some(moving),
                None => {
                    let school = self.schools.get(token, pupil.details.school_urn).await?;
                    reports::transfer_of(&pupil, school.as_ref(), today)
                }
            };
            ahead.and_then(|transfer| {
                let decided = reports::decision_for(&view, &transfer);
                staying_in_own_sixth_form = decided.staying;
                (!decided.staying).then(|| {
                    wire::transfer_to_proto(&transfer, decided.next_setting.as_deref(), decided.issued_on, today)
                })
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
            staying_in_own_sixth_form,
        })
    }
}

#[tonic::async_trait]
impl PupilsService for PupilsApi {
    #[tracing::instrument(skip_all)]
    async fn create_pupil(&self, request: Request<pb::CreatePupilRequest>) -> Reply<pb::Pupil> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let scope = who.scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let codes = self.store.need_types(scope.tenant()).await?;
        let (details, sen, plan) = requests::new_pupil(req, &codes, today)?;
        self.check_school(who.token(), details.school_urn, "pupil.school_urn").await?;
        let pupil = self.store.create_pupil(&scope, &actor, &details, &sen, plan.as_ref(), today).await?;
        tracing::info!(pupil_id = pupil.id, "pupil added to the register");
        Ok(Response::new(wire::pupil_to_proto(&pupil, today)))
    }

    #[tracing::instrument(skip_all, fields(pupil_id = request.get_ref().id))]
    async fn get_pupil(&self, request: Request<pb::GetPupilRequest>) -> Reply<pb::Pupil> {
        let who = Identity::caller(&request, READERS)?;
        let actor = who.actor();
        let pupil = self.store.get_pupil(&who.scope()?, &actor, request.get_ref().id).await?;
        Ok(Response::new(wire::pupil_to_proto(&pupil, (self.today)())))
    }

    #[tracing::instrument(skip_all, fields(pupil_id = request.get_ref().id))]
    async fn update_pupil(&self, request: Request<pb::UpdatePupilRequest>) -> Reply<pb::Pupil> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let today = (self.today)();
        let (version, details) = requests::pupil_update(req, today)?;
        self.check_school(who.token(), details.school_urn, "pupil.school_urn").await?;
        let pupil = self.store.update_pupil(&who.scope()?, &actor, req.id, version, &details, today).await?;
        Ok(Response::new(wire::pupil_to_proto(&pupil, today)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_pupils(&self, request: Request<pb::ListPupilsRequest>) -> Reply<pb::ListPupilsResponse> {
        let who = Identity::caller(&request, READERS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let today = (self.today)();
        let scope = who.scope()?;
        // The authority's codes are read only when a need is asked for.
        let codes = match req.primary_need_code.trim() {
            "" => Vec::new(),
            _ => self.store.need_types(scope.tenant()).await?,
        };
        let (page, filter) = requests::pupil_filter(req, &codes)?;
        let (pupils, next_page_token) = self.store.list_pupils(&scope, &actor, &filter, &page, today).await?;
        let total = if req.include_total && page.after.is_none() {
            let total = self.store.count_pupils(&scope, &filter, today).await?;
            Some(u32::try_from(total).unwrap_or(u32::MAX))
        } else {
            None
        };
        Ok(Response::new(pb::ListPupilsResponse {
            pupils: pupils.iter().map(|p| wire::pupil_to_proto(p, today)).collect(),
            next_page_token,
            total,
        }))
    }

    #[tracing::instrument(skip_all, fields(pupil_id = request.get_ref().pupil_id))]
    async fn change_sen_status(&self, request: Request<pb::ChangeSenStatusRequest>) -> Reply<pb::Pupil> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let today = (self.today)();
        let scope = who.scope()?;
        let codes = self.store.need_types(scope.tenant()).await?;
        let (version, change) = requests::sen_change(req, &codes, today)?;
        let pupil = self.store.change_sen_status(&scope, &actor, req.pupil_id, version, &change).await?;
        Ok(Response::new(wire::pupil_to_proto(&pupil, today)))
    }

    #[tracing::instrument(skip_all)]
    async fn import_ctf(
        &self,
        request: Request<tonic::Streaming<pb::ImportCtfRequest>>,
    ) -> Reply<pb::ImportCtfResponse> {
        self.import_ctf_file(request).await
    }

    async fn list_pupil_history(
        &self,
        request: Request<pb::ListPupilHistoryRequest>,
    ) -> Reply<pb::ListPupilHistoryResponse> {
        let who = Identity::caller(&request, READERS)?;
        let actor = who.actor();
        let entries = self.store.pupil_history(&who.scope()?, &actor, request.get_ref().pupil_id).await?;
        Ok(Response::new(pb::ListPupilHistoryResponse {
            entries: entries.iter().map(wire::history_to_proto).collect(),
        }))
    }

    async fn list_need_types(&self, request: Request<pb::ListNeedTypesRequest>) -> Reply<pb::ListNeedTypesResponse> {
        let who = Identity::caller(&request, READERS)?;
        let codes = self.store.need_types(who.scope()?.tenant()).await?;
        Ok(Response::new(pb::ListNeedTypesResponse {
            need_types: codes.iter().map(wire::need_type_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn add_need_type(&self, request: Request<pb::AddNeedTypeRequest>) -> Reply<pb::NeedType> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let new = requests::new_need_type(request.get_ref(), (self.today)())?;
        let added = self.store.add_need_type(&tenant, &who.actor(), &new).await?;
        tracing::info!(code = added.code(), "type-of-need code added by the council");
        Ok(Response::new(wire::need_type_to_proto(&added)))
    }

    async fn add_support_cycle(&self, request: Request<pb::AddSupportCycleRequest>) -> Reply<pb::SupportCycle> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let today = (self.today)();
        let cycle = requests::new_cycle(req)?;
        let row = self.store.add_support_cycle(&who.scope()?, &actor, req.pupil_id, &cycle).await?;
        Ok(Response::new(wire::cycle_to_proto(&row, today)))
    }

    async fn record_support_review(&self, request: Request<pb::RecordSupportReviewRequest>) -> Reply<pb::SupportCycle> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let today = (self.today)();
        let (reviewed_on, outcome, notes) = requests::support_review(req, today)?;
        let row =
            self.store.record_support_review(&who.scope()?, &actor, req.cycle_id, reviewed_on, outcome, notes).await?;
        Ok(Response::new(wire::cycle_to_proto(&row, today)))
    }

    async fn list_support_cycles(
        &self,
        request: Request<pb::ListSupportCyclesRequest>,
    ) -> Reply<pb::ListSupportCyclesResponse> {
        let who = Identity::caller(&request, READERS)?;
        let actor = who.actor();
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
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let (today, page) = requests::dated_page(req.as_of.as_ref(), req.page.as_ref(), (self.today)())?;
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
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let new = requests::new_provision(req)?;
        let row = self.store.add_provision(&who.scope()?, &actor, req.pupil_id, &new).await?;
        Ok(Response::new(wire::provision_to_proto(&row)))
    }

    async fn end_provision(&self, request: Request<pb::EndProvisionRequest>) -> Reply<pb::Provision> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let end_on = date(req.end_on.as_ref(), "end_on")?;
        let row = self.store.end_provision(&who.scope()?, &actor, req.provision_id, end_on).await?;
        Ok(Response::new(wire::provision_to_proto(&row)))
    }

    async fn list_provision(&self, request: Request<pb::ListProvisionRequest>) -> Reply<pb::ListProvisionResponse> {
        let who = Identity::caller(&request, READERS)?;
        let actor = who.actor();
        let rows = self.store.provisions(&who.scope()?, &actor, request.get_ref().pupil_id).await?;
        Ok(Response::new(pb::ListProvisionResponse { provision: rows.iter().map(wire::provision_to_proto).collect() }))
    }

    async fn get_ehcp(&self, request: Request<pb::GetEhcpRequest>) -> Reply<pb::Ehcp> {
        let who = Identity::caller(&request, READERS)?;
        let actor = who.actor();
        let view = self.store.ehcp(&who.scope()?, &actor, request.get_ref().pupil_id).await?;
        Ok(Response::new(self.ehcp_reply(who.token(), view).await?))
    }

    async fn record_annual_review(&self, request: Request<pb::RecordAnnualReviewRequest>) -> Reply<pb::AnnualReview> {
        let who = Identity::caller(&request, TEAM)?;
        let actor = who.actor();
        let req = request.get_ref();
        let today = (self.today)();
        let input = requests::annual_review(req, today)?;
        let row = self.store.record_annual_review(&who.scope()?, &actor, req.pupil_id, &input).await?;
        Ok(Response::new(wire::review_to_proto(&row, today)))
    }

    async fn list_annual_reviews(
        &self,
        request: Request<pb::ListAnnualReviewsRequest>,
    ) -> Reply<pb::ListAnnualReviewsResponse> {
        let who = Identity::caller(&request, READERS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let today = checked_as_of(req.as_of.as_ref(), (self.today)())?;
        let rows = self.store.annual_reviews(&who.scope()?, &actor, req.pupil_id).await?;
        Ok(Response::new(pb::ListAnnualReviewsResponse {
            reviews: rows.iter().map(|r| wire::review_to_proto(r, today)).collect(),
        }))
    }

    async fn list_late_amendments(
        &self,
        request: Request<pb::ListLateAmendmentsRequest>,
    ) -> Reply<pb::ListLateAmendmentsResponse> {
        self.late_amendments_for(request).await
    }

    async fn record_transfer_decision(&self, request: Request<pb::RecordTransferDecisionRequest>) -> Reply<pb::Ehcp> {
        let who = Identity::caller(&request, TEAM)?;
        let actor = who.actor();
        let req = request.get_ref();
        let today = (self.today)();
        let scope = who.scope()?;
        let asked = requests::transfer_decision(req, today)?;
        let view = self.store.ehcp(&scope, &actor, req.pupil_id).await?;
        let pupil = Self::to_pupil(view.pupil.clone())?;
        let school = self.schools.get(who.token(), pupil.details.school_urn).await?;
        let decision = transfer_decision_for(&pupil, school.as_ref(), asked, today)?;
        let view = self.store.record_transfer_decision(&scope, &actor, req.pupil_id, &decision).await?;
        Ok(Response::new(self.ehcp_reply(who.token(), view).await?))
    }

    async fn list_transitions_due(
        &self,
        request: Request<pb::ListTransitionsDueRequest>,
    ) -> Reply<pb::ListTransitionsDueResponse> {
        self.transitions_due_for(request).await
    }

    async fn list_annual_reviews_due(
        &self,
        request: Request<pb::ListAnnualReviewsDueRequest>,
    ) -> Reply<pb::ListAnnualReviewsDueResponse> {
        self.reviews_due_for(request).await
    }

    async fn get_register_stats(&self, request: Request<pb::GetRegisterStatsRequest>) -> Reply<pb::RegisterStats> {
        let who = Identity::caller(&request, EDITORS)?;
        let req = request.get_ref();
        let today = checked_as_of(req.as_of.as_ref(), (self.today)())?;
        let scope = who.scope()?;
        if req.figures_only {
            let (totals, schools) = tokio::join!(self.store.register_totals(&scope), self.schools.all(&who));
            return Ok(Response::new(reports::register_figures(&totals?, &schools?)));
        }
        let (counts, schools) = tokio::join!(self.store.register_counts(&scope), self.schools.all(&who));
        Ok(Response::new(reports::register_stats(&counts?, &schools?, today)))
    }

    async fn grant_case_access(&self, request: Request<pb::GrantCaseAccessRequest>) -> Reply<pb::CaseAccess> {
        let who = Identity::caller(&request, SERVICES)?;
        let actor = who.actor();
        let req = request.get_ref();
        let (person, case_ref) = requests::case_access(&req.person, &req.case_ref)?;
        let row = self.store.grant_case_access(&who.tenant_scope()?, &actor, req.pupil_id, &person, &case_ref).await?;
        Ok(Response::new(wire::access_to_proto(&row)))
    }

    async fn revoke_case_access(&self, request: Request<pb::RevokeCaseAccessRequest>) -> Reply<pb::CaseAccess> {
        let who = Identity::caller(&request, SERVICES)?;
        let actor = who.actor();
        let req = request.get_ref();
        let (person, case_ref) = requests::case_access(&req.person, &req.case_ref)?;
        let row = self.store.revoke_case_access(&who.tenant_scope()?, &actor, req.pupil_id, &person, &case_ref).await?;
        Ok(Response::new(wire::access_to_proto(&row)))
    }

    async fn take_erasures(&self, request: Request<pb::TakeErasuresRequest>) -> Reply<pb::TakeErasuresResponse> {
        self.take_erasures_for(request).await
    }

    async fn erase_pupil(&self, request: Request<pb::ErasePupilRequest>) -> Reply<pb::ErasePupilResponse> {
        self.erase_pupil_for(request).await
    }

    async fn record_appeal(&self, request: Request<pb::RecordAppealRequest>) -> Reply<pb::Appeal> {
        self.record_appeal_for(request).await
    }

    async fn update_appeal(&self, request: Request<pb::UpdateAppealRequest>) -> Reply<pb::Appeal> {
        self.update_appeal_for(request).await
    }

    async fn list_appeals(&self, request: Request<pb::ListAppealsRequest>) -> Reply<pb::ListAppealsResponse> {
        self.list_appeals_for(request).await
    }

    async fn list_open_appeals(
        &self,
        request: Request<pb::ListOpenAppealsRequest>,
    ) -> Reply<pb::ListOpenAppealsResponse> {
        self.list_open_appeals_for(request).await
    }

    async fn get_appeal_stats(&self, request: Request<pb::GetAppealStatsRequest>) -> Reply<pb::AppealStats> {
        self.get_appeal_stats_for(request).await
    }

    async fn list_sen2_persons(
        &self,
        request: Request<pb::ListSen2PersonsRequest>,
    ) -> Reply<pb::ListSen2PersonsResponse> {
        self.list_sen2_persons_for(request).await
    }

    async fn register_final_plan(
        &self,
        request: Request<pb::RegisterFinalPlanRequest>,
    ) -> Reply<pb::RegisterFinalPlanResponse> {
        self.register_final_plan_for(request).await
    }

    async fn list_audit_events(
        &self,
        request: Request<pb::ListAuditEventsRequest>,
    ) -> Reply<pb::ListAuditEventsResponse> {
        let who = Identity::caller(&request, AUDITORS)?;
        let req = request.get_ref();
        let page = Page::checked(req.page.as_ref(), "page")?;
        let pupil = (req.pupil_id > 0).then_some(req.pupil_id);
        let (events, next_page_token) = self.store.audit_events(&who.tenant_scope()?, pupil, &page).await?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            events: events.iter().map(wire::audit_to_proto).collect(),
            next_page_token,
        }))
    }
}
