//! `sen caseload`: the calling professional's open cases, soonest deadline
//! first, as the caseloads service orders them, with the pupils' and schools'
//! names (the caseloads service reads them with the caller's own access, so the
//! pupils service audits the read as theirs); `sen case show ID` goes further.
//!
//! The table fits in 100 columns (long names are cut with "…"), and on a
//! terminal deadlines are coloured: red when overdue, yellow within a week.
//! Piped, or with `NO_COLOR` set, the output is plain text.

use chrono::NaiveDate;
use clap::Args;
use sen_proto::v1 as pb;
use sen_vocabulary::ReferralKind;

use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Failure};
use super::table::{Align, Paint, Style, Table};
use super::{dates, json, plural, print};

/// `sen caseload`.
#[derive(Args, Debug)]
pub struct CaseloadArgs {
    /// Judge deadlines on this day instead of today.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = dates::parse)]
    as_of: Option<NaiveDate>,
    /// Print the response as JSON (the JSON API's shape).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Fetches and prints the caller's caseload.
pub async fn run(args: &CaseloadArgs) -> Result<(), Failure> {
    let gateway = Gateway::connect(&args.connection).await?;
    let request = pb::GetMyCaseloadRequest { as_of: dates::to_proto(args.as_of) };
    let caseload = gateway
        .caseloads()
        .get_my_caseload(request)
        .await
        .map_err(|s| Call::to("have a caseload").failed(&s, &gateway.url))?
        .into_inner();
    if args.json {
        print(&json::text(&json::to_json(&caseload, "sen.v1.Caseload")?))
    } else {
        print(&render(&caseload, Style::for_stdout(WIDTH)))
    }
}

/// The widest the table is drawn: a terminal of 100 columns shows it whole.
pub const WIDTH: usize = 100;

/// Days left at or under which a deadline is coloured as soon.
const SOON_DAYS: i32 = 7;

/// The caseload as a table with a heading and a count, or a friendly line when
/// empty, in `style`.
pub fn render(caseload: &pb::Caseload, style: Style) -> String {
    if caseload.cases.is_empty() {
        return "You have no open cases.\n".to_owned();
    }
    let mut table = Table::new(&[
        ("CASE", Align::Right),
        ("PUPIL", Align::Left),
        ("SCHOOL", Align::Left),
        ("KIND", Align::Left),
        ("DUE", Align::Left),
        ("DAYS LEFT", Align::Left),
        ("SESSIONS", Align::Right),
    ]);
    let mut overdue = 0;
    let mut deadlines: Vec<String> = Vec::new();
    for entry in &caseload.cases {
        let case = entry.case.clone().unwrap_or_default();
        let due = dates::show(entry.next_deadline_on.as_ref());
        let days = match &due {
            None => "-".to_owned(),
            Some(_) => days_left_cell(entry.days_left),
        };
        if due.is_some() && entry.days_left < 0 {
            overdue += 1;
        }
        if due.is_some() && !entry.next_deadline.is_empty() && !deadlines.contains(&entry.next_deadline) {
            deadlines.push(entry.next_deadline.clone());
        }
        table.row(vec![
            case.id.to_string(),
            if case.pupil_name.is_empty() { format!("id {}", case.pupil_id) } else { case.pupil_name },
            if case.school_name.is_empty() { format!("URN {}", case.school_urn) } else { case.school_name },
            kind_name(&case.kind),
            // A statutory case whose psychological advice is not asked for yet has no date (reg. 8(1)).
            due.clone().unwrap_or_else(|| {
                if entry.next_deadline.is_empty() { "-".to_owned() } else { entry.next_deadline.clone() }
            }),
            days,
            case.sessions_used.to_string(),
        ]);
        match entry.days_left {
            _ if due.is_none() => {}
            d if d < 0 => table.paint(5, Paint::Red),
            d if d <= SOON_DAYS => table.paint(5, Paint::Yellow),
            _ => {}
        }
    }
    let mut out = table.render_as(style);
    let mut summary = plural(table.len(), "open case", "open cases");
    if overdue > 0 {
        let late = format!("{overdue} OVERDUE");
        let late = if style.colour { format!("\x1b[1;31m{late}\x1b[0m") } else { late };
        summary.push_str(&format!(", {late}"));
    }
    out.push_str(&format!("\n{summary}.\n"));
    if !deadlines.is_empty() {
        out.push_str(&format!("DUE is the next deadline: {}.\n", deadlines.join("; ")));
    }
    out
}

/// A referral kind in few words: "educational psychology", "EHC needs
/// assessment", "advisory: sensory — hearing" (the code itself when unknown).
pub fn kind_name(code: &str) -> String {
    match ReferralKind::parse(code) {
        Ok(ReferralKind::EducationalPsychology) => "educational psychology".into(),
        Ok(ReferralKind::EhcNeedsAssessment) => "EHC needs assessment".into(),
        Ok(ReferralKind::AdvisoryTeacher(specialism)) => format!("advisory: {}", specialism.name()),
        Err(_) => code.to_owned(),
    }
}

/// "12", "0 (today)", "-3 OVERDUE": the number for sorting by eye, the word for
/// finding the late ones with grep.
pub fn days_left_cell(days: i32) -> String {
    match days {
        0 => "0 (today)".to_owned(),
        d if d < 0 => format!("{d} OVERDUE"),
        d => d.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, deadline: Option<(pb::Date, i32)>, sessions: u32) -> pb::CaseloadEntry {
        pb::CaseloadEntry {
            case: Some(pb::Case {
                id,
                pupil_id: 4700 + id,
                pupil_name: format!("Pupil{id} Hall"),
                school_urn: "100001".into(),
                school_name: "Northmoor Primary School".into(),
                kind: if deadline.is_some() { "ehc_needs_assessment" } else { "educational_psychology" }.into(),
                status: "active".into(),
                sessions_used: sessions,
                ..Default::default()
            }),
            next_deadline: if deadline.is_some() { "EHC needs assessment advice".into() } else { String::new() },
            days_left: deadline.as_ref().map_or(0, |(_, d)| *d),
            next_deadline_on: deadline.map(|(date, _)| date),
        }
    }

    #[test]
    fn the_caseload_is_a_table_with_deadlines_marked_when_overdue() {
        let caseload = pb::Caseload {
            cases: vec![
                entry(3, Some((pb::Date { year: 2026, month: 2, day: 10 }, -3)), 4),
                entry(12, Some((pb::Date { year: 2026, month: 3, day: 1 }, 16)), 0),
                entry(7, None, 11),
            ],
        };
        let text = render(&caseload, Style { width: Some(WIDTH), colour: false });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "CASE  PUPIL         SCHOOL                  KIND                    DUE         DAYS LEFT   SESSIONS",
                "   3  Pupil3 Hall   Northmoor Primary Sch…  EHC needs assessment    2026-02-10  -3 OVERDUE         4",
                "  12  Pupil12 Hall  Northmoor Primary Sch…  EHC needs assessment    2026-03-01  16                 0",
                "   7  Pupil7 Hall   Northmoor Primary Sch…  educational psychology  -           -                 11",
                "",
                "3 open cases, 1 OVERDUE.",
                "DUE is the next deadline: EHC needs assessment advice.",
            ]
        );
    }

    #[test]
    fn the_caseload_fits_in_100_columns_whatever_the_names() {
        let mut long = entry(123_456, Some((pb::Date { year: 2026, month: 2, day: 10 }, -120)), 1_234);
        if let Some(case) = long.case.as_mut() {
            case.pupil_name = "Alexandra-Josephine Montgomery-Fairweather".into();
            case.school_name = "St Aidan's Church of England Voluntary Aided Primary School and Nursery".into();
            case.kind = "advisory_teacher:communication_and_interaction".into();
        }
        let text = render(
            &pb::Caseload { cases: vec![long, entry(7, None, 11)] },
            Style { width: Some(WIDTH), colour: false },
        );
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "{} columns: {line}", line.chars().count());
        }
        let row = text.lines().nth(1).expect("a row");
        assert!(row.starts_with("123456  Alexandra-Jos") && row.contains('…'), "names cut, never the case: {row}");
        assert!(row.contains("-120 OVERDUE") && row.ends_with("1234"), "nor the deadline or the sessions: {row}");
        assert!(!text.contains('\x1b'), "plain when not on a terminal");
    }

    #[test]
    fn on_a_terminal_overdue_deadlines_are_red_and_near_ones_yellow() {
        let caseload = pb::Caseload {
            cases: vec![
                entry(3, Some((pb::Date { year: 2026, month: 2, day: 10 }, -3)), 4),
                entry(4, Some((pb::Date { year: 2026, month: 2, day: 15 }, 2)), 0),
                entry(12, Some((pb::Date { year: 2026, month: 3, day: 1 }, 16)), 0),
            ],
        };
        let text = render(&caseload, Style { width: Some(WIDTH), colour: true });
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[0].starts_with("\x1b[1mCASE\x1b[0m"), "a bold header: {:?}", rows[0]);
        assert!(rows[1].contains("\x1b[1;31m-3 OVERDUE\x1b[0m"), "{:?}", rows[1]);
        assert!(rows[2].contains("\x1b[33m2\x1b[0m"), "{:?}", rows[2]);
        assert!(!rows[3].contains("\x1b[3"), "a far deadline is plain: {:?}", rows[3]);
        assert!(text.contains("\x1b[1;31m1 OVERDUE\x1b[0m"), "{text}");
    }

    #[test]
    fn an_empty_caseload_says_so_in_words() {
        assert_eq!(render(&pb::Caseload::default(), Style::plain()), "You have no open cases.\n");
    }

    #[test]
    fn days_left_show_today_and_overdue_plainly() {
        assert_eq!(days_left_cell(5), "5");
        assert_eq!(days_left_cell(0), "0 (today)");
        assert_eq!(days_left_cell(-1), "-1 OVERDUE");
    }
}
