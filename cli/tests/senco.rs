//! The `sen` client for a SENCO's and an EP's day, against the real embedded
//! platform: `sen token` looks the person up in the platform's data and says
//! who there is (and `SEN_DATA_DIR`) when they are not; `sen case log` refuses
//! an empty note naming the flag and logs a retried visit once under its
//! idempotency key; `sen referrals submit` warns of an open referral of the
//! same kind (sent only with `--confirm-duplicate`) and attaches documents,
//! refusing a file that is not what it claims before anything is sent.

mod support;

use std::path::Path;
use std::process::Output;

use support::client::{client, exits_with, ok, stderr, stdout};

/// `sen referrals submit` for `pupil` of school 100001 with `extra` flags.
fn submit(dir: &Path, at: &str, token: &str, pupil: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "referrals",
        "submit",
        "--pupil",
        pupil,
        "--school",
        "100001",
        "--kind",
        "educational_psychology",
        "--area",
        "cognition_and_learning",
        "--concern",
        "Reading age two years below peers",
        "--tried",
        "Two cycles of phonics",
        "--consent-given-by",
        "Mother",
        "--consent-given-on",
        "2026-01-05",
        "--consent-method",
        "signed_form",
    ];
    args.extend_from_slice(extra);
    client(dir, at, Some(token), &args)
}

#[test]
fn sen_token_finds_the_person_in_the_platforms_data_and_says_who_there_is() {
    let data = tempfile::tempdir().expect("temp dir");
    let running = support::start(data.path());
    let dir = data.path();
    let unknown = support::sen(dir)
        .args(["token", "--role", "educational_psychologist", "--tenant", "990", "--person", "ep-1"])
        .output()
        .expect("runs");
    assert!(!unknown.status.success(), "no token for someone the platform does not know");
    let said = stderr(&unknown);
    assert!(said.contains("--person") && said.contains("'ep-1'"), "{said}");
    assert!(said.contains("ep-jones (Dr Megan Jones)"), "it says who there is: {said}");
    assert!(said.contains("SEN_DATA_DIR"), "and where it looked: {said}");
    assert!(stdout(&unknown).is_empty(), "no token printed");
    let school = support::sen(dir).args(["token", "--role", "senco", "--tenant", "990", "--school", "999999"]).output();
    let said = stderr(&school.expect("runs"));
    assert!(said.contains("--school") && said.contains("999999"), "{said}");
    let tenant = support::sen(dir).args(["token", "--role", "la_manager", "--tenant", "886"]).output().expect("runs");
    assert!(stderr(&tenant).contains("--tenant") && stderr(&tenant).contains("990"), "{}", stderr(&tenant));
    support::token(dir, &["--role", "educational_psychologist", "--tenant", "990", "--person", "ep-jones"]);

    let elsewhere = tempfile::tempdir().expect("another folder");
    let unchecked = support::sen(elsewhere.path())
        .args(["token", "--role", "educational_psychologist", "--tenant", "990", "--person", "ep-1"])
        .output()
        .expect("runs");
    assert!(unchecked.status.success(), "with no platform data there, the token is made");
    assert!(stderr(&unchecked).contains("SEN_DATA_DIR"), "and the note says where to point: {}", stderr(&unchecked));
    drop(running);
}

#[test]
fn a_visit_needs_a_note_and_a_retried_one_is_logged_once() {
    let nowhere = tempfile::tempdir().expect("temp dir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").to_string();
    let empty = client(
        nowhere.path(),
        &closed,
        Some("any"),
        &["case", "log", "1", "--kind", "observation", "--sessions", "1", "--note", "  "],
    );
    let said = exits_with(&empty, 2);
    assert!(said.contains("--note: is required"), "refused before anything is sent: {said}");

    let data = tempfile::tempdir().expect("temp dir");
    let running = support::start(data.path());
    let (dir, at) = (data.path(), running.address.as_str());
    let jones = support::token(dir, &["--role", "educational_psychologist", "--tenant", "990", "--person", "ep-jones"]);
    let caseload: serde_json::Value =
        serde_json::from_str(&ok(&client(dir, at, Some(&jones), &["caseload", "--json"]))).expect("json");
    let case = caseload["cases"][0]["case"]["id"].as_i64().expect("a case").to_string();
    let log = ["case", "log", &case, "--kind", "observation", "--sessions", "1", "--note", "Observed at lunch"];
    let with_key = [log.as_slice(), &["--idempotency-key", "visit-1"]].concat();
    let first = ok(&client(dir, at, Some(&jones), &with_key));
    assert_eq!(ok(&client(dir, at, Some(&jones), &with_key)), first, "a retry answers the first record");
    let shown = ok(&client(dir, at, Some(&jones), &["case", "show", &case]));
    assert_eq!(shown.matches("Observed at lunch").count(), 1, "logged once:\n{shown}");
    let other = [
        ["case", "log", &case, "--kind", "observation", "--sessions", "2", "--note", "Observed at lunch"].as_slice(),
        &["--idempotency-key", "visit-1"],
    ]
    .concat();
    let refused = exits_with(&client(dir, at, Some(&jones), &other), 7);
    assert!(refused.contains("visit-1"), "{refused}");
    drop(running);
}

#[test]
fn a_referral_warns_of_an_open_one_and_carries_documents_judged_by_their_content() {
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("files");
    let report = files.path().join("EP report.pdf");
    std::fs::write(&report, b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF").expect("a PDF");
    let fake = files.path().join("letter.pdf");
    std::fs::write(&fake, b"<html>not a letter</html>").expect("a page named .pdf");
    let (report, fake) = (report.to_string_lossy().into_owned(), fake.to_string_lossy().into_owned());

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").to_string();
    let judged = exits_with(&submit(data.path(), &closed, "any", "1", &["--attach", &fake]), 2);
    assert!(judged.contains("--attach") && judged.contains("is not a PDF"), "judged before sending: {judged}");

    let running = support::start(data.path());
    let (dir, at) = (data.path(), running.address.as_str());
    let senco = support::token(dir, &["--role", "senco", "--tenant", "990", "--school", "100001"]);
    let pupils: serde_json::Value =
        serde_json::from_str(&ok(&client(dir, at, Some(&senco), &["referrals", "list", "--json"]))).expect("json");
    let pupil = pupils["referrals"][0]["body"]["pupil_id"].as_i64().expect("a pupil").to_string();
    let first = ok(&submit(dir, at, &senco, &pupil, &["--confirm-duplicate", "--attach", &report]));
    assert!(first.contains("Attached EP report.pdf (PDF,"), "{first}");
    let warned = exits_with(&submit(dir, at, &senco, &pupil, &[]), 7);
    assert!(warned.contains("already has an open referral") && warned.contains("--confirm-duplicate"), "{warned}");
    let second = ok(&submit(dir, at, &senco, &pupil, &["--confirm-duplicate"]));
    assert!(second.starts_with("Referral "), "{second}");
    drop(running);
}
