//! What the breach forecast reads of the caseloads store, on both engines:
//! every allocated case with the days it was open (a pending allocation not
//! among them), so an EP's load on the day advice was asked of them can be
//! worked out; and nothing of another authority's.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sen_caseloads::completion::CLAIM_LEASE;
use sen_caseloads::domain::{Capacity, EpGrade, ProfessionalRole};
use sen_caseloads::store::{CaseDraft, Claim, NewProfessional, Store};
use sen_platform::identity::{DevIssuer, Grant, Role, TenantScope};
use sen_platform::ids::LaCode;
use sen_platform::testing::{Engine, TestDatabase};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn tenant_of(issuer: &DevIssuer, la: &str) -> TenantScope {
    let grant = Grant { person: "m".into(), role: Role::LaManager, tenant: LaCode::parse(la).ok(), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    issuer.verifier.verify(&token).unwrap().tenant_scope().unwrap()
}

async fn allocate(store: &Store, tenant: &TenantScope, professional: i32, referral: i64, on: NaiveDate) -> i32 {
    let draft = CaseDraft {
        referral_id: referral,
        pupil_id: referral * 10,
        school_urn: 100001,
        kind: "ehc_needs_assessment".into(),
        received_on: on,
        idempotency_key: format!("k{referral}"),
    };
    let held = Claim::new("test", Utc::now(), CLAIM_LEASE);
    let row = store.begin_allocation(tenant, &draft, professional, None, on, &held).await.unwrap();
    store.confirm_allocation(tenant, row.id, &held, None).await.unwrap();
    row.id
}

async fn each_allocated_case_is_read_with_the_days_it_was_open_within_the_authority(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let (kent, medway) = (tenant_of(&issuer, "886"), tenant_of(&issuer, "887"));
    let ep = NewProfessional {
        person: "ep-1".into(),
        name: "Dr One".into(),
        role: ProfessionalRole::EducationalPsychologist(EpGrade::MainGrade),
        fte: 1.0,
        capacity: Capacity::OpenCases(10),
        active: true,
    };
    let p = store.create_professional(&kent, &ep).await.unwrap();
    let open = allocate(&store, &kent, p.id, 1, d(2026, 9, 10)).await;
    let closed = allocate(&store, &kent, p.id, 2, d(2026, 9, 1)).await;
    store.close_case(&kent, i64::from(closed), "Advice given").await.unwrap();
    // A pending allocation (not confirmed) is not a case yet.
    let draft = CaseDraft {
        referral_id: 3,
        pupil_id: 30,
        school_urn: 100001,
        kind: "ehc_needs_assessment".into(),
        received_on: d(2026, 9, 1),
        idempotency_key: "k3".into(),
    };
    let held = Claim::new("test", Utc::now(), CLAIM_LEASE);
    store.begin_allocation(&kent, &draft, p.id, None, d(2026, 9, 12), &held).await.unwrap();

    let spans = store.case_spans(&kent).await.unwrap();
    assert_eq!(spans.iter().map(|s| s.case_id).collect::<Vec<_>>(), [closed, open], "oldest first, no pending");
    let (first, second) = (&spans[0], &spans[1]);
    assert_eq!((first.referral_id, first.professional_id, first.kind.as_str()), (2, p.id, "ehc_needs_assessment"));
    assert_eq!(first.closed_on, Some(Utc::now().date_naive()), "closed today");
    assert!(first.open_on(d(2026, 9, 1)) && !first.open_on(d(2026, 8, 31)));
    assert_eq!(second.closed_on, None);
    assert!(second.open_on(d(2030, 1, 1)) && !second.open_on(d(2026, 9, 9)));
    assert!(store.case_spans(&medway).await.unwrap().is_empty(), "nothing of another authority");
}

sen_platform::on_both_engines!(each_allocated_case_is_read_with_the_days_it_was_open_within_the_authority);
