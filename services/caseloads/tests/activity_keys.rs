//! Work recorded on a case under the client's idempotency key, on SQLite and
//! PostgreSQL: a retry (a dropped answer, a command run twice) records it once
//! and answers the first record; other details under the key are refused and
//! write nothing; two records sent at once under one key make one; records
//! without a key are each recorded; a key is the authority's own.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sen_caseloads::completion::CLAIM_LEASE;
use sen_caseloads::domain::{ActivityKind, Capacity, EpGrade, ProfessionalRole};
use sen_caseloads::entity::case;
use sen_caseloads::error::Error;
use sen_caseloads::store::{CaseDraft, Claim, NewActivity, NewProfessional, Store};
use sen_platform::identity::{DevIssuer, Grant, Role, TenantScope};
use sen_platform::ids::LaCode;
use sen_platform::testing::{Engine, TestDatabase};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn tenant(issuer: &DevIssuer, la: &str) -> TenantScope {
    let grant = Grant { person: "m".into(), role: Role::LaManager, tenant: LaCode::parse(la).ok(), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    issuer.verifier.verify(&token).unwrap().tenant_scope().unwrap()
}

/// An active case of a new EP of `tenant`, for referral `referral`.
async fn case_of(store: &Store, tenant: &TenantScope, referral: i64) -> case::Model {
    let professional = NewProfessional {
        person: format!("ep-{referral}"),
        name: "Dr Ana Lee".into(),
        role: ProfessionalRole::EducationalPsychologist(EpGrade::MainGrade),
        fte: 1.0,
        capacity: Capacity::OpenCases(10),
        active: true,
    };
    let p = store.create_professional(tenant, &professional).await.unwrap();
    let draft = CaseDraft {
        referral_id: referral,
        pupil_id: referral * 10,
        school_urn: 100001,
        kind: "educational_psychology".into(),
        received_on: d(2026, 10, 1),
        idempotency_key: format!("case-{referral}"),
    };
    let held = Claim::new("test", Utc::now(), CLAIM_LEASE);
    let row = store.begin_allocation(tenant, &draft, p.id, None, d(2026, 11, 24), &held).await.unwrap();
    store.confirm_allocation(tenant, row.id, &held, None).await.unwrap()
}

fn visit(note: &str) -> NewActivity {
    NewActivity { on: d(2026, 11, 20), kind: ActivityKind::Observation, sessions: 2, note: note.into() }
}

async fn a_retried_record_of_work_is_logged_once(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let (kent, medway) = (tenant(&issuer, "886"), tenant(&issuer, "887"));
    let row = case_of(&store, &kent, 1).await;

    let first = store.record_activity_once(&kent, &row, &visit("Observed in class"), "ep-1", "k1").await.unwrap();
    let again = store.record_activity_once(&kent, &row, &visit("Observed in class"), "ep-1", "k1").await.unwrap();
    assert_eq!(again.id, first.id, "a retry answers the first record");
    let other = store.record_activity_once(&kent, &row, &visit("Met the parents"), "ep-1", "k1").await.unwrap_err();
    assert!(matches!(&other, Error::AlreadyExists(m) if m.contains("k1")), "{other:?}");
    assert_eq!(store.activity(&kent, row.id).await.unwrap().len(), 1, "nothing more was written");

    let assessed = visit("Assessed");
    let (a, b) = tokio::join!(
        store.record_activity_once(&kent, &row, &assessed, "ep-1", "k2"),
        store.record_activity_once(&kent, &row, &assessed, "ep-1", "k2"),
    );
    assert_eq!(a.unwrap().id, b.unwrap().id, "two sent at once make one");
    store.record_activity(&kent, &row, &visit("No key"), "ep-1").await.unwrap();
    store.record_activity(&kent, &row, &visit("No key"), "ep-1").await.unwrap();
    assert_eq!(store.activity(&kent, row.id).await.unwrap().len(), 4, "records without a key are each kept");

    let theirs = case_of(&store, &medway, 2).await;
    let elsewhere = store.record_activity_once(&medway, &theirs, &visit("Observed in class"), "ep-2", "k1").await;
    assert_ne!(elsewhere.unwrap().id, first.id, "another authority's key is its own");
}

sen_platform::on_both_engines!(a_retried_record_of_work_is_logged_once);
