//! `sen case show | log | close`: one case of the caller's caseload (or, for the
//! council team, any case of the authority). The case and its activity come
//! from the caseloads service; the referral behind it is fetched as well when
//! the caller may read it, and its absence never stops the case being shown.

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use sen_proto::v1 as pb;
use sen_vocabulary::ActivityKind;
use tonic::Code;

use super::choices;
use super::choices::status_name;
use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Exit, Failure};
use super::referrals::clock_summary;
use super::submit::{new_idempotency_key, with_retry_hint};
use super::table::{Align, Table};
use super::{dates, json, plural, print};

/// `sen case …`.
#[derive(Subcommand, Debug)]
pub enum CaseCommand {
    /// The case, its referral and its activity log.
    #[command(after_help = super::EXIT_CODES)]
    Show(ShowArgs),
    /// Record a visit or piece of work on the case.
    #[command(after_help = super::EXIT_CODES)]
    Log(LogArgs),
    /// Close the case with its outcome (closes the referral and the pupil's access).
    #[command(after_help = super::EXIT_CODES)]
    Close(CloseArgs),
}

/// `sen case show ID`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The case id (the first column of `sen caseload`).
    #[arg(value_parser = clap::value_parser!(i64).range(1..))]
    id: i64,
    /// Print the case, its activity and its referral as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// `sen case log ID …`.
#[derive(Args, Debug)]
pub struct LogArgs {
    /// The case id.
    #[arg(value_parser = clap::value_parser!(i64).range(1..))]
    id: i64,
    /// What was done.
    #[arg(long, value_parser = choices::activity_kind())]
    kind: ActivityKind,
    /// Sessions (half-days) it took.
    #[arg(long, value_name = "N")]
    sessions: u32,
    /// A short note of what was done (never written to the platform's logs); required.
    #[arg(long, value_name = "TEXT")]
    note: String,
    /// The day it happened; today when not given.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = dates::parse)]
    on: Option<NaiveDate>,
    /// Makes a retry safe: the same key returns the first record instead of logging the work twice.
    /// A new one is made up when not given, and printed.
    #[arg(long, value_name = "KEY")]
    idempotency_key: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// `sen case close ID --outcome …`.
#[derive(Args, Debug)]
pub struct CloseArgs {
    /// The case id.
    #[arg(value_parser = clap::value_parser!(i64).range(1..))]
    id: i64,
    /// The outcome, for the record and the school.
    #[arg(long, value_name = "TEXT")]
    outcome: String,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Where the request fields of these calls come from on the command line.
const LOG_FLAGS: &[(&str, &str)] = &[
    ("case_id", "ID"),
    ("on", "--on"),
    ("kind", "--kind"),
    ("sessions", "--sessions"),
    ("note", "--note"),
    ("idempotency_key", "--idempotency-key"),
];
const CLOSE_FLAGS: &[(&str, &str)] = &[("case_id", "ID"), ("outcome", "--outcome")];

/// The referral behind a case, as far as the caller may see it.
#[derive(Clone, Debug)]
pub enum ReferralView {
    /// The referral.
    Shown(Box<pb::Referral>),
    /// Not the caller's to read; only its id is shown.
    Hidden,
    /// Could not be fetched; why.
    Unavailable(String),
}

/// Runs one `sen case` command; `today` is the default day of `log`.
pub async fn run(command: &CaseCommand, today: NaiveDate) -> Result<(), Failure> {
    match command {
        CaseCommand::Show(args) => show(args, today).await,
        CaseCommand::Log(args) => log(args, today).await,
        CaseCommand::Close(args) => close(args).await,
    }
}

async fn show(args: &ShowArgs, today: NaiveDate) -> Result<(), Failure> {
    let gateway = Gateway::connect(&args.connection).await?;
    let call = Call::to("see this case").about(format!("case {}", args.id));
    let mut caseloads = gateway.caseloads();
    let mut activity_client = gateway.caseloads();
    let (case, activity) = tokio::join!(
        caseloads.get_case(pb::GetCaseRequest { case_id: args.id }),
        activity_client.list_case_activity(pb::ListCaseActivityRequest { case_id: args.id }),
    );
    let case = case.map_err(|s| call.failed(&s, &gateway.url))?.into_inner();
    let activity = activity.map_err(|s| call.failed(&s, &gateway.url))?.into_inner();
    let referral =
        match gateway.referrals().get_referral(pb::GetReferralRequest { id: case.referral_id, as_of: None }).await {
            Ok(referral) => ReferralView::Shown(Box::new(referral.into_inner())),
            Err(s) if matches!(s.code(), Code::PermissionDenied | Code::NotFound) => ReferralView::Hidden,
            Err(s) => ReferralView::Unavailable(Call::to("read the referral").failed(&s, &gateway.url).message),
        };
    if args.json {
        let referral_json = match &referral {
            ReferralView::Shown(r) => json::to_json(r.as_ref(), "sen.v1.Referral")?,
            _ => serde_json::Value::Null,
        };
        let value = serde_json::json!({
            "case": json::to_json(&case, "sen.v1.Case")?,
            "activity": json::to_json(&activity, "sen.v1.ListCaseActivityResponse")?["activity"],
            "referral": referral_json,
        });
        return print(&json::text(&value));
    }
    print(&render(&case, &activity.activity, &referral, today))
}

async fn log(args: &LogArgs, today: NaiveDate) -> Result<(), Failure> {
    // A record of work says what was done: an empty note is refused here, before anything is sent.
    if args.note.trim().is_empty() {
        return Err(Failure::new(
            Exit::Usage,
            "--note: is required: say in a few words what was done, e.g. --note \"Observed in class\"",
        ));
    }
    let key = match &args.idempotency_key {
        Some(key) => key.clone(),
        None => new_idempotency_key()?,
    };
    let retry = format!("to retry without logging the work twice, pass --idempotency-key {key}");
    let gateway = Gateway::connect(&args.connection).await.map_err(|f| with_retry_hint(f, &retry))?;
    let request = pb::RecordCaseActivityRequest {
        case_id: args.id,
        on: dates::to_proto(Some(args.on.unwrap_or(today))),
        kind: args.kind.code().to_owned(),
        sessions: args.sessions,
        note: args.note.clone(),
        idempotency_key: key,
    };
    let call = Call::to("record activity on this case").about(format!("case {}", args.id)).with_flags(LOG_FLAGS);
    let recorded = gateway
        .caseloads()
        .record_case_activity(request)
        .await
        .map_err(|s| with_retry_hint(call.failed(&s, &gateway.url), &retry))?
        .into_inner();
    print(&recorded_line(&recorded))
}

async fn close(args: &CloseArgs) -> Result<(), Failure> {
    let gateway = Gateway::connect(&args.connection).await?;
    let request = pb::CloseCaseRequest { case_id: args.id, outcome: args.outcome.clone() };
    let call = Call::to("close this case").about(format!("case {}", args.id)).with_flags(CLOSE_FLAGS);
    let case = gateway.caseloads().close_case(request).await.map_err(|s| call.failed(&s, &gateway.url))?.into_inner();
    print(&format!(
        "Case {} is {}: {}. {} used.\n",
        case.id,
        case.status,
        case.outcome,
        plural(case.sessions_used as usize, "session", "sessions")
    ))
}

/// What `sen case log` recorded, in one line.
pub fn recorded_line(activity: &pb::CaseActivity) -> String {
    format!(
        "Recorded on case {}: {} on {}, {} (activity {}). Note: {}\n",
        activity.case_id,
        activity.kind,
        dates::cell(activity.on.as_ref()),
        plural(activity.sessions as usize, "session", "sessions"),
        activity.id,
        activity.note.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

/// The case as a summary, then its activity log; `today` judges the advice date.
pub fn render(case: &pb::Case, activity: &[pb::CaseActivity], referral: &ReferralView, today: NaiveDate) -> String {
    let named = |name: &str, id: String, what: &str| match name.is_empty() {
        true => format!("{what} {id}"),
        false => format!("{name} ({what} {id})"),
    };
    let mut lines: Vec<(&str, String)> = vec![
        ("Pupil", named(&case.pupil_name, case.pupil_id.to_string(), "id")),
        ("School", named(&case.school_name, case.school_urn.clone(), "URN")),
        ("Professional", case.professional_name.clone()),
        ("Allocated on", dates::cell(case.allocated_on.as_ref())),
    ];
    if case.advice_state == "not_requested" {
        lines.push(("Advice due", "advice not yet requested".to_owned()));
    } else if let Some(due) = case.advice_due.as_ref().and_then(|d| sen_platform::dates::from_proto(d).ok()) {
        let left = i32::try_from((due - today).num_days()).unwrap_or(i32::MIN);
        let state = case.advice_state.replace('_', " ");
        match case.advice_state.as_str() {
            "received_on_time" | "received_late" => lines.push(("Advice due", format!("{due} ({state})"))),
            _ => lines.push(("Advice due", format!("{due} ({})", dates::days_left(left)))),
        }
    }
    lines.push(("Sessions used", case.sessions_used.to_string()));
    if !case.outcome.is_empty() {
        lines.push(("Outcome", case.outcome.clone()));
    }
    if !case.override_reason.is_empty() {
        lines.push(("Over capacity", case.override_reason.clone()));
    }
    match referral {
        ReferralView::Shown(r) => {
            let body = r.body.clone().unwrap_or_default();
            let mut about = format!("{}, {}", case.referral_id, status_name(r.status));
            if !body.priority.is_empty() {
                about.push_str(&format!(", {}", body.priority));
            }
            about.push_str(&format!(", submitted {}", dates::cell(r.submitted_on.as_ref())));
            lines.push(("Referral", about));
            if !body.broad_areas.is_empty() {
                lines.push(("Areas of need", body.broad_areas.join(", ")));
            }
            if !body.concern.is_empty() {
                lines.push(("Concern", body.concern.clone()));
            }
            if let Some(clock) = r.clock.as_ref().and_then(clock_summary) {
                lines.push(("Statutory clock", clock));
            }
        }
        ReferralView::Hidden => lines.push(("Referral", case.referral_id.to_string())),
        ReferralView::Unavailable(why) => {
            lines.push(("Referral", format!("{} (details unavailable: {why})", case.referral_id)))
        }
    }
    let width = lines.iter().map(|(label, _)| label.chars().count()).max().unwrap_or(0) + 1;
    let mut out = format!("Case {}: {}, {}\n", case.id, case.kind, case.status);
    for (label, value) in lines {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&format!("  {:<width$}  {value}\n", format!("{label}:")));
    }
    out.push('\n');
    if activity.is_empty() {
        out.push_str("No activity recorded yet.\n");
        return out;
    }
    out.push_str(&format!("Activity ({}):\n", plural(activity.len(), "entry", "entries")));
    let mut table = Table::new(&[
        ("ON", Align::Left),
        ("KIND", Align::Left),
        ("SESSIONS", Align::Right),
        ("BY", Align::Left),
        ("NOTE", Align::Left),
    ]);
    for a in activity {
        table.row(vec![
            dates::cell(a.on.as_ref()),
            a.kind.clone(),
            a.sessions.to_string(),
            // Only the case's professionals and SEN managers record activity.
            if a.recorded_by_name.is_empty() { "a SEN manager".to_owned() } else { a.recorded_by_name.clone() },
            a.note.clone(),
        ]);
    }
    out.push_str(&table.render());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> pb::Case {
        pb::Case {
            id: 12,
            referral_id: 37,
            pupil_id: 4711,
            school_urn: "100001".into(),
            kind: "ehc_needs_assessment".into(),
            professional_name: "Dr Megan Jones".into(),
            pupil_name: "Finn Hall".into(),
            school_name: "Oak Primary".into(),
            status: "active".into(),
            allocated_on: Some(pb::Date { year: 2026, month: 1, day: 5 }),
            advice_due: Some(pb::Date { year: 2026, month: 2, day: 16 }),
            sessions_used: 3,
            ..Default::default()
        }
    }

    fn visit() -> pb::CaseActivity {
        pb::CaseActivity {
            id: 88,
            case_id: 12,
            on: Some(pb::Date { year: 2026, month: 1, day: 20 }),
            kind: "observation".into(),
            sessions: 1,
            note: "Observed in class;\nsettles with a visual timetable".into(),
            recorded_by: "ep-jones".into(),
            recorded_by_name: "Dr Megan Jones".into(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 2, 19).unwrap()
    }

    #[test]
    fn a_case_reads_as_a_summary_then_its_activity_log() {
        let referral = pb::Referral {
            id: 37,
            status: pb::ReferralStatus::InProgress as i32,
            submitted_on: Some(pb::Date { year: 2026, month: 1, day: 2 }),
            body: Some(pb::ReferralBody {
                priority: "urgent".into(),
                broad_areas: vec!["cognition_and_learning".into()],
                concern: "Reading well below peers".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let text = render(&case(), &[visit()], &ReferralView::Shown(Box::new(referral)), today());
        assert_eq!(
            text,
            "Case 12: ehc_needs_assessment, active\n\
             \x20 Pupil:          Finn Hall (id 4711)\n\
             \x20 School:         Oak Primary (URN 100001)\n\
             \x20 Professional:   Dr Megan Jones\n\
             \x20 Allocated on:   2026-01-05\n\
             \x20 Advice due:     2026-02-16 (3 days overdue)\n\
             \x20 Sessions used:  3\n\
             \x20 Referral:       37, in_progress, urgent, submitted 2026-01-02\n\
             \x20 Areas of need:  cognition_and_learning\n\
             \x20 Concern:        Reading well below peers\n\
             \n\
             Activity (1 entry):\n\
             ON          KIND         SESSIONS  BY              NOTE\n\
             2026-01-20  observation         1  Dr Megan Jones  Observed in class; settles with a visual timetable\n"
        );
    }

    #[test]
    fn a_statutory_case_shows_its_advice_not_yet_requested_or_in() {
        let unasked = pb::Case { advice_due: None, advice_state: "not_requested".into(), ..case() };
        let text = render(&unasked, &[], &ReferralView::Hidden, today());
        assert!(text.contains("  Advice due:     advice not yet requested\n"), "{text}");
        let done = pb::Case { advice_state: "received_late".into(), ..case() };
        let text = render(&done, &[], &ReferralView::Hidden, today());
        assert!(text.contains("  Advice due:     2026-02-16 (received late)\n"), "{text}");
    }

    #[test]
    fn a_hidden_or_unreachable_referral_still_shows_the_case() {
        let unnamed = pb::Case { pupil_name: String::new(), school_name: String::new(), ..case() };
        let text = render(&unnamed, &[], &ReferralView::Hidden, today());
        assert!(text.contains("  Pupil:          id 4711\n  School:         URN 100001\n"), "{text}");
        let hidden = render(&case(), &[], &ReferralView::Hidden, today());
        assert!(hidden.contains("  Referral:       37\n"), "{hidden}");
        assert!(hidden.ends_with("No activity recorded yet.\n"), "{hidden}");
        let down =
            render(&case(), &[], &ReferralView::Unavailable("the referrals service is unavailable".into()), today());
        assert!(down.contains("37 (details unavailable: the referrals service is unavailable)"), "{down}");
    }

    #[test]
    fn a_logged_activity_is_echoed_on_one_line() {
        assert_eq!(
            recorded_line(&visit()),
            "Recorded on case 12: observation on 2026-01-20, 1 session (activity 88). \
             Note: Observed in class; settles with a visual timetable\n"
        );
    }

    #[test]
    fn activity_kinds_are_the_services_codes() {
        use clap::builder::TypedValueParser;
        let codes: Vec<String> =
            choices::activity_kind().possible_values().into_iter().flatten().map(|v| v.get_name().to_owned()).collect();
        assert_eq!(codes, ["consultation", "observation", "assessment", "statutory_advice", "training", "report"]);
        for kind in ActivityKind::ALL {
            assert!(codes.iter().any(|code| code == kind.code()), "{kind:?}");
        }
    }
}
