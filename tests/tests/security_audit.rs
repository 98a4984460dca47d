//! Nothing done to a child's record, and no refusal, goes unrecorded: a SENCO
//! probing another school's pupil and referral ids leaves refusal rows in each
//! service's audit trail and `audit` log lines; a flood of refused calls leaves
//! a bounded trail and the count of the rest; reading a referral, a case's
//! activity or the requests for advice leaves a read entry naming the reader; and the trace id an audit
//! entry names is the platform's own, never one a caller chose.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sen_platform::audit::RefusalLimits;
use sen_platform::identity::{Role, TenantScope};
use sen_platform::testing::Engine;
use sen_platform::walls;
use sen_proto::v1 as pb;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{Options, TestPlatform};
use tonic::Code;
use tracing_subscriber::layer::SubscriberExt;

/// A caller's trace id, as an outside client would send it.
const CALLERS_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// The `audit` log lines, each as `message key=value ...`.
#[derive(Clone, Default)]
struct AuditLines(Arc<Mutex<Vec<String>>>);

impl AuditLines {
    fn matching(&self, parts: &[&str]) -> Vec<String> {
        let lines = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        lines.iter().filter(|line| parts.iter().all(|part| line.contains(part))).cloned().collect()
    }
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push_str(&format!(" {}={}", field.name(), value));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AuditLines {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "audit" {
            let mut fields = Fields(format!("{}", event.metadata().level()));
            event.record(&mut fields);
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(fields.0);
        }
    }
}

/// Captures the `audit` lines of everything on this test's thread (its
/// runtime runs the services and the gateway), with spans given OpenTelemetry
/// ids as the platform's telemetry gives them.
fn capture() -> (AuditLines, tracing::subscriber::DefaultGuard) {
    let lines = AuditLines::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(sen_platform::telemetry::trace_ids_layer(&provider, "security-audit"))
        .with(lines.clone());
    (lines, tracing::subscriber::set_default(subscriber))
}

/// Schools 100001 and 100002 of 886, a pupil at 100001 with an accepted referral;
/// returns (pupil, referral).
async fn school_with_a_referral(platform: &TestPlatform) -> (i64, i64) {
    for (urn, estab) in [(100001, "2001"), (100002, "2002")] {
        platform.school_886(urn, estab, pb::Phase::Primary, (4, 11), 200).await;
    }
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Ada", "Reed")).await;
    let referral = platform.accepted_referral_886(pupil, "educational_psychology", "audit-1").await;
    (pupil, referral)
}

/// Authority 886's whole-tenant scope, to read the stores' trails as an auditor
/// would (within 886's wall, as the services' own calls read them).
fn tenant_886(platform: &TestPlatform) -> TenantScope {
    let token = platform.token(Role::LaManager, Some("886"), None);
    platform.issuer.verifier.verify(&token).expect("identity").tenant_scope().expect("tenant scope")
}

/// The pupils service's audit events of 886, as the council's manager reads them.
async fn pupils_audit(platform: &TestPlatform) -> Vec<pb::AuditEvent> {
    let mut manager = platform.pupils(Role::LaManager, Some("886"), None).await;
    let request = pb::ListAuditEventsRequest {
        page: Some(pb::PageRequest { page_size: 500, ..Default::default() }),
        pupil_id: 0,
    };
    manager.list_audit_events(request).await.expect("audit events").into_inner().events
}

async fn a_senco_probing_another_schools_ids_leaves_refusals_in_every_trail(engine: Engine) {
    let (lines, _guard) = capture();
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (pupil, referral) = school_with_a_referral(&platform).await;
    let prober = platform.token(Role::Senco, Some("886"), Some(100002));

    let mut pupils = platform.pupils_as(&prober).await;
    let refused = pupils.get_pupil(pb::GetPupilRequest { id: pupil }).await.expect_err("another school's pupil");
    assert_eq!(refused.code(), Code::NotFound);
    let mut referrals = platform.referrals_as(&prober).await;
    for id in [referral, referral + 1000] {
        let refused = referrals.get_referral(pb::GetReferralRequest { id, as_of: None }).await.expect_err("probe");
        assert_eq!(refused.code(), Code::NotFound, "out of reach and missing answer alike");
    }
    let refused = referrals.get_statutory_clock_report(pb::GetStatutoryClockReportRequest::default()).await;
    assert_eq!(refused.expect_err("the council's report").code(), Code::PermissionDenied);

    let pupil_refusals: Vec<_> = pupils_audit(&platform)
        .await
        .into_iter()
        .filter(|e| e.action == "refused.not_found" && e.person == "test-senco")
        .collect();
    assert_eq!(pupil_refusals.len(), 1, "the pupils service's trail: {pupil_refusals:?}");
    assert_eq!(pupil_refusals[0].role, "senco");

    let trail = walls::within_tenant("886", platform.referrals_store.audit_events(&tenant_886(&platform)))
        .await
        .expect("referrals trail");
    let probes: Vec<_> =
        trail.iter().filter(|e| e.person == "test-senco" && e.action.starts_with("refused.")).collect();
    let actions: Vec<(&str, &str)> = probes.iter().map(|e| (e.action.as_str(), e.detail.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("refused.not_found", "/sen.v1.ReferralsService/GetReferral"),
            ("refused.not_found", "/sen.v1.ReferralsService/GetReferral"),
            ("refused.permission_denied", "/sen.v1.ReferralsService/GetStatutoryClockReport"),
        ]
    );
    assert!(probes.iter().all(|e| e.role == "senco" && e.la_code == "886" && e.trace_id.is_some()));

    let logged = lines.matching(&["request refused", "person=test-senco", "tenant=886", "reason=not_found"]);
    assert!(
        logged.iter().any(|l| l.contains("method=/sen.v1.PupilsService/GetPupil"))
            && logged.iter().filter(|l| l.contains("method=/sen.v1.ReferralsService/GetReferral")).count() == 2,
        "one warning per refusal: {logged:#?}"
    );
    assert!(logged.iter().all(|l| l.starts_with("WARN")), "{logged:#?}");
    assert!(!lines.matching(&["Ada"]).iter().any(|_| true), "no child's name in the audit lines");
}

#[tokio::test]
async fn a_senco_probing_another_schools_ids_leaves_refusals_in_every_trail_on_sqlite() {
    a_senco_probing_another_schools_ids_leaves_refusals_in_every_trail(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_senco_probing_another_schools_ids_leaves_refusals_in_every_trail_on_postgres() {
    a_senco_probing_another_schools_ids_leaves_refusals_in_every_trail(Engine::Postgres).await;
}

async fn a_flood_of_refused_calls_leaves_a_bounded_trail_and_the_count_of_the_rest(engine: Engine) {
    let limits = RefusalLimits { per_window: 5, window: Duration::from_secs(2), callers: 100 };
    let options = Options { refusal_limits: Some(limits), ..Options::default() };
    let platform = TestPlatform::start_with(engine, options).await.expect("platform");
    let (_, referral) = school_with_a_referral(&platform).await;
    let mut prober = platform.referrals(Role::Senco, Some("886"), Some(100002)).await;
    for _ in 0..1_000 {
        let refused = prober.get_referral(pb::GetReferralRequest { id: referral, as_of: None }).await;
        assert_eq!(refused.expect_err("out of reach").code(), Code::NotFound);
    }

    // Once the last window has closed, every refusal is either a row or in a count.
    let tenant = tenant_886(&platform);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (rows, counted) = loop {
        let trail = walls::within_tenant("886", platform.referrals_store.audit_events(&tenant)).await.expect("trail");
        let rows = trail.iter().filter(|e| e.action == "refused.not_found").count();
        let counted: u64 = trail
            .iter()
            .filter(|e| e.action == "refused.suppressed" && e.person == "test-senco")
            .filter_map(|e| e.detail.split(' ').next()?.parse::<u64>().ok())
            .sum();
        if rows as u64 + counted == 1_000 || Instant::now() > deadline {
            break (rows, counted);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rows as u64 + counted, 1_000, "{rows} rows and {counted} counted");
    assert!((5..=50).contains(&rows), "a bounded number of rows, five a window: {rows}");
    assert!(counted >= 950, "the rest only counted: {counted}");
}

#[tokio::test]
async fn a_flood_of_refused_calls_leaves_a_bounded_trail_and_the_count_of_the_rest_on_sqlite() {
    a_flood_of_refused_calls_leaves_a_bounded_trail_and_the_count_of_the_rest(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_flood_of_refused_calls_leaves_a_bounded_trail_and_the_count_of_the_rest_on_postgres() {
    a_flood_of_refused_calls_leaves_a_bounded_trail_and_the_count_of_the_rest(Engine::Postgres).await;
}

#[tokio::test]
async fn a_flood_of_bad_tokens_at_the_gateway_leaves_a_bounded_number_of_log_lines_and_is_counted() {
    let (lines, _guard) = capture();
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let mut stranger = ReferralsServiceClient::new(gateway.bearer("not-a-token").await.expect("channel"));
    for _ in 0..1_000 {
        let refused = stranger.get_referral(pb::GetReferralRequest { id: 1, as_of: None }).await;
        assert_eq!(refused.expect_err("no identity").code(), Code::Unauthenticated);
    }
    let logged = lines.matching(&["request refused", "part=gateway", "reason=unauthenticated"]);
    assert_eq!(logged.len(), RefusalLimits::default().per_window as usize, "{logged:#?}");
    assert!(
        logged
            .iter()
            .all(|l| l.contains("client=127.0.0.1") && l.contains("method=/sen.v1.ReferralsService/GetReferral"))
    );
    assert!(lines.matching(&["not-a-token"]).is_empty(), "never the token");

    let metrics =
        reqwest::get(format!("{}/metrics", gateway.url())).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("sen_gateway_refusals_total{reason=\"unauthenticated\"} 1000"), "{metrics}");
    assert!(metrics.contains("sen_gateway_refusals_suppressed_total 980"), "{metrics}");
}

async fn reading_a_referral_leaves_a_read_entry_naming_the_reader(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (_, referral) = school_with_a_referral(&platform).await;
    let mut senco = platform.referrals(Role::Senco, Some("886"), Some(100001)).await;
    senco.get_referral(pb::GetReferralRequest { id: referral, as_of: None }).await.expect("own school's referral");
    senco.get_referral_timeline(pb::GetReferralTimelineRequest { id: referral }).await.expect("its timeline");
    let listed = senco.list_referrals(pb::ListReferralsRequest::default()).await.expect("list").into_inner();
    assert_eq!(listed.referrals.len(), 1);

    let trail = walls::within_tenant("886", platform.referrals_store.audit_events(&tenant_886(&platform)))
        .await
        .expect("trail");
    let reads: Vec<(&str, &str, &str, Option<i32>)> = trail
        .iter()
        .filter(|e| e.action.starts_with("referral."))
        .map(|e| (e.action.as_str(), e.person.as_str(), e.role.as_str(), e.referral_id))
        .collect();
    let id = i32::try_from(referral).ok();
    assert_eq!(
        reads,
        [
            ("referral.read", "test-senco", "senco", id),
            ("referral.timeline", "test-senco", "senco", id),
            ("referral.list", "test-senco", "senco", id),
        ]
    );
}

#[tokio::test]
async fn reading_a_referral_leaves_a_read_entry_naming_the_reader_on_sqlite() {
    reading_a_referral_leaves_a_read_entry_naming_the_reader(Engine::Sqlite).await;
}

#[tokio::test]
async fn reading_a_referral_leaves_a_read_entry_naming_the_reader_on_postgres() {
    reading_a_referral_leaves_a_read_entry_naming_the_reader(Engine::Postgres).await;
}

#[tokio::test]
async fn watching_referrals_leaves_an_entry_for_each_referral_delivered() {
    use tokio_stream::StreamExt;
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("platform");
    let (_, referral) = school_with_a_referral(&platform).await;
    let mut officer = platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let request = pb::WatchReferralsRequest { after_position: Some(0) };
    let mut changes = officer.watch_referrals(request).await.expect("watch").into_inner();
    let first = changes.next().await.expect("a change").expect("delivered");
    assert_eq!(first.referral.map(|r| r.id), Some(referral));
    drop(changes);

    let tenant = tenant_886(&platform);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let trail = walls::within_tenant("886", platform.referrals_store.audit_events(&tenant)).await.expect("trail");
        let watched: Vec<_> = trail.iter().filter(|e| e.action == "referral.watch").collect();
        if let Some(entry) = watched.first() {
            assert_eq!((entry.person.as_str(), entry.referral_id), ("test-case_officer", i32::try_from(referral).ok()));
            break;
        }
        assert!(Instant::now() < deadline, "no entry for the watch: {trail:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn reading_case_activity_leaves_a_read_entry_naming_the_reader(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (_, referral) = school_with_a_referral(&platform).await;
    let mut manager = platform.caseloads(Role::LaManager, Some("886")).await;
    let fields = pb::ProfessionalFields {
        person: "ep-ana".into(),
        name: "Dr Ana".into(),
        role: "educational_psychologist:senior".into(),
        fte: 1.0,
        capacity_kind: "open_cases".into(),
        capacity: 10,
        active: true,
    };
    let ep = manager
        .create_professional(pb::CreateProfessionalRequest { professional: Some(fields) })
        .await
        .expect("professional")
        .into_inner()
        .id;
    let allocate = pb::AllocateCaseRequest {
        referral_id: referral,
        professional_id: ep,
        idempotency_key: "audit-case".into(),
        override_reason: String::new(),
    };
    let case = manager.allocate_case(allocate).await.expect("allocated").into_inner();
    let ana = platform.token_for("ep-ana", Role::EducationalPsychologist, "886");
    let mut as_ana = platform.caseloads_as(&ana).await;
    as_ana.list_case_activity(pb::ListCaseActivityRequest { case_id: case.id }).await.expect("own case's notes");
    let bo = platform.token_for("ep-bo", Role::EducationalPsychologist, "886");
    let refused =
        platform.caseloads_as(&bo).await.list_case_activity(pb::ListCaseActivityRequest { case_id: case.id }).await;
    assert!(refused.is_err(), "another professional's case");

    let trail = walls::within_tenant("886", platform.caseloads_store.audit_events(&tenant_886(&platform)))
        .await
        .expect("trail");
    let read: Vec<_> = trail.iter().filter(|e| e.action == "case.activity_read").collect();
    assert_eq!(read.len(), 1, "{trail:#?}");
    assert_eq!(
        (read[0].person.as_str(), read[0].role.as_str(), read[0].case_id),
        ("ep-ana", "educational_psychologist", i32::try_from(case.id).ok())
    );
    assert!(
        trail.iter().any(|e| e.person == "ep-bo" && e.action.starts_with("refused.")),
        "the refusal is in the trail too: {trail:#?}"
    );
}

#[tokio::test]
async fn reading_case_activity_leaves_a_read_entry_naming_the_reader_on_sqlite() {
    reading_case_activity_leaves_a_read_entry_naming_the_reader(Engine::Sqlite).await;
}

#[tokio::test]
async fn reading_case_activity_leaves_a_read_entry_naming_the_reader_on_postgres() {
    reading_case_activity_leaves_a_read_entry_naming_the_reader(Engine::Postgres).await;
}

async fn listing_advice_requests_leaves_a_read_entry_for_each_request_naming_the_reader(engine: Engine) {
    let platform = TestPlatform::start(engine).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Musa", "Ali")).await;
    let request = platform.accepted_referral_886(pupil, "ehc_needs_assessment", "audit-ehc").await;
    let mut officer = platform.caseloads(Role::CaseOfficer, Some("886")).await;
    let ask = |kind: &str| pb::RecordAdviceRequestRequest {
        referral_id: request,
        kind: kind.into(),
        from_whom: "Dr Grey".into(),
        professional_id: 0,
        asked_on: Some(pb::Date { year: 2026, month: 11, day: 24 }),
    };
    let psychological = officer.record_advice_request(ask("psychological")).await.expect("asked").into_inner();
    let health = officer.record_advice_request(ask("health")).await.expect("asked").into_inner();

    let count = pb::ListAdviceRequestsRequest { count_only: true, ..Default::default() };
    assert_eq!(officer.list_advice_requests(count).await.expect("counted").into_inner().total, 2);
    let listed = officer.list_advice_requests(pb::ListAdviceRequestsRequest::default()).await.expect("listed");
    assert!(listed.into_inner().advice.iter().all(|a| a.pupil_id == pupil), "each request names the pupil");
    let ep = platform.token_for("ep-bo", Role::EducationalPsychologist, "886");
    let none = platform.caseloads_as(&ep).await.list_advice_requests(pb::ListAdviceRequestsRequest::default()).await;
    assert!(none.expect("a professional without cases").into_inner().advice.is_empty());

    let trail = walls::within_tenant("886", platform.caseloads_store.audit_events(&tenant_886(&platform)))
        .await
        .expect("trail");
    let mut read: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "advice.read")
        .map(|e| (e.person.as_str(), e.role.as_str(), e.referral_id, e.detail.clone()))
        .collect();
    read.sort();
    let mut expected = vec![
        ("test-case_officer", "case_officer", Some(request), format!("advice_request {}", psychological.id)),
        ("test-case_officer", "case_officer", Some(request), format!("advice_request {}", health.id)),
    ];
    expected.sort();
    assert_eq!(read, expected, "one entry per request listed, none for a count or an empty list: {trail:#?}");
    assert!(read.iter().all(|(_, _, _, detail)| !detail.contains("Musa")), "entries never name the pupil");
}

#[tokio::test]
async fn listing_advice_requests_leaves_a_read_entry_for_each_request_naming_the_reader_on_sqlite() {
    listing_advice_requests_leaves_a_read_entry_for_each_request_naming_the_reader(Engine::Sqlite).await;
}

#[tokio::test]
async fn listing_advice_requests_leaves_a_read_entry_for_each_request_naming_the_reader_on_postgres() {
    listing_advice_requests_leaves_a_read_entry_for_each_request_naming_the_reader(Engine::Postgres).await;
}

async fn a_callers_traceparent_never_becomes_the_trace_of_an_audit_entry(engine: Engine) {
    let (_lines, _guard) = capture();
    let platform = TestPlatform::start(engine).await.expect("platform");
    let (_, referral) = school_with_a_referral(&platform).await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("gateway");
    let token = platform.token(Role::Senco, Some("886"), Some(100001));
    let mut senco = ReferralsServiceClient::new(gateway.bearer(&token).await.expect("channel"));
    let chosen = format!("00-{CALLERS_TRACE}-00f067aa0ba902b7-01");
    for id in [referral, referral + 1000] {
        let mut request = tonic::Request::new(pb::GetReferralRequest { id, as_of: None });
        request.metadata_mut().insert("traceparent", chosen.parse().expect("metadata"));
        let _ = senco.get_referral(request).await;
    }

    let trail = walls::within_tenant("886", platform.referrals_store.audit_events(&tenant_886(&platform)))
        .await
        .expect("trail");
    let read = trail.iter().find(|e| e.action == "referral.read").expect("the read's entry");
    let refused = trail.iter().find(|e| e.action == "refused.not_found").expect("the refusal's entry");
    for entry in [read, refused] {
        let trace = entry.trace_id.as_deref().expect("the platform's own trace");
        assert_eq!(trace.len(), 32, "{trace}");
        assert_ne!(trace, CALLERS_TRACE, "{}: the caller chose no trace id", entry.action);
    }
    assert_ne!(read.trace_id, refused.trace_id, "each request is a trace of its own");
}

#[tokio::test]
async fn a_callers_traceparent_never_becomes_the_trace_of_an_audit_entry_on_sqlite() {
    a_callers_traceparent_never_becomes_the_trace_of_an_audit_entry(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_callers_traceparent_never_becomes_the_trace_of_an_audit_entry_on_postgres() {
    a_callers_traceparent_never_becomes_the_trace_of_an_audit_entry(Engine::Postgres).await;
}
