//! The list toolkit every list page shares: what the query string asks for
//! (filters, sort, page, a file), sortable column headers and a pager. The
//! files themselves (CSV and XLSX) are [`crate::exports`]'.
//!
//! A list page takes a [`ListQuery`] as an extractor (it never fails: bad or
//! missing parameters mean "the default"), reads its filters with
//! [`ListQuery::filter`], gets its rows, then either answers a file
//! ([`crate::exports::download`]) when [`ListQuery::format`] asks for one or
//! renders a table:
//!
//! ```ignore
//! async fn list(State(web): State<Arc<Web>>, session: Session, query: ListQuery) -> PageResult {
//!     let mut rows = lists::fetch_all(|token| async { /* one service page */ }).await?;
//!     match query.sort() {
//!         Some("name") => query.sort_rows(&mut rows, |r| r.name.clone()),
//!         _ => {}
//!     }
//!     if let Some(format) = query.format() { return exports::download(&web, &session, &query, format, SHEET, exports::whole(..)).await; }
//!     let (shown, next) = query.paginate(rows);
//!     html! { table { (sort_headers(&query, "/pupils", COLUMNS)) tbody { .. } } (pager(&query, "/pupils", &next)) }
//! }
//! ```
//!
//! Query parameters: `sort` (a column key), `dir` (`asc`/`desc`), `page_token`
//! (where this page starts), `prev` (repeated: the tokens of the pages before,
//! so "Previous" works with a service's forward-only tokens), `format`
//! (`csv` or `xlsx`);
//! every other non-empty parameter is a filter and is kept in every link the
//! toolkit makes. Changing the sort starts again at the first page.
//!
//! Two ways to page, same pager: pass a service's `next_page_token` straight to
//! [`pager`] and send [`ListQuery::page_request`] to the service (rows are then
//! sorted within the page), or fetch the whole filtered list with [`fetch_all`]
//! (bounded by [`MAX_ROWS`]), sort it and page it here with
//! [`ListQuery::paginate`], so sorting covers every row and the file holds them all.

use std::future::Future;

use axum::extract::{FromRequestParts, Query};
use http::request::Parts;
use maud::{Markup, html};
use sen_proto::v1 as pb;

use crate::session::url_encode;

/// Rows on one page of a list.
pub const PAGE_SIZE: usize = 50;
/// The most rows [`fetch_all`] gathers (a whole authority's list fits).
pub const MAX_ROWS: usize = 10_000;
/// The page size asked of a service by [`fetch_all`] (the largest allowed).
const SERVICE_PAGE: u32 = 500;

/// A sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// A file a list downloads as (`format=csv` or `format=xlsx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values, UTF-8.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

impl Format {
    /// As the query string and the file name say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// What a list's query string asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    sort: Option<String>,
    desc: bool,
    page_token: String,
    trail: Vec<String>,
    format: Option<Format>,
    filters: Vec<(String, String)>,
}

impl ListQuery {
    /// Reads decoded query pairs; unknown parameters with a value are filters.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut query = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "sort" => query.sort = Some(value).filter(|v| !v.is_empty()),
                "dir" => query.desc = value == "desc",
                "page_token" => query.page_token = value,
                "prev" => query.trail.push(value),
                "format" => {
                    query.format = match value.as_str() {
                        "csv" => Some(Format::Csv),
                        "xlsx" => Some(Format::Xlsx),
                        _ => None,
                    }
                }
                _ if value.trim().is_empty() => {}
                _ => query.filters.push((name, value.trim().to_owned())),
            }
        }
        query
    }

    /// The value of filter `name`, or `""`.
    pub fn filter(&self, name: &str) -> &str {
        self.filters.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// Every filter set, in the order given.
    pub fn filters(&self) -> &[(String, String)] {
        &self.filters
    }

    /// The column key to sort by, if one was chosen.
    pub fn sort(&self) -> Option<&str> {
        self.sort.as_deref()
    }

    /// The sort direction (ascending unless `dir=desc`).
    pub fn dir(&self) -> Dir {
        if self.desc { Dir::Desc } else { Dir::Asc }
    }

    /// Where this page starts (`""`: the first page).
    pub fn page_token(&self) -> &str {
        &self.page_token
    }

    /// The file the list is asked for as, if any.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// The page to ask a service for (when the service does the paging).
    pub fn page_request(&self) -> pb::PageRequest {
        pb::PageRequest { page_size: PAGE_SIZE as u32, page_token: self.page_token.clone() }
    }

    /// Sorts `rows` by `key` in the chosen direction (stable: ties keep their order).
    pub fn sort_rows<T, K: Ord>(&self, rows: &mut [T], key: impl Fn(&T) -> K) {
        rows.sort_by(|a, b| {
            let order = key(a).cmp(&key(b));
            if self.desc { order.reverse() } else { order }
        });
    }

    /// This page of `rows` (paged here, the token an offset) and the next page's
    /// token (`""` on the last page).
    pub fn paginate<T>(&self, rows: Vec<T>) -> (Vec<T>, String) {
        let start = self.page_token.parse::<usize>().unwrap_or(0).min(rows.len());
        let end = (start + PAGE_SIZE).min(rows.len());
        let next = if end < rows.len() { end.to_string() } else { String::new() };
        (rows.into_iter().skip(start).take(end - start).collect(), next)
    }

    /// The link to `path` with these filters and the given sort, page and format.
    fn link(
        &self,
        path: &str,
        sort: Option<(&str, bool)>,
        page: Option<(&str, &[String])>,
        format: Option<Format>,
    ) -> String {
        let mut pairs: Vec<(&str, &str)> = self.filters.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        if let Some((key, desc)) = sort {
            pairs.push(("sort", key));
            if desc {
                pairs.push(("dir", "desc"));
            }
        }
        if let Some((token, trail)) = page {
            pairs.extend(trail.iter().map(|t| ("prev", t.as_str())));
            if !token.is_empty() {
                pairs.push(("page_token", token));
            }
        }
        if let Some(format) = format {
            pairs.push(("format", format.as_str()));
        }
        let query: Vec<String> = pairs.iter().map(|(n, v)| format!("{}={}", url_encode(n), url_encode(v))).collect();
        if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) }
    }

    fn current_sort(&self) -> Option<(&str, bool)> {
        self.sort.as_deref().map(|key| (key, self.desc))
    }

    /// The same list as a file of `format` (every row, not just this page).
    pub fn export_href(&self, path: &str, format: Format) -> String {
        self.link(path, self.current_sort(), None, Some(format))
    }

    /// The same list, sorted by `key` (toggling the direction if already so).
    pub fn sort_href(&self, path: &str, key: &str) -> String {
        let desc = self.sort.as_deref() == Some(key) && !self.desc;
        self.link(path, Some((key, desc)), None, None)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let pairs = Query::<Vec<(String, String)>>::from_request_parts(parts, state).await.map(|q| q.0);
        Ok(Self::from_pairs(pairs.unwrap_or_default()))
    }
}

/// One column of a list table.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// The `sort` key (`""`: not sortable).
    pub key: &'static str,
    /// The heading.
    pub label: &'static str,
    /// Right-aligned numbers.
    pub numeric: bool,
}

impl Column {
    /// A sortable text column.
    pub const fn text(key: &'static str, label: &'static str) -> Self {
        Self { key, label, numeric: false }
    }

    /// A sortable numeric column.
    pub const fn number(key: &'static str, label: &'static str) -> Self {
        Self { key, label, numeric: true }
    }

    /// A column that cannot be sorted.
    pub const fn plain(label: &'static str) -> Self {
        Self { key: "", label, numeric: false }
    }
}

/// The `thead` of a list table: each sortable heading a link that sorts by it,
/// the sorted one marked with `aria-sort`.
pub fn sort_headers(query: &ListQuery, path: &str, columns: &[Column]) -> Markup {
    html! {
        thead {
            tr {
                @for column in columns {
                    @let sorted = !column.key.is_empty() && query.sort() == Some(column.key);
                    @let aria = sorted.then_some(if query.dir() == Dir::Desc { "descending" } else { "ascending" });
                    th scope="col" class=[column.numeric.then_some("numeric")] aria-sort=[aria] {
                        @if column.key.is_empty() {
                            (column.label)
                        } @else {
                            a class="sort-link" href=(query.sort_href(path, column.key)) {
                                (column.label)
                                span class="visually-hidden" {
                                    @if sorted && query.dir() == Dir::Asc { " (sort descending)" } @else { " (sort ascending)" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Previous and next links (nothing on a single page), and the CSV link.
pub fn pager(query: &ListQuery, path: &str, next_page_token: &str) -> Markup {
    let previous = query
        .trail
        .split_last()
        .map(|(token, trail)| query.link(path, query.current_sort(), Some((token, trail)), None));
    let next = (!next_page_token.is_empty()).then(|| {
        let mut trail = query.trail.clone();
        trail.push(query.page_token.clone());
        query.link(path, query.current_sort(), Some((next_page_token, &trail)), None)
    });
    html! {
        @if previous.is_some() || next.is_some() {
            nav class="pagination" aria-label="Pages" {
                @if let Some(href) = previous { a href=(href) rel="prev" { "Previous page" } }
                @if let Some(href) = next { a href=(href) rel="next" { "Next page" } }
            }
        }
    }
}

/// Every row of a service's paged list: `page(token)` fetches one page and
/// answers its rows and the next token. Stops at [`MAX_ROWS`].
pub async fn fetch_all<T, F, Fut, E>(mut page: F) -> Result<Vec<T>, E>
where
    F: FnMut(pb::PageRequest) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), E>>,
{
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let (mut more, next) = page(pb::PageRequest { page_size: SERVICE_PAGE, page_token: token }).await?;
        rows.append(&mut more);
        if next.is_empty() || rows.len() >= MAX_ROWS {
            rows.truncate(MAX_ROWS);
            return Ok(rows);
        }
        token = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> ListQuery {
        ListQuery::from_pairs(
            q.split('&').filter_map(|p| p.split_once('=')).map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
        )
    }

    #[test]
    fn filters_are_kept_and_sorting_starts_again_at_the_first_page() {
        let q = query("status=open&school=&sort=kind&page_token=50&prev=");
        assert_eq!(q.filter("status"), "open");
        assert_eq!(q.filter("school"), "", "an empty filter is no filter");
        assert_eq!(q.sort_href("/referrals", "kind"), "/referrals?status=open&sort=kind&dir=desc");
        assert_eq!(q.sort_href("/referrals", "school"), "/referrals?status=open&sort=school");
        assert_eq!(q.export_href("/referrals", Format::Csv), "/referrals?status=open&sort=kind&format=csv");
        assert_eq!(q.export_href("/referrals", Format::Xlsx), "/referrals?status=open&sort=kind&format=xlsx");
        assert_eq!(query("format=xlsx").format(), Some(Format::Xlsx));
        assert_eq!(query("format=pdf").format(), None, "an unknown format is the page");
    }

    #[test]
    fn the_pager_goes_forward_and_back_with_the_trail_of_tokens() {
        let first = query("status=open");
        let html = pager(&first, "/r", "t2").into_string();
        assert!(html.contains("/r?status=open&amp;prev=&amp;page_token=t2"), "{html}");
        assert!(!html.contains("Previous"));
        let second = query("status=open&prev=&page_token=t2");
        let html = pager(&second, "/r", "t3").into_string();
        assert!(html.contains("href=\"/r?status=open\""), "previous is the first page: {html}");
        assert!(html.contains("prev=&amp;prev=t2&amp;page_token=t3"), "{html}");
        assert_eq!(pager(&query(""), "/r", "").into_string(), "", "one page: no pager");
    }

    #[test]
    fn the_sorted_heading_carries_aria_sort() {
        let q = query("sort=name&dir=desc");
        let html = sort_headers(&q, "/s", &[Column::text("name", "Name"), Column::plain("Tag")]).into_string();
        assert!(html.contains("aria-sort=\"descending\""));
        assert_eq!(html.matches("aria-sort").count(), 1);
        assert!(html.contains("href=\"/s?sort=name\""));
    }

    #[test]
    fn local_paging_and_sorting_cover_every_row() {
        let mut rows: Vec<u32> = (0..120).collect();
        let q = query("sort=n&dir=desc&page_token=100");
        q.sort_rows(&mut rows, |n| *n);
        let (page, next) = q.paginate(rows);
        assert_eq!(page, (0..20).rev().collect::<Vec<_>>());
        assert_eq!(next, "");
        let (page, next) = query("page_token=nonsense").paginate((0..60).collect::<Vec<u32>>());
        assert_eq!((page.len(), next.as_str()), (50, "50"));
    }
}
