//! Reading what an annual review's decision led to: the amendment's proposal
//! and issue dates, or the plan's cessation (reason, day, and the status the
//! pupil moves to). Every rule names the field at fault, judged on the fields
//! that parsed, so one answer lists every mistake.

use chrono::NaiveDate;
use sen_platform::dates::{not_future, optional_date, to_proto, to_proto_opt};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, Checked, field, none_of};
use sen_proto::v1 as pb;

use crate::domain::{AmendmentStatus, CeaseReason, DueRule, ReviewDecision, SenStatus, amendment_status};
use crate::entity::annual_review;
use crate::store::Cessation;

/// What a review's decision led to, as recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// When the proposed amendments were sent.
    pub amendments_proposed_on: Option<NaiveDate>,
    /// When the amended plan was issued.
    pub amended_plan_issued_on: Option<NaiveDate>,
    /// Why the plan ceases.
    pub cease_reason: Option<CeaseReason>,
    /// The day it ceased and the status the pupil moved to.
    pub cessation: Option<Cessation>,
}

/// A reason for ceasing: unspecified is none; anything else must be an SEN2 code.
fn cease_reason(value: i32) -> Result<Option<CeaseReason>, String> {
    match value {
        0 => Ok(None),
        code => CeaseReason::from_sen2(i64::from(code)).map(Some),
    }
}

/// The outcome columns of a stored review, onto its wire form, judged on `today`.
pub fn outcome_to_proto(r: &annual_review::Model, today: NaiveDate, review: &mut pb::AnnualReview) {
    review.amendments_proposed_on = to_proto_opt(r.amendments_proposed_on);
    review.amended_plan_issued_on = to_proto_opt(r.amended_plan_issued_on);
    if r.decision.as_deref() == Some(ReviewDecision::Amend.code()) {
        let (due, status) = amendment_status(r.meeting_on, r.amendments_proposed_on, r.amended_plan_issued_on, today);
        review.amended_plan_due = Some(to_proto(due.due));
        review.amended_plan_due_rule = match due.rule {
            DueRule::EightWeeksFromProposal => pb::AmendmentDueRule::Proposal8Weeks as i32,
            DueRule::TwelveWeeksFromMeeting => pb::AmendmentDueRule::Meeting12Weeks as i32,
        };
        review.amendment_status = match status {
            AmendmentStatus::Due => pb::AmendmentStatus::Due as i32,
            AmendmentStatus::Overdue => pb::AmendmentStatus::Overdue as i32,
            AmendmentStatus::IssuedOnTime => pb::AmendmentStatus::IssuedOnTime as i32,
            AmendmentStatus::IssuedLate => pb::AmendmentStatus::IssuedLate as i32,
        };
    }
    // Stored codes are the SEN2 codes, which the enum's numbers are.
    review.cease_reason = r.cease_reason.map_or(0, i32::from);
    review.ceased_on = to_proto_opt(r.ceased_on);
    review.ceased_to = match r.ceased_to.as_deref().map(SenStatus::from_code) {
        Some(Ok(SenStatus::SenSupport)) => pb::SenProvision::SenSupport as i32,
        Some(Ok(SenStatus::NoSen)) => pb::SenProvision::NoSen as i32,
        _ => pb::SenProvision::Unspecified as i32,
    };
}

/// Days an amended plan is late on `today`: to its issue, or to `today` when not issued.
pub fn days_late(r: &annual_review::Model, today: NaiveDate) -> i32 {
    let due = amendment_status(r.meeting_on, r.amendments_proposed_on, r.amended_plan_issued_on, today).0.due;
    let until = r.amended_plan_issued_on.unwrap_or(today);
    i32::try_from((until - due).num_days()).unwrap_or(i32::MAX).max(0)
}

/// The status a pupil leaves E for: K or N.
fn ceased_to(value: i32) -> Result<Option<SenStatus>, String> {
    match pb::SenProvision::try_from(value) {
        Ok(pb::SenProvision::Unspecified) => Ok(None),
        Ok(pb::SenProvision::SenSupport) => Ok(Some(SenStatus::SenSupport)),
        Ok(pb::SenProvision::NoSen) => Ok(Some(SenStatus::NoSen)),
        Ok(pb::SenProvision::EhcPlan) => Err("must be K (SEN support) or N (no SEN): the plan has ceased".to_owned()),
        Err(_) => Err(format!("{value} is not an SEN provision status")),
    }
}

/// The outcome fields of `req`, given the meeting and decision as parsed (none
/// when they did not parse: their own errors are reported by the caller).
pub fn outcome(
    req: &pb::RecordAnnualReviewRequest,
    meeting_on: Option<NaiveDate>,
    decision: Option<ReviewDecision>,
    today: NaiveDate,
) -> Checked<Outcome> {
    let proposed = optional_date(req.amendments_proposed_on.as_ref(), "amendments_proposed_on");
    let issued = optional_date(req.amended_plan_issued_on.as_ref(), "amended_plan_issued_on");
    let reason = field("cease_reason", cease_reason(req.cease_reason));
    let ceased_on = optional_date(req.ceased_on.as_ref(), "ceased_on");
    let to = field("ceased_to", ceased_to(req.ceased_to));
    let rules = rules(
        Parsed {
            meeting_on,
            decision,
            proposed: proposed.as_ref().ok().copied().flatten(),
            issued: issued.as_ref().ok().copied().flatten(),
            reason_given: req.cease_reason != 0,
            ceased_on: ceased_on.as_ref().ok().copied().flatten(),
            to_given: req.ceased_to != 0,
        },
        today,
    );
    let (amendments_proposed_on, amended_plan_issued_on, cease_reason, ceased_on, to, ()) =
        (proposed, issued, reason, ceased_on, to, none_of(rules)).all()?;
    let cessation = match (ceased_on, to) {
        (Some(ceased_on), Some(to)) => Some(Cessation { ceased_on, to }),
        _ => None,
    };
    Ok(Outcome { amendments_proposed_on, amended_plan_issued_on, cease_reason, cessation })
}

/// The outcome's fields that parsed.
struct Parsed {
    meeting_on: Option<NaiveDate>,
    decision: Option<ReviewDecision>,
    proposed: Option<NaiveDate>,
    issued: Option<NaiveDate>,
    /// A reason was given (parsed or not: a bad one is reported by its parse).
    reason_given: bool,
    ceased_on: Option<NaiveDate>,
    /// A status was given (parsed or not).
    to_given: bool,
}

fn rules(p: Parsed, today: NaiveDate) -> FieldViolations {
    let mut violations = FieldViolations::new();
    let dates =
        [("amendments_proposed_on", p.proposed), ("amended_plan_issued_on", p.issued), ("ceased_on", p.ceased_on)];
    for (name, when) in dates {
        if let Some(Err(ahead)) = when.map(|day| not_future(day, today, name)) {
            violations.extend(ahead);
        }
    }
    let amending = p.decision == Some(ReviewDecision::Amend);
    let ceasing = p.decision == Some(ReviewDecision::Cease);
    // Proposed amendments follow the meeting (reg. 22(2)(a)); the amended plan follows them (reg. 22(3)).
    if let (Some(meeting), Some(proposed)) = (p.meeting_on, p.proposed)
        && proposed < meeting
    {
        violations.add("amendments_proposed_on", format!("{proposed} is before the meeting on {meeting}"));
    }
    match (p.proposed, p.issued) {
        (Some(proposed), Some(issued)) if issued < proposed => violations
            .add("amended_plan_issued_on", format!("{issued} is before the proposed amendments on {proposed}")),
        (None, Some(_)) => violations.add("amendments_proposed_on", "is required with the amended plan's issue date"),
        _ => {}
    }
    if !amending {
        for (name, given) in
            [("amendments_proposed_on", p.proposed.is_some()), ("amended_plan_issued_on", p.issued.is_some())]
        {
            if given {
                violations.add(name, "is recorded only for a decision to amend the plan");
            }
        }
    }
    if ceasing && !p.reason_given {
        violations.add("cease_reason", "is required with a decision to cease the plan (an SEN2 reason, 1 to 9)");
    }
    if !ceasing {
        for (name, given) in
            [("cease_reason", p.reason_given), ("ceased_on", p.ceased_on.is_some()), ("ceased_to", p.to_given)]
        {
            if given {
                violations.add(name, "is recorded only for a decision to cease the plan");
            }
        }
    } else {
        match (p.ceased_on.is_some(), p.to_given) {
            (true, false) => violations.add("ceased_to", "is required with the day the plan ceased (K or N)"),
            (false, true) => violations.add("ceased_on", "is required with the status the pupil moves to"),
            _ => {}
        }
    }
    if let (Some(meeting), Some(ceased)) = (p.meeting_on, p.ceased_on)
        && ceased < meeting
    {
        violations.add("ceased_on", format!("{ceased} is before the meeting on {meeting}"));
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 6, 1);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    fn fields_at_fault(req: &pb::RecordAnnualReviewRequest, decision: Option<ReviewDecision>) -> Vec<String> {
        match outcome(req, Some(d(2026, 3, 2)), decision, today()) {
            Ok(_) => Vec::new(),
            Err(v) => {
                let mut fields: Vec<String> = v.iter().map(|f| f.field.clone()).collect();
                fields.sort();
                fields
            }
        }
    }

    #[test]
    fn an_amendment_with_its_dates_in_order_is_read() {
        let req = pb::RecordAnnualReviewRequest {
            amendments_proposed_on: Some(to_proto(d(2026, 3, 9))),
            amended_plan_issued_on: Some(to_proto(d(2026, 4, 20))),
            ..Default::default()
        };
        let read = outcome(&req, Some(d(2026, 3, 2)), Some(ReviewDecision::Amend), today()).unwrap();
        assert_eq!(read.amendments_proposed_on, Some(d(2026, 3, 9)));
        assert_eq!(read.amended_plan_issued_on, Some(d(2026, 4, 20)));
    }

    #[test]
    fn an_issue_before_the_proposal_and_a_proposal_before_the_meeting_are_named() {
        let req = pb::RecordAnnualReviewRequest {
            amendments_proposed_on: Some(to_proto(d(2026, 3, 1))),
            amended_plan_issued_on: Some(to_proto(d(2026, 2, 28))),
            ..Default::default()
        };
        assert_eq!(
            fields_at_fault(&req, Some(ReviewDecision::Amend)),
            ["amended_plan_issued_on", "amendments_proposed_on"]
        );
    }

    #[test]
    fn dates_after_today_are_refused() {
        let req = pb::RecordAnnualReviewRequest {
            amendments_proposed_on: Some(to_proto(d(2026, 6, 2))),
            amended_plan_issued_on: Some(to_proto(d(2026, 6, 3))),
            ..Default::default()
        };
        assert_eq!(
            fields_at_fault(&req, Some(ReviewDecision::Amend)),
            ["amended_plan_issued_on", "amendments_proposed_on"]
        );
        let on_the_day = pb::RecordAnnualReviewRequest {
            amendments_proposed_on: Some(to_proto(today())),
            amended_plan_issued_on: Some(to_proto(today())),
            ..Default::default()
        };
        assert!(fields_at_fault(&on_the_day, Some(ReviewDecision::Amend)).is_empty(), "today is not the future");
    }

    #[test]
    fn a_reason_code_not_in_the_sen2_list_is_refused() {
        let req = pb::RecordAnnualReviewRequest { cease_reason: 10, ..Default::default() };
        assert_eq!(fields_at_fault(&req, Some(ReviewDecision::Cease)), ["cease_reason"]);
    }

    #[test]
    fn a_decision_to_cease_needs_its_reason_and_the_day_with_the_new_status() {
        let bare = pb::RecordAnnualReviewRequest::default();
        assert_eq!(fields_at_fault(&bare, Some(ReviewDecision::Cease)), ["cease_reason"]);
        let no_status = pb::RecordAnnualReviewRequest {
            cease_reason: pb::CeaseReason::TransferredToAnotherLa as i32,
            ceased_on: Some(to_proto(d(2026, 4, 1))),
            ..Default::default()
        };
        assert_eq!(fields_at_fault(&no_status, Some(ReviewDecision::Cease)), ["ceased_to"]);
        let back_to_e = pb::RecordAnnualReviewRequest {
            cease_reason: pb::CeaseReason::TransferredToAnotherLa as i32,
            ceased_on: Some(to_proto(d(2026, 4, 1))),
            ceased_to: pb::SenProvision::EhcPlan as i32,
            ..Default::default()
        };
        assert_eq!(fields_at_fault(&back_to_e, Some(ReviewDecision::Cease)), ["ceased_to"]);
        let before_meeting = pb::RecordAnnualReviewRequest {
            cease_reason: pb::CeaseReason::NeedsMetWithoutPlan as i32,
            ceased_on: Some(to_proto(d(2026, 3, 1))),
            ceased_to: pb::SenProvision::SenSupport as i32,
            ..Default::default()
        };
        assert_eq!(fields_at_fault(&before_meeting, Some(ReviewDecision::Cease)), ["ceased_on"]);
    }

    #[test]
    fn amendment_and_cessation_fields_belong_to_their_own_decision() {
        let req = pb::RecordAnnualReviewRequest {
            amendments_proposed_on: Some(to_proto(d(2026, 3, 9))),
            cease_reason: pb::CeaseReason::Other as i32,
            ..Default::default()
        };
        assert_eq!(fields_at_fault(&req, Some(ReviewDecision::Maintain)), ["amendments_proposed_on", "cease_reason"]);
        let issued_alone = pb::RecordAnnualReviewRequest {
            amended_plan_issued_on: Some(to_proto(d(2026, 4, 1))),
            ..Default::default()
        };
        assert_eq!(fields_at_fault(&issued_alone, Some(ReviewDecision::Amend)), ["amendments_proposed_on"]);
    }
}
