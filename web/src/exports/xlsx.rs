//! A list as an Excel workbook, written in `rust_xlsxwriter`'s constant-memory
//! mode on a blocking thread (each row goes to the worksheet's temporary file
//! as it is written) as the service's pages arrive through a channel of two
//! pages, saved into an unnamed temporary file (gone when the last handle
//! closes, even if the process dies), then streamed from that file in chunks.

use std::io::{Seek, SeekFrom};

use axum::body::{Body, Bytes};
use futures::StreamExt;
use futures::stream;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tonic::Status;

use super::sheet::{Cell, Finish, Pages, Row, Sheet, cut_short_note};

/// The bytes read from the file per chunk of the body.
const CHUNK: usize = 64 * 1024;

/// The excel date format of every date cell.
const DATE_FORMAT: &str = "yyyy-mm-dd";

/// What the writer is sent.
enum Message {
    /// A page of rows, in order.
    Rows(Vec<Row>),
    /// The list goes on past the limit: the file ends with a note saying so.
    CutShort,
}

/// Writes the rows it is sent into a constant-memory worksheet, then the
/// workbook into an unnamed temporary file; the file (at its start) and the
/// count of rows.
fn write(sheet: Sheet, mut messages: mpsc::Receiver<Message>, limit: u64) -> Result<(std::fs::File, u64), XlsxError> {
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet_with_constant_memory()?;
    worksheet.set_name(sheet.title)?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format(DATE_FORMAT);
    for (col, header) in sheet.headers.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        worksheet.set_column_width(col, (header.chars().count() + 4).clamp(12, 40) as f64)?;
        worksheet.write_string_with_format(0, col, *header, &bold)?;
    }
    worksheet.set_freeze_panes(1, 0)?;
    let mut row: u32 = 0;
    let mut cut = false;
    while let Some(message) = messages.blocking_recv() {
        let rows = match message {
            Message::Rows(rows) => rows,
            Message::CutShort => {
                cut = true;
                continue;
            }
        };
        for cells in rows {
            row += 1;
            for (col, cell) in cells.into_iter().enumerate() {
                let col = u16::try_from(col).unwrap_or(u16::MAX);
                match cell {
                    Cell::Text(text) if text.is_empty() => {}
                    // A string cell: never a formula, whatever it begins with.
                    Cell::Text(text) => {
                        worksheet.write_string(row, col, text)?;
                    }
                    Cell::Date(Some(day)) => {
                        worksheet.write_datetime_with_format(row, col, day, &date)?;
                    }
                    Cell::Date(None) => {}
                    Cell::Number(n) => {
                        worksheet.write_number(row, col, n as f64)?;
                    }
                }
            }
        }
    }
    if cut {
        worksheet.write_string(row + 1, 0, cut_short_note(limit))?;
    }
    let mut file = tempfile::tempfile().map_err(XlsxError::IoError)?;
    workbook.save_to_writer(&mut file)?;
    file.seek(SeekFrom::Start(0)).map_err(XlsxError::IoError)?;
    Ok((file, u64::from(row)))
}

/// The body of the XLSX file of `pages` (at most `limit` rows), written in full first (so a failed
/// page is a refusal, not a broken file), and recorded as finished.
pub(super) async fn body(sheet: Sheet, mut pages: Pages, finish: Finish, limit: u64) -> Result<Body, Status> {
    let (sender, receiver) = mpsc::channel::<Message>(2);
    let writer = tokio::task::spawn_blocking(move || write(sheet, receiver, limit));
    let mut count: u64 = 0;
    let mut failed = None;
    while let Some(page) = pages.next().await {
        let mut rows = match page {
            Ok(rows) => rows,
            Err(status) => {
                failed = Some(status);
                break;
            }
        };
        let room = usize::try_from(limit - count).unwrap_or(usize::MAX);
        let cut = rows.len() > room;
        rows.truncate(room);
        count += rows.len() as u64;
        if sender.send(Message::Rows(rows)).await.is_err() {
            break;
        }
        if cut || (count == limit && pages.next().await.is_some()) {
            let _ = sender.send(Message::CutShort).await;
            break;
        }
    }
    drop(sender);
    let written = writer.await.map_err(|e| Status::internal(format!("the workbook's writer failed: {e}")))?;
    if let Some(status) = failed {
        return Err(status);
    }
    let (file, rows) = written.map_err(|e| {
        tracing::error!(error = %e, list = sheet.list, "cannot write an XLSX export");
        Status::internal("cannot write the workbook")
    })?;
    finish.done(rows).await;
    Ok(stream_file(tokio::fs::File::from_std(file)))
}

/// The file's bytes as a body, a chunk at a time.
fn stream_file(file: tokio::fs::File) -> Body {
    Body::from_stream(stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; CHUNK];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    }))
}
