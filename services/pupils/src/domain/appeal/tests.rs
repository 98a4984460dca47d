//! The appeal rules at their boundaries.

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn refusal(decision_on: NaiveDate) -> AppealFacts {
    AppealFacts {
        ground: AppealGround::RefusalToAssess,
        sections: PlanSections::default(),
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

fn fields(v: &FieldViolations) -> Vec<String> {
    v.iter().map(|x| x.field.clone()).collect()
}

#[test]
fn sections_are_stored_as_their_letters() {
    let all = PlanSections { needs_b: true, provision_f: true, placement_i: true };
    assert_eq!(all.code(), "BFI");
    assert_eq!(PlanSections::from_code("BFI"), Some(all));
    assert_eq!(PlanSections::from_code("I").map(PlanSections::only_placement), Some(true));
    assert_eq!(PlanSections::from_code("X"), None);
}

#[test]
fn a_family_mediating_is_in_mediation_until_the_certificate() {
    let mut appeal = refusal(d(2026, 3, 2));
    appeal.mediation_requested_on = Some(d(2026, 3, 20));
    let today = d(2026, 3, 25);
    assert_eq!(appeal.stage(today), AppealStage::Mediation);
    assert_eq!(appeal.next_date(today), Some((d(2026, 4, 19), "mediation")), "30 days after the council was told");
    appeal.mediation_on = Some(d(2026, 4, 10));
    appeal.mediation_outcome = Some(MediationOutcome::NotResolved);
    appeal.certificate_issued_on = Some(d(2026, 4, 13));
    assert_eq!(appeal.stage(d(2026, 4, 14)), AppealStage::AwaitingRegistration);
    assert_eq!(appeal.next_date(d(2026, 4, 14)), Some((d(2026, 5, 13), "last day to appeal")));
}

#[test]
fn an_agreement_in_mediation_ends_the_dispute() {
    let mut appeal = refusal(d(2026, 3, 2));
    appeal.mediation_requested_on = Some(d(2026, 3, 20));
    appeal.mediation_on = Some(d(2026, 4, 10));
    appeal.mediation_outcome = Some(MediationOutcome::Resolved);
    assert_eq!(appeal.stage(d(2026, 4, 14)), AppealStage::ResolvedInMediation);
    assert!(!appeal.stage(d(2026, 4, 14)).is_open());
}

#[test]
fn a_registered_appeal_waits_for_the_response_then_the_hearing_then_the_decision() {
    let mut appeal = refusal(d(2026, 1, 5));
    appeal.certificate_issued_on = Some(d(2026, 1, 20));
    appeal.registered_on = Some(d(2026, 3, 2));
    assert_eq!(appeal.stage(d(2026, 3, 3)), AppealStage::AwaitingResponse);
    assert_eq!(appeal.next_date(d(2026, 3, 3)), Some((d(2026, 4, 15), "response due")));
    appeal.response_sent_on = Some(d(2026, 4, 14));
    appeal.hearing_on = Some(d(2026, 6, 10));
    assert_eq!(appeal.stage(d(2026, 6, 9)), AppealStage::AwaitingHearing);
    assert_eq!(appeal.stage(d(2026, 6, 10)), AppealStage::AwaitingDecision);
    appeal.decided_on = Some(d(2026, 6, 24));
    appeal.outcome = Some(AppealOutcome::Upheld);
    assert_eq!(appeal.stage(d(2026, 6, 24)), AppealStage::Closed);
}

#[test]
fn the_response_is_late_only_after_the_day_it_is_due() {
    let mut appeal = refusal(d(2026, 1, 5));
    appeal.registered_on = Some(d(2026, 3, 2));
    let due = d(2026, 4, 15);
    for (sent, late) in [(d(2026, 4, 14), false), (due, false), (d(2026, 4, 16), true)] {
        appeal.response_sent_on = Some(sent);
        assert_eq!(appeal.response_late(d(2026, 5, 1)), late, "sent {sent}");
    }
    appeal.response_sent_on = None;
    assert!(!appeal.response_late(due), "not late on the day");
    assert!(appeal.response_late(d(2026, 4, 16)), "late the day after");
}

#[test]
fn a_response_date_the_tribunal_set_stands_in_place_of_the_computed_one() {
    let mut appeal = refusal(d(2026, 1, 5));
    appeal.registered_on = Some(d(2026, 3, 2));
    appeal.response_due_given = Some(d(2026, 4, 20));
    assert_eq!(appeal.response_due(), Some(d(2026, 4, 20)));
}

#[test]
fn impossible_dates_and_orders_are_named_by_field() {
    let today = d(2026, 5, 1);
    let mut appeal = refusal(d(2026, 3, 2));
    appeal.registered_on = Some(d(2026, 2, 1));
    appeal.hearing_on = Some(d(2026, 1, 1));
    appeal.outcome = Some(AppealOutcome::Upheld);
    appeal.response_sent_on = Some(d(2026, 6, 1));
    let v = appeal.violations(today, "appeal.");
    let named = fields(&v);
    for field in ["appeal.registered_on", "appeal.hearing_on", "appeal.response_sent_on", "appeal.decided_on"] {
        assert!(named.contains(&field.to_owned()), "{field} in {named:?}");
    }
}

#[test]
fn an_appeal_against_a_plan_names_its_sections_and_no_other_does() {
    let today = d(2026, 5, 1);
    let mut appeal = refusal(d(2026, 3, 2));
    appeal.ground = AppealGround::AmendedPlan;
    assert_eq!(fields(&appeal.violations(today, "")), vec!["sections".to_owned()]);
    appeal.sections = PlanSections { needs_b: true, provision_f: true, placement_i: true };
    assert!(appeal.violations(today, "").is_empty());
    appeal.ground = AppealGround::Cessation;
    assert_eq!(fields(&appeal.violations(today, "")), vec!["sections".to_owned()]);
}

#[test]
fn steps_after_registration_need_the_registration() {
    let mut appeal = refusal(d(2026, 3, 2));
    appeal.hearing_on = Some(d(2026, 9, 1));
    assert_eq!(fields(&appeal.violations(d(2026, 5, 1), "")), vec!["hearing_on".to_owned()]);
}

#[test]
fn a_withdrawal_or_concession_may_come_before_any_hearing() {
    let mut appeal = refusal(d(2026, 1, 5));
    appeal.registered_on = Some(d(2026, 3, 2));
    appeal.hearing_on = Some(d(2026, 7, 1));
    appeal.decided_on = Some(d(2026, 4, 1));
    appeal.outcome = Some(AppealOutcome::Withdrawn);
    assert!(appeal.violations(d(2026, 5, 1), "").is_empty());
    appeal.outcome = Some(AppealOutcome::Dismissed);
    assert_eq!(fields(&appeal.violations(d(2026, 5, 1), "")), vec!["decided_on".to_owned()]);
}
