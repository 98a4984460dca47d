//! What a `ListReferrals` request narrows the list to, checked at once: every
//! bad filter is named together, and nothing is listed.

use std::ops::RangeInclusive;

use chrono::NaiveDate;
use sen_platform::dates::{checked_as_of, optional_date};
use sen_platform::fields::{AllChecked, Checked, MOST_DAYS, days, field};
use sen_platform::ids::Urn;
use sen_platform::paging::Page;
use sen_proto::v1 as pb;

use super::wire;
use crate::domain::ReferralKind;
use crate::store::{ReferralFilter, Store};

/// The page, the day the list is judged on, and the filter of `req` on `today`.
pub fn referral_filter(req: &pb::ListReferralsRequest, today: NaiveDate) -> Checked<(Page, NaiveDate, ReferralFilter)> {
    let (page, as_of, school, kind, status, older_than_days, submitted, issued, kind_family) = (
        Page::checked(req.page.as_ref(), "page"),
        checked_as_of(req.as_of.as_ref(), today),
        field("school_urn", if req.school_urn.is_empty() { Ok(None) } else { Urn::parse(&req.school_urn).map(Some) }),
        field("kind", if req.kind.is_empty() { Ok(None) } else { ReferralKind::parse(&req.kind).map(Some) }),
        field("status", wire::status(req.status)),
        days(req.older_than_days, "older_than_days", MOST_DAYS),
        days_between(req.submitted_from.as_ref(), req.submitted_to.as_ref(), "submitted"),
        days_between(req.final_plan_issued_from.as_ref(), req.final_plan_issued_to.as_ref(), "final_plan_issued"),
        kind_family_of(&req.kind_family),
    )
        .all()?;
    let older_than = (older_than_days > 0).then(|| Store::submitted_before(as_of, older_than_days));
    let filter = ReferralFilter {
        school,
        kind,
        status,
        // Both bounds on the last day submitted hold: the earlier one.
        submitted_by: older_than
            .into_iter()
            .chain(submitted.as_ref().map(|days| *days.end()))
            .filter(|day| *day < NaiveDate::MAX)
            .min(),
        overdue_on: req.overdue.then_some(as_of),
        submitted_from: submitted.as_ref().map(|days| *days.start()).filter(|day| *day > NaiveDate::MIN),
        final_plan_issued: issued,
        within_20_weeks: req.issued_within_20_weeks,
        open_only: req.open_only,
        kind_family,
    };
    Ok((page, as_of, filter))
}

/// The kind families a list may be narrowed to, with the prefix of their codes.
const KIND_FAMILIES: &[(&str, &str)] = &[("advisory_teacher", "advisory_teacher:")];

/// The prefix of the kinds in family `family` (none: any kind).
fn kind_family_of(family: &str) -> Checked<Option<&'static str>> {
    if family.is_empty() {
        return Ok(None);
    }
    match KIND_FAMILIES.iter().find(|(name, _)| *name == family) {
        Some((_, prefix)) => Ok(Some(prefix)),
        None => field("kind_family", Err("is advisory_teacher (or empty)".to_owned())),
    }
}

/// The days from `from` to `to` (either open-ended) named `<name>_from` and
/// `<name>_to`; none when neither is given. A range that ends before it starts
/// is refused under `<name>_to`.
fn days_between(
    from: Option<&pb::Date>,
    to: Option<&pb::Date>,
    name: &str,
) -> Checked<Option<RangeInclusive<NaiveDate>>> {
    let (from_name, to_name) = (format!("{name}_from"), format!("{name}_to"));
    let (from, to) = (optional_date(from, &from_name), optional_date(to, &to_name)).all()?;
    match (from, to) {
        (None, None) => Ok(None),
        (Some(from), Some(to)) if to < from => field(&to_name, Err(format!("{to} is before {from_name} ({from})"))),
        (from, to) => Ok(Some(from.unwrap_or(NaiveDate::MIN)..=to.unwrap_or(NaiveDate::MAX))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: i32, d: i32) -> Option<pb::Date> {
        Some(pb::Date { year: y, month: m, day: d })
    }

    #[test]
    fn a_period_runs_from_its_first_day_to_its_last_and_may_be_open_ended() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let req = pb::ListReferralsRequest {
            final_plan_issued_from: day(2026, 1, 1),
            final_plan_issued_to: day(2026, 12, 31),
            submitted_from: day(2026, 3, 1),
            issued_within_20_weeks: Some(false),
            ..Default::default()
        };
        let (_, _, filter) = referral_filter(&req, today).unwrap();
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(filter.final_plan_issued, Some(first..=NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()));
        assert_eq!(filter.submitted_from, NaiveDate::from_ymd_opt(2026, 3, 1));
        assert_eq!(filter.submitted_by, None, "no last day given");
        assert_eq!(filter.within_20_weeks, Some(false));
    }

    #[test]
    fn the_earlier_of_two_last_days_submitted_holds() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let req = pb::ListReferralsRequest { older_than_days: 7, submitted_to: day(2026, 3, 31), ..Default::default() };
        let (_, _, filter) = referral_filter(&req, today).unwrap();
        assert_eq!(filter.submitted_by, NaiveDate::from_ymd_opt(2026, 3, 31));
        let req =
            pb::ListReferralsRequest { older_than_days: 7, submitted_to: day(2026, 12, 31), ..Default::default() };
        let (_, _, filter) = referral_filter(&req, today).unwrap();
        assert_eq!(filter.submitted_by, NaiveDate::from_ymd_opt(2026, 11, 17));
    }

    #[test]
    fn a_period_that_ends_before_it_starts_or_an_impossible_day_is_named() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let req = pb::ListReferralsRequest {
            final_plan_issued_from: day(2026, 6, 1),
            final_plan_issued_to: day(2026, 5, 31),
            submitted_from: day(2026, 2, 30),
            ..Default::default()
        };
        let fields: Vec<String> = referral_filter(&req, today).unwrap_err().iter().map(|v| v.field.clone()).collect();
        assert_eq!(fields, ["submitted_from", "final_plan_issued_to"]);
    }
}
