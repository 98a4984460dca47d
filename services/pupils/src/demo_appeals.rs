//! The demo register's appeals to the First-tier Tribunal (SEND): in each demo
//! authority, one appeal of each state a council officer meets, on pupils of
//! the demo register and dated from the day the demo is loaded:
//!
//! - an appeal against an amended plan's sections B and F, registered, the
//!   council's response sent, awaiting its hearing five weeks ahead;
//! - a refusal to assess in mediation, its 30 days still running;
//! - an appeal against the school named in a final plan (section I, so no
//!   mediation certificate was needed), upheld;
//! - a refusal to issue a plan, mediated without agreement, registered and
//!   then withdrawn by the family;
//! - an appeal against ceasing a plan, registered ten days ago, the council's
//!   response due.

use chrono::{NaiveDate, TimeDelta};
use sen_platform::identity::{Actor, Role, Scope, TenantScope};

use crate::domain::{AppealFacts, AppealGround, AppealOutcome, MediationOutcome, PlanSections};
use crate::store::Store;

fn blank(ground: AppealGround, sections: PlanSections, decision_on: NaiveDate) -> AppealFacts {
    AppealFacts {
        ground,
        sections,
        decision_on,
        mediation_requested_on: None,
        mediation_on: None,
        mediation_outcome: None,
        certificate_issued_on: None,
        registered_on: None,
        response_due_given: None,
        response_sent_on: None,
        hearing_on: None,
        decided_on: None,
        outcome: None,
    }
}

/// The demo appeals, judged on `today`, for pupils with a plan (`with_plan`)
/// and on SEN support (`on_support`): `(pupil, key, facts)`.
fn demo_appeals(today: NaiveDate, with_plan: &[i64], on_support: &[i64]) -> Vec<(i64, &'static str, AppealFacts)> {
    let ago = |days: i64| today - TimeDelta::days(days);
    let mut appeals = Vec::new();
    if let Some(&pupil) = with_plan.first() {
        let mut hearing = blank(
            AppealGround::AmendedPlan,
            PlanSections { needs_b: true, provision_f: true, placement_i: false },
            ago(120),
        );
        hearing.certificate_issued_on = Some(ago(100));
        hearing.registered_on = Some(ago(90));
        hearing.response_sent_on = Some(ago(52));
        hearing.hearing_on = Some(today + TimeDelta::days(35));
        appeals.push((pupil, "demo-appeal-awaiting-hearing", hearing));
    }
    if let Some(&pupil) = with_plan.get(1) {
        let mut upheld = blank(
            AppealGround::FinalPlan,
            PlanSections { needs_b: false, provision_f: false, placement_i: true },
            ago(300),
        );
        upheld.registered_on = Some(ago(250));
        upheld.response_sent_on = Some(ago(210));
        upheld.hearing_on = Some(ago(80));
        upheld.decided_on = Some(ago(60));
        upheld.outcome = Some(AppealOutcome::Upheld);
        appeals.push((pupil, "demo-appeal-upheld", upheld));
    }
    if let Some(&pupil) = with_plan.get(2) {
        let mut cessation = blank(AppealGround::Cessation, PlanSections::default(), ago(70));
        cessation.certificate_issued_on = Some(ago(40));
        cessation.registered_on = Some(ago(10));
        appeals.push((pupil, "demo-appeal-response-due", cessation));
    }
    if let Some(&pupil) = on_support.first() {
        let mut mediating = blank(AppealGround::RefusalToAssess, PlanSections::default(), ago(20));
        mediating.mediation_requested_on = Some(ago(12));
        appeals.push((pupil, "demo-appeal-in-mediation", mediating));
    }
    if let Some(&pupil) = on_support.get(1) {
        let mut withdrawn = blank(AppealGround::RefusalToIssue, PlanSections::default(), ago(200));
        withdrawn.mediation_requested_on = Some(ago(190));
        withdrawn.mediation_on = Some(ago(170));
        withdrawn.mediation_outcome = Some(MediationOutcome::NotResolved);
        withdrawn.certificate_issued_on = Some(ago(168));
        withdrawn.registered_on = Some(ago(150));
        withdrawn.response_sent_on = Some(ago(110));
        withdrawn.decided_on = Some(ago(100));
        withdrawn.outcome = Some(AppealOutcome::Withdrawn);
        appeals.push((pupil, "demo-appeal-withdrawn", withdrawn));
    }
    appeals
}

/// Records the demo appeals of `tenant` (each under its own key, so a second
/// load records nothing new).
pub async fn seed_appeals(store: &Store, tenant: &TenantScope, today: NaiveDate) -> anyhow::Result<()> {
    let index = store.register_index(tenant).await?;
    let of_status =
        |status: &str| -> Vec<i64> { index.iter().filter(|(_, _, s)| s == status).map(|(id, _, _)| *id).collect() };
    let (with_plan, on_support) = (of_status("E"), of_status("K"));
    let scope = Scope::Tenant(tenant.clone());
    let actor = Actor { person: "demo-loader".into(), role: Role::Service, trace_id: None };
    for (pupil, key, facts) in demo_appeals(today, &with_plan, &on_support) {
        store.record_appeal(&scope, &actor, pupil, &facts, key).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::AppealStage;

    #[test]
    fn the_demo_shows_an_appeal_in_each_state_and_every_one_is_valid() {
        for today in [NaiveDate::from_ymd_opt(2026, 12, 6), NaiveDate::from_ymd_opt(2028, 2, 29)].into_iter().flatten()
        {
            let appeals = demo_appeals(today, &[1, 2, 3], &[4, 5]);
            let stages: BTreeSet<_> = appeals.iter().map(|(_, _, f)| f.stage(today)).collect();
            for stage in [
                AppealStage::AwaitingHearing,
                AppealStage::Mediation,
                AppealStage::Closed,
                AppealStage::AwaitingResponse,
            ] {
                assert!(stages.contains(&stage), "{stage:?} on {today}");
            }
            let outcomes: BTreeSet<_> = appeals.iter().filter_map(|(_, _, f)| f.outcome.map(|o| o.code())).collect();
            assert_eq!(outcomes, BTreeSet::from(["upheld", "withdrawn"]));
            for (_, key, facts) in &appeals {
                assert!(facts.violations(today, "").is_empty(), "{key} on {today}: {}", facts.violations(today, ""));
            }
        }
    }
}
