//! The statutory clock page's list (`ListOpenRequests`): the open EHC needs
//! assessment requests judged as the clock report judges them, filtered by
//! health and school, ordered by a column of the page, a page at a time (by
//! position: the token `@N`), with how many match.
//!
//! Only the requests whose clock may still run are read
//! (`Store::open_statutory_requests`); the report's figures are its
//! `figures_only` form, from the tallies.

use std::cmp::Ordering;
use std::collections::HashMap;

use sen_platform::paging::Page;
use sen_proto::v1 as pb;

use crate::error::Result;
use crate::store::{next_position, position};

/// An order of the page's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenSort {
    /// As the report lists them: oldest first (the default).
    Report,
    /// By the day received.
    Received,
    /// By the referral's id.
    Referral,
    /// By the pupil's id.
    Pupil,
    /// By the school's place in the caller's `school_order`.
    School,
    /// By the stage's code.
    Stage,
    /// By the next deadline's day.
    Deadline,
    /// By the health's code.
    Health,
}

/// The order named `code` (empty: the report's, oldest first).
pub fn sort_of(code: &str) -> std::result::Result<OpenSort, String> {
    Ok(match code {
        "" => OpenSort::Report,
        "received" => OpenSort::Received,
        "referral" => OpenSort::Referral,
        "pupil" => OpenSort::Pupil,
        "school" => OpenSort::School,
        "stage" => OpenSort::Stage,
        "deadline" => OpenSort::Deadline,
        "health" => OpenSort::Health,
        other => return Err(format!("{other:?} is not an order of the open requests")),
    })
}

/// The health filter named `code` (empty: any).
pub fn health_of(code: &str) -> std::result::Result<String, String> {
    match code {
        "" | "on_track" | "at_risk" | "breached" => Ok(code.to_owned()),
        other => Err(format!("{other:?} is not a health (on_track, at_risk or breached)")),
    }
}

/// A day's order: none first, then by year, month and day.
fn day(date: Option<&pb::Date>) -> Option<(i32, i32, i32)> {
    date.map(|d| (d.year, d.month, d.day))
}

/// `open` (oldest first) kept where it matches `health` and `school_urn`, in
/// `sort` order (`descending` if asked; ties keep their order), and the page
/// `page` of it: the page, the next page's token and how many matched.
pub fn page_of(
    mut open: Vec<pb::OpenRequest>,
    req: &pb::ListOpenRequestsRequest,
    health: &str,
    sort: OpenSort,
    page: &Page,
) -> Result<(Vec<pb::OpenRequest>, String, u32)> {
    let start = position(page)?;
    let clock = |r: &pb::OpenRequest| r.clock.clone().unwrap_or_default();
    open.retain(|r| {
        (health.is_empty() || clock(r).health == health)
            && (req.school_urn.is_empty() || r.school_urn == req.school_urn)
    });
    let places: HashMap<&str, usize> =
        req.school_order.iter().enumerate().map(|(i, urn)| (urn.as_str(), i + 1)).collect();
    let descending = req.descending;
    let direct = |order: Ordering| if descending { order.reverse() } else { order };
    let by = |a: &pb::OpenRequest, b: &pb::OpenRequest| -> Ordering {
        let (ca, cb) = (a.clock.as_ref(), b.clock.as_ref());
        match sort {
            OpenSort::Report => Ordering::Equal,
            OpenSort::Received => {
                day(ca.and_then(|c| c.received_on.as_ref())).cmp(&day(cb.and_then(|c| c.received_on.as_ref())))
            }
            OpenSort::Referral => a.referral_id.cmp(&b.referral_id),
            OpenSort::Pupil => a.pupil_id.cmp(&b.pupil_id),
            OpenSort::School => places
                .get(a.school_urn.as_str())
                .copied()
                .unwrap_or(0)
                .cmp(&places.get(b.school_urn.as_str()).copied().unwrap_or(0)),
            OpenSort::Stage => clock(a).stage.cmp(&clock(b).stage),
            OpenSort::Deadline => day(ca.and_then(|c| c.next_deadline_on.as_ref()))
                .cmp(&day(cb.and_then(|c| c.next_deadline_on.as_ref()))),
            OpenSort::Health => clock(a).health.cmp(&clock(b).health),
        }
    };
    if sort != OpenSort::Report {
        open.sort_by(|a, b| direct(by(a, b)));
    }
    let total = u32::try_from(open.len()).unwrap_or(u32::MAX);
    let size = usize::try_from(page.size).unwrap_or(usize::MAX);
    let skip = usize::try_from(start).unwrap_or(usize::MAX);
    let mut shown: Vec<pb::OpenRequest> = open.into_iter().skip(skip).take(size.saturating_add(1)).collect();
    let more = shown.len() > size;
    shown.truncate(size);
    let token = next_position(start, shown.len(), more);
    Ok((shown, token, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(id: i64, school: &str, received: (i32, i32, i32), health: &str) -> pb::OpenRequest {
        pb::OpenRequest {
            referral_id: id,
            pupil_id: 100 - id,
            school_urn: school.into(),
            clock: Some(pb::StatutoryClock {
                received_on: Some(pb::Date { year: received.0, month: received.1, day: received.2 }),
                health: health.into(),
                ..Default::default()
            }),
        }
    }

    fn every() -> Vec<pb::OpenRequest> {
        vec![
            open(1, "100001", (2026, 1, 5), "breached"),
            open(2, "100002", (2026, 2, 5), "at_risk"),
            open(3, "100001", (2026, 3, 5), "on_track"),
            open(4, "100003", (2026, 3, 5), "at_risk"),
        ]
    }

    fn ids(rows: &[pb::OpenRequest]) -> Vec<i64> {
        rows.iter().map(|r| r.referral_id).collect()
    }

    fn first(size: u64) -> Page {
        Page { size, after: None }
    }

    #[test]
    fn the_filters_narrow_the_rows_and_the_total() {
        let req = pb::ListOpenRequestsRequest { school_urn: "100001".into(), ..Default::default() };
        let (rows, next, total) = page_of(every(), &req, "", OpenSort::Received, &first(50)).unwrap();
        assert_eq!((ids(&rows), next.as_str(), total), (vec![1, 3], "", 2));
        let req = pb::ListOpenRequestsRequest::default();
        let (rows, _, total) = page_of(every(), &req, "at_risk", OpenSort::Report, &first(50)).unwrap();
        assert_eq!((ids(&rows), total), (vec![2, 4], 2));
    }

    #[test]
    fn pages_follow_on_in_the_order_asked_with_ties_oldest_first() {
        let req = pb::ListOpenRequestsRequest { descending: true, ..Default::default() };
        let (rows, next, total) = page_of(every(), &req, "", OpenSort::Received, &first(3)).unwrap();
        assert_eq!((ids(&rows), total), (vec![3, 4, 2], 4), "the same day keeps the report's order");
        let after = Page::checked(Some(&pb::PageRequest { page_size: 3, page_token: next }), "page").unwrap();
        let (rows, next, _) = page_of(every(), &req, "", OpenSort::Received, &after).unwrap();
        assert_eq!((ids(&rows), next.as_str()), (vec![1], ""));
        let req =
            pb::ListOpenRequestsRequest { school_order: vec!["100003".into(), "100001".into()], ..Default::default() };
        let (rows, _, _) = page_of(every(), &req, "", OpenSort::School, &first(50)).unwrap();
        assert_eq!(ids(&rows), vec![2, 4, 1, 3], "a school not in the order first");
        let (rows, _, _) = page_of(every(), &req, "", OpenSort::Health, &first(50)).unwrap();
        assert_eq!(ids(&rows), vec![2, 4, 1, 3]);
    }

    #[test]
    fn an_unknown_order_or_health_is_named() {
        assert_eq!(sort_of(""), Ok(OpenSort::Report));
        assert!(sort_of("upn").is_err());
        assert!(health_of("late").is_err());
        assert_eq!(health_of("breached").as_deref(), Ok("breached"));
    }
}
