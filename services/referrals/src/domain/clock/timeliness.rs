//! The 20-week timeliness figure of the SEN2 return: of the final plans issued
//! in a period, how many within 20 weeks of the request (reg. 13(2)), exception
//! cases left out of both counts (regs. 10(4), 13(3)); and the same figure with
//! exception cases counted in, as the DfE publishes both. Counted from the
//! stored dates alone: a plan issued is issued, whatever became of the referral
//! afterwards.

use std::ops::RangeInclusive;

use chrono::NaiveDate;

use super::{ClockDates, final_plan_due};

/// Plans issued in a calendar year, and how many within 20 weeks, as SEN2 counts them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeliness {
    /// Plans issued in the year, exception cases excluded.
    pub issued: u32,
    /// Of those, issued within 20 weeks of the request.
    pub within_20_weeks: u32,
    /// Plans issued in the year with an exception, left out of both counts.
    pub excluded_exceptions: u32,
    /// `within_20_weeks` as a percentage of `issued`, to one decimal place; none when none were issued.
    pub percent: Option<f64>,
    /// Plans issued in the year, exception cases included.
    pub issued_including_exceptions: u32,
    /// Of those, issued within 20 weeks of the request.
    pub within_20_weeks_including_exceptions: u32,
    /// The percentage with exception cases included; none when none were issued.
    pub percent_including_exceptions: Option<f64>,
}

impl Timeliness {
    /// No plans issued.
    pub const NONE: Timeliness = Timeliness {
        issued: 0,
        within_20_weeks: 0,
        excluded_exceptions: 0,
        percent: None,
        issued_including_exceptions: 0,
        within_20_weeks_including_exceptions: 0,
        percent_including_exceptions: None,
    };
}

/// `within` as a percentage of `of`, to one decimal place; none of none.
fn percent(within: u32, of: u32) -> Option<f64> {
    // Tenths of a percent, rounded half away from zero, then back to a percent.
    (of > 0).then(|| (f64::from(within) * 1000.0 / f64::from(of)).round() / 10.0)
}

/// Final plans issued, already counted (the store's tallies): whether within 20
/// weeks of the request, whether an exception was recorded, and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuedPlans {
    /// Issued within 20 weeks of the request.
    pub within_20_weeks: bool,
    /// An exception was recorded against the case.
    pub exception: bool,
    /// How many plans.
    pub plans: u32,
}

/// The 20-week timeliness of plans counted already, as [`timeliness_in`] counts
/// them one by one: exception cases left out of the SEN2 figures.
pub fn timeliness_of(counts: &[IssuedPlans]) -> Timeliness {
    let mut result = Timeliness::NONE;
    for count in counts {
        result.issued_including_exceptions = result.issued_including_exceptions.saturating_add(count.plans);
        if count.within_20_weeks {
            result.within_20_weeks_including_exceptions =
                result.within_20_weeks_including_exceptions.saturating_add(count.plans);
        }
        if count.exception {
            result.excluded_exceptions = result.excluded_exceptions.saturating_add(count.plans);
            continue;
        }
        result.issued = result.issued.saturating_add(count.plans);
        if count.within_20_weeks {
            result.within_20_weeks = result.within_20_weeks.saturating_add(count.plans);
        }
    }
    result.percent = percent(result.within_20_weeks, result.issued);
    result.percent_including_exceptions =
        percent(result.within_20_weeks_including_exceptions, result.issued_including_exceptions);
    result
}

/// The 20-week timeliness of plans issued in `calendar_year`, excluding exception
/// cases (DfE SEN2: "EHC plans issued within 20 weeks, excluding exception cases").
pub fn timeliness(cases: &[ClockDates], calendar_year: i32) -> Timeliness {
    match (NaiveDate::from_ymd_opt(calendar_year, 1, 1), NaiveDate::from_ymd_opt(calendar_year, 12, 31)) {
        (Some(first), Some(last)) => timeliness_in(cases, first..=last),
        _ => Timeliness::NONE,
    }
}

/// The 20-week timeliness of plans issued on the days of `period` (a month, a
/// year), counted as SEN2 counts them: exception cases left out of both figures.
pub fn timeliness_in(cases: &[ClockDates], period: RangeInclusive<NaiveDate>) -> Timeliness {
    let mut result = Timeliness::NONE;
    for case in cases {
        let Some(issued_on) = case.final_plan_issued_on.filter(|on| period.contains(on)) else { continue };
        let within = issued_on <= final_plan_due(case.received_on);
        result.issued_including_exceptions = result.issued_including_exceptions.saturating_add(1);
        if within {
            result.within_20_weeks_including_exceptions = result.within_20_weeks_including_exceptions.saturating_add(1);
        }
        if case.exception.is_some() {
            result.excluded_exceptions = result.excluded_exceptions.saturating_add(1);
            continue;
        }
        result.issued = result.issued.saturating_add(1);
        if within {
            result.within_20_weeks = result.within_20_weeks.saturating_add(1);
        }
    }
    result.percent = percent(result.within_20_weeks, result.issued);
    result.percent_including_exceptions =
        percent(result.within_20_weeks_including_exceptions, result.issued_including_exceptions);
    result
}
