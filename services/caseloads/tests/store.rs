//! The caseloads store on both engines it runs on: SQLite (the embedded default)
//! and PostgreSQL (production), each test on a fresh database.

use std::time::Duration;

use chrono::{NaiveDate, TimeDelta, Utc};
use sen_caseloads::completion::CLAIM_LEASE;
use sen_caseloads::domain::{ActivityKind, Capacity, EpGrade, ProfessionalRole};
use sen_caseloads::entity::case;
use sen_caseloads::error::Error;
use sen_caseloads::store::{CaseDraft, Claim, NewActivity, NewProfessional, Store};
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

/// The allocation of `referral` under the idempotency key `key`.
fn draft(referral: i64, key: &str) -> CaseDraft {
    CaseDraft {
        referral_id: referral,
        pupil_id: referral * 10,
        school_urn: 100001,
        kind: "educational_psychology".into(),
        received_on: d(2026, 10, 1),
        idempotency_key: key.into(),
    }
}

/// A fresh attempt's claim, made now.
fn claim() -> Claim {
    Claim::new("test", Utc::now(), CLAIM_LEASE)
}

/// Begins and confirms an allocation in one attempt: a case the other services know.
async fn allocated(store: &Store, tenant: &TenantScope, draft: &CaseDraft, professional_id: i32) -> case::Model {
    let held = claim();
    let row = store.begin_allocation(tenant, draft, professional_id, None, d(2026, 11, 24), &held).await.unwrap();
    store.confirm_allocation(tenant, row.id, &held, None).await.unwrap()
}

async fn capacity_is_reserved_once_under_parallel_allocations(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let p = store.create_professional(&tenant, &ep("ep-1", 1)).await.unwrap();
    let (one, two, held) = (draft(1, "k1"), draft(2, "k2"), claim());
    let (a, b) = tokio::join!(
        store.begin_allocation(&tenant, &one, p.id, None, d(2026, 11, 24), &held),
        store.begin_allocation(&tenant, &two, p.id, None, d(2026, 11, 24), &held),
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");
    let refused = match (a, b) {
        (Err(e), _) | (_, Err(e)) => e,
        _ => panic!("one must be refused"),
    };
    assert!(matches!(&refused, Error::FailedPrecondition(m) if m.contains("at capacity")), "{refused:?}");
    let forced =
        store.begin_allocation(&tenant, &draft(3, "k3"), p.id, Some("urgent"), d(2026, 11, 24), &held).await.unwrap();
    assert_eq!(store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases, 2);
    store.confirm_allocation(&tenant, forced.id, &held, None).await.unwrap();
    store.close_case(&tenant, i64::from(forced.id), "done").await.unwrap();
    assert_eq!(store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases, 1, "closing releases capacity");
}

async fn one_open_case_per_referral_and_abandoning_returns_capacity(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let p = store.create_professional(&tenant, &ep("ep-2", 5)).await.unwrap();
    let held = claim();
    let first = store.begin_allocation(&tenant, &draft(7, "a"), p.id, None, d(2026, 11, 24), &held).await.unwrap();
    let second = store.begin_allocation(&tenant, &draft(7, "b"), p.id, None, d(2026, 11, 24), &held).await;
    assert!(matches!(second, Err(Error::AlreadyExists(_))), "{second:?}");
    store.abandon_allocation(&tenant, &first, &held, None).await.unwrap();
    assert_eq!(store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases, 0);
    assert!(store.case_by_key(&tenant, "a").await.unwrap().is_none());
    let row = allocated(&store, &tenant, &draft(7, "c"), p.id).await;
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
    let held = claim();
    let completed = store.begin_allocation(&tenant, &draft(1, "done"), p.id, None, today, &held).await.unwrap();
    store.confirm_allocation(&tenant, completed.id, &held, None).await.unwrap();
    assert!(!store.abandon_allocation(&tenant, &completed, &held, None).await.unwrap(), "nothing pending to undo");
    assert_eq!(store.case(&tenant, i64::from(completed.id)).await.unwrap().status, "active");
    assert_eq!(
        store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases,
        1,
        "the completed case still holds its place"
    );
    // Undoing the same pending case twice gives its place back once.
    let undone = store.begin_allocation(&tenant, &draft(2, "undone"), p.id, None, today, &held).await.unwrap();
    assert!(store.abandon_allocation(&tenant, &undone, &held, None).await.unwrap());
    assert!(!store.abandon_allocation(&tenant, &undone, &held, None).await.unwrap());
    assert_eq!(
        store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases,
        1,
        "a second undo frees nothing"
    );
    // Undo and completion at once: whichever wins, the count is the cases left open.
    let mut keys = vec!["done".to_owned()];
    for n in 3..11 {
        let key = format!("race-{n}");
        let pending = store.begin_allocation(&tenant, &draft(n, &key), p.id, None, today, &held).await.unwrap();
        let _ = tokio::join!(
            store.confirm_allocation(&tenant, pending.id, &held, None),
            store.abandon_allocation(&tenant, &pending, &held, None)
        );
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
            let row = allocated(&store, &tenant, &draft(referral, &format!("{person}-first")), p.id).await;
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
                    let draft = draft(referral, &format!("k-{referral}"));
                    store.begin_allocation(&tenant, &draft, professional_id, None, today, &claim()).await
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
    store
        .begin_allocation(&tenant, &draft(200, "forced"), full.id, Some("urgent"), today, &claim())
        .await
        .expect("overridden");

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
    let anas = store.begin_allocation(&tenant, &draft(1, "a"), ana.id, None, d(2026, 11, 24), &claim()).await.unwrap();
    let bos = store.begin_allocation(&tenant, &draft(2, "b"), bo.id, None, d(2026, 11, 24), &claim()).await.unwrap();
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

async fn a_pending_case_is_finished_by_one_attempt_until_its_claim_runs_out(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let p = store.create_professional(&tenant, &ep("ep-4", 5)).await.unwrap();
    let now = Utc::now();
    let first = Claim::new("request", now, CLAIM_LEASE);
    let row = store.begin_allocation(&tenant, &draft(1, "k"), p.id, None, d(2026, 11, 24), &first).await.unwrap();
    let retry = Claim::new("request", now, CLAIM_LEASE);
    assert!(!store.claim_pending(&tenant, row.id, &retry, now).await.unwrap(), "the first attempt holds it");
    // The first attempt is gone; once its claim has run out, another takes the case.
    let later = now + CLAIM_LEASE + TimeDelta::seconds(1);
    let reconciler = Claim::new("reconciler", later, CLAIM_LEASE);
    assert!(store.claim_pending(&tenant, row.id, &reconciler, later).await.unwrap());
    // The first attempt, come back late, can neither confirm nor undo it.
    let late = store.confirm_allocation(&tenant, row.id, &first, None).await.unwrap_err();
    assert!(matches!(&late, Error::Incomplete(m) if m.contains("another attempt")), "{late:?}");
    assert!(!store.abandon_allocation(&tenant, &row, &first, None).await.unwrap());
    assert_eq!(store.professional(&tenant, i64::from(p.id)).await.unwrap().open_cases, 1, "nothing released");
    let active = store.confirm_allocation(&tenant, row.id, &reconciler, None).await.unwrap();
    assert_eq!((active.status.as_str(), active.claimed_by.as_deref()), ("active", None));
    let again = Claim::new("request", later, CLAIM_LEASE);
    assert!(!store.claim_pending(&tenant, row.id, &again, later).await.unwrap(), "an active case is not claimed");
    assert_eq!(
        store.confirm_allocation(&tenant, row.id, &again, None).await.unwrap().id,
        row.id,
        "a retry sees it done"
    );
}

async fn of_attempts_claiming_at_once_exactly_one_takes_the_case(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let p = store.create_professional(&tenant, &ep("ep-5", 5)).await.unwrap();
    let row = store.begin_allocation(&tenant, &draft(1, "k"), p.id, None, d(2026, 11, 24), &claim()).await.unwrap();
    let later = Utc::now() + CLAIM_LEASE + TimeDelta::seconds(1);
    let attempts = (0..8).map(|_| {
        let (store, tenant) = (store.clone(), tenant.clone());
        async move { store.claim_pending(&tenant, row.id, &Claim::new("reconciler", later, CLAIM_LEASE), later).await }
    });
    let taken = futures::future::join_all(attempts).await;
    assert_eq!(taken.iter().filter(|t| matches!(t, Ok(true))).count(), 1, "{taken:?}");
}

async fn the_reconcilers_work_is_the_old_unclaimed_pending_cases_of_every_authority(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let medway = match scope_of("m", Role::LaManager, "887") {
        Scope::Tenant(tenant) => tenant,
        other => panic!("{other:?}"),
    };
    let p = store.create_professional(&tenant, &ep("ep-6", 9)).await.unwrap();
    let q = store.create_professional(&medway, &ep("ep-6", 9)).await.unwrap();
    let left = store.begin_allocation(&tenant, &draft(1, "a"), p.id, None, d(2026, 11, 24), &claim()).await.unwrap();
    let theirs = store.begin_allocation(&medway, &draft(1, "a"), q.id, None, d(2026, 11, 24), &claim()).await.unwrap();
    allocated(&store, &tenant, &draft(2, "b"), p.id).await;
    let start = Utc::now();
    let due = |begun_before, now| {
        let store = store.clone();
        async move {
            let mut due: Vec<(String, i32)> = store
                .pending_allocations_due(begun_before, now, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|p| (p.la_code, p.case_id))
                .collect();
            due.sort();
            due
        }
    };
    assert!(due(start, start).await.is_empty(), "the attempts that began them still hold them");
    let later = start + CLAIM_LEASE + TimeDelta::seconds(1);
    assert_eq!(
        due(start, later).await,
        [("886".to_owned(), left.id), ("887".to_owned(), theirs.id)],
        "both authorities' pending cases, not the active one"
    );
    assert!(due(start - TimeDelta::minutes(1), later).await.is_empty(), "none begun before then");
    assert!(store.claim_pending(&tenant, left.id, &Claim::new("reconciler", later, CLAIM_LEASE), later).await.unwrap());
    assert_eq!(due(start, later).await, [("887".to_owned(), theirs.id)], "a claimed case is another's work");
}

async fn reassigning_to_a_professional_whose_sessions_are_used_up_is_refused_unless_overridden(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let today = d(2026, 11, 24);
    let from = store.create_professional(&tenant, &ep("ep-from", 5)).await.unwrap();
    let full = NewProfessional { capacity: Capacity::SessionsPerTerm(4), ..ep("ep-full", 1) };
    let full = store.create_professional(&tenant, &full).await.unwrap();
    let own = allocated(&store, &tenant, &draft(1, "own"), full.id).await;
    let activity =
        NewActivity { on: d(2026, 11, 10), kind: ActivityKind::Assessment, sessions: 4, note: String::new() };
    store.record_activity(&tenant, &own, &activity, "ep-full").await.unwrap();
    let moving = allocated(&store, &tenant, &draft(2, "moving"), from.id).await;

    let refused = store.reassign(&tenant, i64::from(moving.id), full.id, None, today).await.unwrap_err();
    assert!(
        matches!(&refused, Error::FailedPrecondition(m)
            if m == "ep-full has used 4 of 4 sessions this term: give an override reason to allocate anyway"),
        "{refused:?}"
    );
    let held = |id: i32| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move { store.professional(&tenant, i64::from(id)).await.unwrap().open_cases }
    };
    assert_eq!((held(from.id).await, held(full.id).await), (1, 1), "nothing moved");
    assert_eq!(store.case(&tenant, i64::from(moving.id)).await.unwrap().professional_id, from.id);
    let moved = store.reassign(&tenant, i64::from(moving.id), full.id, Some("Knows the family"), today).await.unwrap();
    assert_eq!((moved.professional_id, moved.override_reason.as_deref()), (full.id, Some("Knows the family")));
    assert_eq!((held(from.id).await, held(full.id).await), (0, 2));
}

async fn reassignments_at_once_leave_each_professional_holding_exactly_their_cases(engine: Engine) {
    let (store, tenant, _db) = world(engine).await;
    let today = d(2026, 11, 24);
    let ana = store.create_professional(&tenant, &ep("ep-ana", 5)).await.unwrap();
    let mut others = Vec::new();
    for person in ["ep-bo", "ep-cy", "ep-di", "ep-ed"] {
        others.push(store.create_professional(&tenant, &ep(person, 5)).await.unwrap().id);
    }
    let moving = allocated(&store, &tenant, &draft(1, "moving"), ana.id).await;
    let staying = allocated(&store, &tenant, &draft(2, "staying"), ana.id).await;
    // Each move read the case as Ana's; whichever lands later must not release her again.
    let moves = others.iter().map(|&to| {
        let (store, tenant) = (store.clone(), tenant.clone());
        async move { store.reassign(&tenant, i64::from(moving.id), to, None, today).await }
    });
    let moved = futures::future::join_all(moves).await;
    assert!(moved.iter().any(Result::is_ok), "{moved:?}");
    for refused in moved.iter().filter_map(|m| m.as_ref().err()) {
        assert!(matches!(refused, Error::Aborted(m) if m.contains("changed by someone else")), "{refused:?}");
    }
    let holder = store.case(&tenant, i64::from(moving.id)).await.unwrap().professional_id;
    assert_eq!(store.case(&tenant, i64::from(staying.id)).await.unwrap().professional_id, ana.id);
    for id in std::iter::once(ana.id).chain(others) {
        let held = store.professional(&tenant, i64::from(id)).await.unwrap().open_cases;
        let has = i32::from(id == ana.id) + i32::from(id == holder);
        assert_eq!(held, has, "professional {id} holds {held} places for {has} cases");
    }
}

sen_platform::on_both_engines!(
    a_pending_case_is_finished_by_one_attempt_until_its_claim_runs_out,
    of_attempts_claiming_at_once_exactly_one_takes_the_case,
    the_reconcilers_work_is_the_old_unclaimed_pending_cases_of_every_authority,
    reassigning_to_a_professional_whose_sessions_are_used_up_is_refused_unless_overridden,
    reassignments_at_once_leave_each_professional_holding_exactly_their_cases,
    capacity_is_reserved_once_under_parallel_allocations,
    one_open_case_per_referral_and_abandoning_returns_capacity,
    a_professional_reads_only_their_own_case_and_the_council_any,
    an_undo_after_or_racing_a_completion_frees_no_capacity,
    parallel_allocations_cannot_take_a_professional_past_their_sessions_this_term,
);
