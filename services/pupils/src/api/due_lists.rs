//! `ListTransitionsDue` and `ListAnnualReviewsDue` as the council's pages ask
//! for them: one page in an order the page offers, narrowed by its filters,
//! with the total on every page; or, with `count_only`, the total (and, for
//! transfers, the counts by status and deadline) without a row.
//!
//! Only the pupils on the page answered are audited as read: a list of 50
//! writes 50 audit entries, however long the list is, and a count writes none.
//!
//! Paging. In the default order (transfers by deadline then pupil; reviews by
//! due date then plan) the token is the last row's key, so a page continues
//! after it whatever was added before it. In any other order the token is the
//! position in the sorted list (`@N`): sorting by a name the database does not
//! hold (a pupil's display name, a school's name from the schools service) is
//! done here over the whole filtered list, then paged. Ties keep the default
//! order, ascending or descending alike, as the pages' own sorting did.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use sen_platform::dates::to_proto;
use sen_platform::fields::{AllChecked, Checked, field};
use sen_platform::identity::Identity;
use sen_platform::ids::Urn;
use sen_platform::paging::Page;
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{EDITORS, PupilsApi, reports, requests, wire};
use crate::domain::{Pupil, TransferCohorts, is_review_overdue, listed_transfer_years, transfer_cohorts};
use crate::error::Error;
use crate::store::{EhcpView, ReviewsDueFilter};

type Reply<T> = Result<Response<T>, Status>;

/// The orders `ListTransitionsDue` offers (the columns of the transfers page).
const TRANSFER_SORTS: &[&str] = &["pupil", "school", "kind", "deadline", "setting", "rag"];
/// The orders `ListAnnualReviewsDue` offers (the columns of the reviews page).
const REVIEW_SORTS: &[&str] = &["pupil", "school", "due"];

/// The order asked for: `None` is the default order, read by keyset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Order {
    key: Option<&'static str>,
    descending: bool,
}

/// The order named `sort` among `keys` ("" is the default, `default_key`
/// ascending; descending it is `default_key` descending).
fn order(sort: &str, descending: bool, keys: &'static [&'static str], default_key: &'static str) -> Checked<Order> {
    let key = match sort {
        "" if descending => Some(default_key),
        "" => None,
        sort => match keys.iter().find(|k| **k == sort) {
            Some(key) => Some(*key),
            None => return field("sort", Err(format!("is one of {} (or empty)", keys.join(", ")))),
        },
    };
    Ok(Order { key, descending })
}

fn school_filter(urn: &str) -> Checked<Option<Urn>> {
    field("school_urn", if urn.is_empty() { Ok(None) } else { Urn::parse(urn).map(Some) })
}

fn transfer_statuses(statuses: &[i32]) -> Checked<Vec<i32>> {
    let known = |s: &i32| matches!(pb::TransferStatus::try_from(*s), Ok(t) if t != pb::TransferStatus::Unspecified);
    match statuses.iter().find(|s| !known(s)) {
        Some(bad) => field("statuses", Err(format!("{bad} is not a transfer status"))),
        None => Ok(statuses.to_vec()),
    }
}

/// Sorts `rows` by `key` (worked out once a row), largest first if
/// `descending`, ties keeping their order.
fn sort_by_key<T, K: Ord>(rows: &mut Vec<T>, descending: bool, key: impl Fn(&T) -> K) {
    let mut keyed: Vec<(K, T)> = rows.drain(..).map(|row| (key(&row), row)).collect();
    keyed.sort_by(|a, b| {
        let order: Ordering = a.0.cmp(&b.0);
        if descending { order.reverse() } else { order }
    });
    rows.extend(keyed.into_iter().map(|(_, row)| row));
}

/// The page of `rows` (already in order) that `page` asks for, by position.
fn offset_page<T>(rows: Vec<T>, page: &Page) -> Result<(Vec<T>, String), Error> {
    let start = match &page.after {
        None => 0,
        Some(token) => token
            .strip_prefix('@')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| Error::invalid("page.page_token", "not a token for this list in this order"))?,
    };
    let size = usize::try_from(page.size).unwrap_or(usize::MAX);
    let batch: Vec<(usize, T)> = rows.into_iter().enumerate().skip(start).take(size.saturating_add(1)).collect();
    let (batch, token) = page.finish(batch, |(i, _)| format!("@{}", i + 1));
    Ok((batch.into_iter().map(|(_, row)| row).collect(), token))
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A transfer on the list: the pupil's wire form is made for the page alone.
struct Listed {
    deadline: NaiveDate,
    pupil: Pupil,
    transfer: pb::PhaseTransfer,
}

impl Listed {
    fn transfer(&self) -> &pb::PhaseTransfer {
        &self.transfer
    }

    /// Its key in the default order.
    fn key(&self) -> String {
        format!("{}/{:012}", self.deadline, self.pupil.id)
    }

    fn school(&self) -> Urn {
        self.pupil.details.school_urn
    }
}

/// The counts of `rows` by status and by deadline.
fn transition_counts(rows: &[Listed]) -> pb::TransitionCounts {
    let with = |status: pb::TransferStatus| count(rows.iter().filter(|r| r.transfer().status == status as i32).count());
    let rated = |rag: pb::Rag| count(rows.iter().filter(|r| r.transfer().rag == rag as i32).count());
    let mut by_deadline: BTreeMap<NaiveDate, (u32, u32)> = BTreeMap::new();
    for row in rows {
        let entry = by_deadline.entry(row.deadline).or_default();
        entry.0 += 1;
        if row.transfer().next_setting.is_empty() {
            entry.1 += 1;
        }
    }
    pb::TransitionCounts {
        due: with(pb::TransferStatus::Due),
        overdue: with(pb::TransferStatus::Overdue),
        issued_on_time: with(pb::TransferStatus::IssuedOnTime),
        issued_late: with(pb::TransferStatus::IssuedLate),
        red: rated(pb::Rag::Red),
        amber: rated(pb::Rag::Amber),
        green: rated(pb::Rag::Green),
        by_deadline: by_deadline
            .into_iter()
            .map(|(deadline, (transfers, without_setting))| pb::DeadlineCount {
                deadline: Some(to_proto(deadline)),
                transfers,
                without_setting,
            })
            .collect(),
    }
}

impl PupilsApi {
    /// `ListTransitionsDue`: transfers are judged here from the cohorts that
    /// can transfer (SEN and Disability Regulations 2014, reg. 18(1): the amended
    /// plan by 15 February, or 31 March into post-16), then filtered, counted,
    /// sorted and paged; only the page is audited.
    pub(super) async fn transitions_due_for(
        &self,
        request: Request<pb::ListTransitionsDueRequest>,
    ) -> Reply<pb::ListTransitionsDueResponse> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let scope = who.scope()?;
        let req = request.get_ref();
        let ((today, page, window), order, school, statuses) = (
            requests::window_report(req.as_of.as_ref(), req.page.as_ref(), req.window_days, 365, (self.today)()),
            order(&req.sort, req.descending, TRANSFER_SORTS, "deadline"),
            school_filter(&req.school_urn),
            transfer_statuses(&req.statuses),
        )
            .all()?;
        let schools: HashMap<Urn, _> = self.schools.all(&who).await?.iter().map(|s| (s.urn, s.clone())).collect();
        // This academic year's cohorts, and from 1 April next year's (reg. 18(1)).
        let cohorts = listed_transfer_years(today)
            .into_iter()
            .map(|year| transfer_cohorts(schools.values().map(|s| (s.urn.as_i32(), &s.stage)), year))
            .reduce(TransferCohorts::merge)
            .unwrap_or_default();
        let candidates = self.store.transfer_candidates(&scope, &cohorts, today).await?;
        let candidates = candidates
            .into_iter()
            .map(|c| Ok((crate::store::pupil_from_row(c.pupil.clone())?, c)))
            .collect::<Result<Vec<_>, Error>>()?;
        let mut rows: Vec<Listed> = reports::transfers_due(candidates, &schools, today, window)
            .into_iter()
            .filter(|d| school.is_none_or(|urn| d.pupil.details.school_urn == urn))
            .map(|d| Listed {
                deadline: d.transfer.deadline,
                transfer: wire::transfer_to_proto(&d.transfer, d.next_setting.as_deref(), d.issued_on, today),
                pupil: d.pupil,
            })
            .filter(|r| !req.without_setting || r.transfer().next_setting.is_empty())
            .filter(|r| statuses.is_empty() || statuses.contains(&r.transfer().status))
            .collect();
        let total = count(rows.len());
        let counts = Some(transition_counts(&rows));
        if req.count_only {
            return Ok(Response::new(pb::ListTransitionsDueResponse {
                transitions: Vec::new(),
                next_page_token: String::new(),
                total,
                counts,
            }));
        }
        let school_name = |r: &Listed| schools.get(&r.school()).map(|s| s.name.clone()).unwrap_or_default();
        let (shown, next_page_token) = match order.key {
            None => {
                let after = page.after.as_deref();
                if after.is_some_and(|a| a.starts_with('@')) {
                    return Err(Error::invalid("page.page_token", "not a token for this list in this order").into());
                }
                rows.retain(|r| after.is_none_or(|a| r.key().as_str() > a));
                page.finish(rows, Listed::key)
            }
            Some(key) => {
                let desc = order.descending;
                match key {
                    "pupil" => sort_by_key(&mut rows, desc, |r| r.pupil.details.display_name()),
                    "school" => sort_by_key(&mut rows, desc, school_name),
                    "kind" => sort_by_key(&mut rows, desc, |r| r.transfer().kind.clone()),
                    "setting" => sort_by_key(&mut rows, desc, |r| r.transfer().next_setting.clone()),
                    "rag" => sort_by_key(&mut rows, desc, |r| (r.transfer().status, r.transfer().rag)),
                    _ => sort_by_key(&mut rows, desc, |r| r.deadline),
                }
                offset_page(rows, &page)?
            }
        };
        let ids: Vec<i64> = shown.iter().map(|r| r.pupil.id).collect();
        self.store.audit_reads(&scope, &actor, &ids, "ehcp.transitions_list").await?;
        let transitions = shown
            .into_iter()
            .map(|r| pb::TransitionDue { pupil: Some(wire::summary(&r.pupil, today)), transfer: Some(r.transfer) })
            .collect();
        Ok(Response::new(pb::ListTransitionsDueResponse { transitions, next_page_token, total, counts }))
    }

    /// `ListAnnualReviewsDue`: plans whose annual review (Children and Families
    /// Act 2014, s.44(1): at least every 12 months) falls due within the window
    /// or is overdue; the page and total read through the index on the due
    /// date; only the page is audited.
    pub(super) async fn reviews_due_for(
        &self,
        request: Request<pb::ListAnnualReviewsDueRequest>,
    ) -> Reply<pb::ListAnnualReviewsDueResponse> {
        let who = Identity::caller(&request, EDITORS)?;
        let actor = who.actor();
        let scope = who.scope()?;
        let req = request.get_ref();
        let ((today, page, window), order, school) = (
            requests::window_report(req.as_of.as_ref(), req.page.as_ref(), req.window_days, 60, (self.today)()),
            order(&req.sort, req.descending, REVIEW_SORTS, "due"),
            school_filter(&req.school_urn),
        )
            .all()?;
        // Overdue: the day it was due has passed (`is_review_overdue`).
        let due_by = if req.overdue_only {
            today.checked_sub_signed(Duration::days(1)).unwrap_or(today)
        } else {
            today.checked_add_signed(Duration::days(i64::from(window))).unwrap_or(NaiveDate::MAX)
        };
        let filter = ReviewsDueFilter { due_by, school };
        if req.count_only {
            let total = self.store.count_reviews_due(&scope, &filter).await?;
            return Ok(Response::new(pb::ListAnnualReviewsDueResponse {
                reviews: Vec::new(),
                next_page_token: String::new(),
                total: u32::try_from(total).unwrap_or(u32::MAX),
            }));
        }
        let (views, next_page_token, total) = match order.key {
            None => {
                let (page, total) = tokio::join!(
                    self.store.reviews_due_page(&scope, &filter, &page),
                    self.store.count_reviews_due(&scope, &filter)
                );
                let (views, token) = page?;
                (views, token, u32::try_from(total?).unwrap_or(u32::MAX))
            }
            Some(key) => {
                let names: HashMap<i32, String> = if key == "school" {
                    self.schools.all(&who).await?.iter().map(|s| (s.urn.as_i32(), s.name.clone())).collect()
                } else {
                    HashMap::new()
                };
                let mut rows = self
                    .store
                    .reviews_due_all(&scope, &filter)
                    .await?
                    .into_iter()
                    .map(|view| Ok((crate::store::pupil_from_row(view.pupil.clone())?, view)))
                    .collect::<Result<Vec<_>, Error>>()?;
                let total = count(rows.len());
                let desc = order.descending;
                match key {
                    "pupil" => sort_by_key(&mut rows, desc, |(p, _)| p.details.display_name()),
                    "school" => sort_by_key(&mut rows, desc, |(_, v)| {
                        names.get(&v.pupil.school_urn).cloned().unwrap_or_default()
                    }),
                    _ => sort_by_key(&mut rows, desc, |(_, v)| v.ehcp.next_review_due),
                }
                let (shown, token) = offset_page(rows, &page)?;
                (shown.into_iter().map(|(_, view)| view).collect::<Vec<EhcpView>>(), token, total)
            }
        };
        let ids: Vec<i64> = views.iter().map(|v| i64::from(v.pupil.id)).collect();
        self.store.audit_reads(&scope, &actor, &ids, "ehcp.reviews_due_list").await?;
        let mut reviews = Vec::with_capacity(views.len());
        for view in views {
            let due = view.ehcp.next_review_due;
            let pupil = crate::store::pupil_from_row(view.pupil)?;
            reviews.push(pb::ReviewDue {
                pupil: Some(wire::summary(&pupil, today)),
                next_review_due: Some(to_proto(due)),
                days_left: i32::try_from((due - today).num_days()).unwrap_or(i32::MIN),
                overdue: is_review_overdue(due, today),
            });
        }
        Ok(Response::new(pb::ListAnnualReviewsDueResponse { reviews, next_page_token, total }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(size: u64, after: Option<&str>) -> Page {
        Page { size, after: after.map(str::to_owned) }
    }

    #[test]
    fn a_sorted_list_pages_by_position_and_the_last_page_has_no_token() {
        let rows: Vec<u32> = (1..=5).collect();
        let (first, token) = offset_page(rows.clone(), &page(2, None)).unwrap();
        assert_eq!(first, [1, 2]);
        let after = |token: &str| {
            let mut errors = sen_platform::error::FieldViolations::new();
            let request = pb::PageRequest { page_size: 2, page_token: token.to_owned() };
            Page::parse(Some(&request), "page", &mut errors)
        };
        let (second, token) = offset_page(rows.clone(), &after(&token)).unwrap();
        assert_eq!(second, [3, 4]);
        let (last, token) = offset_page(rows, &after(&token)).unwrap();
        assert_eq!((last, token), (vec![5], String::new()));
    }

    #[test]
    fn a_keyset_token_is_refused_in_a_sorted_order() {
        let refused = offset_page(vec![1, 2], &page(1, Some("2026-02-15/000000000001"))).unwrap_err();
        assert!(format!("{refused:?}").contains("page.page_token"));
    }

    #[test]
    fn an_unknown_order_or_status_is_named() {
        assert_eq!(order("", false, REVIEW_SORTS, "due"), Ok(Order { key: None, descending: false }));
        assert_eq!(order("", true, REVIEW_SORTS, "due"), Ok(Order { key: Some("due"), descending: true }));
        let bad = order("upn", false, REVIEW_SORTS, "due").unwrap_err();
        assert!(bad.iter().any(|v| v.field == "sort"));
        let bad = transfer_statuses(&[pb::TransferStatus::Due as i32, 99]).unwrap_err();
        assert!(bad.iter().any(|v| v.field == "statuses"));
    }

    #[test]
    fn descending_keeps_ties_in_the_default_order() {
        let mut rows = vec![(1, 'a'), (2, 'b'), (1, 'c')];
        sort_by_key(&mut rows, true, |r| r.0);
        assert_eq!(rows, [(2, 'b'), (1, 'a'), (1, 'c')]);
    }
}
