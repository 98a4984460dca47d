//! The production topology, as separate processes: each service `sen serve <part>`
//! on its own PostgreSQL database, mutual TLS between all of them with
//! certificates made here, an OpenID Connect provider on loopback, and the
//! gateway in front. A SENCO refers, a manager allocates, an EP works the case
//! with the `sen` client, and the overview shows it.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::cluster::{AUDIENCE, Cluster, text};

#[tokio::test]
async fn a_referral_goes_from_senco_to_ep_and_back_to_the_overview_across_the_production_topology() {
    let cluster = Cluster::start().await;
    let operator = cluster.token("op-1", "platform_operator", None, None);
    let manager = cluster.token("mgr-1", "la_manager", Some("990"), None);
    let senco = cluster.token("senco-1", "senco", Some("990"), Some("100001"));
    let ep = cluster.token("ep-ada", "educational_psychologist", Some("990"), None);

    let (status, body) =
        cluster.post(&operator, "/api/v1/authorities", json!({"la_code": "990", "name": "Northmoor"})).await;
    assert_eq!(status, 200, "{body}");
    let school = json!({
        "urn": "100001",
        "school": {
            "laestab": "9902001", "name": "Moorside Primary", "establishment_type_code": 1,
            "phase": "PHASE_PRIMARY", "statutory_low_age": 4, "statutory_high_age": 11,
            "number_on_roll": 210, "postcode": "NM1 1AA", "status": "ESTABLISHMENT_STATUS_OPEN"
        }
    });
    let (status, body) = cluster.post(&manager, "/api/v1/schools", school).await;
    assert_eq!(status, 200, "{body}");

    // The SENCO registers a pupil (the pupils service checks the school with the schools service).
    let upn = sen_pupils::domain::Upn::from_body("990200125001").expect("upn");
    let (status, pupil) = cluster
        .post(
            &senco,
            "/api/v1/pupils",
            json!({
                "pupil": {"upn": upn.as_str(), "legal_forename": "Musa", "legal_surname": "Ali",
                          "date_of_birth": "2017-02-02", "school_urn": "100001"},
                "sen_status": "SEN_PROVISION_SEN_SUPPORT", "primary_need_code": "SLCN"
            }),
        )
        .await;
    assert_eq!(status, 200, "{pupil}");
    let pupil_id = pupil["id"].as_i64().expect("id");

    // ... and refers them, with consent.
    let consent_day = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let (status, referral) = cluster
        .post(
            &senco,
            "/api/v1/referrals",
            json!({
                "referral": {
                    "pupil_id": pupil_id, "school_urn": "100001", "kind": "educational_psychology",
                    "broad_areas": ["communication_and_interaction"],
                    "concern": "Speech is hard to understand",
                    "graduated_approach": {"summary": "Two cycles of small-group language work"},
                    "consent": {"given_by": "Mother", "given_on": consent_day, "method": "signed_form"},
                    "priority": "routine"
                },
                "idempotency_key": "topology-1"
            }),
        )
        .await;
    assert_eq!(status, 200, "{referral}");
    let referral_id = referral["id"].as_i64().expect("id");

    // The manager accepts it, names an EP and allocates.
    let (status, accepted) = cluster
        .post(
            &manager,
            &format!("/api/v1/referrals/{referral_id}/status"),
            json!({"version": referral["version"], "event": "REFERRAL_EVENT_ACCEPT"}),
        )
        .await;
    assert_eq!(status, 200, "{accepted}");
    let (status, professional) = cluster
        .post(
            &manager,
            "/api/v1/professionals",
            json!({"professional": {"person": "ep-ada", "name": "Dr Ada Okafor",
                   "role": "educational_psychologist:senior", "fte": 1.0,
                   "capacity_kind": "open_cases", "capacity": 20, "active": true}}),
        )
        .await;
    assert_eq!(status, 200, "{professional}");
    let (status, case) = cluster
        .post(
            &manager,
            "/api/v1/cases",
            json!({"referral_id": referral_id, "professional_id": professional["id"], "idempotency_key": "alloc-1"}),
        )
        .await;
    assert_eq!(status, 200, "{case}");
    let case_id = case["id"].as_i64().expect("case id").to_string();

    // The EP sees it with `sen caseload`, records a visit, and closes it.
    let listed = cluster.sen(&ep, &["caseload"]).await;
    assert!(listed.status.success(), "{}", text(&listed));
    assert!(text(&listed).contains(&case_id) && text(&listed).contains("Moorside Primary"), "{}", text(&listed));
    let logged = cluster
        .sen(&ep, &["case", "log", &case_id, "--kind", "consultation", "--sessions", "1", "--note", "Met the SENCO"])
        .await;
    assert!(logged.status.success(), "{}", text(&logged));
    let shown = cluster.sen(&ep, &["case", "show", &case_id]).await;
    assert!(shown.status.success() && text(&shown).contains("consultation"), "{}", text(&shown));
    let closed = cluster.sen(&ep, &["case", "close", &case_id, "--outcome", "Advice given to school"]).await;
    assert!(closed.status.success(), "{}", text(&closed));
    let after = cluster.sen(&ep, &["caseload", "--json"]).await;
    assert!(after.status.success(), "{}", text(&after));
    assert!(!String::from_utf8_lossy(&after.stdout).contains(&format!("\"id\": {case_id}")), "{}", text(&after));

    // The overview shows the closed referral and the EP's load.
    let (status, overview) = cluster.get(&manager, "/api/v1/overview").await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["unavailable"], json!([]), "{overview}");
    let closed_count = overview["referrals"]["by_status"]
        .as_array()
        .expect("by status")
        .iter()
        .find(|s| s["status"] == "REFERRAL_STATUS_CLOSED")
        .map(|s| s["count"].clone());
    assert_eq!(closed_count, Some(json!(1)), "{overview}");
    let sen_overview = cluster.sen(&manager, &["overview"]).await;
    assert!(sen_overview.status.success(), "{}", text(&sen_overview));

    // Another authority's manager sees none of it.
    let other = cluster.token("mgr-2", "la_manager", Some("991"), None);
    let (status, _) = cluster.get(&other, &format!("/api/v1/referrals/{referral_id}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tokens_that_are_expired_for_another_audience_unknown_or_from_the_development_issuer_are_refused() {
    let cluster = Cluster::start().await;
    let expired = {
        let mut claims =
            cluster.oidc.claims("mgr-1", "la_manager", Some("990"), None, AUDIENCE, Duration::from_secs(60));
        let now = chrono::Utc::now().timestamp();
        claims["iat"] = json!(now - 7200);
        claims["nbf"] = json!(now - 7200);
        claims["exp"] = json!(now - 3600);
        cluster.oidc.token(&claims)
    };
    let wrong_audience = cluster.oidc.token(&cluster.oidc.claims(
        "mgr-1",
        "la_manager",
        Some("990"),
        None,
        "api://someone-else",
        Duration::from_secs(600),
    ));
    let unknown_key = cluster.oidc.token_signed_by_unknown_key(&cluster.oidc.claims(
        "mgr-1",
        "la_manager",
        Some("990"),
        None,
        AUDIENCE,
        Duration::from_secs(600),
    ));
    let development = {
        let dev = sen_platform::identity::DevIssuer::generate().expect("dev issuer");
        let grant = sen_platform::identity::Grant {
            person: "mgr-1".into(),
            role: sen_platform::identity::Role::LaManager,
            tenant: sen_platform::ids::LaCode::parse("990").ok(),
            school: None,
        };
        dev.signer.mint(&grant, Duration::from_secs(600)).expect("token")
    };
    for (what, token) in [
        ("expired", &expired),
        ("wrong audience", &wrong_audience),
        ("unknown key", &unknown_key),
        ("development", &development),
    ] {
        let (status, body) = cluster.get(token, "/api/v1/schools").await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["error"]["code"], "UNAUTHENTICATED", "{what}");
        let refused = cluster.sen(token, &["overview"]).await;
        assert_eq!(refused.status.code(), Some(3), "{what}: {}", text(&refused));
    }
    // A good token with a role the platform does not know grants nothing.
    let stranger = cluster.token("x-1", "janitor", Some("990"), None);
    let (status, _) = cluster.get(&stranger, "/api/v1/schools").await;
    assert_eq!(status, 403);
    // With a service stopped the gateway stays ready (it serves everything else)
    // and reports the service gone.
    cluster.kill("referrals");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let upstreams =
            cluster.http.get(format!("{}/readyz/upstreams", cluster.admin)).send().await.expect("upstreams");
        if upstreams.status() == 503 {
            let report: serde_json::Value = upstreams.json().await.expect("report");
            let referrals = report["services"].as_array().and_then(|s| s.iter().find(|s| s["service"] == "referrals"));
            assert!(referrals.is_some_and(|s| s["status"] != "SERVING"), "{report}");
            break;
        }
        assert!(Instant::now() < deadline, "the referrals service is still reported serving");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = cluster.http.get(format!("{}/readyz", cluster.admin)).send().await.expect("readyz");
    assert_eq!(ready.status(), 200, "one service down leaves the gateway ready");
    let manager = cluster.token("mgr-1", "la_manager", Some("990"), None);
    let (status, body) = cluster.get(&manager, "/api/v1/referrals").await;
    assert_eq!(status, 503, "{body}");
    let metrics = cluster.http.get(format!("{}/metrics", cluster.admin)).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    assert!(metrics.contains("sen_gateway_upstream_up{service=\"referrals\"} 0"), "{metrics}");
    // The caseloads service serves its own counters on its admin port.
    let caseloads = &cluster.service_admins["caseloads"];
    let metrics = cluster.http.get(format!("{caseloads}/metrics")).send().await.expect("metrics");
    assert_eq!(metrics.status(), 200);
    let metrics = metrics.text().await.expect("text");
    assert!(metrics.contains("sen_caseloads_reconcile_passes_total{result=\"ok\"}"), "{metrics}");
    assert!(metrics.contains("sen_caseloads_reconciled_allocations_total{outcome=\"undone\"} 0"), "{metrics}");
}
