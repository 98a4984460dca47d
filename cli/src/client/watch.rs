//! `sen referrals watch`: each change to the referrals the caller may see, as it
//! happens, one line each (one JSON object per line with `--json`), for as long
//! as it runs (or until `--count` changes).
//!
//! Every change carries its position in the platform's feed. When the stream
//! drops (the gateway or the referrals service restarts, the network blinks),
//! the command says so on standard error, waits a moment (longer each time, up
//! to 30 s) and resumes after the last position it printed, so nothing is
//! missed and nothing printed twice; before any change, it resumes from the
//! position its first watch began after. `--after POSITION` resumes an earlier
//! watch. A position older than what the platform keeps ends the watch with
//! exit code 7: list the referrals again and watch without `--after`.

use std::error::Error as _;
use std::time::Duration;

use clap::Args;
use sen_proto::v1 as pb;
use tonic::{Code, Status, Streaming};

use super::choices::status_name;
use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Exit, Failure};
use super::{json, print};

/// The first pause before resuming a dropped watch; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest pause between attempts to resume.
const RETRY_MAX: Duration = Duration::from_secs(30);
/// The request field `--after` sets.
const WATCH_FLAGS: &[(&str, &str)] = &[("after_position", "--after")];

/// `sen referrals watch`.
#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Resume after this position: the last one an earlier watch printed.
    #[arg(long, value_name = "POSITION", value_parser = clap::value_parser!(i64).range(0..))]
    after: Option<i64>,
    /// Stop after this many changes.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Print each change as one line of JSON (the JSON API's shape, with its position).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Follows the changes until `--count` is reached or a failure that resuming cannot mend.
pub async fn run(args: &WatchArgs) -> Result<(), Failure> {
    let gateway = Gateway::connect(&args.connection).await?;
    let call = Call::to("watch referrals").with_flags(WATCH_FLAGS);
    let mut after = args.after;
    let mut printed = 0;
    let mut pause = RETRY_FIRST;
    let mut first = true;
    loop {
        let interrupted = match open(&gateway, after).await {
            Ok((begins, mut stream)) => {
                after = after.or(begins);
                if std::mem::take(&mut first) {
                    eprintln!("sen: {}", watching(after));
                }
                loop {
                    match stream.message().await {
                        Ok(Some(change)) => {
                            pause = RETRY_FIRST;
                            print(&line(&change, args.json)?)?;
                            after = Some(change.position);
                            printed += 1;
                            if args.count.is_some_and(|count| printed >= count) {
                                return Ok(());
                            }
                        }
                        Ok(None) => break "the platform ended the stream".to_owned(),
                        Err(status) => break resumable(&status, &call, &gateway.url, after)?,
                    }
                }
            }
            Err(status) => resumable(&status, &call, &gateway.url, after)?,
        };
        let from = after.map_or_else(|| "from now".to_owned(), |p| format!("after position {p}"));
        eprintln!("sen: the watch was interrupted ({interrupted}); resuming {from} in {} s", pause.as_secs());
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_MAX);
        // A watch outlives an access token: a stored sign-in is renewed before resuming.
        gateway.renew_if_expiring().await?;
    }
}

/// Opens a watch after `after` (or from now): the position it begins after, and the stream.
async fn open(gateway: &Gateway, after: Option<i64>) -> Result<(Option<i64>, Streaming<pb::ReferralChange>), Status> {
    let response = gateway.referrals().watch_referrals(pb::WatchReferralsRequest { after_position: after }).await?;
    let begins = response
        .metadata()
        .get(sen_proto::WATCH_POSITION_METADATA)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Ok((begins, response.into_inner()))
}

/// The line that says where the watch begins and how to resume it later.
fn watching(after: Option<i64>) -> String {
    match after {
        Some(p) => format!("watching referral changes after position {p} (resume a later watch with --after)"),
        None => "watching referral changes from now".to_owned(),
    }
}

/// Why a watch that failed with `status` may be resumed, or the failure that ends it.
fn resumable(status: &Status, call: &Call, gateway: &str, after: Option<i64>) -> Result<String, Failure> {
    let message = status.message().trim();
    if let Some(cause) = status.source() {
        return Ok(format!("the gateway at {gateway} cannot be reached: {cause}"));
    }
    match status.code() {
        // The stream or the connection under it broke, or the platform is busy
        // or stopping: all pass, and resuming misses nothing.
        Code::Unavailable
        | Code::Unknown
        | Code::Internal
        | Code::Cancelled
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted => Ok(if message.is_empty() { "no reason given".to_owned() } else { message.to_owned() }),
        Code::DataLoss => Err(Failure::new(
            Exit::Conflict,
            format!(
                "the platform no longer keeps the changes after position {}: list the referrals again \
                 (`sen referrals list`), then watch without --after",
                after.unwrap_or_default()
            ),
        )),
        _ => Err(call.failed(status, gateway)),
    }
}

/// One change as a line: JSON, or words for a person.
fn line(change: &pb::ReferralChange, as_json: bool) -> Result<String, Failure> {
    if as_json {
        let value = json::to_json(change, "sen.v1.ReferralChange")?;
        return Ok(format!("{value}\n"));
    }
    Ok(render(change))
}

/// "42  2026-11-24T09:30:00Z  referral 17 (school 100001)  submitted -> accepted  by officer-1 (case_officer): note".
pub fn render(change: &pb::ReferralChange) -> String {
    let referral = change.referral.clone().unwrap_or_default();
    let entry = change.change.clone().unwrap_or_default();
    let school = referral.body.map(|b| b.school_urn).filter(|s| !s.is_empty());
    let mut text = format!("{}  {}  referral {}", change.position, entry.at, referral.id);
    if let Some(school) = school {
        text.push_str(&format!(" (school {school})"));
    }
    let to = status_name(entry.to);
    if entry.from == pb::ReferralStatus::Unspecified as i32 || entry.from == entry.to {
        text.push_str(&format!("  {to}"));
    } else {
        text.push_str(&format!("  {} -> {to}", status_name(entry.from)));
    }
    text.push_str(&format!("  by {} ({})", entry.by, entry.by_role));
    if !entry.note.is_empty() {
        text.push_str(&format!(": {}", entry.note));
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATEWAY: &str = "http://127.0.0.1:8080";

    fn call() -> Call {
        Call::to("watch referrals").with_flags(WATCH_FLAGS)
    }

    fn change(position: i64, from: pb::ReferralStatus, to: pb::ReferralStatus, note: &str) -> pb::ReferralChange {
        pb::ReferralChange {
            referral: Some(pb::Referral {
                id: 17,
                body: Some(pb::ReferralBody { school_urn: "100001".into(), ..Default::default() }),
                ..Default::default()
            }),
            change: Some(pb::TimelineEntry {
                at: "2026-11-24T09:30:00Z".into(),
                by: "officer-1".into(),
                by_role: "case_officer".into(),
                from: from as i32,
                to: to as i32,
                note: note.into(),
            }),
            position,
        }
    }

    #[test]
    fn each_change_is_one_line_starting_with_its_position() {
        use pb::ReferralStatus::{Accepted, Submitted, Unspecified};
        assert_eq!(
            render(&change(42, Submitted, Accepted, "")),
            "42  2026-11-24T09:30:00Z  referral 17 (school 100001)  submitted -> accepted  by officer-1 (case_officer)\n"
        );
        assert_eq!(
            render(&change(7, Unspecified, Submitted, "submitted")),
            "7  2026-11-24T09:30:00Z  referral 17 (school 100001)  submitted  by officer-1 (case_officer): submitted\n"
        );
        let as_json = line(&change(42, Submitted, Accepted, ""), true).unwrap();
        assert_eq!(as_json.lines().count(), 1);
        let value: serde_json::Value = serde_json::from_str(&as_json).unwrap();
        assert_eq!(value["position"], 42);
        assert_eq!(value["change"]["to"], "REFERRAL_STATUS_ACCEPTED");
    }

    #[test]
    fn a_dropped_stream_is_resumed_and_a_refusal_ends_the_watch_with_its_exit_code() {
        for code in [Code::Unavailable, Code::Unknown, Code::Internal, Code::Cancelled] {
            let reason = resumable(&Status::new(code, "stream reset"), &call(), GATEWAY, Some(5));
            assert_eq!(reason, Ok("stream reset".to_owned()), "{code:?}");
        }
        let lost = resumable(&Status::data_loss("no longer kept"), &call(), GATEWAY, Some(5)).unwrap_err();
        assert_eq!(lost.exit, Exit::Conflict);
        assert!(lost.message.contains("position 5") && lost.message.contains("sen referrals list"), "{}", lost.message);
        let expired = resumable(&Status::unauthenticated("expired"), &call(), GATEWAY, Some(5)).unwrap_err();
        assert_eq!(expired.exit, Exit::NotSignedIn);
        let details = tonic_types::ErrorDetails::with_bad_request(vec![tonic_types::FieldViolation::new(
            "after_position",
            "no change has position 99 yet",
        )]);
        use tonic_types::StatusExt;
        let ahead = Status::with_error_details(Code::InvalidArgument, "invalid", details);
        let ahead = resumable(&ahead, &call(), GATEWAY, Some(99)).unwrap_err();
        assert_eq!(ahead.exit, Exit::Rejected);
        assert!(ahead.message.contains("after_position (--after)"), "{}", ahead.message);
    }

    #[test]
    fn the_watch_says_where_it_begins() {
        assert!(watching(Some(12)).contains("after position 12"));
        assert!(watching(None).contains("from now"));
    }
}
