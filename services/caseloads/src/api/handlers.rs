//! The `CaseloadsService` methods.

use sen_platform::dates::{checked_as_of, past_date, to_proto};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, field, optional_text, text, version};
use sen_platform::identity::Identity;
use sen_platform::ids::Urn;
use sen_proto::v1 as pb;
use sen_proto::v1::caseloads_service_server::CaseloadsService;
use tonic::{Request, Response, Status};

use super::{CASE_READERS, CASE_WORKERS, CaseloadsApi, MANAGERS, PROFESSIONALS, TEAM, wire};
use crate::completion::{CLAIM_LEASE, case_ref};
use crate::domain::{
    AcademicTerm, ActivityKind, Candidate, CaseEvent, CaseStatus, ModelSettings, ProfessionalRole, ReferralKind,
    Weights, can_take, check_allocation, check_note, check_sessions, days_left, load, next_case_status, rank,
};
use crate::entity::allocation_model;
use crate::error::Error;
use crate::store::{CaseDraft, Claim, NewActivity, ReadAction, case_status};

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl CaseloadsService for CaseloadsApi {
    async fn create_professional(&self, request: Request<pb::CreateProfessionalRequest>) -> Reply<pb::Professional> {
        let who = Identity::caller(&request, MANAGERS)?;
        let new = wire::professional(request.get_ref().professional.as_ref(), "professional")?;
        let row = self.store.create_professional(&who.tenant_scope()?, &new).await?;
        Ok(Response::new(wire::professional_to_proto(&row, &[])))
    }

    async fn update_professional(&self, request: Request<pb::UpdateProfessionalRequest>) -> Reply<pb::Professional> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let (version, new) =
            (version(req.version, "version"), wire::professional(req.professional.as_ref(), "professional")).all()?;
        let row = self.store.update_professional(&tenant, req.id, version, &new).await?;
        let links = self.store.links_of(&tenant, row.id).await?;
        Ok(Response::new(wire::professional_to_proto(&row, &links)))
    }

    async fn list_professionals(
        &self,
        request: Request<pb::ListProfessionalsRequest>,
    ) -> Reply<pb::ListProfessionalsResponse> {
        let who = Identity::caller(&request, TEAM)?;
        let rows = self.store.professionals(&who.tenant_scope()?, request.get_ref().include_inactive).await?;
        let professionals = rows.iter().map(|(p, links)| wire::professional_to_proto(p, links)).collect();
        Ok(Response::new(pb::ListProfessionalsResponse { professionals }))
    }

    async fn link_school(&self, request: Request<pb::LinkSchoolRequest>) -> Reply<pb::Professional> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let urn = field("urn", Urn::parse(&req.urn))?;
        let known = self.peers.schools(who.token()).await?;
        match known.iter().find(|school| school.urn == urn.as_i32()) {
            None => return Err(Error::invalid("urn", format!("{urn} is not a school of this authority")).into()),
            Some(school) if school.closed => {
                let why = format!("{urn} is closed: link professionals to open schools only");
                return Err(Error::FailedPrecondition(why).into());
            }
            Some(_) => {}
        }
        self.store.link_school(&tenant, req.professional_id, urn).await?;
        let row = self.store.professional(&tenant, req.professional_id).await?;
        let links = self.store.links_of(&tenant, row.id).await?;
        Ok(Response::new(wire::professional_to_proto(&row, &links)))
    }

    async fn unlink_school(&self, request: Request<pb::LinkSchoolRequest>) -> Reply<pb::Professional> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let urn = field("urn", Urn::parse(&req.urn))?;
        self.store.unlink_school(&tenant, req.professional_id, urn).await?;
        let row = self.store.professional(&tenant, req.professional_id).await?;
        let links = self.store.links_of(&tenant, row.id).await?;
        Ok(Response::new(wire::professional_to_proto(&row, &links)))
    }

    async fn suggest_allocation(
        &self,
        request: Request<pb::SuggestAllocationRequest>,
    ) -> Reply<pb::SuggestAllocationResponse> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let order = field("order", wire::suggestion_order(request.get_ref().order))?;
        let referral = self.peers.referral(who.token(), request.get_ref().referral_id).await?;
        let body = referral.body.unwrap_or_default();
        let kind = ReferralKind::parse(&body.kind).map_err(Error::Corrupt)?;
        let school: i32 = body.school_urn.parse().map_err(|_| Error::Corrupt("referral without a school".into()))?;
        let school_closed = self.peers.school_is_closed(who.token(), &body.school_urn).await?;
        // A closed school has no link professional: a link to it no longer counts.
        let candidates: Vec<Candidate> = self
            .candidates(&tenant, school)
            .await?
            .into_iter()
            .map(|(_, c)| Candidate { linked_to_school: c.linked_to_school && !school_closed, ..c })
            .collect();
        let ranked = rank(&candidates, kind, order);
        Ok(Response::new(pb::SuggestAllocationResponse {
            referral_kind: body.kind,
            school_urn: body.school_urn,
            order: wire::suggestion_order_value(order),
            school_closed,
            candidates: ranked
                .into_iter()
                .map(|r| pb::Candidate {
                    professional_id: r.id,
                    name: r.name,
                    rank: r.rank,
                    load: r.load,
                    over_capacity: r.over_capacity,
                    placement: r.placement,
                    reasons: r.reasons,
                })
                .collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(referral_id = request.get_ref().referral_id))]
    async fn allocate_case(&self, request: Request<pb::AllocateCaseRequest>) -> Reply<pb::Case> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let (key, override_reason) = (
            text(&req.idempotency_key, "idempotency_key", 200),
            optional_text(&req.override_reason, "override_reason", 500),
        )
            .all()?;
        let professional = self.store.professional(&tenant, req.professional_id).await?;
        // A retry finds the first attempt's case: return it, or finish it.
        if let Some(existing) = self.store.case_by_key(&tenant, &key).await? {
            if existing.referral_id != req.referral_id || i64::from(existing.professional_id) != req.professional_id {
                return Err(
                    Error::AlreadyExists(format!("idempotency key '{key}' was used for another allocation")).into()
                );
            }
            let row = if case_status(&existing)? == CaseStatus::Pending {
                // One attempt at a time: a retry while the first attempt (or the
                // reconciler) is still at it waits for that attempt's answer.
                let now = chrono::Utc::now();
                let claim = Claim::new("request", now, CLAIM_LEASE);
                if self.store.claim_pending(&tenant, existing.id, &claim, now).await? {
                    self.finish((&tenant, &who), &existing, &professional.person, &claim).await?
                } else {
                    // Finished a moment ago (the answer stands), or still being finished.
                    match self.store.case_by_key(&tenant, &key).await? {
                        Some(done) if case_status(&done)? == CaseStatus::Active => done,
                        _ => {
                            return Err(Error::Incomplete(format!(
                                "the allocation of case {} is being finished now: try again shortly with the same \
                                 idempotency key",
                                existing.id
                            ))
                            .into());
                        }
                    }
                }
            } else {
                existing
            };
            return Ok(Response::new(wire::case_to_proto(&row, &professional.name, 0)));
        }
        let referral = self.peers.referral(who.token(), req.referral_id).await?;
        let offered = wire::offered_referral(&referral)?;
        let body = referral.body.unwrap_or_default();
        let school: i32 = body.school_urn.parse().map_err(|_| Error::Corrupt("referral without a school".into()))?;
        let candidate = self.candidate(&tenant, &professional, school).await?;
        let dates = check_allocation(&offered, &candidate, override_reason.is_some(), today)
            .map_err(|refused| Error::FailedPrecondition(refused.to_string()))?;
        let draft = CaseDraft {
            referral_id: referral.id,
            pupil_id: body.pupil_id,
            school_urn: school,
            kind: body.kind,
            received_on: dates.received_on,
            idempotency_key: key,
        };
        let claim = Claim::new("request", chrono::Utc::now(), CLAIM_LEASE);
        let pending = self
            .store
            .begin_allocation(&tenant, &draft, professional.id, override_reason.as_deref(), today, &claim)
            .await?;
        let row = self.finish((&tenant, &who), &pending, &professional.person, &claim).await?;
        tracing::info!(case_id = row.id, professional_id = professional.id, "case allocated");
        Ok(Response::new(wire::case_to_proto(&row, &professional.name, 0)))
    }

    async fn reassign_case(&self, request: Request<pb::ReassignCaseRequest>) -> Reply<pb::Case> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let (_reason, override_reason) =
            (text(&req.reason, "reason", 500), optional_text(&req.override_reason, "override_reason", 500)).all()?;
        let before = self.store.case(&tenant, req.case_id).await?;
        let old = self.store.professional(&tenant, i64::from(before.professional_id)).await?;
        let new = self.store.professional(&tenant, req.professional_id).await?;
        let kind = ReferralKind::parse(&before.kind).map_err(Error::Corrupt)?;
        if !can_take(ProfessionalRole::parse(&new.role).map_err(Error::Corrupt)?, kind) {
            return Err(
                Error::FailedPrecondition(format!("{} does not take {} referrals", new.name, before.kind)).into()
            );
        }
        // Local first (the capacity check), then the other services; each step can be repeated.
        let row = self.store.reassign(&tenant, req.case_id, new.id, override_reason.as_deref(), (self.today)()).await?;
        // The forecast's loads and suggested moves have changed.
        self.forecasts.forget(&tenant.key());
        let la = (tenant.la_code(), Some(&who));
        let reference = case_ref(&row);
        self.peers.grant(la, row.pupil_id, &new.person, &reference).await?;
        self.peers.mark_allocated(la, row.referral_id, &new.person, &reference).await?;
        if old.id != new.id {
            self.peers.revoke(la, row.pupil_id, &old.person, &reference).await?;
        }
        let used = self.sessions_on(&tenant, row.id).await?;
        Ok(Response::new(wire::case_to_proto(&row, &new.name, used)))
    }

    async fn close_case(&self, request: Request<pb::CloseCaseRequest>) -> Reply<pb::Case> {
        let who = Identity::caller(&request, CASE_WORKERS)?;
        let req = request.get_ref();
        let outcome = text(&req.outcome, "outcome", 2000)?;
        let (tenant, row, owner) = self.own_case(&who, req.case_id).await?;
        // Closing again (a retry) finishes what the first close began in the other services.
        let row = if case_status(&row)? == CaseStatus::Closed {
            row
        } else {
            self.store.close_case(&tenant, req.case_id, &outcome).await?
        };
        self.peers.revoke((tenant.la_code(), Some(&who)), row.pupil_id, &owner.person, &case_ref(&row)).await?;
        let referral = self.peers.referral(who.token(), row.referral_id).await;
        if referral.is_ok_and(|r| r.status != pb::ReferralStatus::Closed as i32) {
            self.peers.close_referral(who.token(), row.referral_id, &outcome).await?;
        }
        let used = self.sessions_on(&tenant, row.id).await?;
        Ok(Response::new(wire::case_to_proto(&row, &owner.name, used)))
    }

    async fn record_case_activity(&self, request: Request<pb::RecordCaseActivityRequest>) -> Reply<pb::CaseActivity> {
        let who = Identity::caller(&request, CASE_WORKERS)?;
        let req = request.get_ref();
        let today = (self.today)();
        let (on, kind, sessions, note, key) = (
            past_date(req.on.as_ref(), "on", today),
            field("kind", ActivityKind::parse(&req.kind)),
            field("sessions", check_sessions(req.sessions)),
            field("note", check_note(&req.note)),
            field("idempotency_key", sen_platform::fields::clean_optional_line(&req.idempotency_key, 200)),
        )
            .all()?;
        let (tenant, row, _) = self.own_case(&who, req.case_id).await?;
        next_case_status(case_status(&row)?, CaseEvent::RecordActivity)
            .map_err(|illegal| Error::FailedPrecondition(format!("case {} is {}", row.id, illegal.from)))?;
        let activity = NewActivity { on, kind, sessions, note };
        let saved = match &key {
            Some(key) => self.store.record_activity_once(&tenant, &row, &activity, who.person(), key).await?,
            None => self.store.record_activity(&tenant, &row, &activity, who.person()).await?,
        };
        let name = self.store.professional_of(&tenant, &saved.recorded_by).await?.map(|p| p.name);
        Ok(Response::new(wire::activity_to_proto(&saved, name)))
    }

    async fn list_case_activity(
        &self,
        request: Request<pb::ListCaseActivityRequest>,
    ) -> Reply<pb::ListCaseActivityResponse> {
        let who = Identity::caller(&request, CASE_WORKERS)?;
        let (tenant, row, _) = self.own_case(&who, request.get_ref().case_id).await?;
        let activity = self.store.activity(&tenant, row.id).await?;
        let mut names = std::collections::HashMap::new();
        for a in &activity {
            if !names.contains_key(&a.recorded_by) {
                let name = self.store.professional_of(&tenant, &a.recorded_by).await?.map(|p| p.name);
                names.insert(a.recorded_by.clone(), name);
            }
        }
        self.store.audit_reads(&tenant, &who.actor(), &[&row], ReadAction::Activity).await?;
        Ok(Response::new(pb::ListCaseActivityResponse {
            activity: activity
                .iter()
                .map(|a| wire::activity_to_proto(a, names.get(&a.recorded_by).cloned().flatten()))
                .collect(),
        }))
    }

    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Reply<pb::Case> {
        let who = Identity::caller(&request, CASE_READERS)?;
        let req = request.get_ref();
        let case_id = field(
            "case_id",
            if req.case_id < 1 { Err("is required: the id of a case".into()) } else { Ok(req.case_id) },
        )?;
        let scope = who.scope()?;
        let (row, owner) = self.store.case_within(&scope, case_id).await?;
        let used = self.sessions_on(scope.tenant(), row.id).await?;
        let (pupils, schools) = self.caseload_names(&who, std::slice::from_ref(&row)).await;
        let advice = self.case_advice(scope.tenant(), std::slice::from_ref(&row), (self.today)()).await?;
        let advice = advice.get(&row.id);
        self.store.audit_reads(scope.tenant(), &who.actor(), &[&row], ReadAction::Case).await?;
        Ok(Response::new(pb::Case {
            pupil_name: pupils.get(&row.pupil_id).cloned().unwrap_or_default(),
            school_name: schools.get(&row.school_urn).cloned().unwrap_or_default(),
            advice_due: advice.and_then(|a| a.due).map(to_proto),
            advice_state: advice.map(|a| a.state.to_owned()).unwrap_or_default(),
            ..wire::case_to_proto(&row, &owner.name, used)
        }))
    }

    async fn get_my_caseload(&self, request: Request<pb::GetMyCaseloadRequest>) -> Reply<pb::Caseload> {
        let who = Identity::caller(&request, PROFESSIONALS)?;
        let tenant = who.scope()?.tenant().clone();
        let today = checked_as_of(request.get_ref().as_of.as_ref(), (self.today)())?;
        let Some(me) = self.store.professional_of(&tenant, who.person()).await? else {
            return Ok(Response::new(pb::Caseload::default()));
        };
        let mut cases = Vec::new();
        let rows = self.store.open_cases(&tenant, Some(me.id)).await?;
        let (pupils, schools) = self.caseload_names(&who, &rows).await;
        let advice = self.case_advice(&tenant, &rows, today).await?;
        for row in &rows {
            let used = self.sessions_on(&tenant, row.id).await?;
            let advice = advice.get(&row.id);
            // Advice already in leaves the case no statutory deadline.
            let due = advice.filter(|a| !a.state.starts_with("received")).and_then(|a| a.due);
            cases.push(pb::CaseloadEntry {
                next_deadline: advice
                    .filter(|a| !a.state.starts_with("received"))
                    .map(|a| a.deadline().to_owned())
                    .unwrap_or_default(),
                next_deadline_on: due.map(to_proto),
                days_left: due.map_or(0, |due| i32::try_from(days_left(due, today)).unwrap_or(i32::MIN)),
                case: Some(pb::Case {
                    pupil_name: pupils.get(&row.pupil_id).cloned().unwrap_or_default(),
                    school_name: schools.get(&row.school_urn).cloned().unwrap_or_default(),
                    advice_due: advice.and_then(|a| a.due).map(to_proto),
                    advice_state: advice.map(|a| a.state.to_owned()).unwrap_or_default(),
                    ..wire::case_to_proto(row, &me.name, used)
                }),
            });
        }
        self.store.audit_reads(&tenant, &who.actor(), &rows.iter().collect::<Vec<_>>(), ReadAction::Caseload).await?;
        cases.sort_by_key(|c| (c.next_deadline_on.is_none(), c.days_left));
        Ok(Response::new(pb::Caseload { cases }))
    }

    async fn get_caseload_balance(
        &self,
        request: Request<pb::GetCaseloadBalanceRequest>,
    ) -> Reply<pb::CaseloadBalance> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let today = checked_as_of(request.get_ref().as_of.as_ref(), (self.today)())?;
        let (overdue, candidates) =
            tokio::try_join!(self.store.overdue_advice_by_professional(&tenant, today), self.candidates(&tenant, 0))?;
        let professionals = candidates
            .into_iter()
            .filter(|(p, _)| p.active)
            .map(|(p, candidate)| {
                let overdue = overdue.get(&p.id).copied().unwrap_or(0);
                let load = load(&candidate);
                pb::ProfessionalLoad {
                    professional_id: i64::from(p.id),
                    name: p.name.clone(),
                    role: p.role.clone(),
                    open_cases: candidate.open_cases,
                    capacity_kind: p.capacity_kind.clone(),
                    capacity: u32::try_from(p.capacity).unwrap_or(0),
                    load,
                    overdue,
                    overloaded: load > 1.0,
                    idle: candidate.open_cases == 0,
                }
            })
            .collect();
        Ok(Response::new(pb::CaseloadBalance { professionals }))
    }

    async fn set_time_allocation_model(
        &self,
        request: Request<pb::SetTimeAllocationModelRequest>,
    ) -> Reply<pb::TimeAllocationModel> {
        let who = Identity::caller(&request, MANAGERS)?;
        let req = request.get_ref();
        let weights = Weights {
            number_on_roll: req.weight_number_on_roll,
            sen_support: req.weight_sen_support,
            ehc_plans: req.weight_ehc_plans,
        };
        let (term, settings) = (
            field("term", AcademicTerm::parse(&req.term)),
            ModelSettings::new(req.sessions_available, req.base_per_school, weights)
                .map_err(|(name, message)| FieldViolations::one(name, message)),
        )
            .all()?;
        let as_i32 = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        let saved = self
            .store
            .set_model(
                &who.tenant_scope()?,
                allocation_model::Model {
                    id: 0,
                    la_code: String::new(),
                    term: term.code(),
                    sessions_available: as_i32(settings.sessions_available),
                    base_per_school: as_i32(settings.base_per_school),
                    weight_roll: as_i32(settings.weights.number_on_roll),
                    weight_support: as_i32(settings.weights.sen_support),
                    weight_ehcp: as_i32(settings.weights.ehc_plans),
                    updated_at: chrono::Utc::now(),
                },
            )
            .await?;
        Ok(Response::new(model_to_proto(&saved)))
    }

    async fn list_school_allocations(
        &self,
        request: Request<pb::ListSchoolAllocationsRequest>,
    ) -> Reply<pb::ListSchoolAllocationsResponse> {
        let who = Identity::caller(&request, TEAM)?;
        Ok(Response::new(self.school_allocations(&who, &request.get_ref().term).await?))
    }

    async fn record_advice_request(
        &self,
        request: Request<pb::RecordAdviceRequestRequest>,
    ) -> Reply<pb::AdviceRequest> {
        self.record_advice_request_call(request).await
    }

    async fn record_advice_received(
        &self,
        request: Request<pb::RecordAdviceReceivedRequest>,
    ) -> Reply<pb::AdviceRequest> {
        self.record_advice_received_call(request).await
    }

    async fn list_advice_requests(
        &self,
        request: Request<pb::ListAdviceRequestsRequest>,
    ) -> Reply<pb::ListAdviceRequestsResponse> {
        self.list_advice_requests_call(request).await
    }

    async fn get_breach_forecast(&self, request: Request<pb::GetBreachForecastRequest>) -> Reply<pb::BreachForecast> {
        self.get_breach_forecast_call(request).await
    }

    async fn get_capacity_forecast(
        &self,
        request: Request<pb::GetCapacityForecastRequest>,
    ) -> Reply<pb::CapacityForecast> {
        self.get_capacity_forecast_call(request).await
    }
}

fn model_to_proto(m: &allocation_model::Model) -> pb::TimeAllocationModel {
    let as_u32 = |n: i32| u32::try_from(n).unwrap_or(0);
    pb::TimeAllocationModel {
        term: m.term.clone(),
        sessions_available: as_u32(m.sessions_available),
        base_per_school: as_u32(m.base_per_school),
        weight_number_on_roll: as_u32(m.weight_roll),
        weight_sen_support: as_u32(m.weight_support),
        weight_ehc_plans: as_u32(m.weight_ehcp),
    }
}
