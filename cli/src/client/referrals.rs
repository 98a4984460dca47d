//! `sen referrals list | submit | record-request | watch`: the referrals the
//! caller may see (the council team: the authority's; a SENCO: their school's; a
//! professional: those allocated to them), page by page or all of them,
//! submitting one ([`super::submit`]), recording a request for an EHC needs
//! assessment received by another route ([`super::record_request`]), and
//! following their changes live ([`super::watch`]).

use clap::{Args, Subcommand};
use sen_proto::v1 as pb;
use sen_vocabulary::ReferralStatus;

use super::choices::{self, status_name};
use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Failure};
use super::record_request::RecordRequestArgs;
use super::submit::SubmitArgs;
use super::table::{Align, Table};
use super::watch::WatchArgs;
use super::{dates, json, plural, print};

/// `sen referrals …`.
#[derive(Subcommand, Debug)]
pub enum ReferralsCommand {
    /// The referrals you may see, as a table (the first page unless --all).
    #[command(after_help = super::EXIT_CODES)]
    List(ListArgs),
    /// Submit a referral with parental consent (SENCOs for their school, case officers).
    #[command(after_help = super::EXIT_CODES)]
    Submit(Box<SubmitArgs>),
    /// Record a request for an EHC needs assessment as the council received it
    /// (by letter, email, …), its clock running from the day received (case officers).
    #[command(after_help = super::EXIT_CODES)]
    RecordRequest(Box<RecordRequestArgs>),
    /// Follow changes to the referrals you may see as they happen, one line each;
    /// a dropped stream is resumed from the last position printed, so none is missed.
    #[command(after_help = super::EXIT_CODES)]
    Watch(WatchArgs),
}

/// `sen referrals list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only referrals in this state.
    #[arg(long, value_parser = choices::referral_status())]
    status: Option<ReferralStatus>,
    /// Only this school's (URN).
    #[arg(long, value_name = "URN")]
    school: Option<String>,
    // "Only this kind: <the forms of a referral kind>".
    #[arg(long, help = choices::referral_kind_filter_help())]
    kind: Option<String>,
    /// Only EHC needs assessment requests past a statutory deadline.
    #[arg(long)]
    overdue: bool,
    /// Referrals per page (the service's default is 50, the most 500).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=500))]
    page_size: Option<u32>,
    /// Fetch every page, not just the first.
    #[arg(long)]
    all: bool,
    /// Print the referrals as JSON (the JSON API's shape).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

const LIST_FLAGS: &[(&str, &str)] =
    &[("page.page_size", "--page-size"), ("school_urn", "--school"), ("kind", "--kind"), ("status", "--status")];

/// Runs one `sen referrals` command.
pub async fn run(command: &ReferralsCommand) -> Result<(), Failure> {
    match command {
        ReferralsCommand::List(args) => list(args).await,
        ReferralsCommand::Submit(args) => super::submit::run(args).await,
        ReferralsCommand::RecordRequest(args) => super::record_request::run(args).await,
        ReferralsCommand::Watch(args) => super::watch::run(args).await,
    }
}

async fn list(args: &ListArgs) -> Result<(), Failure> {
    let gateway = Gateway::connect(&args.connection).await?;
    let call = Call::to("list referrals").with_flags(LIST_FLAGS);
    let mut client = gateway.referrals();
    let mut referrals = Vec::new();
    let mut token = String::new();
    let (more, total) = loop {
        let request = pb::ListReferralsRequest {
            page: Some(pb::PageRequest { page_size: args.page_size.unwrap_or(0), page_token: token.clone() }),
            school_urn: args.school.clone().unwrap_or_default(),
            kind: args.kind.clone().unwrap_or_default(),
            status: args.status.map_or(pb::ReferralStatus::Unspecified, choices::status_to_proto) as i32,
            overdue: args.overdue,
            ..Default::default()
        };
        let page = client.list_referrals(request).await.map_err(|s| call.failed(&s, &gateway.url))?.into_inner();
        referrals.extend(page.referrals);
        // A token that does not move on would loop for ever: stop there.
        if !args.all || page.next_page_token.is_empty() || page.next_page_token == token {
            break (page.next_page_token, page.total);
        }
        token = page.next_page_token;
    };
    let next_page_token = if args.all { String::new() } else { more };
    let response = pb::ListReferralsResponse { referrals, next_page_token, total };
    if args.json {
        return print(&json::text(&json::to_json(&response, "sen.v1.ListReferralsResponse")?));
    }
    print(&render(&response))
}

/// The referrals as a table, with a count and a hint when more pages wait.
pub fn render(response: &pb::ListReferralsResponse) -> String {
    if response.referrals.is_empty() {
        return "No referrals match.\n".to_owned();
    }
    let mut table = Table::new(&[
        ("ID", Align::Right),
        ("SUBMITTED", Align::Left),
        ("SCHOOL", Align::Left),
        ("PUPIL ID", Align::Right),
        ("KIND", Align::Left),
        ("PRIORITY", Align::Left),
        ("STATUS", Align::Left),
        ("ALLOCATED TO", Align::Left),
        ("STATUTORY CLOCK", Align::Left),
    ]);
    for r in &response.referrals {
        let body = r.body.clone().unwrap_or_default();
        table.row(vec![
            r.id.to_string(),
            dates::cell(r.submitted_on.as_ref()),
            body.school_urn,
            body.pupil_id.to_string(),
            body.kind,
            or_dash(&body.priority),
            status_name(r.status),
            or_dash(&r.allocated_to),
            r.clock.as_ref().and_then(clock_summary).unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    let mut out = table.render();
    out.push_str(&format!("\n{}", plural(table.len(), "referral", "referrals")));
    if !response.next_page_token.is_empty() {
        out.push_str("; more on the next pages (pass --all to fetch them)");
    }
    out.push_str(".\n");
    out
}

/// "final plan due 2026-04-01: 12 days left (at_risk)", or `None` once no deadline is open.
pub fn clock_summary(clock: &pb::StatutoryClock) -> Option<String> {
    let due = dates::show(clock.next_deadline_on.as_ref())?;
    let what = if clock.next_deadline.is_empty() { "next step" } else { clock.next_deadline.as_str() };
    let mut text = format!("{what} due {due}: {}", dates::days_left(clock.days_left));
    if !clock.health.is_empty() {
        text.push_str(&format!(" ({})", clock.health));
    }
    Some(text)
}

fn or_dash(text: &str) -> String {
    if text.is_empty() { "-".to_owned() } else { text.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referral(id: i64, status: pb::ReferralStatus, clock: Option<pb::StatutoryClock>) -> pb::Referral {
        pb::Referral {
            id,
            status: status as i32,
            submitted_on: Some(pb::Date { year: 2026, month: 1, day: 2 }),
            allocated_to: if status == pb::ReferralStatus::Allocated { "ep-jones".into() } else { String::new() },
            body: Some(pb::ReferralBody {
                pupil_id: 42,
                school_urn: "100001".into(),
                kind: if clock.is_some() { "ehc_needs_assessment" } else { "educational_psychology" }.into(),
                priority: "routine".into(),
                ..Default::default()
            }),
            clock,
            ..Default::default()
        }
    }

    #[test]
    fn referrals_are_a_table_with_the_statutory_clock_where_one_runs() {
        let clock = pb::StatutoryClock {
            next_deadline: "final plan".into(),
            next_deadline_on: Some(pb::Date { year: 2026, month: 4, day: 1 }),
            days_left: -2,
            health: "breached".into(),
            ..Default::default()
        };
        let response = pb::ListReferralsResponse {
            referrals: vec![
                referral(9, pb::ReferralStatus::InProgress, Some(clock)),
                referral(10, pb::ReferralStatus::Allocated, None),
            ],
            next_page_token: "abc".into(),
            total: 2,
        };
        let lines: Vec<String> = render(&response).lines().map(str::to_owned).collect();
        assert_eq!(
            lines,
            [
                "ID  SUBMITTED   SCHOOL  PUPIL ID  KIND                    PRIORITY  STATUS       ALLOCATED TO  STATUTORY CLOCK",
                " 9  2026-01-02  100001        42  ehc_needs_assessment    routine   in_progress  -             final plan due 2026-04-01: 2 days overdue (breached)",
                "10  2026-01-02  100001        42  educational_psychology  routine   allocated    ep-jones      -",
                "",
                "2 referrals; more on the next pages (pass --all to fetch them).",
            ]
        );
    }

    #[test]
    fn no_referrals_is_said_in_words() {
        assert_eq!(render(&pb::ListReferralsResponse::default()), "No referrals match.\n");
    }

    #[test]
    fn statuses_read_as_the_words_the_filter_takes() {
        assert_eq!(status_name(pb::ReferralStatus::InProgress as i32), "in_progress");
        assert_eq!(status_name(pb::ReferralStatus::Withdrawn as i32), "withdrawn");
        assert_eq!(status_name(99), "unknown (99)");
        for status in ReferralStatus::ALL {
            assert_eq!(status_name(choices::status_to_proto(status) as i32), status.code());
        }
    }

    #[test]
    fn a_clock_with_nothing_left_to_do_says_nothing() {
        assert_eq!(clock_summary(&pb::StatutoryClock { stage: "plan_issued".into(), ..Default::default() }), None);
    }
}
