//! Rows into PostgreSQL with `COPY … FROM STDIN` in its text format, streamed in
//! chunks of about a megabyte so that no table is ever held whole in memory:
//! one tab-separated line per row, `\N` for NULL, and backslash, tab, newline
//! and carriage return escaped inside values.
//!
//! Each table's stream runs on its own pooled connection as its own statement,
//! so several tables load at once (PostgreSQL works on each in its own backend
//! while the generator writes the next chunk), and a parent table's rows are
//! committed before the stream of a table whose foreign key points at it starts.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{NaiveDate, NaiveDateTime, Timelike};
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::{PgCopyIn, PgPool, PgPoolCopyExt, Postgres};

/// Bytes gathered before they are sent.
const CHUNK: usize = 1 << 20;

/// A table and the columns the generator writes, in line order.
#[derive(Debug)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Its columns, in the order each line gives them.
    pub columns: &'static [&'static str],
}

/// Rows and time spent per table, across every stream into it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TableLoad {
    /// Rows written.
    pub rows: u64,
    /// Time from each stream's start to its commit, added up.
    pub time: Duration,
}

/// Where one service's rows go: its database's pool, and the tally of what was written.
#[derive(Clone, Debug)]
pub struct Sink {
    pool: PgPool,
    tally: Arc<Mutex<BTreeMap<&'static str, TableLoad>>>,
}

impl Sink {
    /// Writes into the database behind `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool, tally: Arc::default() }
    }

    /// Starts a stream of rows into `table`.
    pub async fn copy(&self, table: &'static Table) -> anyhow::Result<Copy> {
        // Quoted: some columns (`on`, `by`) are SQL keywords.
        let columns: Vec<String> = table.columns.iter().map(|c| format!("\"{c}\"")).collect();
        let statement = format!("COPY {} ({}) FROM STDIN", table.name, columns.join(", "));
        let sink =
            self.pool.copy_in_raw(&statement).await.with_context(|| format!("starting to load {}", table.name))?;
        Ok(Copy {
            table,
            sink,
            buf: Vec::with_capacity(CHUNK + 4096),
            rows: 0,
            started: Instant::now(),
            tally: Arc::clone(&self.tally),
        })
    }

    /// What has been written so far, by table.
    pub fn tally(&self) -> BTreeMap<&'static str, TableLoad> {
        self.tally.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// One table's stream.
pub struct Copy {
    table: &'static Table,
    sink: PgCopyIn<PoolConnection<Postgres>>,
    buf: Vec<u8>,
    rows: u64,
    started: Instant,
    tally: Arc<Mutex<BTreeMap<&'static str, TableLoad>>>,
}

impl Copy {
    /// A new row; it ends when the returned line is dropped.
    pub fn line(&mut self) -> Line<'_> {
        self.rows += 1;
        Line { buf: &mut self.buf, first: true }
    }

    /// Sends what has gathered once it reaches a chunk.
    pub async fn flush_if_full(&mut self) -> anyhow::Result<()> {
        if self.buf.len() >= CHUNK {
            self.send().await?;
        }
        Ok(())
    }

    async fn send(&mut self) -> anyhow::Result<()> {
        self.sink.send(&self.buf[..]).await.with_context(|| format!("loading {}", self.table.name))?;
        self.buf.clear();
        Ok(())
    }

    /// Sends the rest and commits; returns the rows written.
    pub async fn finish(mut self) -> anyhow::Result<u64> {
        if !self.buf.is_empty() {
            self.send().await?;
        }
        let name = self.table.name;
        let written = self.sink.finish().await.with_context(|| format!("loading {name}"))?;
        if written != self.rows {
            anyhow::bail!("loading {name}: {} rows were sent and {written} stored", self.rows);
        }
        if let Ok(mut tally) = self.tally.lock() {
            let load = tally.entry(name).or_default();
            load.rows += written;
            load.time += self.started.elapsed();
        }
        Ok(written)
    }
}

/// One row being written, value by value in the table's column order.
pub struct Line<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl Line<'_> {
    fn next(&mut self) {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
    }

    /// A number.
    pub fn int(mut self, value: impl std::fmt::Display) -> Self {
        self.next();
        let _ = write!(self.buf, "{value}");
        self
    }

    /// Text, escaped.
    pub fn text(mut self, value: &str) -> Self {
        self.next();
        for byte in value.bytes() {
            match byte {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                other => self.buf.push(other),
            }
        }
        self
    }

    /// Text or NULL.
    pub fn opt_text(self, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// A number or NULL.
    pub fn opt_int(self, value: Option<impl std::fmt::Display>) -> Self {
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }

    /// A date, `YYYY-MM-DD`.
    pub fn date(self, value: NaiveDate) -> Self {
        self.int(value)
    }

    /// A date or NULL.
    pub fn opt_date(self, value: Option<NaiveDate>) -> Self {
        self.opt_int(value)
    }

    /// A moment in UTC.
    pub fn at(mut self, value: NaiveDateTime) -> Self {
        self.next();
        let time = value.time();
        let _ = write!(self.buf, "{} {:02}:{:02}:{:02}+00", value.date(), time.hour(), time.minute(), time.second());
        self
    }

    /// A moment or NULL.
    pub fn opt_at(self, value: Option<NaiveDateTime>) -> Self {
        match value {
            Some(value) => self.at(value),
            None => self.null(),
        }
    }

    /// A boolean.
    pub fn bool(mut self, value: bool) -> Self {
        self.next();
        self.buf.push(if value { b't' } else { b'f' });
        self
    }

    /// NULL.
    pub fn null(mut self) -> Self {
        self.next();
        self.buf.extend_from_slice(b"\\N");
        self
    }
}

impl Drop for Line<'_> {
    fn drop(&mut self) {
        self.buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(write: impl FnOnce(Line<'_>) -> Line<'_>) -> String {
        let mut buf = Vec::new();
        drop(write(Line { buf: &mut buf, first: true }));
        String::from_utf8(buf).unwrap_or_default()
    }

    #[test]
    fn values_are_tab_separated_and_escaped_as_copy_reads_them() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let at = day.and_hms_opt(9, 5, 7).unwrap();
        assert_eq!(
            line(|l| l.int(7).text("a\tb\\c\nd").null().date(day).at(at).bool(true).opt_text(None)),
            "7\ta\\tb\\\\c\\nd\t\\N\t2026-11-24\t2026-11-24 09:05:07+00\tt\t\\N\n"
        );
    }
}
