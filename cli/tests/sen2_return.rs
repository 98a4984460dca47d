//! The SEN2 return on the demo data, through the real embedded platform: its
//! headline figures (requests received, plans issued, the 20-week percentage
//! with and without exception cases) agree with the platform's own reports;
//! `sen sen2 --year … > sen2.xml` writes the file and lists what fails on
//! standard error; the JSON API gives the same report; another authority's
//! officer sees none of this authority's pupils; a SENCO gets nothing.

mod support;

use chrono::Datelike;
use serde_json::Value;
use support::client::{client, exits_with, ok, stderr};

fn get(address: &str, token: &str, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("http://{address}{path}"))
            .query(query)
            .bearer_auth(token)
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn number(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("a number: {value}"))
}

#[test]
fn the_sen2_return_agrees_with_the_platforms_own_figures_on_the_demo_data() {
    let data = tempfile::tempdir().expect("temp dir");
    let running = support::start(data.path());
    let (dir, at) = (data.path(), running.address.as_str());
    let manager = support::token(dir, &["--role", "la_manager", "--tenant", "990"]);
    let officer = support::token(dir, &["--role", "case_officer", "--tenant", "990"]);
    let other = support::token(dir, &["--role", "la_manager", "--tenant", "991"]);
    let senco = support::token(dir, &["--role", "senco", "--tenant", "990", "--school", "100001"]);
    // The demo data's dates run up to today: this calendar year has requests and plans.
    let year = chrono::Utc::now().year().to_string();

    let report: Value =
        serde_json::from_str(&ok(&client(dir, at, Some(&manager), &["sen2", "--year", &year, "--report"])))
            .expect("--report prints JSON");
    let figures = &report["figures"];
    assert_eq!(report["tenant"], "990");
    assert!(number(&figures["persons"]) > 0, "{report}");

    // The platform's own reports, through the JSON API.
    let (status, clock) = get(at, &manager, "/api/v1/statutory-clock", &[("year", year.as_str())]);
    assert_eq!(status, 200, "{clock}");
    assert!(number(&clock["plans_issued_including_exceptions"]) > 0, "the demo issues plans this year: {clock}");
    for (ours, theirs) in [
        ("plans_issued", "plans_issued"),
        ("issued_within_20_weeks", "issued_within_20_weeks"),
        ("plans_issued_including_exceptions", "plans_issued_including_exceptions"),
        ("issued_within_20_weeks_including_exceptions", "issued_within_20_weeks_including_exceptions"),
        ("percent_within_20_weeks", "percent_within_20_weeks"),
        ("percent_within_20_weeks_including_exceptions", "percent_within_20_weeks_including_exceptions"),
    ] {
        assert_eq!(figures[ours], clock[theirs], "{ours}: return {figures} / clock report {clock}");
    }
    let (first, last) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let query = [
        ("kind", "ehc_needs_assessment"),
        ("submitted_from", first.as_str()),
        ("submitted_to", last.as_str()),
        ("count_only", "true"),
    ];
    let (status, received) = get(at, &manager, "/api/v1/referrals", &query);
    assert_eq!(status, 200, "{received}");
    assert!(number(&received["total"]) > 0, "{received}");
    assert_eq!(figures["requests_received"], received["total"], "requests received in the year");

    // The file on standard output, the failures and figures on standard error.
    let output = client(dir, at, Some(&officer), &["sen2", "--year", &year, "--dmo", "Y", "--dco", "N"]);
    let file = ok(&output);
    assert!(
        file.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Message>"),
        "{}",
        &file[..200.min(file.len())]
    );
    assert!(file.contains("<LEA>990</LEA>") && file.contains("<DMO>Y</DMO>") && file.contains("<DCO>N</DCO>"));
    assert_eq!(file.matches("<Person>").count() as u64, number(&figures["persons"]));
    let said = stderr(&output);
    assert!(said.starts_with(&format!("SEN2 return {year} for authority 990")), "{said}");
    assert!(said.contains("PostCode"), "what the platform does not hold is listed: {said}");

    // The JSON API: the same report.
    let (status, api) = get(at, &officer, "/api/v1/sen2", &[("year", year.as_str()), ("report_only", "true")]);
    assert_eq!(status, 200, "{api}");
    assert_eq!(api["figures"], report["figures"]);
    assert_eq!(api["xml"], "", "report_only leaves the file out");

    // Another authority's return names none of 990's pupils (their UPNs carry the authority's code).
    let theirs = ok(&client(dir, at, Some(&other), &["sen2", "--year", &year]));
    assert!(theirs.contains("<LEA>991</LEA>"));
    assert!(!theirs.contains("<UPN>") || theirs.split("<UPN>").skip(1).all(|rest| rest.get(1..4) != Some("990")));
    let ours_ids: Vec<i64> =
        report["failures"].as_array().into_iter().flatten().filter_map(|f| f["pupil_id"].as_i64()).collect();
    let (_, their_report) = get(at, &other, "/api/v1/sen2", &[("year", year.as_str()), ("report_only", "true")]);
    let their_ids: Vec<i64> =
        their_report["failures"].as_array().into_iter().flatten().filter_map(|f| f["pupil_id"].as_i64()).collect();
    assert!(their_ids.iter().all(|id| *id == 0 || !ours_ids.contains(id)), "{their_ids:?}");

    // A SENCO gets nothing: refused by the client and by the JSON API.
    let refused = exits_with(&client(dir, at, Some(&senco), &["sen2", "--year", &year]), 4);
    assert!(refused.starts_with("sen: your role may not make the SEN2 return"), "{refused}");
    let (status, _) = get(at, &senco, "/api/v1/sen2", &[("year", year.as_str())]);
    assert_eq!(status, 403);
    // A year before the 2014 Regulations is named.
    let (status, bad) = get(at, &manager, "/api/v1/sen2", &[("year", "2013")]);
    assert_eq!(status, 400, "{bad}");
    assert!(bad.to_string().contains("year"), "{bad}");
}
