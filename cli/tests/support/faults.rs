//! What the fault suite does to the platform besides the load: the faults it
//! injects (database connections terminated, a stopping part watched for its
//! readiness, a write held in flight) and the single calls it makes around
//! them (an allocation whose client gives up, a submission over gRPC), and the
//! reconciler let run without waiting its five minutes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cluster::Cluster;
use super::load::{Fixture, Front, Ledger, SCHOOL};
use super::proxy::LinkProxy;

/// Terminates every server process serving the cluster's databases, as a
/// failover or an administrator would, without touching the server itself.
pub async fn terminate_database_connections(cluster: &Cluster) -> u64 {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let names: Vec<String> =
        cluster.database_urls.values().filter_map(|url| url.rsplit('/').next().map(|n| format!("'{n}'"))).collect();
    let admin = Database::connect(sen_platform::testing::postgres_admin_url()).await.expect("admin connection");
    let sql = format!(
        "SELECT count(pg_terminate_backend(pid))::bigint AS n FROM pg_stat_activity \
         WHERE datname IN ({}) AND pid <> pg_backend_pid()",
        names.join(", ")
    );
    let row = admin
        .query_one(Statement::from_string(admin.get_database_backend(), sql))
        .await
        .expect("pg_terminate_backend")
        .expect("a row");
    let _ = admin.close().await;
    u64::try_from(row.try_get::<i64>("", "n").expect("count")).unwrap_or(0)
}

/// Whether `part` says it is not ready: the gateway's `/readyz`, a service's
/// `grpc.health.v1` on its admin port.
pub async fn says_unready(cluster: &Cluster, part: &str, admin: u16) -> bool {
    if part == "gateway" {
        let answer = cluster.http.get(format!("{}/readyz", cluster.admin)).send().await;
        return match answer {
            Ok(response) if response.status() == 503 => {
                response.json::<serde_json::Value>().await.is_ok_and(|report| report["draining"] == true)
            }
            _ => false,
        };
    }
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{admin}")) else {
        return false;
    };
    let Ok(channel) = endpoint.connect().await else { return false };
    let mut client = HealthClient::new(channel);
    let answer = client.check(HealthCheckRequest { service: String::new() }).await;
    answer.is_ok_and(|answer| answer.into_inner().status() == ServingStatus::NotServing)
}

/// A write that will be in flight at `part` when it is told to stop: its own
/// query, and no other, is held on `database` (`part`'s, or for the gateway the
/// caseloads service's) until the test releases it. Returns the note or key it
/// writes, and the call.
pub fn write_in_flight(
    cluster: &Arc<Cluster>,
    fixture: &Fixture,
    ledger: &Ledger,
    part: &str,
    database: &LinkProxy,
) -> (String, tokio::task::JoinHandle<(u16, serde_json::Value)>) {
    let cluster = cluster.clone();
    if part == "referrals" {
        let key = format!("drain-probe-{}", fixture.pupils[0]);
        database.hold_sending(key.as_bytes());
        let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
        let body = serde_json::json!({
            "referral": {
                "pupil_id": fixture.pupils[0], "school_urn": SCHOOL, "kind": "educational_psychology",
                "broad_areas": ["communication_and_interaction"], "concern": "Sent while referrals stops",
                "graduated_approach": {"summary": "Small-group work"},
                "consent": {"given_by": "Father", "given_on": today, "method": "signed_form"}, "priority": "routine"
            },
            "idempotency_key": key,
            "confirm_duplicate": true,
        });
        let senco = fixture.senco.clone();
        return (key, tokio::spawn(async move { cluster.post(&senco, "/api/v1/referrals", body).await }));
    }
    // A visit, on a case a pipeline made: it has no idempotency key.
    let pipeline = ledger.pipelines.lock().expect("ledger").first().cloned().expect("a finished pipeline");
    let token = fixture.eps.iter().find(|ep| ep.1 == pipeline.person).map(|ep| ep.2.clone()).expect("the EP");
    let note = format!("Visit while {part} stops");
    database.hold_sending(note.as_bytes());
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let body = serde_json::json!({"on": today, "kind": "consultation", "sessions": 1, "note": note});
    let route = format!("/api/v1/cases/{}/activity", pipeline.case);
    (note, tokio::spawn(async move { cluster.post(&token, &route, body).await }))
}

/// A referral submitted and accepted outside the load, for an allocation the
/// test makes itself; its key goes into the ledger.
pub async fn accepted_referral(front: &Front, fixture: &Fixture, ledger: &Ledger, key: &str) -> i64 {
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let body = serde_json::json!({
        "referral": {
            "pupil_id": fixture.pupils[1], "school_urn": SCHOOL, "kind": "educational_psychology",
            "broad_areas": ["cognition_and_learning"], "concern": format!("Concern {key}"),
            "graduated_approach": {"summary": "Small-group work"},
            "consent": {"given_by": "Mother", "given_on": today, "method": "signed_form"}, "priority": "routine"
        },
        "idempotency_key": key,
        "confirm_duplicate": true,
    });
    let (status, referral) = front.post(&fixture.senco, "/api/v1/referrals", body).await;
    assert_eq!(status, 200, "{referral}");
    ledger.single_writes.lock().expect("ledger").push(key.to_owned());
    let id = referral["id"].as_i64().expect("id");
    let accept = serde_json::json!({"version": referral["version"], "event": "REFERRAL_EVENT_ACCEPT"});
    let (status, body) = front.post(&fixture.manager, &format!("/api/v1/referrals/{id}/status"), accept).await;
    assert_eq!(status, 200, "{body}");
    id
}

/// One allocation, sent once: its client gives up if it fails.
pub async fn allocate_once(front: &Front, fixture: &Fixture, referral: i64, key: &str) -> (u16, serde_json::Value) {
    let body =
        serde_json::json!({"referral_id": referral, "professional_id": fixture.eps[0].0, "idempotency_key": key});
    front.try_post(&fixture.manager, "/api/v1/cases", body).await.unwrap_or((0, serde_json::Value::Null))
}

/// The status of the case allocated under `key`, if there is one.
pub async fn case_status(cluster: &Cluster, key: &str) -> Option<String> {
    let sql = format!("SELECT status FROM cases WHERE idempotency_key = '{key}'");
    cluster.query("caseloads", &sql).await.first().map(|row| row.try_get::<String>("", "status").expect("status"))
}

/// A submission over gRPC, as a school system sends it.
pub fn grpc_submission(fixture: &Fixture, key: &str) -> sen_proto::v1::SubmitReferralRequest {
    use sen_proto::v1 as pb;
    let today = chrono::Utc::now().date_naive();
    let given_on = pb::Date {
        year: chrono::Datelike::year(&today),
        month: i32::try_from(chrono::Datelike::month(&today)).unwrap_or(1),
        day: i32::try_from(chrono::Datelike::day(&today)).unwrap_or(1),
    };
    pb::SubmitReferralRequest {
        referral: Some(pb::ReferralBody {
            pupil_id: fixture.pupils[2],
            school_urn: SCHOOL.into(),
            kind: "educational_psychology".into(),
            broad_areas: vec!["communication_and_interaction".into()],
            concern: format!("Concern {key}"),
            graduated_approach: Some(pb::GraduatedApproach {
                summary: "Small-group work".into(),
                ..Default::default()
            }),
            consent: Some(pb::ParentalConsent {
                given_by: "Mother".into(),
                given_on: Some(given_on),
                method: "signed_form".into(),
            }),
            priority: "routine".into(),
        }),
        idempotency_key: key.to_owned(),
        // The fault suites refer one pupil many times on purpose.
        confirm_duplicate: true,
    }
}

/// Lets the reconciler finish the allocations left pending (by a client that gave
/// up, or caught half-way by a backup) as it would five minutes after they began
/// (`PENDING_BOUND`): their start, and any claim, is moved back ten minutes
/// rather than waiting. Waits until none is pending; returns how many there were.
pub async fn let_the_reconciler_run(caseloads: &str, within: Duration) -> usize {
    use chrono::{DateTime, TimeDelta, Utc};
    use sea_orm::{ConnectionTrait, Statement};
    let db = super::cluster::inspect(caseloads).await;
    let backend = db.get_database_backend();
    let pending = "SELECT id, created_at, claimed_until FROM cases WHERE status = 'pending'";
    let rows = db.query_all(Statement::from_string(backend, pending)).await.expect("pending cases");
    let earlier = TimeDelta::minutes(10);
    for row in &rows {
        let id: i32 = row.try_get("", "id").expect("id");
        let created: DateTime<Utc> = row.try_get("", "created_at").expect("created_at");
        let claimed: Option<DateTime<Utc>> = row.try_get("", "claimed_until").expect("claimed_until");
        let values = vec![(created - earlier).into(), claimed.map(|c| c - earlier).into(), id.into()];
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => "UPDATE cases SET created_at = $1, claimed_until = $2 WHERE id = $3",
            _ => "UPDATE cases SET created_at = ?, claimed_until = ? WHERE id = ?",
        };
        db.execute(Statement::from_sql_and_values(backend, sql, values)).await.expect("moved back");
    }
    let deadline = Instant::now() + within;
    loop {
        let left = db.query_all(Statement::from_string(backend, pending)).await.expect("pending cases");
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the reconciler left {} allocations pending", left.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = db.close().await;
    rows.len()
}
