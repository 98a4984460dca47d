//! `TakeErasures` and `ErasePupil`: the pupils service's part in the erasure of
//! pupils past their authority's retention period (`crate::retention`), called
//! by the caseloads service's retention pass as itself.
//!
//! `TakeErasures` with a token for one authority works in that authority; with
//! a service token for none (the pass over every authority), in all of them.
//! Either way it answers ids only.

use chrono::{TimeDelta, Utc};
use sen_platform::fields::{AllChecked, field};
use sen_platform::identity::Identity;
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{PupilsApi, SERVICES};
use crate::store::DueErasure;

/// How long a pass holds the erasures it took unless it asks for another lease
/// (`lease_seconds`). The pass gives up on an erasure after two thirds of its
/// lease, leaving room for clocks a few seconds apart.
pub const ERASURE_LEASE: TimeDelta = TimeDelta::seconds(60);

/// The longest lease a pass may ask for, in seconds.
const LONGEST_LEASE: u32 = 600;

/// The most erasures one call takes or lists.
const MOST: u32 = 1000;

/// Who a pass says it is: `retention:<random>`, at most 100 characters.
fn holder(value: &str, dry_run: bool) -> Result<String, String> {
    match value.trim() {
        "" if dry_run => Ok(String::new()),
        "" => Err("is required to take erasures".into()),
        h if h.chars().count() > 100 => Err("is longer than 100 characters".into()),
        h => Ok(h.to_owned()),
    }
}

fn limit(value: u32) -> Result<u64, String> {
    if (1..=MOST).contains(&value) { Ok(u64::from(value)) } else { Err(format!("must be 1 to {MOST}")) }
}

/// The lease asked for: 0 is the default, else 1 to [`LONGEST_LEASE`] seconds.
fn lease(seconds: u32) -> Result<TimeDelta, String> {
    match seconds {
        0 => Ok(ERASURE_LEASE),
        1..=LONGEST_LEASE => Ok(TimeDelta::seconds(i64::from(seconds))),
        _ => Err(format!("must be 1 to {LONGEST_LEASE} seconds (0 for 60)")),
    }
}

fn erasure_to_proto(due: DueErasure) -> pb::Erasure {
    pb::Erasure { la_code: due.la_code, pupil_id: due.pupil_id }
}

impl PupilsApi {
    pub(super) async fn take_erasures_for(
        &self,
        request: Request<pb::TakeErasuresRequest>,
    ) -> Result<Response<pb::TakeErasuresResponse>, Status> {
        // The one method a service may call for every authority at once.
        let who = Identity::caller_across_tenants(&request, SERVICES)?;
        let req = request.get_ref();
        let (holder, limit, lease) = (
            field("holder", holder(&req.holder, req.dry_run)),
            field("limit", limit(req.limit)),
            field("lease_seconds", lease(req.lease_seconds)),
        )
            .all()?;
        let tenant = who.tenant().map(|la| la.to_string());
        let policy = &self.retention.policy;
        let today = (self.today)();
        let work = async {
            if req.dry_run {
                return self.store.erasures_due(tenant.as_deref(), policy, today, limit).await;
            }
            let now = Utc::now();
            let marked = self.store.mark_erasures_due(tenant.as_deref(), policy, today, now).await?;
            if marked > 0 {
                tracing::info!(marked, "pupils past their retention period are due for erasure");
            }
            self.store.take_erasures(tenant.as_deref(), &holder, now, lease, limit).await
        };
        // A pass for every authority reaches every authority's rows; one for an
        // authority stays within it, as the call does already.
        let erasures =
            if who.is_for_every_tenant() { sen_platform::walls::across_tenants(work).await } else { work.await }?;
        Ok(Response::new(pb::TakeErasuresResponse { erasures: erasures.into_iter().map(erasure_to_proto).collect() }))
    }

    pub(super) async fn erase_pupil_for(
        &self,
        request: Request<pb::ErasePupilRequest>,
    ) -> Result<Response<pb::ErasePupilResponse>, Status> {
        let who = Identity::caller(&request, SERVICES)?;
        let req = request.get_ref();
        let (holder, elsewhere) = (
            field("holder", holder(&req.holder, false)),
            field("removed_elsewhere", sen_platform::fields::clean_optional_text(&req.removed_elsewhere, 2000)),
        )
            .all()?;
        let tenant = who.tenant_scope()?;
        let elsewhere = elsewhere.unwrap_or_default();
        let removed = self.store.erase_pupil(&tenant, &who.actor(), req.pupil_id, &holder, &elsewhere).await?;
        let Some(removed) = removed else {
            return Ok(Response::new(pb::ErasePupilResponse { erased: false, removed: String::new() }));
        };
        self.retention.metrics.erased();
        tracing::info!(pupil_id = req.pupil_id, la_code = %tenant.key(), "pupil erased at the end of the retention period");
        Ok(Response::new(pb::ErasePupilResponse { erased: true, removed: removed.to_string() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_holds_what_it_takes_for_a_minute_unless_it_asks_for_another_lease() {
        assert_eq!(lease(0), Ok(TimeDelta::seconds(60)));
        assert_eq!(lease(4), Ok(TimeDelta::seconds(4)));
        assert_eq!(lease(600), Ok(TimeDelta::seconds(600)));
        assert!(lease(601).is_err(), "no pass may hold an erasure for longer than ten minutes");
    }

    #[test]
    fn only_a_dry_run_may_go_without_a_holder() {
        assert_eq!(holder(" ", true), Ok(String::new()));
        assert!(holder("", false).is_err());
        assert!(holder(&"x".repeat(101), false).is_err());
        assert_eq!(holder("retention:1", false), Ok("retention:1".to_owned()));
    }
}
