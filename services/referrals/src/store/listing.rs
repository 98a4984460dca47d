//! The referrals list in the orders the referrals page offers, a page at a
//! time, and its total.
//!
//! Newest first (the default) is read by keyset in `Store::list`. The columns
//! the database holds (id, pupil, kind, status, day submitted) are ordered in
//! SQL and paged by position, ties newest first; the total is one count through
//! the tenant's indexes. Orders on what only the caller or the clock knows (a
//! school's name, the next statutory deadline) read every matching referral
//! with [`Store::list_every`], for the caller to sort and page.

use sea_orm::{PaginatorTrait, QueryOrder, QuerySelect};
use sen_platform::identity::Scope;
use sen_platform::paging::Page;

use super::Store;
use super::referrals::{ReferralFilter, filtered};
use crate::entity::referral;
use crate::error::{Error, Result};

/// A column the list is ordered by in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListColumn {
    /// The referral's id.
    Id,
    /// The pupil's id.
    Pupil,
    /// The kind's code.
    Kind,
    /// The status's code: in the same order as the statuses' names
    /// (`sen_vocabulary::ReferralStatus::name`), which the pages show.
    Status,
    /// The day it was submitted.
    Submitted,
}

impl ListColumn {
    fn column(self) -> referral::Column {
        match self {
            Self::Id => referral::Column::Id,
            Self::Pupil => referral::Column::PupilId,
            Self::Kind => referral::Column::Kind,
            Self::Status => referral::Column::Status,
            Self::Submitted => referral::Column::SubmittedOn,
        }
    }
}

/// Where a page in a sorted order starts: the position after the token's (`@N`).
pub fn position(page: &Page) -> Result<u64> {
    match &page.after {
        None => Ok(0),
        Some(token) => token
            .strip_prefix('@')
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| Error::invalid("page.page_token", "not a token for this list in this order")),
    }
}

/// The token of the page after a page of `shown` rows starting at `start`
/// (`""` when no row follows: `more` says whether one was fetched beyond the page).
pub fn next_position(start: u64, shown: usize, more: bool) -> String {
    if !more {
        return String::new();
    }
    let next = start.saturating_add(u64::try_from(shown).unwrap_or(u64::MAX));
    sen_platform::paging::token_after(&format!("@{next}"))
}

impl Store {
    /// How many referrals within `scope` match `filter`.
    pub async fn count(&self, scope: &Scope, filter: &ReferralFilter) -> Result<u64> {
        Ok(filtered(scope, filter).count(&self.db).await?)
    }

    /// One page of the referrals within `scope` matching `filter`, ordered by
    /// `column` (descending if asked), ties newest first, with the next page's token.
    pub async fn list_by(
        &self,
        scope: &Scope,
        filter: &ReferralFilter,
        column: ListColumn,
        descending: bool,
        page: &Page,
    ) -> Result<(Vec<referral::Model>, String)> {
        let start = position(page)?;
        let query = filtered(scope, filter);
        let query = if descending { query.order_by_desc(column.column()) } else { query.order_by_asc(column.column()) };
        let mut rows =
            query.order_by_desc(referral::Column::Id).offset(start).limit(page.fetch_limit()).all(&self.db).await?;
        let size = usize::try_from(page.size).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        let token = next_position(start, rows.len(), more);
        Ok((rows, token))
    }

    /// Every referral within `scope` matching `filter`, newest first, for an
    /// order the caller works out (not audited: the caller audits what it shows).
    pub async fn list_every(&self, scope: &Scope, filter: &ReferralFilter) -> Result<Vec<referral::Model>> {
        Ok(filtered(scope, filter).order_by_desc(referral::Column::Id).all(&self.db).await?)
    }
}
