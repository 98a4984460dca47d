//! `sen overview`: the council overview the gateway composes from the four
//! services, as a short report for the SEN team. Parts the gateway could not
//! get (a service down, or closed to the caller's role) are listed with the
//! reason, and the rest is shown as usual.

use chrono::NaiveDate;
use clap::Args;
use sen_proto::v1 as pb;
use sen_vocabulary::CapacityKind;

use super::choices::status_name;
use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Failure};
use super::{dates, json, plural, print};

/// `sen overview`.
#[derive(Args, Debug)]
pub struct OverviewArgs {
    /// Judge deadlines and figures on this day instead of today.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = dates::parse)]
    as_of: Option<NaiveDate>,
    /// Print the overview as JSON (the JSON API's shape).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// How many names a line lists before "and N more".
const NAMES_SHOWN: usize = 5;

/// Fetches and prints the overview.
pub async fn run(args: &OverviewArgs) -> Result<(), Failure> {
    let gateway = Gateway::connect(&args.connection).await?;
    let request = pb::GetOverviewRequest { as_of: dates::to_proto(args.as_of) };
    let overview = gateway
        .composed()
        .get_overview(request)
        .await
        .map_err(|s| Call::to("see the council overview").failed(&s, &gateway.url))?
        .into_inner();
    if args.json {
        return print(&json::text(&json::to_json(&overview, "sen.v1.Overview")?));
    }
    print(&render(&overview))
}

/// The overview as a report: one short section per part.
pub fn render(o: &pb::Overview) -> String {
    let mut out = format!("Council overview: authority {}, as of {}\n", o.tenant, dates::cell(o.as_of.as_ref()));
    if let Some(register) = &o.register {
        section(&mut out, "SEN register", &register_lines(register));
    }
    if let Some(stats) = &o.referrals {
        section(&mut out, "Referrals by status", &[referral_counts(stats)]);
    }
    if let Some(clock) = &o.statutory_clock {
        section(&mut out, "Statutory clock (EHC needs assessments)", &clock_lines(clock));
    }
    if let Some(compliance) = &o.senco_compliance {
        section(&mut out, "SENCOs", &senco_lines(compliance));
    }
    if let Some(transitions) = &o.transitions_due {
        section(&mut out, "Phase transfers due", &[transition_line(transitions)]);
    }
    if let Some(balance) = &o.caseload_balance {
        section(&mut out, "Caseload balance", &balance_lines(balance));
    }
    if let Some(appeals) = &o.appeals {
        section(&mut out, "Appeals to the Tribunal (SEND)", &appeal_lines(appeals));
    }
    if !o.unavailable.is_empty() {
        let lines: Vec<String> = o.unavailable.iter().map(|u| format!("{}: {}", u.part, u.reason)).collect();
        section(&mut out, "Not available", &lines);
    }
    out
}

fn section(out: &mut String, title: &str, lines: &[String]) {
    out.push_str(&format!("\n{title}\n"));
    for line in lines {
        out.push_str(&format!("  {line}\n"));
    }
}

fn register_lines(register: &pb::RegisterStats) -> Vec<String> {
    let all = register.authority.clone().unwrap_or_default();
    let national = register.national.clone().unwrap_or_default();
    let line = |label: &str, count: u32, percent: f64, national: f64| {
        let share = if all.number_on_roll > 0 { format!(", {percent:.1}% of the roll") } else { String::new() };
        format!("{label} {} pupils{share} (national {national:.1}%)", thousands(count))
    };
    let mut lines = vec![
        line("SEN support:", all.sen_support, all.sen_support_percent, national.sen_support_percent),
        line("EHC plans:  ", all.ehc_plan, all.ehc_plan_percent, national.ehc_plan_percent),
    ];
    let mut basis = format!("{} pupils recorded", thousands(all.pupils_recorded));
    if all.number_on_roll > 0 {
        basis.push_str(&format!(" of {} on roll", thousands(all.number_on_roll)));
    }
    if !national.as_at.is_empty() {
        basis.push_str(&format!("; national figures as at {}", national.as_at));
    }
    lines.push(basis);
    lines
}

fn referral_counts(stats: &pb::ReferralStats) -> String {
    let counts: Vec<String> =
        stats.by_status.iter().map(|c| format!("{} {}", status_name(c.status), thousands(c.count))).collect();
    if counts.is_empty() { "none".to_owned() } else { counts.join(", ") }
}

fn clock_lines(clock: &pb::StatutoryClockReport) -> Vec<String> {
    let mut lines =
        vec![format!("{} open: {} at risk, {} breached", thousands(clock.open_count), clock.at_risk, clock.breached)];
    let mut issued = format!(
        "{}: {} issued, {} within 20 weeks",
        clock.year,
        plural(clock.plans_issued as usize, "plan", "plans"),
        clock.issued_within_20_weeks
    );
    match clock.percent_within_20_weeks {
        Some(percent) => issued.push_str(&format!(" ({percent:.1}%")),
        None => issued.push_str(" (no plans issued yet"),
    }
    if clock.excluded_exceptions > 0 {
        issued
            .push_str(&format!("; {} excluded", plural(clock.excluded_exceptions as usize, "exception", "exceptions")));
    }
    issued.push(')');
    if clock.excluded_exceptions > 0 {
        // The DfE publishes the figure with exception cases counted in as well.
        issued.push_str(&format!(
            "; including exceptions {} of {}",
            clock.issued_within_20_weeks_including_exceptions, clock.plans_issued_including_exceptions
        ));
        if let Some(percent) = clock.percent_within_20_weeks_including_exceptions {
            issued.push_str(&format!(" ({percent:.1}%)"));
        }
    }
    lines.push(issued);
    lines
}

fn senco_lines(report: &pb::SencoComplianceReport) -> Vec<String> {
    let name =
        |s: &Option<pb::SchoolSummary>| s.as_ref().map_or_else(String::new, |s| format!("{} ({})", s.name, s.urn));
    let without: Vec<String> = report.without_senco.iter().map(|s| format!("{} ({})", s.name, s.urn)).collect();
    let overdue: Vec<String> = report
        .awards_overdue
        .iter()
        .map(|item| format!("{}, {}", name(&item.school), dates::days_left(item.days_to_deadline)))
        .collect();
    vec![
        format!("without a SENCO: {}", listing(&without)),
        format!("SENCO award overdue: {}", listing(&overdue)),
        format!(
            "award due within {} days: {}; not recorded as qualified teachers: {}",
            report.due_within_days,
            report.awards_due_soon.len(),
            report.not_qualified_teacher.len()
        ),
    ]
}

/// The transfers as the service counted them (the overview carries no rows).
fn transition_line(due: &pb::ListTransitionsDueResponse) -> String {
    let counts = due.counts.clone().unwrap_or_default();
    format!(
        "{} due: {} red, {} amber, {} green; {} past the deadline without an amended plan, {} amended plans issued late",
        due.total, counts.red, counts.amber, counts.green, counts.overdue, counts.issued_late,
    )
}

/// Open appeals by stage, then each year's registrations and outcomes.
fn appeal_lines(appeals: &pb::AppealStats) -> Vec<String> {
    let counted = |counts: &[pb::CountByKey]| {
        let parts: Vec<String> =
            counts.iter().filter(|c| c.count > 0).map(|c| format!("{} {}", c.key.replace('_', " "), c.count)).collect();
        if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
    };
    let mut lines = vec![format!(
        "{} open{}; {} council responses past their date",
        thousands(appeals.open),
        counted(&appeals.open_by_stage),
        thousands(appeals.responses_overdue)
    )];
    for year in &appeals.years {
        lines.push(format!(
            "{}: {} registered, {} ended{}",
            year.year,
            thousands(year.registered),
            thousands(year.ended),
            counted(&year.ended_by_outcome)
        ));
    }
    lines
}

fn balance_lines(balance: &pb::CaseloadBalance) -> Vec<String> {
    let load =
        |p: &pb::ProfessionalLoad| format!("{} ({}/{} {})", p.name, p.open_cases, p.capacity, unit(&p.capacity_kind));
    let overloaded: Vec<String> = balance.professionals.iter().filter(|p| p.overloaded).map(load).collect();
    let idle: Vec<String> = balance.professionals.iter().filter(|p| p.idle).map(|p| p.name.clone()).collect();
    let overdue: u32 = balance.professionals.iter().map(|p| p.overdue).sum();
    vec![
        format!(
            "{}; {} open in all, {overdue} past their advice date",
            plural(balance.professionals.len(), "professional", "professionals"),
            balance.professionals.iter().map(|p| p.open_cases).sum::<u32>()
        ),
        format!("overloaded: {}", listing(&overloaded)),
        format!("idle: {}", listing(&idle)),
    ]
}

/// What a capacity counts, in a word; an unknown kind as it came.
fn unit(capacity_kind: &str) -> &str {
    match CapacityKind::ALL.into_iter().find(|kind| kind.code() == capacity_kind) {
        Some(CapacityKind::OpenCases) => "cases",
        Some(CapacityKind::SessionsPerTerm) => "sessions",
        None => capacity_kind,
    }
}

/// "none", "2: A, B", or "7: A, B, C, D, E and 2 more".
fn listing(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let shown = names.iter().take(NAMES_SHOWN).cloned().collect::<Vec<_>>().join(", ");
    match names.len().saturating_sub(NAMES_SHOWN) {
        0 => format!("{}: {shown}", names.len()),
        rest => format!("{}: {shown} and {rest} more", names.len()),
    }
}

/// 12345 as "12,345".
fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(urn: &str, name: &str) -> pb::SchoolSummary {
        pb::SchoolSummary { urn: urn.into(), name: name.into(), ..Default::default() }
    }

    fn overview() -> pb::Overview {
        pb::Overview {
            tenant: "990".into(),
            as_of: Some(pb::Date { year: 2026, month: 3, day: 2 }),
            register: Some(pb::RegisterStats {
                authority: Some(pb::SchoolRegisterStats {
                    number_on_roll: 18_400,
                    pupils_recorded: 2_310,
                    sen_support: 2_450,
                    ehc_plan: 912,
                    sen_support_percent: 13.3,
                    ehc_plan_percent: 4.96,
                    ..Default::default()
                }),
                national: Some(pb::NationalFigures {
                    sen_support_percent: 14.2,
                    ehc_plan_percent: 5.3,
                    as_at: "January 2025".into(),
                }),
                ..Default::default()
            }),
            referrals: Some(pb::ReferralStats {
                by_status: vec![
                    pb::StatusCount { status: pb::ReferralStatus::Submitted as i32, count: 12 },
                    pb::StatusCount { status: pb::ReferralStatus::InProgress as i32, count: 5 },
                ],
                ..Default::default()
            }),
            statutory_clock: Some(pb::StatutoryClockReport {
                open_count: 9,
                at_risk: 2,
                breached: 1,
                year: 2026,
                plans_issued: 14,
                issued_within_20_weeks: 10,
                excluded_exceptions: 1,
                percent_within_20_weeks: Some(76.92),
                plans_issued_including_exceptions: 15,
                issued_within_20_weeks_including_exceptions: 11,
                percent_within_20_weeks_including_exceptions: Some(73.33),
                ..Default::default()
            }),
            senco_compliance: Some(pb::SencoComplianceReport {
                due_within_days: 90,
                without_senco: vec![school("100004", "Westgate Primary")],
                awards_overdue: vec![pb::SencoComplianceItem {
                    school: Some(school("100007", "Hill Top Academy")),
                    days_to_deadline: -20,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            transitions_due: Some(pb::ListTransitionsDueResponse {
                total: 2,
                counts: Some(pb::TransitionCounts { due: 1, overdue: 1, red: 1, green: 1, ..Default::default() }),
                ..Default::default()
            }),
            caseload_balance: None,
            appeals: Some(pb::AppealStats {
                open: 3,
                open_by_stage: vec![
                    pb::CountByKey { key: "mediation".into(), count: 1 },
                    pb::CountByKey { key: "awaiting_hearing".into(), count: 2 },
                    pb::CountByKey { key: "awaiting_decision".into(), count: 0 },
                ],
                responses_overdue: 1,
                years: vec![pb::AppealYear {
                    year: 2026,
                    registered: 4,
                    ended: 2,
                    ended_by_outcome: vec![
                        pb::CountByKey { key: "upheld".into(), count: 1 },
                        pb::CountByKey { key: "withdrawn".into(), count: 1 },
                    ],
                    mediations: 1,
                }],
                ..Default::default()
            }),
            unavailable: vec![pb::UnavailablePart {
                part: "caseload_balance".into(),
                reason: "not available to your role".into(),
            }],
        }
    }

    #[test]
    fn the_overview_reads_as_a_short_report_with_unavailable_parts_named() {
        assert_eq!(
            render(&overview()),
            "Council overview: authority 990, as of 2026-03-02\n\
             \n\
             SEN register\n\
             \x20 SEN support: 2,450 pupils, 13.3% of the roll (national 14.2%)\n\
             \x20 EHC plans:   912 pupils, 5.0% of the roll (national 5.3%)\n\
             \x20 2,310 pupils recorded of 18,400 on roll; national figures as at January 2025\n\
             \n\
             Referrals by status\n\
             \x20 submitted 12, in_progress 5\n\
             \n\
             Statutory clock (EHC needs assessments)\n\
             \x20 9 open: 2 at risk, 1 breached\n\
             \x20 2026: 14 plans issued, 10 within 20 weeks (76.9%; 1 exception excluded); including exceptions 11 of 15 (73.3%)\n\
             \n\
             SENCOs\n\
             \x20 without a SENCO: 1: Westgate Primary (100004)\n\
             \x20 SENCO award overdue: 1: Hill Top Academy (100007), 20 days overdue\n\
             \x20 award due within 90 days: 0; not recorded as qualified teachers: 0\n\
             \n\
             Phase transfers due\n\
             \x20 2 due: 1 red, 0 amber, 1 green; 1 past the deadline without an amended plan, 0 amended plans issued late\n\
             \n\
             Appeals to the Tribunal (SEND)\n\
             \x20 3 open (mediation 1, awaiting hearing 2); 1 council responses past their date\n\
             \x20 2026: 4 registered, 2 ended (upheld 1, withdrawn 1)\n\
             \n\
             Not available\n\
             \x20 caseload_balance: not available to your role\n"
        );
    }

    #[test]
    fn the_caseload_balance_names_the_overloaded_and_the_idle() {
        let balance = pb::CaseloadBalance {
            professionals: vec![
                pb::ProfessionalLoad {
                    name: "Dr Megan Jones".into(),
                    open_cases: 6,
                    capacity: 5,
                    capacity_kind: "open_cases".into(),
                    overloaded: true,
                    overdue: 1,
                    ..Default::default()
                },
                pb::ProfessionalLoad { name: "Sam Reid".into(), capacity: 6, idle: true, ..Default::default() },
            ],
        };
        assert_eq!(
            balance_lines(&balance),
            [
                "2 professionals; 6 open in all, 1 past their advice date",
                "overloaded: 1: Dr Megan Jones (6/5 cases)",
                "idle: 1: Sam Reid",
            ]
        );
    }

    #[test]
    fn long_lists_are_cut_short_and_numbers_grouped_in_thousands() {
        let names: Vec<String> = (1..=7).map(|n| format!("S{n}")).collect();
        assert_eq!(listing(&names), "7: S1, S2, S3, S4, S5 and 2 more");
        assert_eq!(listing(&[]), "none");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
