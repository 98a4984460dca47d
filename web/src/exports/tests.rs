//! The writers on their own: CSV defused and streamed page by page, XLSX read
//! back with dates as dates, files cut short at their limit saying so, and
//! each export's record completed with its count of rows.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use sen_gateway::sessions::{NewExport, SessionStore};
use sen_platform::config::PoolConfig;
use sen_platform::identity::{Grant, Role};

use super::*;

const SHEET: Sheet = Sheet { list: "pupils", title: "Pupils", headers: &["Name", "Born", "Count"], pupil_level: true };

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

fn row(name: &str, born: Option<NaiveDate>, n: i64) -> Row {
    vec![Cell::from(name), Cell::Date(born), Cell::Number(n)]
}

/// A store to record in, and the record of an export begun in it.
async fn recorded() -> (tempfile::TempDir, SessionStore, Finish) {
    let folder = tempfile::tempdir().expect("a folder");
    // The store refuses a data folder other accounts could read.
    std::fs::set_permissions(folder.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("private");
    let url = sen_platform::config::sqlite_url(&folder.path().join("gateway.db"));
    let store = SessionStore::connect(&url, &PoolConfig::default()).await.expect("the store");
    let grant = Grant { person: "officer".into(), role: Role::CaseOfficer, tenant: None, school: None };
    let export = NewExport { grant: &grant, list: "pupils", format: "csv", filters: "", at: 1 };
    let id = store.export_started(export).await.expect("begun");
    (folder, store.clone(), Finish { store, id })
}

async fn rows_recorded(store: &SessionStore) -> Option<u64> {
    store.exports(None).await.expect("read").first().and_then(|e| e.rows)
}

/// Three pages of rows, as a service would send them.
fn three_pages() -> Pages {
    stream::iter(vec![
        Ok(vec![row("Ada Zephyr", Some(day(2016, 1, 10)), 1), row("=HYPERLINK(\"http://x\")", None, 2)]),
        Ok(vec![row("Ben Young", Some(day(2017, 2, 2)), 3)]),
        Ok(vec![row("-3", None, -4)]),
    ])
    .boxed()
}

async fn bytes_of(body: axum::body::Body) -> Vec<u8> {
    axum::body::to_bytes(body, 1 << 24).await.expect("the body").to_vec()
}

#[test]
fn csv_cells_that_would_run_as_formulas_are_prefixed_and_dates_are_iso() {
    let rows = [
        vec![Cell::from("=1+1"), Cell::from("+44 1234"), Cell::from("-x"), Cell::from("@SUM(A1)")],
        vec![Cell::from("\tx"), Cell::from("\rx"), Cell::from("-3"), Cell::from("O'Neil, Sam")],
        vec![Cell::Date(Some(day(2026, 3, 2))), Cell::Date(None), Cell::Number(-7), Cell::from("")],
    ];
    let text = String::from_utf8(csv::encode(&rows).expect("encoded")).expect("UTF-8");
    assert_eq!(text, "'=1+1,'+44 1234,'-x,'@SUM(A1)\n'\tx,\"'\rx\",-3,\"O'Neil, Sam\"\n2026-03-02,,-7,\n", "{text:?}");
}

#[tokio::test]
async fn a_csv_file_is_streamed_page_by_page_and_its_rows_are_counted_in_the_record() {
    let (_folder, store, finish) = recorded().await;
    let body = bytes_of(csv::body(SHEET, three_pages(), finish, MAX_EXPORT_ROWS)).await;
    assert!(body.starts_with(csv::UTF8_BOM), "Excel reads it as UTF-8");
    let text = String::from_utf8(body[3..].to_vec()).expect("UTF-8");
    assert_eq!(
        text,
        "Name,Born,Count\nAda Zephyr,2016-01-10,1\n\"'=HYPERLINK(\"\"http://x\"\")\",,2\nBen Young,2017-02-02,3\n-3,,-4\n"
    );
    // The record is completed once the last byte is handed over.
    assert_eq!(rows_recorded(&store).await, Some(4));
}

#[tokio::test]
async fn a_list_longer_than_a_file_holds_is_cut_short_and_says_so() {
    let (_folder, store, finish) = recorded().await;
    let text = String::from_utf8(bytes_of(csv::body(SHEET, three_pages(), finish, 3)).await).expect("UTF-8");
    assert_eq!(text.lines().count(), 5, "a header, three rows and the note: {text}");
    assert!(text.lines().last().is_some_and(|l| l.starts_with("This file holds the first 3 rows only")), "{text}");
    assert_eq!(rows_recorded(&store).await, Some(3));

    let (_folder, store, finish) = recorded().await;
    let body = bytes_of(xlsx::body(SHEET, three_pages(), finish, 2).await.expect("written")).await;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body)).expect("an XLSX file");
    let range = workbook.worksheet_range("Pupils").expect("the sheet");
    assert_eq!(range.height(), 4, "a header, two rows and the note");
    let note = range.get((3, 0)).map(|d| d.to_string()).unwrap_or_default();
    assert!(note.starts_with("This file holds the first 2 rows only"), "{note}");
    assert_eq!(rows_recorded(&store).await, Some(2));
}

#[tokio::test]
async fn an_xlsx_file_opens_with_dates_as_dates_numbers_as_numbers_and_formulas_as_text() {
    let (_folder, store, finish) = recorded().await;
    let body = bytes_of(xlsx::body(SHEET, three_pages(), finish, MAX_EXPORT_ROWS).await.expect("written")).await;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body)).expect("an XLSX file");
    assert_eq!(workbook.sheet_names(), ["Pupils"]);
    let range = workbook.worksheet_range("Pupils").expect("the sheet");
    assert_eq!(range.height(), 5, "a header and four rows");
    assert_eq!(range.get((0, 0)), Some(&Data::String("Name".into())));
    assert_eq!(range.get((1, 0)), Some(&Data::String("Ada Zephyr".into())));
    match range.get((1, 1)) {
        Some(Data::DateTime(born)) => {
            assert!(born.is_datetime(), "a date cell");
            let serial = (day(2016, 1, 10) - day(1899, 12, 30)).num_days() as f64;
            assert_eq!(born.as_f64(), serial, "10 January 2016");
        }
        other => panic!("the date of birth is a date cell, not {other:?}"),
    }
    assert!(matches!(range.get((1, 2)), Some(Data::Float(n)) if *n == 1.0), "{:?}", range.get((1, 2)));
    assert_eq!(range.get((2, 0)), Some(&Data::String("=HYPERLINK(\"http://x\")".into())), "text, never a formula");
    assert!(matches!(range.get((2, 1)), None | Some(Data::Empty)), "no date: an empty cell");
    assert_eq!(workbook.worksheet_formula("Pupils").map(|f| f.used_cells().count()).unwrap_or(0), 0, "no formulas");
    assert_eq!(rows_recorded(&store).await, Some(4));
}

#[tokio::test]
async fn a_failed_page_refuses_the_xlsx_file_and_leaves_the_record_without_a_count() {
    let (_folder, store, finish) = recorded().await;
    let pages = stream::iter(vec![Ok(vec![row("Ada", None, 1)]), Err(Status::unavailable("down"))]).boxed();
    let failed = xlsx::body(SHEET, pages, finish, MAX_EXPORT_ROWS).await;
    assert_eq!(failed.err().map(|s| s.code()), Some(tonic::Code::Unavailable));
    assert_eq!(rows_recorded(&store).await, None, "begun, never finished");
}

#[tokio::test]
async fn a_paged_list_is_asked_for_page_by_page_until_the_last() {
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = asked.clone();
    let pages = paged(move |page: pb::PageRequest| {
        log.lock().expect("the log").push(page.page_token.clone());
        async move {
            let (rows, next) = match page.page_token.as_str() {
                "" => (vec![row("a", None, 1)], "t2"),
                "t2" => (vec![row("b", None, 2)], "t3"),
                _ => (vec![row("c", None, 3)], ""),
            };
            Ok((rows, next.to_owned()))
        }
    });
    let got: Vec<Vec<Row>> = pages.map(|p| p.expect("a page")).collect().await;
    assert_eq!(got.len(), 3);
    assert_eq!(*asked.lock().expect("the log"), ["", "t2", "t3"], "each page asked once, in order");
}
