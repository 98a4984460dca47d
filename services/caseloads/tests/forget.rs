//! Forgetting a pupil erased at the end of their retention period, in the
//! caseloads store, on both engines: every case of the pupil goes with its
//! activity, an open case gives its professional's place back and a closed one
//! does not, another pupil's cases and another authority's are untouched, and
//! forgetting again finds nothing.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter};
use sen_caseloads::completion::CLAIM_LEASE;
use sen_caseloads::domain::{ActivityKind, Capacity, EpGrade, ProfessionalRole};
use sen_caseloads::entity::{case, case_activity};
use sen_caseloads::error::Error;
use sen_caseloads::store::{CaseDraft, Claim, Forgotten, NewActivity, NewProfessional, Store};
use sen_platform::identity::{DevIssuer, Grant, Role, TenantScope};
use sen_platform::ids::LaCode;
use sen_platform::testing::{Engine, TestDatabase};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn scope(issuer: &DevIssuer, tenant: &str) -> TenantScope {
    let grant =
        Grant { person: "caseloads".into(), role: Role::Service, tenant: LaCode::parse(tenant).ok(), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    issuer.verifier.verify(&token).unwrap().tenant_scope().unwrap()
}

fn ep(person: &str) -> NewProfessional {
    NewProfessional {
        person: person.into(),
        name: person.into(),
        role: ProfessionalRole::EducationalPsychologist(EpGrade::MainGrade),
        fte: 1.0,
        capacity: Capacity::OpenCases(10),
        active: true,
    }
}

/// An active case of `pupil` for `referral`, with two visits recorded.
async fn case_with_activity(store: &Store, tenant: &TenantScope, pupil: i64, referral: i64, to: i32) -> case::Model {
    let draft = CaseDraft {
        referral_id: referral,
        pupil_id: pupil,
        school_urn: 100001,
        kind: "educational_psychology".into(),
        received_on: d(2026, 10, 1),
        idempotency_key: format!("k{referral}"),
    };
    let held = Claim::new("test", Utc::now(), CLAIM_LEASE);
    let row = store.begin_allocation(tenant, &draft, to, None, d(2026, 11, 24), &held).await.unwrap();
    let row = store.confirm_allocation(tenant, row.id, &held, None).await.unwrap();
    for on in [d(2026, 11, 2), d(2026, 11, 9)] {
        let visit = NewActivity { on, kind: ActivityKind::Consultation, sessions: 1, note: "Observed in class".into() };
        store.record_activity(tenant, &row, &visit, "ep-1").await.unwrap();
    }
    row
}

async fn forgetting_a_pupil_removes_their_cases_and_activity_and_nothing_else(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let rows = Database::connect(&db.url).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let (kent, medway) = (scope(&issuer, "886"), scope(&issuer, "887"));
    let ours = store.create_professional(&kent, &ep("ep-1")).await.unwrap();
    let theirs = store.create_professional(&medway, &ep("ep-1")).await.unwrap();

    let open = case_with_activity(&store, &kent, 70, 1, ours.id).await;
    let closed = case_with_activity(&store, &kent, 70, 2, ours.id).await;
    store.close_case(&kent, i64::from(closed.id), "advice given").await.unwrap();
    let other_pupil = case_with_activity(&store, &kent, 80, 3, ours.id).await;
    let other_authority = case_with_activity(&store, &medway, 70, 4, theirs.id).await;
    assert_eq!(store.professional(&kent, i64::from(ours.id)).await.unwrap().open_cases, 2);

    let forgotten = store.forget_pupil(&kent, 70).await.unwrap();
    assert_eq!(forgotten, Forgotten { cases: 2, activities: 4, advice: 0 });
    assert_eq!(forgotten.to_string(), "caseloads: 2 cases, 4 activities, 0 advice requests");
    for gone in [&open, &closed] {
        assert!(matches!(store.case(&kent, i64::from(gone.id)).await, Err(Error::NotFound(_))), "case {}", gone.id);
        let left = case_activity::Entity::find().filter(case_activity::Column::CaseId.eq(gone.id)).count(&rows);
        assert_eq!(left.await.unwrap(), 0, "activity of case {}", gone.id);
    }
    assert_eq!(
        store.professional(&kent, i64::from(ours.id)).await.unwrap().open_cases,
        1,
        "the open case gave its place back, the closed one had none to give"
    );
    for (tenant, kept) in [(&kent, &other_pupil), (&medway, &other_authority)] {
        assert_eq!(store.case(tenant, i64::from(kept.id)).await.unwrap().pupil_id, kept.pupil_id);
        assert_eq!(store.activity(tenant, kept.id).await.unwrap().len(), 2, "case {} keeps its activity", kept.id);
    }
    let cases_of_70 = case::Entity::find().filter(case::Column::PupilId.eq(70)).count(&rows).await.unwrap();
    assert_eq!(cases_of_70, 1, "only the other authority's pupil 70 keeps a case");

    assert_eq!(store.forget_pupil(&kent, 70).await.unwrap(), Forgotten::default(), "forgetting again finds nothing");
}

sen_platform::on_both_engines!(forgetting_a_pupil_removes_their_cases_and_activity_and_nothing_else);
