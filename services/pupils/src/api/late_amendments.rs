//! `ListLateAmendments`: annual reviews that decided to amend the plan whose
//! amended plan was issued after its due date, or is not issued and its due
//! date has passed (SEN and Disability Regulations 2014, regs. 20(10) and 22(3)).

use sen_platform::identity::Identity;
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::review_outcome::days_late;
use super::{EDITORS, PupilsApi, requests, wire};

impl PupilsApi {
    /// `ListLateAmendments`: reviews whose amended plan was issued after its due
    /// date or is overdue, on `as_of` (today when unset), for the council's team
    /// and a SENCO (their own school's pupils), as `ListAnnualReviewsDue`.
    pub(super) async fn late_amendments_for(
        &self,
        request: Request<pb::ListLateAmendmentsRequest>,
    ) -> Result<Response<pb::ListLateAmendmentsResponse>, Status> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let req = request.get_ref();
        let (today, page) = requests::dated_page(req.as_of.as_ref(), req.page.as_ref(), (self.today)())?;
        let scope = who.scope()?;
        let total = u32::try_from(self.store.count_late_amendments(&scope, today).await?).unwrap_or(u32::MAX);
        if req.count_only {
            return Ok(Response::new(pb::ListLateAmendmentsResponse { total, ..Default::default() }));
        }
        let (rows, next_page_token) = self.store.late_amendments(&scope, &actor, today, &page).await?;
        let mut amendments = Vec::with_capacity(rows.len());
        for (pupil, review) in rows {
            let pupil = crate::store::pupil_from_row(pupil)?;
            amendments.push(pb::LateAmendment {
                pupil: Some(wire::summary(&pupil, today)),
                days_late: days_late(&review, today),
                review: Some(wire::review_to_proto(&review, today)),
            });
        }
        Ok(Response::new(pb::ListLateAmendmentsResponse { amendments, next_page_token, total }))
    }
}
