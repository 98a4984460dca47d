//! `sen caseload`: the calling professional's open cases, soonest deadline
//! first, as the caseloads service orders them. The caseload API gives pupil ids,
//! not names (names stay behind the pupils service's audit), so the table shows
//! ids; `sen case show ID` goes further.

use chrono::NaiveDate;
use clap::Args;
use sen_proto::v1 as pb;

use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Failure};
use super::table::{Align, Table};
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
        print(&render(&caseload))
    }
}

/// The caseload as a table with a heading and a count, or a friendly line when empty.
pub fn render(caseload: &pb::Caseload) -> String {
    if caseload.cases.is_empty() {
        return "You have no open cases.\n".to_owned();
    }
    let mut table = Table::new(&[
        ("CASE", Align::Right),
        ("PUPIL ID", Align::Right),
        ("SCHOOL", Align::Left),
        ("KIND", Align::Left),
        ("NEXT DEADLINE", Align::Left),
        ("DUE", Align::Left),
        ("DAYS LEFT", Align::Left),
        ("SESSIONS", Align::Right),
    ]);
    let mut overdue = 0;
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
        table.row(vec![
            case.id.to_string(),
            case.pupil_id.to_string(),
            case.school_urn,
            case.kind,
            if entry.next_deadline.is_empty() { "-".to_owned() } else { entry.next_deadline.clone() },
            due.unwrap_or_else(|| "-".to_owned()),
            days,
            case.sessions_used.to_string(),
        ]);
    }
    let mut out = table.render();
    let mut summary = plural(table.len(), "open case", "open cases");
    if overdue > 0 {
        summary.push_str(&format!(", {overdue} OVERDUE"));
    }
    out.push_str(&format!("\n{summary}.\n"));
    out
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
                school_urn: "100001".into(),
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
        let text = render(&caseload);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "CASE  PUPIL ID  SCHOOL  KIND                    NEXT DEADLINE                DUE         DAYS LEFT   SESSIONS",
                "   3      4703  100001  ehc_needs_assessment    EHC needs assessment advice  2026-02-10  -3 OVERDUE         4",
                "  12      4712  100001  ehc_needs_assessment    EHC needs assessment advice  2026-03-01  16                 0",
                "   7      4707  100001  educational_psychology  -                            -           -                 11",
                "",
                "3 open cases, 1 OVERDUE.",
            ]
        );
    }

    #[test]
    fn an_empty_caseload_says_so_in_words() {
        assert_eq!(render(&pb::Caseload::default()), "You have no open cases.\n");
    }

    #[test]
    fn days_left_show_today_and_overdue_plainly() {
        assert_eq!(days_left_cell(5), "5");
        assert_eq!(days_left_cell(0), "0 (today)");
        assert_eq!(days_left_cell(-1), "-1 OVERDUE");
    }
}
