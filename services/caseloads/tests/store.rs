//! The caseloads store on both engines it runs on: SQLite (the embedded default)
//! and PostgreSQL (production), each test on a fresh database.

use std::time::Duration;

use chrono::NaiveDate;
use sen_caseloads::domain::{ActivityKind, Capacity, EpGrade, ProfessionalRole};
use sen_caseloads::error::Error;
use sen_caseloads::store::{CaseDraft, NewActivity, NewProfessional, Store};
use sen_platform::identity::{DevIssuer, Grant, Role, Scope, TenantScope};
use sen_platform::ids::LaCode;
use sen_platform::testing::{Engine, TestDatabase};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn world(engine: Engine) -> (Store, TenantScope, TestDatabase) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let grant = Grant { person: "m".into(), role: Role::LaManager, tenant: LaCode::parse("886").ok(), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    let tenant = issuer.verifier.verify(&token).unwrap().tenant_scope().unwrap();
    (store, tenant, db)
}

fn ep(person: &str, cases: u32) -> NewProfessional {
    NewProfessional {
        person: person.into(),
        name: person.into(),
        role: ProfessionalRole::EducationalPsychologist(EpGrade::MainGrade),
        fte: 0.8,
        capacity: Capacity::OpenCases(cases),
        active: true,
    }
}

fn draft(referral: i64) -> CaseDraft {
    CaseDraft {
        referral_id: referral,
        pupil_id: referral * 10,
        school_urn: 100001,
        kind: "educational_psychology".into(),
        received_on: d(2026, 10, 1),
        advice_due: None,
    }
}

async fn capacity_is_reserved_once_under_parallel_allocations(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let p = store.create_professional(&tenant, &ep("ep-1", 1)).await.unwrap();
    let (one, two) = (draft(1), draft(2));
    let (a, b) = tokio::join!(
        store.begin_allocation(&tenant, &one, p.id, None, "k1", d(2026, 11, 24)),
        store.begin_allocation(&tenant, &two, p.id, None, "k2", d(2026, 11, 24)),
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let refused = match (a, b) {
        (Err(e), _) | (_, Err(e)) => e,
        _ => panic!("one must be refused"),
    };
    assert!(matches!(&refused, Error::FailedPrecondition(m) if m.contains("at capacity")), "{refused:?}");
    let forced = store.begin_allocation(&tenant, &draft(3), p.id, Some("urgent"), "k3", d(2026, 11, 24)).await.unwrap();
    assert_eq!(store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases, 2);
    store.confirm_allocation(&tenant, forced.id).await.unwrap();
    store.close_case(&tenant, i64::from(forced.id), "done").await.unwrap();
    assert_eq!(store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases, 1, "closing releases capacity");
}

async fn one_open_case_per_referral_and_abandoning_returns_capacity(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let p = store.create_professional(&tenant, &ep("ep-2", 5)).await.unwrap();
    let first = store.begin_allocation(&tenant, &draft(7), p.id, None, "a", d(2026, 11, 24)).await.unwrap();
    let second = store.begin_allocation(&tenant, &draft(7), p.id, None, "b", d(2026, 11, 24)).await;
    assert!(matches!(second, Err(Error::AlreadyExists(_))), "{second:?}");
    store.abandon_allocation(&tenant, &first).await.unwrap();
    assert_eq!(store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases, 0);
    assert!(store.case_by_key(&tenant, "a").await.unwrap().is_none());
    let row = store.begin_allocation(&tenant, &draft(7), p.id, None, "c", d(2026, 11, 24)).await.unwrap();
    let row = store.confirm_allocation(&tenant, row.id).await.unwrap();
    for (kind, sessions) in [(ActivityKind::Consultation, 2), (ActivityKind::StatutoryAdvice, 3)] {
        let activity = NewActivity { on: d(2026, 11, 10), kind, sessions, note: String::new() };
        store.record_activity(&tenant, &row, &activity, "ep-2").await.unwrap();
    }
    let (by_case, by_school) = store.sessions_between(&tenant, d(2026, 9, 1), d(2026, 12, 31)).await.unwrap();
    assert_eq!(by_case.get(&row.id), Some(&5));
    assert_eq!(
        by_school.get(&100001).map(|u| u.counted),
        Some(2),
        "statutory advice is the council's, not the school's"
    );
}

/// The professional's open-case count and the cases still open to them (pending or active).
async fn held_and_open(store: &Store, tenant: &TenantScope, professional_id: i32, keys: &[String]) -> (i32, usize) {
    let held = store.professional(tenant, i64::from(professional_id)).await.unwrap().open_cases;
    let mut open = 0;
    for key in keys {
        open += usize::from(store.case_by_key(tenant, key).await.unwrap().is_some_and(|c| c.status != "closed"));
    }
    (held, open)
}

async fn an_undo_after_or_racing_a_completion_frees_no_capacity(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let p = store.create_professional(&tenant, &ep("ep-3", 20)).await.unwrap();
    let today = d(2026, 11, 24);
    // The first attempt's copy of the case, still pending, is undone after a retry completed it.
    let completed = store.begin_allocation(&tenant, &draft(1), p.id, None, "done", today).await.unwrap();
    store.confirm_allocation(&tenant, completed.id).await.unwrap();
    assert!(!store.abandon_allocation(&tenant, &completed).await.unwrap(), "nothing pending to undo");
    assert_eq!(store.case(&tenant, i64::from(completed.id)).await.unwrap().status, "active");
    assert_eq!(
        store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases,
        1,
        "the completed case still holds its place"
    );
    // Undoing the same pending case twice gives its place back once.
    let undone = store.begin_allocation(&tenant, &draft(2), p.id, None, "undone", today).await.unwrap();
    assert!(store.abandon_allocation(&tenant, &undone).await.unwrap());
    assert!(!store.abandon_allocation(&tenant, &undone).await.unwrap());
    assert_eq!(
        store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases,
        1,
        "a second undo frees nothing"
    );
    // Undo and completion at once: whichever wins, the count is the cases left open.
    let mut keys = vec!["done".to_owned()];
    for n in 3..11 {
        let key = format!("race-{n}");
        let pending = store.begin_allocation(&tenant, &draft(n), p.id, None, &key, today).await.unwrap();
        let _ =
            tokio::join!(store.confirm_allocation(&tenant, pending.id), store.abandon_allocation(&tenant, &pending));
        keys.push(key);
    }
    let (held, open) = held_and_open(&store, &tenant, p.id, &keys).await;
    assert_eq!(usize::try_from(held).unwrap(), open, "capacity held matches the cases left open");
}

async fn parallel_allocations_cannot_take_a_professional_past_their_sessions_this_term(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let today = d(2026, 11, 24);
    let sessions = |person: &str| NewProfessional { capacity: Capacity::SessionsPerTerm(12), ..ep(person, 1) };
    // `used` sessions recorded this term on one active case, and 5 last term, which do not count.
    let with_sessions_used = |person: &'static str, referral: i64, used: u32| {
        let (store, tenant) = (store.clone(), tenant.clone());
        async move {
            let p = store.create_professional(&tenant, &sessions(person)).await.unwrap();
            let key = format!("{person}-first");
            let row = store.begin_allocation(&tenant, &draft(referral), p.id, None, &key, today).await.unwrap();
            let row = store.confirm_allocation(&tenant, row.id).await.unwrap();
            for (on, sessions) in [(d(2026, 11, 10), used), (d(2026, 8, 20), 5)] {
                let activity = NewActivity { on, kind: ActivityKind::Assessment, sessions, note: String::new() };
                store.record_activity(&tenant, &row, &activity, person).await.unwrap();
            }
            p
        }
    };
    let allocate_all_at_once = |professional_id: i32, first_referral: i64| {
        let (store, tenant) = (store.clone(), tenant.clone());
        async move {
            let attempts = (first_referral..first_referral + 8).map(|referral| {
                let (store, tenant) = (store.clone(), tenant.clone());
                async move {
                    let key = format!("k-{referral}");
                    store.begin_allocation(&tenant, &draft(referral), professional_id, None, &key, today).await
                }
            });
            futures::future::join_all(attempts).await
        }
    };

    let full = with_sessions_used("ep-full", 1, 12).await;
    for refused in allocate_all_at_once(full.id, 100).await {
        assert!(
            matches!(&refused, Err(Error::FailedPrecondition(m))
                if m == "ep-full has used 12 of 12 sessions this term: give an override reason to allocate anyway"),
            "{refused:?}"
        );
    }
    assert_eq!(store.professional(&tenant, i64::from(full.id)).await.unwrap().open_cases, 1, "nothing was reserved");
    assert!(store.case_by_key(&tenant, "k-100").await.unwrap().is_none());
    store.begin_allocation(&tenant, &draft(200), full.id, Some("urgent"), "forced", today).await.expect("overridden");

    let room = with_sessions_used("ep-room", 2, 11).await;
    let taken = allocate_all_at_once(room.id, 300).await;
    assert!(taken.iter().all(Result::is_ok), "allocating uses no sessions, so all fit: {taken:?}");
    assert_eq!(store.professional(&tenant, i64::from(room.id)).await.unwrap().open_cases, 9);
}

/// The read scope of `person` in `role` of `tenant`.
fn scope_of(person: &str, role: Role, tenant: &str) -> Scope {
    let issuer = DevIssuer::generate().unwrap();
    let grant = Grant { person: person.into(), role, tenant: LaCode::parse(tenant).ok(), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    issuer.verifier.verify(&token).unwrap().scope().unwrap()
}

async fn a_professional_reads_only_their_own_case_and_the_council_any(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let ana = store.create_professional(&tenant, &ep("ep-ana", 5)).await.unwrap();
    let bo = store.create_professional(&tenant, &ep("ep-bo", 5)).await.unwrap();
    let anas = store.begin_allocation(&tenant, &draft(1), ana.id, None, "a", d(2026, 11, 24)).await.unwrap();
    let bos = store.begin_allocation(&tenant, &draft(2), bo.id, None, "b", d(2026, 11, 24)).await.unwrap();
    let (anas, bos) = (i64::from(anas.id), i64::from(bos.id));
    let read = |scope: Scope, id: i64| {
        let store = store.clone();
        async move { store.case_within(&scope, id).await.map(|(case, owner)| (i64::from(case.id), owner.person)) }
    };
    let as_ana = scope_of("ep-ana", Role::EducationalPsychologist, "886");
    assert_eq!(read(as_ana.clone(), anas).await.unwrap(), (anas, "ep-ana".to_owned()));
    assert!(matches!(read(as_ana.clone(), bos).await, Err(Error::NotFound(_))), "Bo's case is not Ana's to read");
    assert!(matches!(read(as_ana, i64::MAX).await, Err(Error::NotFound(_))));
    for role in [Role::LaManager, Role::CaseOfficer] {
        assert_eq!(read(scope_of("m", role, "886"), bos).await.unwrap(), (bos, "ep-bo".to_owned()));
    }
    let stranger = scope_of("ep-cy", Role::AdvisoryTeacher, "886");
    assert!(matches!(read(stranger, anas).await, Err(Error::NotFound(_))), "not a professional here");
    let medway = scope_of("m", Role::LaManager, "887");
    assert!(matches!(read(medway, anas).await, Err(Error::NotFound(_))), "another authority's case");
    let namesake = scope_of("ep-ana", Role::EducationalPsychologist, "887");
    assert!(matches!(read(namesake, anas).await, Err(Error::NotFound(_))), "the same person id in another authority");
}

sen_platform::on_both_engines!(
    capacity_is_reserved_once_under_parallel_allocations,
    one_open_case_per_referral_and_abandoning_returns_capacity,
    a_professional_reads_only_their_own_case_and_the_council_any,
    an_undo_after_or_racing_a_completion_frees_no_capacity,
    parallel_allocations_cannot_take_a_professional_past_their_sessions_this_term,
);
