//! Reading the DfE "Get Information About Schools" all-establishments extract
//! (`edubasealldataYYYYMMDD.csv`) for one authority.
//!
//! Real extracts hold ~50,000 rows of 139 columns for all of England, in
//! Windows-1252 with `dd-mm-yyyy` dates and many empty cells. Columns are found by
//! header name, never by position, because GIAS adds and reorders columns. Rows of
//! other authorities are counted and left alone (the import reports, by line, any
//! that names one of this authority's own schools); each row of this authority either
//! becomes a complete, validated [`GiasRow`] or is reported with its reason, so
//! nothing is ever half-read.

use std::collections::HashMap;

use chrono::NaiveDate;
use sen_platform::error::FieldViolations;
use sen_platform::ids::{LaCode, Urn};

use crate::domain::{
    AgeRange, EstablishmentStatus, EstablishmentType, Laestab, Phase, Postcode, SchoolFields, SchoolName,
};

/// The columns read, by their GIAS header names.
const URN: &str = "URN";
const LA_CODE: &str = "LA (code)";
const ESTABLISHMENT_NUMBER: &str = "EstablishmentNumber";
const NAME: &str = "EstablishmentName";
const TYPE_CODE: &str = "TypeOfEstablishment (code)";
const TYPE_NAME: &str = "TypeOfEstablishment (name)";
const TYPE_GROUP: &str = "EstablishmentTypeGroup (name)";
const STATUS_CODE: &str = "EstablishmentStatus (code)";
const OPEN_DATE: &str = "OpenDate";
const CLOSE_DATE: &str = "CloseDate";
const PHASE_CODE: &str = "PhaseOfEducation (code)";
const LOW_AGE: &str = "StatutoryLowAge";
const HIGH_AGE: &str = "StatutoryHighAge";
const NUMBER_OF_PUPILS: &str = "NumberOfPupils";
const POSTCODE: &str = "Postcode";

const REQUIRED: [&str; 15] = [
    URN,
    LA_CODE,
    ESTABLISHMENT_NUMBER,
    NAME,
    TYPE_CODE,
    TYPE_NAME,
    TYPE_GROUP,
    STATUS_CODE,
    OPEN_DATE,
    CLOSE_DATE,
    PHASE_CODE,
    LOW_AGE,
    HIGH_AGE,
    NUMBER_OF_PUPILS,
    POSTCODE,
];

/// The most rows an extract may hold: the national extract has about 50,000
/// establishments (open and closed), so four times that is no real file.
pub const MAX_ROWS: usize = 200_000;

/// One establishment of this authority, fully validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GiasRow {
    /// Line in the file (header = 1).
    pub line: u64,
    /// Unique reference number.
    pub urn: Urn,
    /// Everything else.
    pub fields: SchoolFields,
}

/// A row of this authority that was not used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Line in the file (header = 1).
    pub line: u64,
    /// The URN as written, if the row had one.
    pub urn: String,
    /// What was wrong, naming the column.
    pub reason: String,
}

/// A row GIAS gives to another authority, kept by line and URN so a row naming
/// one of this authority's own schools can be reported rather than silently counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elsewhere {
    /// Line in the file (header = 1).
    pub line: u64,
    /// The row's URN.
    pub urn: Urn,
}

/// The authority's part of an extract.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extract {
    /// Good rows, in file order.
    pub rows: Vec<GiasRow>,
    /// Rows reported and not used.
    pub skipped: Vec<Skipped>,
    /// Rows of other authorities.
    pub other_authority_rows: u64,
    /// Those of them with a readable URN.
    pub elsewhere: Vec<Elsewhere>,
}

/// The file as a whole cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// Nothing was sent.
    #[error("the file is empty")]
    Empty,
    /// The header lacks columns the import needs.
    #[error("the header lacks the column(s) {}", .0.join(", "))]
    MissingColumns(Vec<&'static str>),
    /// The file is not CSV at all.
    #[error("the file cannot be read as CSV: {0}")]
    NotCsv(String),
    /// More rows than any real extract, refused before any is used.
    #[error("the file has more than {MAX_ROWS} rows, the most an import accepts")]
    TooManyRows,
}

/// Decodes the file: UTF-8 when it is valid UTF-8 (with or without a byte-order
/// mark), otherwise Windows-1252 as GIAS publishes it. Text in Windows-1252 with
/// any byte above 0x7F is practically never valid UTF-8, so the test is safe.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// Reads the rows of `tenant` from an extract.
pub fn read_extract(bytes: &[u8], tenant: LaCode) -> Result<Extract, ExtractError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ExtractError::Empty);
    }
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| ExtractError::NotCsv(e.to_string()))?.clone();
    let columns: HashMap<&str, usize> = header.iter().enumerate().map(|(i, h)| (h.trim(), i)).collect();
    let missing: Vec<&'static str> = REQUIRED.iter().copied().filter(|c| !columns.contains_key(c)).collect();
    if !missing.is_empty() {
        return Err(ExtractError::MissingColumns(missing));
    }
    let tenant_text = tenant.to_string();
    let mut extract = Extract::default();
    let mut first_line_of: HashMap<Urn, u64> = HashMap::new();
    let mut lines = LineCounter::new(&text);
    for (read, record) in reader.records().enumerate() {
        if read >= MAX_ROWS {
            return Err(ExtractError::TooManyRows);
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.at(p.byte())).unwrap_or(0);
                extract.skipped.push(Skipped { line, urn: String::new(), reason: format!("unreadable row: {e}") });
                continue;
            }
        };
        let line = record.position().map(|p| lines.at(p.byte())).unwrap_or(0);
        let cells = Cells { columns: &columns, record: &record };
        if cells.get(LA_CODE) != tenant_text {
            extract.other_authority_rows += 1;
            if let Ok(urn) = Urn::parse(cells.get(URN)) {
                extract.elsewhere.push(Elsewhere { line, urn });
            }
            continue;
        }
        let urn_text = cells.get(URN).to_owned();
        if record.len() != header.len() {
            let reason = format!("has {} columns; the header has {}", record.len(), header.len());
            extract.skipped.push(Skipped { line, urn: urn_text, reason });
            continue;
        }
        match read_row(&cells, tenant) {
            Ok((urn, fields)) => match first_line_of.get(&urn) {
                Some(first) => extract.skipped.push(Skipped {
                    line,
                    urn: urn_text,
                    reason: format!("URN {urn} appears again (first on line {first})"),
                }),
                None => {
                    first_line_of.insert(urn, line);
                    extract.rows.push(GiasRow { line, urn, fields });
                }
            },
            Err(problems) => extract.skipped.push(Skipped { line, urn: urn_text, reason: problems.to_string() }),
        }
    }
    Ok(extract)
}

/// Line numbers from byte offsets, counted forward once over the file. (The csv
/// reader's own line count drifts on CRLF files, which GIAS extracts are.)
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self { text: text.as_bytes(), offset: 0, line: 1 }
    }

    /// The 1-based line of byte `offset`; offsets must not go backwards.
    fn at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset).unwrap_or(usize::MAX).min(self.text.len());
        // A record's recorded start may sit on the line end left over from the
        // previous record (the `\n` of `\r\n`): the record itself begins after it.
        while offset < self.text.len() && matches!(self.text[offset], b'\r' | b'\n') {
            offset += 1;
        }
        if offset > self.offset {
            self.line += self.text[self.offset..offset].iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset = offset;
        }
        self.line
    }
}

/// One record's cells, looked up by header name.
struct Cells<'a> {
    columns: &'a HashMap<&'a str, usize>,
    record: &'a csv::StringRecord,
}

impl<'a> Cells<'a> {
    fn get(&self, name: &str) -> &'a str {
        self.columns.get(name).and_then(|&i| self.record.get(i)).unwrap_or("").trim()
    }
}

/// Validates one row, collecting every problem, each naming its column.
fn read_row(cells: &Cells<'_>, tenant: LaCode) -> Result<(Urn, SchoolFields), FieldViolations> {
    let mut problems = FieldViolations::new();
    let urn = problems.check(URN, Urn::parse(cells.get(URN)));
    let laestab = problems.check(ESTABLISHMENT_NUMBER, Laestab::from_parts(tenant, cells.get(ESTABLISHMENT_NUMBER)));
    let name = problems.check(NAME, SchoolName::parse(cells.get(NAME)));
    let establishment_type = problems.check(
        TYPE_CODE,
        number::<u16>(cells.get(TYPE_CODE))
            .and_then(|c| EstablishmentType::from_extract(c, cells.get(TYPE_NAME), cells.get(TYPE_GROUP))),
    );
    let status =
        problems.check(STATUS_CODE, number::<u8>(cells.get(STATUS_CODE)).and_then(EstablishmentStatus::from_gias_code));
    let phase = problems.check(PHASE_CODE, number::<u8>(cells.get(PHASE_CODE)).and_then(Phase::from_gias_code));
    let low = problems.check(LOW_AGE, optional(cells.get(LOW_AGE), number::<u32>));
    let high = problems.check(HIGH_AGE, optional(cells.get(HIGH_AGE), number::<u32>));
    let number_on_roll = problems.check(NUMBER_OF_PUPILS, optional(cells.get(NUMBER_OF_PUPILS), number::<u32>));
    let postcode = problems.check(POSTCODE, optional(cells.get(POSTCODE), Postcode::parse));
    let open_date = problems.check(OPEN_DATE, optional(cells.get(OPEN_DATE), gias_date));
    let close_date = problems.check(CLOSE_DATE, optional(cells.get(CLOSE_DATE), gias_date));
    let ages = match (low, high) {
        (Some(Some(low)), Some(Some(high))) => problems.check(LOW_AGE, AgeRange::new(low, high).map(Some)),
        (Some(None), Some(None)) => Some(None),
        (Some(_), Some(_)) => problems
            .check(HIGH_AGE, Err("StatutoryLowAge and StatutoryHighAge must both be given or both empty".into())),
        _ => None,
    };
    if let (Some(open), Some(close)) = (open_date, close_date) {
        problems.check(CLOSE_DATE, SchoolFields::check_dates(open, close));
    }
    match (urn, laestab, name, establishment_type, status, phase, ages, number_on_roll, postcode, open_date, close_date)
    {
        (
            Some(urn),
            Some(laestab),
            Some(name),
            Some(establishment_type),
            Some(status),
            Some(phase),
            Some(ages),
            Some(number_on_roll),
            Some(postcode),
            Some(open_date),
            Some(close_date),
        ) if problems.is_empty() => Ok((
            urn,
            SchoolFields {
                laestab,
                name,
                establishment_type,
                phase,
                ages,
                number_on_roll,
                postcode,
                status,
                open_date,
                close_date,
            },
        )),
        _ => Err(problems),
    }
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| if s.is_empty() { "is empty".into() } else { format!("'{s}' is not a whole number") })
}

fn optional<T>(s: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if s.is_empty() { Ok(None) } else { parse(s).map(Some) }
}

/// GIAS writes dates as `dd-mm-yyyy`.
pub fn gias_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%d-%m-%Y").map_err(|_| format!("'{s}' is not a dd-mm-yyyy date"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),TypeOfEstablishment (name),EstablishmentTypeGroup (name),EstablishmentStatus (code),EstablishmentStatus (name),OpenDate,CloseDate,PhaseOfEducation (code),PhaseOfEducation (name),StatutoryLowAge,StatutoryHighAge,NumberOfPupils,Postcode";

    fn la(code: &str) -> LaCode {
        LaCode::parse(code).unwrap()
    }

    #[test]
    fn rows_of_the_authority_are_read_and_others_counted() {
        let csv = format!(
            "{HEADER}\r\n\
             100001,886,Kent,2001,\"Oak, Ash and Elm Primary\",1,Community school,Local authority maintained schools,1,Open,01-09-1990,,2,Primary,4,11,210,ct1 1aa\r\n\
             100002,887,Medway,2001,Other LA School,1,Community school,Local authority maintained schools,1,Open,,,2,Primary,4,11,,ME1 1AA\r\n\
             100003,886,Kent,1001,Little Acorns Nursery,15,Local authority nursery school,Local authority maintained schools,2,Closed,01-09-1980,31-08-2020,1,Nursery,,,,\r\n"
        );
        let extract = read_extract(csv.as_bytes(), la("886")).unwrap();
        assert_eq!(extract.other_authority_rows, 1);
        assert_eq!(extract.elsewhere, [Elsewhere { line: 3, urn: Urn::parse("100002").unwrap() }]);
        assert!(extract.skipped.is_empty(), "{:?}", extract.skipped);
        assert_eq!(extract.rows.len(), 2);
        let oak = &extract.rows[0];
        assert_eq!((oak.line, oak.urn.get()), (2, 100001));
        assert_eq!(oak.fields.name.as_str(), "Oak, Ash and Elm Primary");
        assert_eq!(oak.fields.postcode.as_ref().map(Postcode::as_str), Some("CT1 1AA"));
        assert_eq!(oak.fields.laestab.to_string(), "8862001");
        let nursery = &extract.rows[1];
        assert_eq!(nursery.fields.ages, None);
        assert_eq!(nursery.fields.close_date, NaiveDate::from_ymd_opt(2020, 8, 31));
        assert_eq!(nursery.fields.status, EstablishmentStatus::Closed);
    }

    #[test]
    fn windows_1252_names_are_decoded() {
        let mut bytes = format!("{HEADER}\r\n100001,886,Kent,2001,").into_bytes();
        bytes.extend_from_slice(b"St Ren\xe9e\x92s School");
        bytes.extend_from_slice(b",1,Community school,G,1,Open,,,2,Primary,4,11,,\r\n");
        let extract = read_extract(&bytes, la("886")).unwrap();
        assert_eq!(extract.rows[0].fields.name.as_str(), "St Ren\u{e9}e\u{2019}s School");
    }

    #[test]
    fn every_problem_of_a_bad_row_is_reported_by_column() {
        let csv = format!(
            "{HEADER}\n10000A,886,Kent,20x1,,1,Community school,G,1,Open,31-02-2019,,9,?,4,11,,ZZ 123\n100001,886,Kent,2001,Short\n"
        );
        let extract = read_extract(csv.as_bytes(), la("886")).unwrap();
        assert!(extract.rows.is_empty());
        let bad = &extract.skipped[0];
        assert_eq!((bad.line, bad.urn.as_str()), (2, "10000A"));
        for column in [URN, ESTABLISHMENT_NUMBER, NAME, OPEN_DATE, PHASE_CODE, POSTCODE] {
            assert!(bad.reason.contains(column), "{column} missing from {}", bad.reason);
        }
        assert!(extract.skipped[1].reason.contains("columns"), "{:?}", extract.skipped[1]);
    }

    #[test]
    fn a_repeated_urn_is_reported_and_the_first_kept() {
        let row = "100001,886,Kent,2001,A School,1,Community school,G,1,Open,,,2,Primary,4,11,,";
        let csv = format!("{HEADER}\n{row}\n{row}\n");
        let extract = read_extract(csv.as_bytes(), la("886")).unwrap();
        assert_eq!(extract.rows.len(), 1);
        assert!(extract.skipped[0].reason.contains("first on line 2"), "{:?}", extract.skipped);
    }

    #[test]
    fn a_file_without_the_needed_columns_is_refused_whole() {
        let err = read_extract(b"URN,Name\n100001,X\n", la("886")).unwrap_err();
        let ExtractError::MissingColumns(missing) = err else { panic!("{err:?}") };
        assert!(missing.contains(&LA_CODE) && missing.contains(&POSTCODE));
        assert_eq!(read_extract(b"  \n", la("886")), Err(ExtractError::Empty));
    }

    #[test]
    fn a_file_of_more_rows_than_any_extract_is_refused_whole() {
        let row = "100001,887,Medway,2001,A School,1,Community school,G,1,Open,,,2,Primary,4,11,,\n";
        let at_limit = format!("{HEADER}\n{}", row.repeat(MAX_ROWS));
        assert_eq!(read_extract(at_limit.as_bytes(), la("886")).map(|e| e.other_authority_rows), Ok(MAX_ROWS as u64));
        let over = format!("{at_limit}{row}");
        assert_eq!(read_extract(over.as_bytes(), la("886")), Err(ExtractError::TooManyRows));
    }
}
