//! The breach forecast on data `sen generate` made, across the production
//! topology: the SEN manager of the largest authority sees a forecast for every
//! one of its open EHC needs assessment requests, six months of expected
//! breaches with a what-if beside them, and `sen forecast backtest` scoring
//! the model against the naive baseline, and a suggested move of unstarted
//! statutory work that, accepted through ReassignCase, moves the case and
//! leaves the next forecast; another authority's manager sees none of it and
//! cannot accept the move, and a SENCO is refused.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use sen_cli::generate::{Spec, Targets, generate};
use sen_platform::testing::{Engine, TestDatabase};
use serde_json::Value;
use support::cluster::{Cluster, Options, PARTS, text};

/// A small England (Kent with 12 schools), its first two authorities.
const SCALE: f64 = 0.02;

fn forecast_json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "sen forecast --json:\n{}", text(output));
    serde_json::from_slice(&output.stdout).expect("--json prints JSON")
}

fn ids(forecast: &Value) -> BTreeSet<i64> {
    forecast["breaches"]["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["referral_id"].as_i64())
        .collect()
}

/// An int64 of the JSON answer (a number, or a string as proto3 JSON writes it).
fn int(value: &Value) -> i64 {
    value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok())).unwrap_or_else(|| panic!("an id: {value}"))
}

/// The cases the forecast suggests moving, each with the EP it would go to.
fn suggested(forecast: &Value) -> BTreeMap<i64, i64> {
    let suggestions = forecast["capacity"]["suggestions"].as_array().cloned().unwrap_or_default();
    suggestions.iter().map(|s| (int(&s["case_id"]), int(&s["to_professional_id"]))).collect()
}

/// The EP holding `case`, as Kent's manager reads it through the gateway.
async fn holder(cluster: &Cluster, token: &str, case: i64) -> i64 {
    let (status, body) = cluster.get(token, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, 200, "{body}");
    int(&body["professional_id"])
}

fn totals(months: &Value) -> Vec<f64> {
    months.as_array().expect("months").iter().map(|m| m["total"].as_f64().expect("a total")).collect()
}

/// The EHC needs assessment requests of `la` the forecast is for: no outcome,
/// no exception, and still with the council (a referral closed when the EP's
/// advice was given, after the decision to assess, is: its clock runs on).
async fn open_requests(cluster: &Cluster, la: &str) -> BTreeSet<i64> {
    let sql = format!(
        "SELECT id::int8 AS id FROM referrals WHERE la_code = '{la}' AND kind = 'ehc_needs_assessment' \
         AND assessment_decision IS DISTINCT FROM 'not_assess' AND plan_decision IS DISTINCT FROM 'not_issue' \
         AND final_plan_issued_on IS NULL AND clock_exception IS NULL \
         AND status NOT IN ('withdrawn', 'declined', 'returned') \
         AND NOT (status = 'closed' AND assessment_decision IS NULL)"
    );
    cluster.query("referrals", &sql).await.iter().map(|row| row.try_get::<i64>("", "id").expect("id")).collect()
}

/// The figure after `label` on the line that has it, e.g. `model 0.249`.
fn figure(report: &str, label: &str) -> f64 {
    let line = report.lines().find(|l| l.contains(label)).unwrap_or_else(|| panic!("no {label:?} in:\n{report}"));
    let after = &line[line.find(label).unwrap_or(0) + label.len()..];
    let number: String = after.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    number.parse().unwrap_or_else(|_| panic!("no figure after {label:?} in {line:?}"))
}

#[tokio::test]
async fn on_generated_data_every_open_request_is_forecast_a_suggested_move_is_accepted_and_the_backtest_scores_it() {
    let mut kept = Vec::new();
    let mut urls = BTreeMap::new();
    for part in PARTS {
        let database = TestDatabase::create(Engine::Postgres).await.expect("a PostgreSQL database");
        urls.insert(part, database.url.clone());
        kept.push(database);
    }
    let targets = Targets {
        schools: urls["schools"].clone(),
        pupils: urls["pupils"].clone(),
        referrals: urls["referrals"].clone(),
        caseloads: urls["caseloads"].clone(),
    };
    let today = chrono::Utc::now().date_naive();
    let spec = Spec { scale: SCALE, seed: 2026, today, authorities: Some(2) };
    let report = generate(&spec, &targets, |_| {}).await.expect("the dataset is generated");
    assert_eq!(report.largest.la_code, "886");
    let cluster = Cluster::start_with(Options { databases: urls, ..Options::default() }).await;
    let other: String = cluster
        .query("schools", "SELECT la_code FROM authorities WHERE la_code <> '886'")
        .await
        .first()
        .and_then(|row| row.try_get::<String>("", "la_code").ok())
        .expect("a second authority");
    let kent = cluster.token("mgr-886", "la_manager", Some("886"), None);

    // A forecast for every open request, each a probability.
    let forecast = forecast_json(&cluster.sen(&kent, &["forecast", "--json"]).await);
    let open = open_requests(&cluster, "886").await;
    assert!(open.len() >= 20, "Kent has open requests to forecast: {}", open.len());
    assert_eq!(ids(&forecast), open, "every open request of Kent is forecast, and only those");
    for request in forecast["breaches"]["requests"].as_array().expect("requests") {
        let p = request["breach_probability"].as_f64().expect("a probability");
        assert!((0.0..=1.0).contains(&p), "{request}");
        assert!(!request["reasons"].as_array().expect("reasons").is_empty(), "each forecast says why: {request}");
    }
    let learnt = forecast["breaches"]["model"].as_array().expect("the model").iter().filter_map(Value::as_str);
    let learnt: Vec<&str> = learnt.filter(|line| line.contains("learnt from")).collect();
    assert!(learnt.len() >= 4, "the steps are learnt from Kent's own history: {}", forecast["breaches"]["model"]);

    // Six months of expected breaches; two extra EP days a week expect no more than today.
    let today_months = totals(&forecast["capacity"]["today"]);
    assert_eq!(today_months.len(), 6, "{}", forecast["capacity"]);
    assert!(today_months.iter().all(|t| t.is_finite() && *t >= 0.0), "{today_months:?}");
    let more = forecast_json(&cluster.sen(&kent, &["forecast", "--extra-ep-days", "2", "--json"]).await);
    let with_more = totals(&more["capacity"]["what_if"]);
    assert_eq!(with_more.len(), 6);
    let (now, then): (f64, f64) = (today_months.iter().sum(), with_more.iter().sum());
    assert!(then <= now + 1e-9, "2 extra EP days expect {then:.2} breaches against {now:.2} today");
    assert_eq!(more["capacity"]["what_if_summary"], "2 extra EP days a week");

    // A move of unstarted statutory work is suggested, to an EP with room for it.
    let moves = suggested(&forecast);
    let (&case, &to) = moves.iter().next().unwrap_or_else(|| panic!("a move is suggested: {}", forecast["capacity"]));
    let from = holder(&cluster, &kent, case).await;
    assert_ne!(from, to, "the move is to another EP");
    let reassign = format!("/api/v1/cases/{case}/reassign");
    let body = serde_json::json!({ "professional_id": to, "reason": "Suggested by the breach forecast" });

    // Another authority's manager cannot accept it: refused, and the case stays.
    let theirs = cluster.token("mgr-other", "la_manager", Some(&other), None);
    let (status, answer) = cluster.post(&theirs, &reassign, body.clone()).await;
    assert!(matches!(status, 403 | 404), "another authority's manager is refused: {status} {answer}");
    assert_eq!(holder(&cluster, &kent, case).await, from, "nothing changed");

    // Kent's manager accepts it through ReassignCase, with no override: the case
    // moves, and the next forecast (computed afresh) no longer suggests it.
    let (status, answer) = cluster.post(&kent, &reassign, body).await;
    assert_eq!(status, 200, "the move is accepted: {answer}");
    assert_eq!(holder(&cluster, &kent, case).await, to, "the case is with the new EP");
    let after = forecast_json(&cluster.sen(&kent, &["forecast", "--json"]).await);
    assert_ne!(after["capacity"]["computed_at"], forecast["capacity"]["computed_at"], "computed afresh");
    assert!(!suggested(&after).contains_key(&case), "case {case} is no longer suggested: {}", after["capacity"]);

    // The backtest replays Kent's history and scores the model beside the baseline.
    let backtest = cluster.sen(&kent, &["forecast", "backtest", "--simulations", "100"]).await;
    let out = text(&backtest);
    assert!(backtest.status.success(), "{out}");
    let (model, baseline) =
        (figure(&out, "Brier score: model"), figure(&out, "naive baseline (last 12 months' breach rate)"));
    assert!((0.0..=1.0).contains(&model) && (0.0..=1.0).contains(&baseline), "{out}");
    assert!(figure(&out, "Forecasts scored:") >= 20.0, "{out}");
    assert!(out.contains("Calibration"), "{out}");

    // Another authority's manager sees only their own requests; a SENCO is refused.
    let theirs = forecast_json(&cluster.sen(&theirs, &["forecast", "--json"]).await);
    assert_eq!(ids(&theirs), open_requests(&cluster, &other).await);
    assert!(ids(&theirs).is_disjoint(&open), "none of Kent's requests in {other}'s forecast");
    let urn = report.largest.largest_school.to_string();
    let senco = cluster.token(&format!("senco-{urn}"), "senco", Some("886"), Some(&urn));
    let refused = cluster.sen(&senco, &["forecast"]).await;
    assert_eq!(refused.status.code(), Some(4), "a SENCO may not see the forecast: {}", text(&refused));
    drop(cluster);
    drop(kept);
}
