//! The council's referral overview, assembled from the store's grouped counts:
//! every status with how many referrals are in it now, and a month-by-month
//! series of referrals submitted, by kind, and of EHC plans issued with how many
//! within 20 weeks. The 20-week figure of each month is the domain's
//! [`Timeliness`], the rule the statutory clock report applies to a year, here
//! counted for a month (from the store's tallies).

use std::collections::{BTreeMap, HashMap};

use sen_platform::dates::to_proto;
use sen_proto::v1 as pb;

use super::wire::status_value;
use crate::domain::{CalendarMonth, Status, Timeliness};
use crate::store::DaySubmissions;

/// The overview: `counts` by status, and over `months` the `submitted` days
/// rolled up into months and the timeliness of the `plans` issued in each.
pub fn referral_stats(
    counts: &HashMap<Status, u32>,
    months: &[CalendarMonth],
    submitted: &[DaySubmissions],
    plans: impl Fn(CalendarMonth) -> Timeliness,
) -> pb::ReferralStats {
    pb::ReferralStats { by_status: by_status(counts), months: series(months, submitted, plans) }
}

/// Every status in the lifecycle's order, with its count; none is left out for having 0.
fn by_status(counts: &HashMap<Status, u32>) -> Vec<pb::StatusCount> {
    Status::ALL
        .iter()
        .map(|status| pb::StatusCount {
            status: status_value(*status),
            count: counts.get(status).copied().unwrap_or(0),
        })
        .collect()
}

/// One row per month of `months`, in their order, every month present even when
/// nothing happened in it; within a month, only kinds submitted, by code.
fn series(
    months: &[CalendarMonth],
    submitted: &[DaySubmissions],
    plans: impl Fn(CalendarMonth) -> Timeliness,
) -> Vec<pb::ReferralMonth> {
    let mut by_month: BTreeMap<CalendarMonth, BTreeMap<String, u32>> = BTreeMap::new();
    for day in submitted.iter().filter(|day| day.count > 0) {
        let total = by_month.entry(CalendarMonth::containing(day.on)).or_default().entry(day.kind.code()).or_default();
        *total = total.saturating_add(day.count);
    }
    months
        .iter()
        .map(|&month| {
            let issued = plans(month);
            pb::ReferralMonth {
                month: Some(to_proto(month.first_day())),
                submitted: by_month
                    .remove(&month)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(kind, count)| pb::KindCount { kind, count })
                    .collect(),
                plans_issued: issued.issued,
                issued_within_20_weeks: issued.within_20_weeks,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::{
        AssessmentDecision, ClockDates, ClockException, PlanDecision, ReferralKind, Specialism, final_plan_due,
        months_ending, timeliness_in,
    };

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn plan(received_on: NaiveDate, issued_on: NaiveDate, exception: Option<ClockException>) -> ClockDates {
        ClockDates {
            received_on,
            assessment_decision: Some((AssessmentDecision::Assess, received_on)),
            plan_decision: Some((PlanDecision::Issue, received_on)),
            final_plan_issued_on: Some(issued_on),
            exception,
        }
    }

    #[test]
    fn every_status_is_listed_in_order_with_none_as_zero() {
        let counts = HashMap::from([(Status::Submitted, 3), (Status::Closed, 1)]);
        let listed: Vec<(i32, u32)> = by_status(&counts).iter().map(|c| (c.status, c.count)).collect();
        use pb::ReferralStatus::*;
        assert_eq!(
            listed,
            [
                (Submitted as i32, 3),
                (Accepted as i32, 0),
                (Returned as i32, 0),
                (Declined as i32, 0),
                (Allocated as i32, 0),
                (InProgress as i32, 0),
                (Closed as i32, 1),
                (Withdrawn as i32, 0),
            ]
        );
    }

    #[test]
    fn days_roll_up_into_their_months_and_plans_count_as_sen2_counts_them() {
        let months = months_ending(d(2027, 1, 10), 3);
        let at = ReferralKind::AdvisoryTeacher(Specialism::SensoryHearing);
        let day = |on, kind, count| DaySubmissions { on, kind, count };
        let submitted = [
            day(d(2026, 11, 2), ReferralKind::EducationalPsychology, 2),
            day(d(2026, 11, 30), ReferralKind::EducationalPsychology, 1),
            day(d(2026, 11, 30), at, 1),
            day(d(2027, 1, 1), ReferralKind::EhcNeedsAssessment, 4),
        ];
        let r = d(2026, 6, 1);
        let plans = [
            plan(r, final_plan_due(r), None),
            plan(r, d(2026, 11, 20), None),
            plan(r, d(2026, 11, 25), Some(ClockException::AbsentFromArea)),
            plan(d(2026, 9, 1), d(2027, 1, 5), None),
        ];
        let rows = series(&months, &submitted, |month| timeliness_in(&plans, month.days()));
        let months: Vec<_> = rows.iter().map(|m| m.month.unwrap_or_default()).collect();
        assert_eq!(
            months.iter().map(|m| (m.year, m.month, m.day)).collect::<Vec<_>>(),
            [(2026, 11, 1), (2026, 12, 1), (2027, 1, 1)]
        );
        let kinds = |i: usize| rows[i].submitted.iter().map(|k| (k.kind.as_str(), k.count)).collect::<Vec<_>>();
        assert_eq!(kinds(0), [("advisory_teacher:sensory_hearing", 1), ("educational_psychology", 3)]);
        assert!(kinds(1).is_empty(), "a quiet month is listed, with no kinds");
        assert_eq!(kinds(2), [("ehc_needs_assessment", 4)]);
        let plans: Vec<(u32, u32)> = rows.iter().map(|m| (m.plans_issued, m.issued_within_20_weeks)).collect();
        // 2026-06-01 + 20 weeks is 2026-10-19: both November plans are late, and the
        // exception case is left out; January's was issued within 18 weeks.
        assert_eq!(plans, [(1, 0), (0, 0), (1, 1)]);
    }
}
