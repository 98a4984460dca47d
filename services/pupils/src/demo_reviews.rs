//! The demo register's annual reviews that led somewhere: in each demo
//! authority, on pupils with a plan (taken from the end of the register, apart
//! from the demo appeals at its start) and dated from the day the demo is loaded:
//!
//! - a plan amended on time: proposed a week after the meeting, issued within
//!   the 8 weeks of reg. 22(3);
//! - a plan amended late: proposed five weeks after the meeting, so due 12 weeks
//!   after it, and issued six days after that;
//! - an amendment overdue: proposed ten days after the meeting, due 8 weeks
//!   later, still not issued;
//! - a plan ceased at its review: the needs are met without a plan (SEN2 reason
//!   2), and the pupil is back on SEN support.

use chrono::{NaiveDate, TimeDelta};
use sen_platform::identity::{Actor, Role, Scope, TenantScope};

use crate::domain::{CeaseReason, ReviewDecision, SenStatus};
use crate::store::{AnnualReviewInput, Cessation, Store};

fn review(meeting_on: NaiveDate, decision: ReviewDecision) -> AnnualReviewInput {
    AnnualReviewInput {
        meeting_on,
        report_sent_on: Some(meeting_on + TimeDelta::days(10)),
        decision: Some(decision),
        decision_on: Some(meeting_on + TimeDelta::days(20)),
        amendments_proposed_on: None,
        amended_plan_issued_on: None,
        cease_reason: None,
        cessation: None,
    }
}

/// The demo reviews, dated back from `today`.
fn demo_reviews(today: NaiveDate) -> Vec<AnnualReviewInput> {
    let ago = |days: i64| today - TimeDelta::days(days);
    let mut on_time = review(ago(120), ReviewDecision::Amend);
    on_time.amendments_proposed_on = Some(ago(113));
    on_time.amended_plan_issued_on = Some(ago(70));
    let mut late = review(ago(150), ReviewDecision::Amend);
    late.amendments_proposed_on = Some(ago(115));
    late.amended_plan_issued_on = Some(ago(60));
    let mut overdue = review(ago(100), ReviewDecision::Amend);
    overdue.amendments_proposed_on = Some(ago(90));
    let mut ceased = review(ago(60), ReviewDecision::Cease);
    ceased.cease_reason = Some(CeaseReason::NeedsMetWithoutPlan);
    ceased.cessation = Some(Cessation { ceased_on: ago(20), to: SenStatus::SenSupport });
    vec![on_time, late, overdue, ceased]
}

/// Records the demo reviews of `tenant` on pupils whose plan was issued before
/// the meeting (recording a review again for the same meeting changes nothing new).
pub async fn seed_reviews(store: &Store, tenant: &TenantScope, today: NaiveDate) -> anyhow::Result<()> {
    let index = store.register_index(tenant).await?;
    let scope = Scope::Tenant(tenant.clone());
    let actor = Actor { person: "demo-loader".into(), role: Role::Service, trace_id: None };
    let mut candidates = index.iter().filter(|(_, _, status)| status == "E").map(|(id, _, _)| *id).rev();
    for wanted in demo_reviews(today) {
        for pupil in candidates.by_ref() {
            let plan = store.ehcp(&scope, &actor, pupil).await?.ehcp;
            if plan.status == "active" && plan.issued_on <= wanted.meeting_on {
                store.record_annual_review(&scope, &actor, pupil, &wanted).await?;
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::domain::{AmendmentStatus, amendment_status};

    #[test]
    fn the_demo_shows_an_amendment_on_time_late_and_overdue_and_a_ceased_plan() {
        for today in [NaiveDate::from_ymd_opt(2026, 12, 6), NaiveDate::from_ymd_opt(2028, 2, 29)].into_iter().flatten()
        {
            let reviews = demo_reviews(today);
            let states: HashSet<_> = reviews
                .iter()
                .filter(|r| r.decision == Some(ReviewDecision::Amend))
                .map(|r| amendment_status(r.meeting_on, r.amendments_proposed_on, r.amended_plan_issued_on, today).1)
                .collect();
            let expected = [AmendmentStatus::IssuedOnTime, AmendmentStatus::IssuedLate, AmendmentStatus::Overdue];
            assert_eq!(states, expected.into_iter().collect(), "{today}");
            let ceased = reviews.iter().find(|r| r.cessation.is_some()).expect("a ceased plan");
            assert_eq!(ceased.cease_reason, Some(CeaseReason::NeedsMetWithoutPlan));
            for r in &reviews {
                let dates = [r.amendments_proposed_on, r.amended_plan_issued_on, r.cessation.map(|c| c.ceased_on)];
                for day in dates.into_iter().flatten() {
                    assert!(day >= r.meeting_on && day <= today, "{day} between the meeting and {today}");
                }
            }
        }
    }
}
