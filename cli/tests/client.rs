//! The `sen` client as its users run it, against the real embedded platform:
//! an educational psychologist works a case from caseload to close, a SENCO
//! submits a referral, the council team reads the overview, and every refusal
//! ends with the exit code and the one line a script or a person can act on.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::client::{client, exits_with, ok, stderr};

/// Asserts the exit code and a single `sen: …` line on standard error; gives that line.
fn fails(output: &Output, code: i32) -> String {
    let err = exits_with(output, code);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("sen: "), "{err}");
    assert!(!err.contains("Status {") && !err.contains("code:"), "no debug dump: {err}");
    err
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&ok(output)).expect("--json prints JSON")
}

/// The ids of the open cases in `sen caseload --json`.
fn case_ids(caseload: &Value) -> Vec<i64> {
    caseload["cases"].as_array().expect("cases").iter().filter_map(|c| c["case"]["id"].as_i64()).collect()
}

#[test]
fn an_educational_psychologist_works_a_case_from_caseload_to_close() {
    let data = tempfile::tempdir().expect("temp dir");
    let running = support::start(data.path());
    let (dir, at) = (data.path(), running.address.as_str());
    let jones = support::token(dir, &["--role", "educational_psychologist", "--tenant", "990", "--person", "ep-jones"]);
    let smith = support::token(dir, &["--role", "educational_psychologist", "--tenant", "990", "--person", "ep-smith"]);

    // Her caseload: a table of her open cases, the same ones as in --json.
    let table = ok(&client(dir, at, Some(&jones), &["caseload"]));
    let ids = case_ids(&json(&client(dir, at, Some(&jones), &["caseload", "--json"])));
    assert!(ids.len() >= 2, "Dr Jones has open cases: {table}");
    assert!(table.starts_with("CASE  PUPIL"), "{table}");
    let header = table.lines().next().unwrap_or_default();
    assert!(header.contains("  SCHOOL  ") && !header.contains("PUPIL ID"), "names, not ids: {header}");
    assert!(table.lines().all(|l| l.chars().count() <= 100), "it fits in 100 columns:\n{table}");
    assert!(!table.contains('\x1b'), "no colour codes when the output is not a terminal");
    let listed = json(&client(dir, at, Some(&jones), &["caseload", "--json"]));
    for entry in listed["cases"].as_array().expect("cases") {
        let (pupil, school) = (entry["case"]["pupil_name"].as_str(), entry["case"]["school_name"].as_str());
        let (pupil, school) = (pupil.unwrap_or_default(), school.unwrap_or_default());
        assert!(!pupil.is_empty() && !school.is_empty(), "each case names its pupil and school: {entry}");
        let shown: String = pupil.chars().take(8).collect();
        assert!(table.contains(&shown), "{pupil} in the table:\n{table}");
    }
    assert!(table.contains(&format!("{} open cases", ids.len())), "{table}");
    for id in &ids {
        assert!(table.lines().any(|l| l.trim_start().starts_with(&format!("{id} "))), "case {id} listed:\n{table}");
    }

    // A visit she logs shows in the case's activity.
    let case = ids[ids.len() - 1].to_string();
    let note = "Observed in class; settles with a visual timetable";
    let logged = ok(&client(
        dir,
        at,
        Some(&jones),
        &["case", "log", &case, "--kind", "observation", "--sessions", "2", "--note", note],
    ));
    assert!(logged.starts_with(&format!("Recorded on case {case}: observation on ")), "{logged}");
    let shown = ok(&client(dir, at, Some(&jones), &["case", "show", &case]));
    assert!(shown.starts_with(&format!("Case {case}: ")), "{shown}");
    assert!(shown.contains("Professional:") && shown.contains("Dr Megan Jones"), "{shown}");
    assert!(shown.contains("Referral:"), "{shown}");
    let visit = shown.lines().find(|l| l.contains(note)).unwrap_or_else(|| panic!("the visit is listed:\n{shown}"));
    assert!(visit.contains("observation") && visit.contains("Dr Megan Jones"), "{visit}");
    let detail = json(&client(dir, at, Some(&jones), &["case", "show", &case, "--json"]));
    assert_eq!(detail["case"]["id"].as_i64().map(|id| id.to_string()), Some(case.clone()));
    assert!(detail["activity"].as_array().is_some_and(|a| a.iter().any(|e| e["note"] == note)));

    // Another EP's case is not found, without saying whether it exists.
    let theirs = fails(&client(dir, at, Some(&smith), &["case", "show", &case]), 5);
    assert_eq!(theirs.trim(), format!("sen: case {case} was not found (or is not yours)"));
    fails(
        &client(dir, at, Some(&smith), &["case", "log", &case, "--kind", "report", "--sessions", "1", "--note", "x"]),
        5,
    );

    // Closing it takes it off her caseload; nothing more can be logged on it.
    let closed = ok(&client(dir, at, Some(&jones), &["case", "close", &case, "--outcome", "Advice given to school"]));
    assert!(closed.starts_with(&format!("Case {case} is closed: Advice given to school.")), "{closed}");
    let after = case_ids(&json(&client(dir, at, Some(&jones), &["caseload", "--json"])));
    assert!(!after.contains(&case.parse().expect("id")), "{after:?}");
    assert_eq!(after.len(), ids.len() - 1);
    let late = fails(
        &client(dir, at, Some(&jones), &["case", "log", &case, "--kind", "report", "--sessions", "1", "--note", "x"]),
        7,
    );
    assert!(late.contains("closed"), "{late}");

    // A day in the future is rejected by the service, naming the flag.
    let other = ids[0].to_string();
    let future = fails(
        &client(
            dir,
            at,
            Some(&jones),
            &["case", "log", &other, "--kind", "report", "--sessions", "1", "--note", "x", "--on", "2999-01-01"],
        ),
        6,
    );
    assert!(future.contains("on (--on)"), "{future}");

    // Her referrals: those allocated to her, as a table.
    let referrals = ok(&client(dir, at, Some(&jones), &["referrals", "list", "--all"]));
    assert!(referrals.trim_start().starts_with("ID  SUBMITTED"), "{referrals}");
    let rows: Vec<&str> = referrals.lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert!(!rows.is_empty() && rows.iter().all(|row| row.contains("ep-jones")), "{referrals}");
}

#[test]
fn schools_submit_referrals_the_council_reads_the_overview_and_refusals_have_their_exit_codes() {
    let data = tempfile::tempdir().expect("temp dir");
    let running = support::start(data.path());
    let (dir, at) = (data.path(), running.address.as_str());
    let senco = support::token(dir, &["--role", "senco", "--tenant", "990", "--school", "100001"]);
    let manager = support::token(dir, &["--role", "la_manager", "--tenant", "990"]);
    let officer = support::token(dir, &["--role", "case_officer", "--tenant", "990"]);

    // A SENCO refers one of their pupils, with consent; a retry with the key makes no second referral.
    let theirs = json(&client(dir, at, Some(&senco), &["referrals", "list", "--json"]));
    let pupil = theirs["referrals"][0]["body"]["pupil_id"].as_i64().expect("the school has referrals").to_string();
    let submit = |area: &str, key: &str| {
        let args = [
            "referrals",
            "submit",
            "--pupil",
            &pupil,
            "--school",
            "100001",
            "--kind",
            "educational_psychology",
            "--area",
            area,
            "--concern",
            "Reading age two years below peers",
            "--tried",
            "Two six-week cycles of phonics intervention",
            "--consent-given-by",
            "Mother",
            "--consent-given-on",
            "2026-01-05",
            "--consent-method",
            "signed_form",
            "--idempotency-key",
            key,
            // The pupil may have an open referral of this kind already (the warning is tested in senco.rs).
            "--confirm-duplicate",
        ];
        client(dir, at, Some(&senco), &args)
    };
    let first = ok(&submit("cognition_and_learning", "client-test-1"));
    assert!(first.starts_with("Referral ") && first.contains("status submitted"), "{first}");
    assert_eq!(ok(&submit("cognition_and_learning", "client-test-1")), first, "the retry returns the first referral");
    let id = first.split_whitespace().nth(1).expect("id").to_owned();
    let submitted = ok(&client(dir, at, Some(&senco), &["referrals", "list", "--status", "submitted"]));
    assert!(submitted.lines().any(|l| l.trim_start().starts_with(&format!("{id} "))), "{submitted}");

    // A bad field is named, with its flag; nothing is written.
    let rejected = fails(&submit("feelings", "client-test-2"), 6);
    assert!(rejected.contains("referral.broad_areas (--area)") && rejected.contains("feelings"), "{rejected}");
    let duplicate = fails(&submit("sensory_physical", "client-test-1"), 7);
    assert!(duplicate.contains("client-test-1"), "{duplicate}");

    // The council overview, for the SEN team; a SENCO may not see it.
    let overview = ok(&client(dir, at, Some(&manager), &["overview"]));
    for section in [
        "Council overview: authority 990",
        "SEN register",
        "Referrals by status",
        "Statutory clock",
        "SENCOs",
        "Phase transfers due",
        "Caseload balance",
        "Appeals to the Tribunal (SEND)",
    ] {
        assert!(overview.contains(section), "{section}:\n{overview}");
    }
    assert!(!overview.contains("Not available"), "{overview}");
    let partial = ok(&client(dir, at, Some(&officer), &["overview"]));
    assert!(partial.contains("Not available\n  caseload_balance: "), "{partial}");
    let as_json = json(&client(dir, at, Some(&manager), &["overview", "--json", "--as-of", "2026-03-02"]));
    assert_eq!(as_json["as_of"], "2026-03-02");
    assert_eq!(as_json["tenant"], "990");
    let refused = fails(&client(dir, at, Some(&senco), &["overview"]), 4);
    assert!(refused.starts_with("sen: your role may not see the council overview"), "{refused}");

    // A garbage token and an expired one: not signed in, and how to get a new token.
    for token in ["garbage".to_owned(), expired_token(dir)] {
        let message = fails(&client(dir, at, Some(&token), &["caseload"]), 3);
        assert!(message.contains("token") && message.contains("sen token --role"), "{message}");
    }
    drop(running);
}

#[test]
fn without_a_token_or_a_gateway_the_client_says_so_and_exits_with_its_code() {
    let data = tempfile::tempdir().expect("temp dir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").to_string();
    let unreachable = fails(&client(data.path(), &closed, Some("any"), &["caseload"]), 8);
    assert!(unreachable.starts_with(&format!("sen: cannot reach the gateway at http://{closed}")), "{unreachable}");
    let submit = client(
        data.path(),
        &closed,
        Some("any"),
        &[
            "referrals",
            "submit",
            "--pupil",
            "1",
            "--school",
            "100001",
            "--kind",
            "educational_psychology",
            "--area",
            "cognition_and_learning",
            "--concern",
            "c",
            "--tried",
            "t",
            "--consent-given-by",
            "Mother",
            "--consent-given-on",
            "2026-01-05",
            "--consent-method",
            "email",
        ],
    );
    let retry = fails(&submit, 8);
    assert!(retry.contains("--idempotency-key sen-cli-"), "a retry can reuse the key: {retry}");

    let unsigned = fails(&client(data.path(), &closed, None, &["overview"]), 3);
    assert!(unsigned.contains("SEN_TOKEN") && unsigned.contains("sen token"), "{unsigned}");

    let usage = client(data.path(), &closed, Some("any"), &["caseload", "--as-of", "02/03/2026"]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    assert!(stderr(&usage).contains("YYYY-MM-DD"));
    let help = ok(&client(data.path(), &closed, None, &["caseload", "--help"]));
    assert!(help.contains("Exit codes:") && help.contains("3  not signed in"), "{help}");
}

/// A development token for Dr Jones that expired an hour ago, signed with the
/// platform's own development key (so only its age is wrong).
fn expired_token(data_dir: &Path) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let pem = std::fs::read(data_dir.join(sen_platform::identity::DevIssuer::KEY_FILE)).expect("the dev key");
    let key = EncodingKey::from_ed_pem(&pem).expect("an Ed25519 key");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let claims = serde_json::json!({
        "iss": sen_platform::identity::DEV_ISSUER,
        "aud": sen_platform::identity::AUDIENCE,
        "sub": "ep-jones",
        "role": "educational_psychologist",
        "tenant": "990",
        "iat": now - 7200,
        "exp": now - 3600,
    });
    jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &key).expect("signed")
}
