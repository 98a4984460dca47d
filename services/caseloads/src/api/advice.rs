//! The advice methods of `CaseloadsService`: recording advice asked for in an
//! EHC needs assessment and the day it came in (the council team), and listing
//! it within the caller's authority: the council team sees every EHC request's
//! advice, a professional only the advice on their own cases. Every listing
//! that returns requests (each naming a pupil) leaves an `advice.read` audit
//! entry per request, naming its reader; a count alone leaves none. A statutory
//! case's advice date, on the case and the caseload, is its psychological
//! advice's own, 6 weeks from asking (reg. 8(1)), read here too.

use std::collections::HashMap;

use chrono::NaiveDate;
use sen_platform::dates::{checked_as_of, date, to_proto, to_proto_opt};
use sen_platform::fields::{AllChecked, field};
use sen_platform::identity::{Identity, Role, TenantScope};
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{CASE_READERS, CaseloadsApi, TEAM};
use crate::domain::{
    ADVICE_NOT_REQUESTED, AdviceKind, AdviceState, ReferralKind, advice_state, check_asked, check_received, days_left,
};
use crate::entity::{advice_request, case};
use crate::error::Error;
use crate::store::{AdviceFilter, NewAdviceRequest, ReadAction};

type Reply<T> = Result<Response<T>, Status>;

/// Longest name of whoever was asked.
const FROM_WHOM_MAX: usize = 200;

/// A statutory case's advice as the case and the caseload show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CaseAdvice {
    /// The psychological advice's due date; `None` until it is asked for.
    pub due: Option<NaiveDate>,
    /// `not_requested`, or the state of the advice on the day asked about.
    pub state: &'static str,
}

impl CaseAdvice {
    /// What the caseload calls the case's next deadline.
    pub fn deadline(&self) -> &'static str {
        if self.due.is_some() { crate::domain::ADVICE_DEADLINE } else { ADVICE_NOT_REQUESTED }
    }
}

/// Wire code of a statutory case whose psychological advice is not yet asked for.
const NOT_REQUESTED: &str = "not_requested";

impl CaseloadsApi {
    pub(super) async fn record_advice_request_call(
        &self,
        request: Request<pb::RecordAdviceRequestRequest>,
    ) -> Reply<pb::AdviceRequest> {
        let who = Identity::caller(&request, TEAM)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let (referral_id, kind, from_whom, asked) = (
            field("referral_id", positive(req.referral_id, "an EHC needs assessment request")),
            field("kind", AdviceKind::parse(&req.kind)),
            field("from_whom", sen_platform::fields::clean_optional_line(&req.from_whom, FROM_WHOM_MAX)),
            date(req.asked_on.as_ref(), "asked_on"),
        )
            .all()?;
        if from_whom.is_none() && req.professional_id < 1 {
            return Err(Error::invalid("from_whom", "is required: who was asked, or the professional asked").into());
        }
        let professional = if req.professional_id > 0 {
            Some(self.store.professional(&tenant, req.professional_id).await?)
        } else {
            None
        };
        let referral = self.peers.referral(who.token(), referral_id).await?;
        let body = referral.body.clone().unwrap_or_default();
        if ReferralKind::parse(&body.kind).ok() != Some(ReferralKind::EhcNeedsAssessment) {
            return Err(Error::invalid("referral_id", "is not an EHC needs assessment request").into());
        }
        let received = super::wire::offered_referral(&referral)?
            .received_on
            .ok_or_else(|| Error::Corrupt(format!("EHC request {referral_id} without a received date")))?;
        let asked = field("asked_on", check_asked(asked, received, today))?;
        let school_urn = body.school_urn.parse().map_err(|_| Error::Corrupt("EHC request without a school".into()))?;
        let new = NewAdviceRequest {
            referral_id,
            pupil_id: body.pupil_id,
            school_urn,
            kind,
            from_whom: from_whom.or_else(|| professional.as_ref().map(|p| p.name.clone())).unwrap_or_default(),
            professional_id: professional.as_ref().map(|p| p.id),
            asked_on: asked,
        };
        let row = self.store.record_advice_request(&tenant, &new, who.person()).await?;
        tracing::info!(advice_request = row.id, referral_id, kind = kind.code(), "advice asked for");
        Ok(Response::new(advice_to_proto(&row, today)))
    }

    pub(super) async fn record_advice_received_call(
        &self,
        request: Request<pb::RecordAdviceReceivedRequest>,
    ) -> Reply<pb::AdviceRequest> {
        let who = Identity::caller(&request, TEAM)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let (id, received) =
            (field("id", positive(req.id, "an advice request")), date(req.received_on.as_ref(), "received_on"))
                .all()?;
        let row = self.store.advice_request(&tenant, id).await?;
        let received = field("received_on", check_received(received, row.asked_on, today))?;
        let row = self.store.record_advice_received(&tenant, id, received).await?;
        Ok(Response::new(advice_to_proto(&row, today)))
    }

    pub(super) async fn list_advice_requests_call(
        &self,
        request: Request<pb::ListAdviceRequestsRequest>,
    ) -> Reply<pb::ListAdviceRequestsResponse> {
        let who = Identity::caller(&request, CASE_READERS)?;
        // A professional's scope is their caseload, within their authority.
        let tenant = who.scope()?.tenant().clone();
        let req = request.get_ref();
        let today = checked_as_of(req.as_of.as_ref(), (self.today)())?;
        let mut filter = AdviceFilter {
            referral_id: (req.referral_id > 0).then_some(req.referral_id),
            referrals: None,
            late_on: req.late_only.then_some(today),
        };
        if !matches!(who.role(), Role::LaManager | Role::CaseOfficer) {
            // A professional sees the advice of their own cases only.
            let Some(me) = self.store.professional_of(&tenant, who.person()).await? else {
                return Ok(Response::new(pb::ListAdviceRequestsResponse::default()));
            };
            filter.referrals = Some(self.store.referrals_of(&tenant, me.id).await?);
        }
        if req.count_only {
            let total = self.store.count_advice_requests(&tenant, &filter).await?;
            let total = u32::try_from(total).unwrap_or(u32::MAX);
            return Ok(Response::new(pb::ListAdviceRequestsResponse { advice: Vec::new(), total }));
        }
        let rows = self.store.advice_requests(&tenant, &filter).await?;
        // Each request names a pupil: the read is audited before it is answered.
        self.store
            .audit_advice_reads(&tenant, &who.actor(), &rows.iter().collect::<Vec<_>>(), ReadAction::Advice)
            .await?;
        Ok(Response::new(pb::ListAdviceRequestsResponse {
            advice: rows.iter().map(|row| advice_to_proto(row, today)).collect(),
            total: u32::try_from(rows.len()).unwrap_or(u32::MAX),
        }))
    }

    /// The advice of each statutory case among `rows` on `today`, by case id:
    /// its psychological advice's own due date and state (the earliest due
    /// still awaited, else the last in), or not yet requested.
    pub(super) async fn case_advice(
        &self,
        tenant: &TenantScope,
        rows: &[case::Model],
        today: NaiveDate,
    ) -> Result<HashMap<i32, CaseAdvice>, Error> {
        let statutory: Vec<&case::Model> =
            rows.iter().filter(|row| ReferralKind::parse(&row.kind).is_ok_and(|kind| kind.is_statutory())).collect();
        let referrals: Vec<i64> = statutory.iter().map(|row| row.referral_id).collect();
        let advice = self.store.psychological_advice(tenant, &referrals).await?;
        Ok(statutory
            .into_iter()
            .map(|row| {
                let asked: Vec<&advice_request::Model> =
                    advice.iter().filter(|a| a.referral_id == row.referral_id).collect();
                (row.id, case_advice_of(&asked, today))
            })
            .collect())
    }
}

/// A case's advice from its psychological advice requests (by due date): the
/// first still awaited sets the date, else the last received; none asked is
/// not yet requested.
fn case_advice_of(asked: &[&advice_request::Model], today: NaiveDate) -> CaseAdvice {
    let chosen = asked.iter().find(|a| a.received_on.is_none()).or_else(|| asked.last());
    match chosen {
        Some(a) => CaseAdvice { due: Some(a.due_on), state: advice_state(a.due_on, a.received_on, today).code() },
        None => CaseAdvice { due: None, state: NOT_REQUESTED },
    }
}

/// An id the caller must give, or what it should be.
fn positive(id: i64, what: &str) -> Result<i64, String> {
    if id < 1 { Err(format!("is required: the id of {what}")) } else { Ok(id) }
}

/// Wire form of a request for advice, its state judged on `today`.
pub(super) fn advice_to_proto(row: &advice_request::Model, today: NaiveDate) -> pb::AdviceRequest {
    let state: AdviceState = advice_state(row.due_on, row.received_on, today);
    pb::AdviceRequest {
        id: i64::from(row.id),
        referral_id: row.referral_id,
        pupil_id: row.pupil_id,
        school_urn: row.school_urn.to_string(),
        kind: row.kind.clone(),
        from_whom: row.from_whom.clone(),
        professional_id: row.professional_id.map_or(0, i64::from),
        asked_on: Some(to_proto(row.asked_on)),
        due_on: Some(to_proto(row.due_on)),
        received_on: to_proto_opt(row.received_on),
        state: state.code().to_owned(),
        days_left: i32::try_from(days_left(row.due_on, today)).unwrap_or(i32::MIN),
    }
}
