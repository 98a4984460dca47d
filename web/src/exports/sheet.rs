//! What an exported file is made of, shared by the two writers: the cells of
//! a row, the pages of rows, the sheet's description, and the completion of
//! its record.

use chrono::NaiveDate;
use futures::stream::BoxStream;
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use tonic::Status;

use crate::lists::Format;
use crate::refusals::{self, Refused};
use crate::session::{self, Session};

/// Who may download a list that names pupils: the council's SEN team.
pub const PUPIL_LEVEL_ROLES: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// One cell of an exported row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text (in CSV defused if it would run as a formula).
    Text(String),
    /// A date (ISO 8601 in CSV, an Excel date in XLSX); none is an empty cell.
    Date(Option<NaiveDate>),
    /// A whole number.
    Number(i64),
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_owned())
    }
}

impl Cell {
    /// The date of a wire date (none, or not a real date: an empty cell).
    pub fn date(date: Option<&pb::Date>) -> Self {
        Cell::Date(date.and_then(|d| sen_platform::dates::from_proto(d).ok()))
    }

    /// `Yes` or `No`.
    pub fn yes_no(yes: bool) -> Self {
        Cell::Text(if yes { "Yes" } else { "No" }.to_owned())
    }
}

/// One row of a file.
pub type Row = Vec<Cell>;

/// A list's rows, a page at a time, in order; a failed page ends the file.
pub type Pages = BoxStream<'static, Result<Vec<Row>, Status>>;

/// What a list's file is.
#[derive(Clone, Copy, Debug)]
pub struct Sheet {
    /// The list's name: its page's path without the slash (`pupils`,
    /// `statutory-clock`), which names the file and its record.
    pub list: &'static str,
    /// The worksheet's name (at most 31 characters).
    pub title: &'static str,
    /// The headings, one per cell of every row.
    pub headers: &'static [&'static str],
    /// Whether the rows name pupils (then only [`PUPIL_LEVEL_ROLES`] may download).
    pub pupil_level: bool,
}

impl Sheet {
    /// Whether `session` may download this list.
    pub fn allowed(&self, session: &Session) -> bool {
        !self.pupil_level || PUPIL_LEVEL_ROLES.contains(&session.role())
    }

    /// Refuses (403) a reader who may see the page but not download its list.
    pub fn check(&self, session: &Session) -> Result<(), Refused> {
        if self.allowed(session) { Ok(()) } else { Err(Refused::from(refusals::forbidden(session))) }
    }

    /// The file's name: the list and the format.
    pub(super) fn filename(&self, format: Format) -> String {
        format!("{}.{}", self.list, format.as_str())
    }
}

/// Records the end of an export (rows written); a failure is logged, the
/// beginning being recorded already.
#[derive(Clone, Debug)]
pub(super) struct Finish {
    pub(super) store: sen_gateway::sessions::SessionStore,
    pub(super) id: i64,
}

impl Finish {
    pub(super) async fn done(&self, rows: u64) {
        if let Err(error) = self.store.export_finished(self.id, rows, session::now()).await {
            tracing::error!(error = %format!("{error:#}"), export = self.id, "cannot record the end of an export");
        }
    }
}

/// The note a file cut short at `limit` rows ends with.
pub(super) fn cut_short_note(limit: u64) -> String {
    format!(
        "This file holds the first {} rows only: narrow the list with its filters to download the rest.",
        crate::wording::thousands(limit)
    )
}
