//! The council's lists as files people open in a spreadsheet: every list page
//! downloads as CSV (`?format=csv`) and as an Excel workbook (`?format=xlsx`)
//! at its own address, so the file holds exactly what the page's filters
//! select (the page reads its filters once, for the table and the file alike).
//!
//! A page describes its file as a [`Sheet`] (the list's name, its headings,
//! whether it names pupils) and hands over its rows as a stream of pages
//! ([`Pages`]) of typed cells ([`Cell`]): text, dates and numbers. The writers
//! then never hold more than one page of rows:
//!
//! - CSV ([`csv`]) is written page by page straight into the answer's body as
//!   the service's pages arrive (UTF-8 with a byte order mark, dates ISO
//!   8601, text a spreadsheet would run as a formula prefixed with `'`).
//! - XLSX ([`xlsx`]) is written by `rust_xlsxwriter` in its constant-memory
//!   mode (each row goes to a temporary file as it is written) into an
//!   unnamed temporary file, which is then streamed out; dates are real Excel
//!   dates (`yyyy-mm-dd`), numbers numbers, text always text (never a formula).
//!
//! Memory: at most one service page of rows (500) and two chunks of the body in
//! flight, whatever the list's length; the XLSX workbook's own bookkeeping is
//! per row written, not per row held. A file holds at most [`MAX_EXPORT_ROWS`]
//! rows; a longer list ends with a row saying it was cut short, and the page
//! says so by its link.
//!
//! Who may download: a list that names pupils only the council's SEN team
//! (la_manager, case_officer) — other roles get 403 and see no link; lists of
//! schools or professionals whoever may see the page. What: the services scope
//! every page of rows by the caller's identity, so a file holds only what its
//! reader may see. Every download is recorded in the gateway's session store
//! ([`sen_gateway::sessions::exports`]): who, which list, its filters, the
//! format, and how many rows once written; a download that cannot be recorded
//! is not given.

pub mod csv;
pub mod sheet;
pub mod xlsx;

use std::future::Future;

use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::stream;
use maud::{Markup, html};
use sen_gateway::sessions::NewExport;
use sen_proto::v1 as pb;
use tonic::Status;

use self::sheet::Finish;
pub use self::sheet::{Cell, PUPIL_LEVEL_ROLES, Pages, Row, Sheet};
use crate::lists::{Format, ListQuery};
use crate::refusals::{self, Refused};
use crate::session::{self, Session, url_encode};
use crate::state::Web;

/// The most rows a file holds (a whole authority's pupils fit).
pub const MAX_EXPORT_ROWS: u64 = 500_000;
/// The page size asked of a service while exporting (the largest allowed).
pub const SERVICE_PAGE: u32 = 500;

/// A list gathered whole by its page (bounded by [`crate::lists::MAX_ROWS`]) as one page.
pub fn whole(rows: Vec<Row>) -> Pages {
    stream::iter([Ok(rows)]).boxed()
}

/// A service's paged list as [`Pages`]: `fetch(page)` asks for one page and
/// answers its rows and the next page's token (`""`: the last page).
pub fn paged<F, Fut>(fetch: F) -> Pages
where
    F: FnMut(pb::PageRequest) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(Vec<Row>, String), Status>> + Send + 'static,
{
    stream::unfold((fetch, Some(String::new())), |(mut fetch, token)| async move {
        let token = token?;
        match fetch(pb::PageRequest { page_size: SERVICE_PAGE, page_token: token }).await {
            Ok((rows, next)) => {
                let more = (!next.is_empty()).then_some(next);
                Some((Ok(rows), (fetch, more)))
            }
            Err(status) => Some((Err(status), (fetch, None))),
        }
    })
    .boxed()
}

/// The "Download CSV" and "Download XLSX" links of a list, carrying its
/// filters; nothing for a reader who may not download it.
pub fn links(session: &Session, query: &ListQuery, path: &str, sheet: &Sheet) -> Markup {
    html! {
        @if sheet.allowed(session) {
            p class="body-s export-links" {
                a href=(query.export_href(path, Format::Csv)) download { "Download CSV" }
                " "
                a href=(query.export_href(path, Format::Xlsx)) download { "Download XLSX" }
                " (up to " (crate::wording::thousands(MAX_EXPORT_ROWS)) " rows)"
            }
        }
    }
}

/// The filters of `query` as its record keeps them (a query string, with the
/// sort; never the page).
fn filters_of(query: &ListQuery) -> String {
    let mut pairs: Vec<String> =
        query.filters().iter().map(|(n, v)| format!("{}={}", url_encode(n), url_encode(v))).collect();
    if let Some(sort) = query.sort() {
        pairs.push(format!("sort={}", url_encode(sort)));
    }
    pairs.join("&")
}

/// The list as a file of `format`: refused (403) to a reader who may not
/// download it; the first page asked for before anything is recorded or sent
/// (so a refusal of the service is a page, not a broken file); then recorded,
/// written and sent.
pub async fn download(
    web: &Web,
    session: &Session,
    query: &ListQuery,
    format: Format,
    sheet: Sheet,
    mut pages: Pages,
) -> Result<Response, Refused> {
    sheet.check(session)?;
    let first = match pages.next().await {
        Some(Ok(rows)) => rows,
        Some(Err(status)) => return Err(Refused::from(refusals::from_status(session, &status))),
        None => Vec::new(),
    };
    let pages = stream::iter([Ok(first)]).chain(pages).boxed();
    let filters = filters_of(query);
    let started = NewExport {
        grant: &session.caller.grant,
        list: sheet.list,
        format: format.as_str(),
        filters: &filters,
        at: session::now(),
    };
    let id = match web.sessions.store().export_started(started).await {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), list = sheet.list, "cannot record an export: not given");
            return Err(Refused::from(refusals::unavailable()));
        }
    };
    let finish = Finish { store: web.sessions.store().clone(), id };
    let (content_type, body) = match format {
        Format::Csv => ("text/csv; charset=utf-8", csv::body(sheet, pages, finish, MAX_EXPORT_ROWS)),
        Format::Xlsx => {
            let body = xlsx::body(sheet, pages, finish, MAX_EXPORT_ROWS)
                .await
                .map_err(|status| Refused::from(refusals::from_status(session, &status)))?;
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body)
        }
    };
    let disposition = format!("attachment; filename=\"{}\"", sheet.filename(format));
    Ok((
        [
            (http::header::CONTENT_TYPE, content_type.to_owned()),
            (http::header::CONTENT_DISPOSITION, disposition),
            (http::header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests;
