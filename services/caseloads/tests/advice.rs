//! Advice asked for in EHC needs assessments, in the caseloads store on both
//! engines: each request's own 6-week date (reg. 8(1)), retries that record
//! once, receipt that cannot move, late advice listed, the caseload balance's
//! overdue count from the psychological advice's own date, and nothing seen
//! from another authority.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sen_caseloads::completion::CLAIM_LEASE;
use sen_caseloads::domain::{AdviceKind, Capacity, EpGrade, ProfessionalRole};
use sen_caseloads::error::Error;
use sen_caseloads::store::{AdviceFilter, CaseDraft, Claim, NewAdviceRequest, NewProfessional, Store};
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

async fn world(engine: Engine) -> (Store, TenantScope, TenantScope, TestDatabase) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    (store, tenant_of(&issuer, "886"), tenant_of(&issuer, "887"), db)
}

fn asked(referral: i64, kind: AdviceKind, from_whom: &str, asked_on: NaiveDate) -> NewAdviceRequest {
    NewAdviceRequest {
        referral_id: referral,
        pupil_id: referral * 10,
        school_urn: 100001,
        kind,
        from_whom: from_whom.into(),
        professional_id: None,
        asked_on,
    }
}

async fn advice_is_due_6_weeks_after_asking_and_a_retry_records_it_once(engine: Engine) {
    let (store, kent, _, _db) = world(engine).await;
    let new = asked(1, AdviceKind::Educational, "Head teacher", d(2028, 2, 29));
    let first = store.record_advice_request(&kent, &new, "officer").await.unwrap();
    assert_eq!((first.asked_on, first.due_on, first.received_on), (d(2028, 2, 29), d(2028, 4, 11), None));
    let again = store.record_advice_request(&kent, &new, "officer").await.unwrap();
    assert_eq!(again.id, first.id, "a retry answers the first record");
    // Two records of the same request at once: one row.
    let health = asked(2, AdviceKind::Health, "Paediatrician", d(2027, 1, 4));
    let (a, b) = tokio::join!(
        store.record_advice_request(&kent, &health, "a"),
        store.record_advice_request(&kent, &health, "b"),
    );
    assert_eq!(a.unwrap().id, b.unwrap().id);
    let other_day = store
        .record_advice_request(&kent, &asked(1, AdviceKind::Educational, "Head teacher", d(2028, 3, 1)), "o")
        .await;
    assert!(matches!(&other_day, Err(Error::AlreadyExists(m)) if m.contains("already asked")), "{other_day:?}");
    let all = store.advice_requests(&kent, &AdviceFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2, "nothing written twice");
}

async fn receipt_is_recorded_once_and_cannot_be_moved(engine: Engine) {
    let (store, kent, _, _db) = world(engine).await;
    let row = store
        .record_advice_request(&kent, &asked(1, AdviceKind::SocialCare, "Social worker", d(2027, 1, 4)), "o")
        .await
        .unwrap();
    let id = i64::from(row.id);
    let (a, b) = tokio::join!(
        store.record_advice_received(&kent, id, d(2027, 2, 15)),
        store.record_advice_received(&kent, id, d(2027, 2, 15)),
    );
    assert_eq!(a.unwrap().received_on, Some(d(2027, 2, 15)));
    assert_eq!(b.unwrap().received_on, Some(d(2027, 2, 15)), "a retry answers the record");
    let moved = store.record_advice_received(&kent, id, d(2027, 2, 10)).await;
    assert!(matches!(&moved, Err(Error::FailedPrecondition(m)) if m.contains("already recorded")), "{moved:?}");
    assert_eq!(store.advice_request(&kent, id).await.unwrap().received_on, Some(d(2027, 2, 15)));
}

async fn late_advice_is_overdue_from_the_day_after_its_date_or_in_after_it(engine: Engine) {
    let (store, kent, _, _db) = world(engine).await;
    // Asked 2 November 2026: due 14 December 2026.
    let asked_on = d(2026, 11, 2);
    let awaited =
        store.record_advice_request(&kent, &asked(1, AdviceKind::Psychological, "EP", asked_on), "o").await.unwrap();
    let on_time =
        store.record_advice_request(&kent, &asked(2, AdviceKind::Psychological, "EP", asked_on), "o").await.unwrap();
    let late =
        store.record_advice_request(&kent, &asked(3, AdviceKind::Psychological, "EP", asked_on), "o").await.unwrap();
    store.record_advice_received(&kent, i64::from(on_time.id), d(2026, 12, 14)).await.unwrap();
    store.record_advice_received(&kent, i64::from(late.id), d(2026, 12, 15)).await.unwrap();
    let late_on = |day| {
        let store = store.clone();
        let kent = kent.clone();
        async move {
            let filter = AdviceFilter { late_on: Some(day), ..AdviceFilter::default() };
            store.advice_requests(&kent, &filter).await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(late_on(d(2026, 12, 13)).await, [late.id], "the day before: only the one in late");
    assert_eq!(late_on(d(2026, 12, 14)).await, [late.id], "the due day itself is on time");
    let mut after = late_on(d(2026, 12, 15)).await;
    after.sort_unstable();
    assert_eq!(after, [awaited.id, late.id], "the day after: the one not in is overdue");
    let one = AdviceFilter { referral_id: Some(2), ..AdviceFilter::default() };
    assert_eq!(store.advice_requests(&kent, &one).await.unwrap().len(), 1);
}

async fn the_balance_counts_cases_whose_psychological_advice_is_overdue_by_its_own_date(engine: Engine) {
    let (store, kent, _, _db) = world(engine).await;
    let ep = NewProfessional {
        person: "ep-1".into(),
        name: "Dr One".into(),
        role: ProfessionalRole::EducationalPsychologist(EpGrade::MainGrade),
        fte: 1.0,
        capacity: Capacity::OpenCases(10),
        active: true,
    };
    let p = store.create_professional(&kent, &ep).await.unwrap();
    // Three statutory cases, their requests received long before the advice was asked for.
    for referral in 1..=3 {
        let draft = CaseDraft {
            referral_id: referral,
            pupil_id: referral * 10,
            school_urn: 100001,
            kind: "ehc_needs_assessment".into(),
            received_on: d(2026, 9, 1),
            idempotency_key: format!("k{referral}"),
        };
        let held = Claim::new("test", Utc::now(), CLAIM_LEASE);
        let row = store.begin_allocation(&kent, &draft, p.id, None, d(2026, 9, 10), &held).await.unwrap();
        store.confirm_allocation(&kent, row.id, &held, None).await.unwrap();
    }
    // Case 1: psychological advice asked 2 November (due 14 December), not in.
    store
        .record_advice_request(&kent, &asked(1, AdviceKind::Psychological, "Dr One", d(2026, 11, 2)), "o")
        .await
        .unwrap();
    // Case 2: only the school's advice asked, long overdue: not the case's advice.
    store.record_advice_request(&kent, &asked(2, AdviceKind::Educational, "Head", d(2026, 9, 2)), "o").await.unwrap();
    // Case 3: psychological advice not asked for at all.
    let overdue = |day| {
        let (store, kent) = (store.clone(), kent.clone());
        async move { store.overdue_advice_by_professional(&kent, day).await.unwrap().get(&p.id).copied().unwrap_or(0) }
    };
    // Counted from the request's receipt (1 September), every case would be overdue by 14 October.
    assert_eq!(overdue(d(2026, 12, 14)).await, 0, "due today is not overdue");
    assert_eq!(overdue(d(2026, 12, 15)).await, 1);
}

async fn another_authority_sees_none_of_the_advice(engine: Engine) {
    let (store, kent, medway, _db) = world(engine).await;
    let row = store
        .record_advice_request(&kent, &asked(1, AdviceKind::Other, "Speech therapist", d(2027, 1, 4)), "o")
        .await
        .unwrap();
    assert!(store.advice_requests(&medway, &AdviceFilter::default()).await.unwrap().is_empty());
    let read = store.advice_request(&medway, i64::from(row.id)).await;
    assert!(matches!(read, Err(Error::NotFound(_))), "{read:?}");
    let received = store.record_advice_received(&medway, i64::from(row.id), d(2027, 1, 20)).await;
    assert!(matches!(received, Err(Error::NotFound(_))), "{received:?}");
    assert_eq!(store.advice_request(&kent, i64::from(row.id)).await.unwrap().received_on, None, "nothing written");
}

async fn forgetting_a_pupil_removes_the_advice_asked_for_them(engine: Engine) {
    let (store, kent, _, _db) = world(engine).await;
    store.record_advice_request(&kent, &asked(7, AdviceKind::Health, "GP", d(2027, 1, 4)), "o").await.unwrap();
    store.record_advice_request(&kent, &asked(8, AdviceKind::Health, "GP", d(2027, 1, 4)), "o").await.unwrap();
    let forgotten = store.forget_pupil(&kent, 70).await.unwrap();
    assert_eq!(forgotten.advice, 1);
    let left = store.advice_requests(&kent, &AdviceFilter::default()).await.unwrap();
    assert_eq!(left.iter().map(|r| r.pupil_id).collect::<Vec<_>>(), [80]);
}

async fn the_demo_shows_advice_in_every_state_and_a_case_not_yet_asked(engine: Engine) {
    let (store, kent, _, _db) = world(engine).await;
    let today = d(2026, 11, 24);
    let received = d(2026, 8, 1);
    let allocated: Vec<sen_caseloads::demo::AllocatedReferral> = (1..=6)
        .map(|n| (n, n * 10, 100001, "ehc_needs_assessment".to_owned(), received, "ep-jones".to_owned(), true))
        .collect();
    sen_caseloads::demo::seed(&store, &kent, &[100001], &allocated, today).await.unwrap();
    let advice = store.advice_requests(&kent, &AdviceFilter::default()).await.unwrap();
    let mut states: Vec<&str> = advice
        .iter()
        .filter(|a| a.kind == "psychological")
        .map(|a| sen_caseloads::domain::advice_state(a.due_on, a.received_on, today).code())
        .collect();
    states.sort_unstable();
    states.dedup();
    assert_eq!(states, ["awaited", "overdue", "received_late", "received_on_time"]);
    let asked: std::collections::HashSet<i64> = advice.iter().map(|a| a.referral_id).collect();
    assert!((1..=6).any(|n| !asked.contains(&n)), "one statutory case is not yet asked for its advice");
    assert!(advice.iter().all(|a| a.asked_on >= received && a.asked_on <= today), "asked within the request's life");
}

sen_platform::on_both_engines!(
    the_demo_shows_advice_in_every_state_and_a_case_not_yet_asked,
    advice_is_due_6_weeks_after_asking_and_a_retry_records_it_once,
    receipt_is_recorded_once_and_cannot_be_moved,
    late_advice_is_overdue_from_the_day_after_its_date_or_in_after_it,
    the_balance_counts_cases_whose_psychological_advice_is_overdue_by_its_own_date,
    another_authority_sees_none_of_the_advice,
    forgetting_a_pupil_removes_the_advice_asked_for_them,
);
