//! What follows an annual review's decision: amending the plan, or ceasing it.
//!
//! Amending (SEN and Disability Regulations 2014, regs. 20(10) and 22; SEND Code
//! of Practice 9.176 and 9.193–9.196):
//!
//! - within 4 weeks of the review meeting the council decides to keep, amend or
//!   cease the plan (reg. 20(10); CoP 9.176), and to amend it sends the parent or
//!   young person the plan with a notice of the proposed amendments (reg. 22(2)(a));
//! - the amended plan is issued as soon as practicable and in any event within
//!   8 weeks of sending those proposed amendments (reg. 22(3); CoP 9.193–9.196);
//! - the 4 weeks of reg. 20(10) and the 8 weeks of reg. 22(3) together put the
//!   amended plan at most 12 weeks after the meeting, which is how the High Court
//!   read them in R (L) v Devon CC \[2022\] EWHC 493 (Admin): proposing late does
//!   not buy the council more time.
//!
//! So the amended plan is due on the earlier of the two dates; [`AmendmentDue`]
//! says which rule gave it.
//!
//! Ceasing (Children and Families Act 2014, s. 45; reg. 31): the council records
//! why, coded as the DfE's SEN2 return codes a ceased plan ("CeaseReason", 1–9 in
//! the SEN2 person-level specification since the 2023 collection), and the day
//! the plan ceased.
//!
//! No date moves for school holidays: a meeting in the summer holidays has its
//! amended plan due 12 weeks later all the same.

use chrono::{NaiveDate, TimeDelta};

use super::review::{StepStatus, amended_plan_due, step};

/// Weeks from sending the proposed amendments to the amended plan (reg. 22(3)).
pub const AMENDMENT_WEEKS: i64 = 8;

/// The rule that sets an amended plan's due date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DueRule {
    /// 8 weeks after the proposed amendments were sent (reg. 22(3)).
    EightWeeksFromProposal,
    /// 12 weeks after the review meeting (regs. 20(10) and 22(3); R (L) v Devon CC \[2022\]).
    TwelveWeeksFromMeeting,
}

impl DueRule {
    /// `proposal_8_weeks` or `meeting_12_weeks`.
    pub fn code(self) -> &'static str {
        match self {
            Self::EightWeeksFromProposal => "proposal_8_weeks",
            Self::TwelveWeeksFromMeeting => "meeting_12_weeks",
        }
    }

    /// The rule in words, with its source.
    pub fn describe(self) -> &'static str {
        match self {
            Self::EightWeeksFromProposal => "8 weeks after the proposed amendments (reg. 22(3))",
            Self::TwelveWeeksFromMeeting => "12 weeks after the review meeting (regs. 20(10) and 22(3))",
        }
    }
}

/// When an amended plan is due, and by which rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AmendmentDue {
    /// The last day the amended plan is in time.
    pub due: NaiveDate,
    /// The rule that gave `due`.
    pub rule: DueRule,
}

/// The amended plan's due date: the earlier of 8 weeks after the proposal
/// (reg. 22(3)) and 12 weeks after the meeting (regs. 20(10) and 22(3)). On a
/// tie (the proposal sent exactly 4 weeks after the meeting) both rules agree
/// and the proposal's is named.
pub fn amendment_due(meeting_on: NaiveDate, proposed_on: NaiveDate) -> AmendmentDue {
    let from_proposal = proposed_on.checked_add_signed(TimeDelta::weeks(AMENDMENT_WEEKS)).unwrap_or(NaiveDate::MAX);
    let from_meeting = amended_plan_due(meeting_on);
    if from_proposal <= from_meeting {
        AmendmentDue { due: from_proposal, rule: DueRule::EightWeeksFromProposal }
    } else {
        AmendmentDue { due: from_meeting, rule: DueRule::TwelveWeeksFromMeeting }
    }
}

/// [`amendment_due`] once the proposal is recorded; before, the meeting's 12
/// weeks (the latest any proposal could give).
pub fn amendment_due_for(meeting_on: NaiveDate, proposed_on: Option<NaiveDate>) -> AmendmentDue {
    match proposed_on {
        Some(proposed) => amendment_due(meeting_on, proposed),
        None => AmendmentDue { due: amended_plan_due(meeting_on), rule: DueRule::TwelveWeeksFromMeeting },
    }
}

/// Where an amendment stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AmendmentStatus {
    /// Not issued yet, and the due day has not passed.
    Due,
    /// Not issued, and the due day has passed.
    Overdue,
    /// Issued on or before the due day.
    IssuedOnTime,
    /// Issued after the due day.
    IssuedLate,
}

impl AmendmentStatus {
    /// Late: issued late, or overdue and not issued.
    pub fn is_late(self) -> bool {
        matches!(self, Self::Overdue | Self::IssuedLate)
    }
}

/// An amendment's due date ([`amendment_due_for`]) and status on `today`.
pub fn amendment_status(
    meeting_on: NaiveDate,
    proposed_on: Option<NaiveDate>,
    issued_on: Option<NaiveDate>,
    today: NaiveDate,
) -> (AmendmentDue, AmendmentStatus) {
    let due = amendment_due_for(meeting_on, proposed_on);
    let StepStatus { late, done_on, .. } = step(due.due, issued_on, today);
    let status = match (done_on, late) {
        (Some(_), false) => AmendmentStatus::IssuedOnTime,
        (Some(_), true) => AmendmentStatus::IssuedLate,
        (None, false) => AmendmentStatus::Due,
        (None, true) => AmendmentStatus::Overdue,
    };
    (due, status)
}

/// Why a plan ceased, coded as the SEN2 return codes it (CeaseReason 1–9,
/// SEN2 person-level specification, 2023 collection onwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CeaseReason {
    /// 1: reached the maximum age (the end of the academic year in which they turn 25).
    ReachedMaximumAge,
    /// 2: ongoing educational or training needs being met without an EHC plan.
    NeedsMetWithoutPlan,
    /// 3: moved on to higher education.
    HigherEducation,
    /// 4: moved on to paid employment, excluding apprenticeships.
    PaidEmployment,
    /// 5: transferred to another local authority.
    TransferredToAnotherLa,
    /// 6: the young person no longer wishes to engage in education or training.
    NoLongerEngaging,
    /// 7: the child or young person has moved abroad.
    MovedAbroad,
    /// 8: the child or young person has died.
    Deceased,
    /// 9: any other reason.
    Other,
}

impl CeaseReason {
    /// Every reason, in SEN2 code order.
    pub const ALL: [CeaseReason; 9] = [
        Self::ReachedMaximumAge,
        Self::NeedsMetWithoutPlan,
        Self::HigherEducation,
        Self::PaidEmployment,
        Self::TransferredToAnotherLa,
        Self::NoLongerEngaging,
        Self::MovedAbroad,
        Self::Deceased,
        Self::Other,
    ];

    /// The SEN2 code, 1–9.
    pub fn sen2_code(self) -> u8 {
        match self {
            Self::ReachedMaximumAge => 1,
            Self::NeedsMetWithoutPlan => 2,
            Self::HigherEducation => 3,
            Self::PaidEmployment => 4,
            Self::TransferredToAnotherLa => 5,
            Self::NoLongerEngaging => 6,
            Self::MovedAbroad => 7,
            Self::Deceased => 8,
            Self::Other => 9,
        }
    }

    /// The reason for its SEN2 code.
    pub fn from_sen2(code: i64) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| i64::from(r.sen2_code()) == code)
            .ok_or_else(|| format!("{code} is not an SEN2 reason for ceasing a plan (1 to 9)"))
    }

    /// The reason in words, as the SEN2 guidance puts it.
    pub fn label(self) -> &'static str {
        match self {
            Self::ReachedMaximumAge => "Reached maximum age",
            Self::NeedsMetWithoutPlan => "Needs being met without an EHC plan",
            Self::HigherEducation => "Moved on to higher education",
            Self::PaidEmployment => "Moved on to paid employment (not an apprenticeship)",
            Self::TransferredToAnotherLa => "Transferred to another local authority",
            Self::NoLongerEngaging => "No longer wishes to engage in education or training",
            Self::MovedAbroad => "Moved abroad",
            Self::Deceased => "Deceased",
            Self::Other => "Other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_prompt_proposal_makes_the_plan_due_8_weeks_after_it() {
        let due = amendment_due(d(2026, 1, 12), d(2026, 1, 19));
        assert_eq!(due, AmendmentDue { due: d(2026, 3, 16), rule: DueRule::EightWeeksFromProposal });
    }

    #[test]
    fn a_late_proposal_leaves_the_plan_due_12_weeks_after_the_meeting() {
        // Proposed 5 weeks after the meeting: 8 more weeks would be week 13.
        let due = amendment_due(d(2026, 1, 12), d(2026, 2, 16));
        assert_eq!(due, AmendmentDue { due: d(2026, 4, 6), rule: DueRule::TwelveWeeksFromMeeting });
    }

    #[test]
    fn a_proposal_4_weeks_after_the_meeting_gives_the_same_day_by_both_rules() {
        let due = amendment_due(d(2026, 1, 12), d(2026, 2, 9));
        assert_eq!(due, AmendmentDue { due: d(2026, 4, 6), rule: DueRule::EightWeeksFromProposal });
        let a_day_later = amendment_due(d(2026, 1, 12), d(2026, 2, 10));
        assert_eq!(a_day_later.rule, DueRule::TwelveWeeksFromMeeting);
        assert_eq!(a_day_later.due, d(2026, 4, 6));
    }

    #[test]
    fn an_amended_plan_is_on_time_on_its_due_day_and_late_the_day_after() {
        let meeting = d(2026, 1, 12);
        let proposed = d(2026, 1, 19);
        let due = d(2026, 3, 16);
        let status = |issued, today| amendment_status(meeting, Some(proposed), issued, today).1;
        assert_eq!(status(Some(d(2026, 3, 15)), d(2026, 3, 20)), AmendmentStatus::IssuedOnTime);
        assert_eq!(status(Some(due), d(2026, 3, 20)), AmendmentStatus::IssuedOnTime);
        assert_eq!(status(Some(d(2026, 3, 17)), d(2026, 3, 20)), AmendmentStatus::IssuedLate);
        assert_eq!(status(None, d(2026, 3, 15)), AmendmentStatus::Due);
        assert_eq!(status(None, due), AmendmentStatus::Due);
        assert_eq!(status(None, d(2026, 3, 17)), AmendmentStatus::Overdue);
    }

    #[test]
    fn weeks_count_across_29_february() {
        // 8 weeks from 1 February 2024 runs through the leap day.
        assert_eq!(amendment_due(d(2024, 1, 20), d(2024, 2, 1)).due, d(2024, 3, 28));
        // A proposal on the leap day itself.
        assert_eq!(amendment_due(d(2024, 2, 20), d(2024, 2, 29)).due, d(2024, 4, 25));
        // 12 weeks from a meeting on the leap day.
        let due = amendment_due(d(2024, 2, 29), d(2024, 4, 1));
        assert_eq!(due, AmendmentDue { due: d(2024, 5, 23), rule: DueRule::TwelveWeeksFromMeeting });
    }

    #[test]
    fn a_meeting_in_the_summer_holidays_moves_no_date() {
        // Meeting on 5 August 2026, in the school summer holidays.
        let due = amendment_due(d(2026, 8, 5), d(2026, 8, 12));
        assert_eq!(due, AmendmentDue { due: d(2026, 10, 7), rule: DueRule::EightWeeksFromProposal });
        assert_eq!(amendment_due(d(2026, 8, 5), d(2026, 9, 30)).due, d(2026, 10, 28));
    }

    #[test]
    fn without_a_proposal_the_plan_is_due_12_weeks_after_the_meeting() {
        let (due, status) = amendment_status(d(2026, 1, 12), None, None, d(2026, 4, 7));
        assert_eq!(due, AmendmentDue { due: d(2026, 4, 6), rule: DueRule::TwelveWeeksFromMeeting });
        assert_eq!(status, AmendmentStatus::Overdue);
        assert!(status.is_late());
    }

    #[test]
    fn cease_reasons_are_the_sen2_codes_1_to_9() {
        for (i, reason) in CeaseReason::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(reason.sen2_code()), i + 1);
            assert_eq!(CeaseReason::from_sen2(i64::from(reason.sen2_code())), Ok(reason));
        }
        assert_eq!(CeaseReason::from_sen2(5), Ok(CeaseReason::TransferredToAnotherLa));
        assert!(CeaseReason::from_sen2(0).is_err());
        assert!(CeaseReason::from_sen2(10).is_err());
    }

    #[test]
    fn far_dates_saturate_instead_of_panicking() {
        assert_eq!(amendment_due(NaiveDate::MAX, NaiveDate::MAX).due, NaiveDate::MAX);
    }
}
