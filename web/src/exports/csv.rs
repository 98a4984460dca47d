//! A list as CSV, written page by page into the answer's body: a task takes
//! the pages as the service sends them and hands the body each page's bytes
//! through a channel of two chunks, so a slow reader slows the task rather
//! than filling memory, and a reader who goes away stops it.

use axum::body::{Body, Bytes};
use futures::StreamExt;
use futures::stream;
use tokio::sync::mpsc;

use super::sheet::{Cell, Finish, Pages, Row, Sheet, cut_short_note};

/// The UTF-8 byte order mark a CSV file starts with: without it Excel reads the
/// file as Windows-1252 and shows "—" or "Zoë" as mojibake.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell as a CSV file may hold it: text a spreadsheet would run as a formula
/// (beginning `=`, `+`, `-`, `@`, a tab or a carriage return, and not a number)
/// is prefixed with `'`, as OWASP advises against CSV injection.
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// One chunk of the body, or the error that breaks it off.
type Chunk = Result<Bytes, std::io::Error>;

/// The CSV text of `rows` (a header is a row of text cells).
pub fn encode(rows: &[Row]) -> Result<Vec<u8>, ::csv::Error> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row.iter().map(|cell| match cell {
            Cell::Text(text) => defuse(text).into_owned(),
            Cell::Date(Some(date)) => date.to_string(),
            Cell::Date(None) => String::new(),
            Cell::Number(n) => n.to_string(),
        }))?;
    }
    writer.flush()?;
    writer.into_inner().map_err(|e| ::csv::Error::from(e.into_error()))
}

/// The body of the CSV file of `pages` (at most `limit` rows), recorded as
/// finished with its count of rows.
pub(super) fn body(sheet: Sheet, pages: Pages, finish: Finish, limit: u64) -> Body {
    let (sender, receiver) = mpsc::channel::<Chunk>(2);
    tokio::spawn(write(sheet, pages, finish, sender, limit));
    Body::from_stream(stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    }))
}

async fn write(sheet: Sheet, mut pages: Pages, finish: Finish, sender: mpsc::Sender<Chunk>, limit: u64) {
    let header: Row = sheet.headers.iter().map(|h| Cell::from(*h)).collect();
    let send = |bytes: Result<Vec<u8>, ::csv::Error>| {
        let sender = sender.clone();
        async move {
            let chunk = bytes.map(Bytes::from).map_err(std::io::Error::other);
            let failed = chunk.is_err();
            sender.send(chunk).await.is_ok() && !failed
        }
    };
    if !send(encode(&[header]).map(|text| [UTF8_BOM, &text].concat())).await {
        return;
    }
    let mut count: u64 = 0;
    while let Some(page) = pages.next().await {
        let mut rows = match page {
            Ok(rows) => rows,
            Err(status) => {
                tracing::error!(code = ?status.code(), message = status.message(), list = sheet.list, "an export's page failed");
                let _ = sender.send(Err(std::io::Error::other(status.message().to_owned()))).await;
                return;
            }
        };
        let room = usize::try_from(limit - count).unwrap_or(usize::MAX);
        let cut = rows.len() > room;
        rows.truncate(room);
        count += rows.len() as u64;
        if !send(encode(&rows)).await {
            return;
        }
        if cut || (count == limit && pages.next().await.is_some()) {
            if !send(encode(&[vec![Cell::Text(cut_short_note(limit))]])).await {
                return;
            }
            break;
        }
    }
    finish.done(count).await;
}
