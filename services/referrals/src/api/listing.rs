//! `ListReferrals` as the referrals page asks for it: one page in an order the
//! page offers, narrowed by its filters, with the total on every page; or, with
//! `count_only`, the total alone. Only the referrals on the page answered are
//! audited as read, so a page of 50 writes 50 audit entries however long the
//! list is, and a count writes none.
//!
//! Newest first (the default) pages by keyset on the id, as before: a client
//! that asks for no order sees what it always did, with `total` added. Any
//! other order pages by position (the token `@N`): the columns the database
//! holds are ordered there (`store::ListColumn`); a school's name (which the
//! caller knows, and passes as `school_order`) and the next statutory deadline
//! (worked out by the clock on the day) are ordered here over every matching
//! referral. Ties stay newest first, ascending or descending alike.

use std::cmp::Ordering;
use std::collections::HashMap;

use sen_platform::fields::{AllChecked, Checked, field};
use sen_platform::identity::Identity;
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{READERS, ReferralsApi, filters, wire};
use crate::error::Error;
use crate::store::{ListColumn, ReadAction, next_position, position};

type Reply<T> = Result<Response<T>, Status>;

/// The order a page asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    /// Newest first, by keyset.
    Newest,
    /// A column of the database.
    Column(ListColumn),
    /// The school, in the caller's order.
    School,
    /// The next statutory deadline; none first.
    Deadline,
}

/// The orders offered, by the names the referrals page gives its columns.
const SORTS: &[(&str, Sort)] = &[
    ("id", Sort::Column(ListColumn::Id)),
    ("pupil", Sort::Column(ListColumn::Pupil)),
    ("school", Sort::School),
    ("kind", Sort::Column(ListColumn::Kind)),
    ("status", Sort::Column(ListColumn::Status)),
    ("submitted", Sort::Column(ListColumn::Submitted)),
    ("deadline", Sort::Deadline),
];

fn sort_of(sort: &str) -> Checked<Sort> {
    if sort.is_empty() {
        return Ok(Sort::Newest);
    }
    match SORTS.iter().find(|(name, _)| *name == sort) {
        Some((_, sort)) => Ok(*sort),
        None => {
            let names: Vec<&str> = SORTS.iter().map(|(name, _)| *name).collect();
            field("sort", Err(format!("is one of {} (or empty)", names.join(", "))))
        }
    }
}

fn total(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The next statutory deadline's day, none first.
fn deadline_key(referral: &pb::Referral) -> Option<(i32, i32, i32)> {
    let clock = referral.clock.as_ref().filter(|c| !c.next_deadline.is_empty())?;
    clock.next_deadline_on.as_ref().map(|d| (d.year, d.month, d.day))
}

impl ReferralsApi {
    /// `ListReferrals`: one page of the referrals the caller may see.
    pub(super) async fn list_referrals_for(
        &self,
        request: Request<pb::ListReferralsRequest>,
    ) -> Reply<pb::ListReferralsResponse> {
        let who = Identity::caller(&request, READERS)?;
        let req = request.get_ref();
        let ((page, today, filter), sort) =
            (filters::referral_filter(req, (self.today)()), sort_of(&req.sort)).all()?;
        let scope = who.scope()?;
        if req.count_only {
            let count = self.store.count(&scope, &filter).await?;
            return Ok(Response::new(pb::ListReferralsResponse {
                referrals: Vec::new(),
                next_page_token: String::new(),
                total: total(count),
            }));
        }
        let (referrals, next_page_token, count) = match sort {
            Sort::Newest | Sort::Column(_) => {
                let listed = async {
                    match sort {
                        Sort::Column(column) => {
                            self.store.list_by(&scope, &filter, column, req.descending, &page).await
                        }
                        _ => self.store.list(&scope, &filter, &page).await,
                    }
                };
                let (listed, count) = tokio::join!(listed, self.store.count(&scope, &filter));
                let (rows, token) = listed?;
                let referrals =
                    rows.iter().map(|r| wire::referral_to_proto(r, today)).collect::<Result<Vec<_>, Error>>()?;
                (referrals, token, count?)
            }
            Sort::School | Sort::Deadline => {
                let rows = self.store.list_every(&scope, &filter).await?;
                let mut every =
                    rows.iter().map(|r| wire::referral_to_proto(r, today)).collect::<Result<Vec<_>, Error>>()?;
                let count = u64::try_from(every.len()).unwrap_or(u64::MAX);
                let places: HashMap<&str, usize> =
                    req.school_order.iter().enumerate().map(|(i, urn)| (urn.as_str(), i + 1)).collect();
                let school = |r: &pb::Referral| {
                    r.body.as_ref().and_then(|b| places.get(b.school_urn.as_str()).copied()).unwrap_or(0)
                };
                let descending = req.descending;
                let direct = |order: Ordering| if descending { order.reverse() } else { order };
                if sort == Sort::School {
                    every.sort_by(|a, b| direct(school(a).cmp(&school(b))));
                } else {
                    every.sort_by(|a, b| direct(deadline_key(a).cmp(&deadline_key(b))));
                }
                let start = position(&page)?;
                let size = usize::try_from(page.size).unwrap_or(usize::MAX);
                let skip = usize::try_from(start).unwrap_or(usize::MAX);
                let mut shown: Vec<pb::Referral> = every.into_iter().skip(skip).take(size.saturating_add(1)).collect();
                let more = shown.len() > size;
                shown.truncate(size);
                let token = next_position(start, shown.len(), more);
                (shown, token, count)
            }
        };
        let shown: Vec<i32> = referrals.iter().filter_map(|r| i32::try_from(r.id).ok()).collect();
        self.store.audit_reads(&scope, &who.actor(), &shown, ReadAction::List, "").await?;
        Ok(Response::new(pb::ListReferralsResponse { referrals, next_page_token, total: total(count) }))
    }
}

#[cfg(test)]
mod tests {
    use sen_vocabulary::ReferralStatus;

    use super::*;

    #[test]
    fn statuses_in_the_order_of_their_codes_are_in_the_order_of_their_names() {
        let mut by_code = ReferralStatus::ALL.to_vec();
        by_code.sort_by_key(|s| s.code());
        let mut by_name = ReferralStatus::ALL.to_vec();
        by_name.sort_by_key(|s| s.name().to_lowercase());
        assert_eq!(by_code, by_name);
    }

    #[test]
    fn an_unknown_order_is_named() {
        assert_eq!(sort_of(""), Ok(Sort::Newest));
        assert_eq!(sort_of("deadline"), Ok(Sort::Deadline));
        assert!(sort_of("upn").unwrap_err().iter().any(|v| v.field == "sort"));
    }
}
