//! Requests recorded as the council received them, the 16-week point in the
//! overdue query, the draft plan's consultation and an exception's day and note,
//! in the store on both engines.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_referrals::domain::{
    AssessmentDecision, BroadArea, ClockException, Consent, ConsentMethod, PlanDecision, ReceivedVia, RecordedRequest,
    Requester, Stage, Status, final_plan_due, no_plan_notice_due, stage,
};
use sen_referrals::error::Error;
use sen_referrals::store::{ExceptionRecord, ReferralFilter, Store, clock_dates};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn who(issuer: &DevIssuer, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
    let grant = Grant {
        person: "officer-1".into(),
        role,
        tenant: LaCode::parse(tenant).ok(),
        school: school.map(|u| Urn::parse(&u.to_string()).unwrap()),
    };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    let identity = issuer.verifier.verify(&token).unwrap();
    (identity.scope().unwrap(), identity.actor())
}

/// A parent's letter about `pupil`, received on `received_on`.
fn parents_letter(pupil: i64, received_on: NaiveDate) -> RecordedRequest {
    RecordedRequest {
        pupil_id: pupil,
        school: Urn::parse("100001").unwrap(),
        received_on,
        requester: Requester::Parent,
        received_via: ReceivedVia::Letter,
        requester_name: "Mother, Amira Hassan".into(),
        broad_areas: vec![BroadArea::CognitionAndLearning],
        concern: "Not making progress in reading despite support".into(),
        tried: String::new(),
        consent: None,
    }
}

async fn open(engine: Engine) -> (TestDatabase, Store, DevIssuer) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    (db, store, DevIssuer::generate().unwrap())
}

async fn a_request_received_by_letter_runs_its_clock_from_the_day_received(engine: Engine) {
    let (_db, store, issuer) = open(engine).await;
    let (officer, actor) = who(&issuer, Role::CaseOfficer, "886", None);
    // Received in the summer holidays, keyed in a week later: day 0 is the day received.
    let letter = parents_letter(7, d(2027, 8, 5));
    let (row, entry) = store.record_request(&officer, &actor, &letter, "letter-7").await.unwrap();
    assert!(entry.is_some());
    assert_eq!(row.submitted_on, d(2027, 8, 5));
    assert_eq!(row.decision_due, Some(d(2027, 9, 16)));
    assert_eq!(row.final_plan_due, Some(d(2027, 12, 23)));
    assert_eq!((row.requester.as_deref(), row.received_via.as_deref()), (Some("parent"), Some("letter")));
    assert_eq!((row.consent_method.as_str(), row.consent_given_by.as_str()), ("", ""), "a parent's own request");
    let dates = clock_dates(&row).unwrap().unwrap();
    assert_eq!(dates.received_on, d(2027, 8, 5));
    assert_eq!(stage(Status::Submitted, &dates), Stage::AwaitingAssessmentDecision);
    let timeline = store.timeline(&officer, i64::from(row.id)).await.unwrap();
    assert!(timeline[0].note.contains("from the parent (Mother, Amira Hassan) by letter"), "{timeline:?}");

    // A retry answers the first; another request under the key is refused.
    let (again, entry) = store.record_request(&officer, &actor, &letter, "letter-7").await.unwrap();
    assert_eq!((again.id, entry), (row.id, None));
    let other = RecordedRequest { received_on: d(2027, 8, 6), ..letter.clone() };
    let refused = store.record_request(&officer, &actor, &other, "letter-7").await;
    assert!(matches!(refused, Err(Error::AlreadyExists(_))), "{refused:?}");

    // A second open request for the pupil, by any route, names the open one.
    let health = RecordedRequest {
        requester: Requester::Health,
        received_via: ReceivedVia::Email,
        consent: Some(Consent::new("Father", d(2027, 8, 1), ConsentMethod::Email, d(2027, 8, 10)).unwrap()),
        ..letter.clone()
    };
    let refused = store.record_request(&officer, &actor, &health, "health-7").await;
    assert!(
        matches!(&refused, Err(Error::FailedPrecondition(m)) if m.contains(&format!("referral {}", row.id))),
        "{refused:?}"
    );

    // Another authority's officer and a SENCO of another school see nothing of it.
    let (theirs, _) = who(&issuer, Role::CaseOfficer, "887", None);
    assert!(matches!(store.get(&theirs, i64::from(row.id)).await, Err(Error::NotFound(_))));
    let (elsewhere, _) = who(&issuer, Role::Senco, "886", Some(100002));
    assert!(matches!(store.get(&elsewhere, i64::from(row.id)).await, Err(Error::NotFound(_))));
    // Another authority records its own request for its own pupil 7 freely.
    let (their_actor_scope, their_actor) = who(&issuer, Role::CaseOfficer, "887", None);
    store.record_request(&their_actor_scope, &their_actor, &letter, "letter-7").await.unwrap();
}

async fn a_case_assessing_past_16_weeks_is_overdue_only_after_20_weeks(engine: Engine) {
    let (_db, store, issuer) = open(engine).await;
    let (officer, actor) = who(&issuer, Role::CaseOfficer, "886", None);
    // Received 10 November 2027: week 16 on 1 March 2028 (29 February counted), week 20 on 29 March.
    let received = d(2027, 11, 10);
    assert_eq!((no_plan_notice_due(received), final_plan_due(received)), (d(2028, 3, 1), d(2028, 3, 29)));
    let (row, _) = store.record_request(&officer, &actor, &parents_letter(8, received), "k-8").await.unwrap();
    let id = i64::from(row.id);
    store
        .record_assessment_decision(&officer, &actor, id, None, AssessmentDecision::Assess, d(2027, 12, 15))
        .await
        .unwrap();
    let page = Page { size: 50, after: None };
    let overdue_on = |day: NaiveDate| ReferralFilter { overdue_on: Some(day), ..Default::default() };
    for (day, listed) in [
        (d(2028, 2, 29), false),
        (d(2028, 3, 1), false),
        (d(2028, 3, 2), false),
        (d(2028, 3, 29), false),
        (d(2028, 3, 30), true),
    ] {
        let (rows, _) = store.list(&officer, &overdue_on(day), &page).await.unwrap();
        assert_eq!(rows.iter().any(|r| r.id == row.id), listed, "on {day}");
    }
}

async fn a_draft_plan_gives_at_least_15_days_and_an_exception_keeps_its_day_and_note(engine: Engine) {
    let (_db, store, issuer) = open(engine).await;
    let (officer, actor) = who(&issuer, Role::CaseOfficer, "886", None);
    let received = d(2027, 1, 4);
    let (row, _) = store.record_request(&officer, &actor, &parents_letter(9, received), "k-9").await.unwrap();
    let id = i64::from(row.id);
    let today = d(2027, 5, 10);
    // No draft before the decision to issue.
    let early = store.record_draft_plan_sent(&officer, &actor, id, None, (d(2027, 2, 1), d(2027, 2, 16)), today).await;
    assert!(matches!(early, Err(Error::FailedPrecondition(_))), "{early:?}");
    store
        .record_assessment_decision(&officer, &actor, id, None, AssessmentDecision::Assess, d(2027, 2, 1))
        .await
        .unwrap();
    let (decided, _) =
        store.record_plan_decision(&officer, &actor, id, None, PlanDecision::Issue, d(2027, 4, 19)).await.unwrap();
    // 14 days is too few: refused naming the field, nothing written.
    let short = store.record_draft_plan_sent(&officer, &actor, id, None, (d(2027, 4, 20), d(2027, 5, 4)), today).await;
    assert!(
        matches!(&short, Err(Error::Invalid(v)) if v.iter().any(|f| f.field == "consultation_ends_on")),
        "{short:?}"
    );
    let before = store.record_draft_plan_sent(&officer, &actor, id, None, (d(2027, 4, 18), d(2027, 5, 3)), today).await;
    assert!(matches!(&before, Err(Error::Invalid(v)) if v.iter().any(|f| f.field == "sent_on")), "{before:?}");
    assert_eq!(store.get(&officer, id).await.unwrap().version, decided.version, "nothing written");
    let (drafted, _) = store
        .record_draft_plan_sent(&officer, &actor, id, Some(decided.version), (d(2027, 4, 20), d(2027, 5, 5)), today)
        .await
        .unwrap();
    assert_eq!((drafted.draft_plan_sent_on, drafted.consultation_ends_on), (Some(d(2027, 4, 20)), Some(d(2027, 5, 5))));
    // A stale version is refused.
    let stale = store.record_draft_plan_sent(
        &officer,
        &actor,
        id,
        Some(decided.version),
        (d(2027, 4, 21), d(2027, 5, 6)),
        today,
    );
    assert!(matches!(stale.await, Err(Error::Aborted(_))));

    // An exception from before the request is refused; one after is kept with its note.
    let record =
        |on| ExceptionRecord { exception: ClockException::AbsentFromArea, on, note: "Abroad for 5 weeks".into() };
    let early = store.record_clock_exception(&officer, &actor, id, None, Some(record(d(2027, 1, 3)))).await;
    assert!(matches!(&early, Err(Error::Invalid(v)) if v.iter().any(|f| f.field == "exception_on")), "{early:?}");
    let (excepted, _) = store.record_clock_exception(&officer, &actor, id, None, Some(record(received))).await.unwrap();
    assert_eq!(excepted.clock_exception.as_deref(), Some("absent_from_area"));
    assert_eq!(
        (excepted.clock_exception_on, excepted.clock_exception_note.as_deref()),
        (Some(received), Some("Abroad for 5 weeks"))
    );
    let (cleared, _) = store.record_clock_exception(&officer, &actor, id, None, None).await.unwrap();
    assert_eq!((cleared.clock_exception, cleared.clock_exception_on, cleared.clock_exception_note), (None, None, None));

    // Another authority cannot record a step on it.
    let (theirs, their_actor) = who(&issuer, Role::CaseOfficer, "887", None);
    let refused = store.record_clock_exception(&theirs, &their_actor, id, None, Some(record(received))).await;
    assert!(matches!(refused, Err(Error::NotFound(_))));
}

sen_platform::on_both_engines!(
    a_request_received_by_letter_runs_its_clock_from_the_day_received,
    a_case_assessing_past_16_weeks_is_overdue_only_after_20_weeks,
    a_draft_plan_gives_at_least_15_days_and_an_exception_keeps_its_day_and_note,
);

async fn the_demo_shows_each_state_of_the_clock(engine: Engine) {
    let (_db, store, issuer) = open(engine).await;
    let today = d(2026, 11, 24);
    let pupils: Vec<(i64, i32, String)> = (1..=40).map(|n| (n, 100_001, "K".to_owned())).collect();
    let load = sen_referrals::demo::seed(&store, &issuer, "886", &pupils, today);
    sen_platform::walls::within_tenant("886", load).await.unwrap();
    let (officer, _) = who(&issuer, Role::CaseOfficer, "886", None);
    let (rows, _) = store.list(&officer, &ReferralFilter::default(), &Page { size: 500, after: None }).await.unwrap();
    let requests: Vec<_> = rows.iter().filter(|r| r.decision_due.is_some()).collect();
    // A parent's letter, received before it was keyed in, with no consent of its own.
    assert!(
        requests.iter().any(|r| r.requester.as_deref() == Some("parent")
            && r.received_via.as_deref() == Some("letter")
            && r.created_at.date_naive() > r.submitted_on
            && r.consent_method.is_empty()),
        "a parent's letter"
    );
    // A draft plan out for consultation today.
    assert!(
        requests.iter().any(|r| r.draft_plan_sent_on.is_some_and(|sent| sent <= today)
            && r.consultation_ends_on.is_some_and(|ends| ends >= today)
            && r.final_plan_issued_on.is_none()),
        "a draft in consultation"
    );
    // A case still assessing past its 16-week date, at risk and not breached.
    let at_risk_past_16 = requests.iter().any(|r| {
        let dates = clock_dates(r).unwrap().unwrap();
        let status = Status::parse(&r.status).unwrap();
        stage(status, &dates) == Stage::Assessing
            && today > no_plan_notice_due(dates.received_on)
            && sen_referrals::domain::health(status, &dates, today) == Some(sen_referrals::domain::ClockHealth::AtRisk)
    });
    assert!(at_risk_past_16, "an assessing case past 16 weeks at risk");
    // An exception case with its day and note.
    assert!(
        requests.iter().any(|r| r.clock_exception.is_some()
            && r.clock_exception_on.is_some()
            && r.clock_exception_note.as_deref().is_some_and(|n| !n.is_empty())),
        "an exception case"
    );
}

sen_platform::on_both_engines!(the_demo_shows_each_state_of_the_clock);
