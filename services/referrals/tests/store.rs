//! The referrals store on both engines it runs on: SQLite (the embedded default)
//! and PostgreSQL (production), each test on a fresh database.

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_referrals::domain::{
    AssessmentDecision, BroadArea, Consent, ConsentMethod, Event, NewReferral, PlanDecision, Priority, ReferralKind,
    Status, Tried,
};
use sen_referrals::error::Error;
use sen_referrals::store::{ReferralFilter, Store};

struct World {
    store: Store,
    issuer: DevIssuer,
    _db: TestDatabase,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn new(kind: &str, school: u32) -> NewReferral {
    NewReferral {
        pupil_id: 7,
        school: Urn::parse(&school.to_string()).unwrap(),
        kind: ReferralKind::parse(kind).unwrap(),
        broad_areas: vec![BroadArea::CognitionAndLearning],
        concern: "Reading well below peers despite support".into(),
        tried: Tried { summary: "Phonics catch-up".into(), cycles: vec![3, 4], provisions: vec![] },
        consent: Consent::new("Father, Tomasz Nowak", d(2026, 11, 1), ConsentMethod::Email, d(2026, 11, 24)).unwrap(),
        priority: Priority::Routine,
    }
}

impl World {
    async fn new(engine: Engine) -> Self {
        let db = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        Self { store, issuer: DevIssuer::generate().unwrap(), _db: db }
    }

    fn who(&self, person: &str, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
        let grant = Grant {
            person: person.into(),
            role,
            tenant: LaCode::parse(tenant).ok(),
            school: school.map(|u| Urn::parse(&u.to_string()).unwrap()),
        };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    /// An EHC needs assessment request of 886 received on `received`, both
    /// decisions taken that day, and its final plan issued on `issued`; its id.
    async fn plan_issued(&self, key: &str, received: NaiveDate, issued: NaiveDate) -> i32 {
        let (officer, actor) = self.who("o", Role::CaseOfficer, "886", None);
        let (r, _) =
            self.store.submit(&officer, &actor, &new("ehc_needs_assessment", 100001), key, received).await.unwrap();
        let id = i64::from(r.id);
        self.store
            .record_assessment_decision(&officer, &actor, id, AssessmentDecision::Assess, received)
            .await
            .unwrap();
        self.store.record_plan_decision(&officer, &actor, id, PlanDecision::Issue, received).await.unwrap();
        self.store.record_final_plan_issued(&officer, &actor, id, issued).await.unwrap().0.id
    }
}

async fn a_retry_finds_the_first_referral_and_another_body_is_refused(engine: Engine) {
    let w = World::new(engine).await;
    let (senco, actor) = w.who("s", Role::Senco, "886", Some(100001));
    let (first, entry) =
        w.store.submit(&senco, &actor, &new("educational_psychology", 100001), "k", d(2026, 11, 24)).await.unwrap();
    assert!(entry.is_some());
    let (again, entry) =
        w.store.submit(&senco, &actor, &new("educational_psychology", 100001), "k", d(2026, 11, 24)).await.unwrap();
    assert_eq!((again.id, entry), (first.id, None));
    let other = w.store.submit(&senco, &actor, &new("ehc_needs_assessment", 100001), "k", d(2026, 11, 24)).await;
    assert!(matches!(other, Err(Error::AlreadyExists(_))), "{other:?}");
    let (medway, actor) = w.who("m", Role::CaseOfficer, "887", None);
    let (theirs, _) =
        w.store.submit(&medway, &actor, &new("educational_psychology", 100001), "k", d(2026, 11, 24)).await.unwrap();
    assert_ne!(theirs.id, first.id, "keys are per authority");
    let elsewhere = w.store.submit(&senco, &actor, &new("educational_psychology", 100002), "k2", d(2026, 11, 24)).await;
    assert!(matches!(elsewhere, Err(Error::NotFound(_))), "a SENCO refers only at their own school");
}

async fn illegal_moves_name_the_state_and_change_nothing(engine: Engine) {
    let w = World::new(engine).await;
    let (officer, actor) = w.who("o", Role::CaseOfficer, "886", None);
    let (r, _) =
        w.store.submit(&officer, &actor, &new("educational_psychology", 100001), "k", d(2026, 11, 24)).await.unwrap();
    let err = w.store.change_status(&officer, &actor, i64::from(r.id), 1, Event::Start, "").await.unwrap_err();
    assert!(matches!(&err, Error::FailedPrecondition(m) if m.contains("submitted")), "{err:?}");
    let (declined, _) =
        w.store.change_status(&officer, &actor, i64::from(r.id), 1, Event::Decline, "Not an EP matter").await.unwrap();
    assert_eq!(declined.status, Status::Declined.code());
    let err = w.store.change_status(&officer, &actor, i64::from(r.id), 2, Event::Accept, "").await.unwrap_err();
    assert!(matches!(&err, Error::FailedPrecondition(m) if m.contains("declined")), "{err:?}");
    assert_eq!(w.store.timeline(&officer, i64::from(r.id)).await.unwrap().len(), 2);
    let (other_school, _) = w.who("s", Role::Senco, "886", Some(100002));
    assert!(matches!(w.store.get(&other_school, i64::from(r.id)).await, Err(Error::NotFound(_))));
}

async fn the_clock_takes_its_steps_in_order_and_lists_the_overdue(engine: Engine) {
    let w = World::new(engine).await;
    let (officer, actor) = w.who("o", Role::CaseOfficer, "886", None);
    let received = d(2026, 9, 1);
    let (r, _) = w.store.submit(&officer, &actor, &new("ehc_needs_assessment", 100001), "k", received).await.unwrap();
    assert_eq!(r.decision_due, Some(d(2026, 10, 13)));
    let overdue = ReferralFilter { overdue_on: Some(d(2026, 10, 14)), ..Default::default() };
    let page = Page { size: 50, after: None };
    assert_eq!(w.store.list(&officer, &overdue, &page).await.unwrap().0.len(), 1);
    let early = ReferralFilter { overdue_on: Some(d(2026, 10, 13)), ..Default::default() };
    assert!(w.store.list(&officer, &early, &page).await.unwrap().0.is_empty(), "the due day itself is not overdue");
    let err = w.store.record_final_plan_issued(&officer, &actor, i64::from(r.id), d(2026, 10, 1)).await.unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)));
    let before = w
        .store
        .record_assessment_decision(&officer, &actor, i64::from(r.id), AssessmentDecision::Assess, d(2026, 8, 1))
        .await;
    assert!(matches!(before, Err(Error::Invalid(_))), "no decision before the request was received");
    w.store
        .record_assessment_decision(&officer, &actor, i64::from(r.id), AssessmentDecision::Assess, d(2026, 10, 1))
        .await
        .unwrap();
    assert!(w.store.list(&officer, &overdue, &page).await.unwrap().0.is_empty(), "assessing, with 16 weeks to decide");
    let statutory = w.store.statutory_requests(officer.tenant()).await.unwrap();
    assert_eq!(statutory.len(), 1);
    let (recent, _) =
        w.store.submit(&officer, &actor, &new("educational_psychology", 100001), "k2", d(2026, 11, 20)).await.unwrap();
    let old = ReferralFilter { submitted_by: Some(Store::submitted_before(d(2026, 11, 24), 30)), ..Default::default() };
    assert_eq!(w.store.list(&officer, &old, &page).await.unwrap().0.iter().map(|r| r.id).collect::<Vec<_>>(), [r.id]);
    let ep = ReferralFilter { kind: Some(ReferralKind::EducationalPsychology), ..Default::default() };
    assert_eq!(
        w.store.list(&officer, &ep, &page).await.unwrap().0.iter().map(|r| r.id).collect::<Vec<_>>(),
        [recent.id]
    );
}

async fn the_overview_counts_the_tenants_referrals_by_status_day_and_kind(engine: Engine) {
    let w = World::new(engine).await;
    let (officer, actor) = w.who("o", Role::CaseOfficer, "886", None);
    let submitted = [
        ("educational_psychology", d(2026, 10, 5)),
        ("educational_psychology", d(2026, 11, 2)),
        ("educational_psychology", d(2026, 11, 2)),
        ("advisory_teacher:sensory_hearing", d(2026, 11, 2)),
        ("educational_psychology", d(2026, 9, 30)),
    ];
    let mut ids = Vec::new();
    for (n, (kind, on)) in submitted.into_iter().enumerate() {
        let (row, _) = w.store.submit(&officer, &actor, &new(kind, 100001), &format!("k{n}"), on).await.unwrap();
        ids.push(i64::from(row.id));
    }
    w.store.change_status(&officer, &actor, ids[0], 1, Event::Decline, "Not an EP matter").await.unwrap();
    let (medway, medway_actor) = w.who("m", Role::CaseOfficer, "887", None);
    w.store.submit(&medway, &medway_actor, &new("educational_psychology", 200001), "k0", d(2026, 11, 2)).await.unwrap();

    let counts = w.store.status_counts(officer.tenant()).await.unwrap();
    assert_eq!(counts, HashMap::from([(Status::Submitted, 4), (Status::Declined, 1)]), "Medway's is not counted");
    let days = w.store.submissions_per_day(officer.tenant(), d(2026, 10, 1)..=d(2026, 11, 30)).await.unwrap();
    let days: Vec<(NaiveDate, String, u32)> = days.into_iter().map(|s| (s.on, s.kind.code(), s.count)).collect();
    assert_eq!(
        days,
        [
            (d(2026, 10, 5), "educational_psychology".to_owned(), 1),
            (d(2026, 11, 2), "advisory_teacher:sensory_hearing".to_owned(), 1),
            (d(2026, 11, 2), "educational_psychology".to_owned(), 2),
        ],
        "30 September is outside the window and Medway's is another tenant's"
    );
    let (nobody, _) = w.who("x", Role::CaseOfficer, "888", None);
    assert!(w.store.status_counts(nobody.tenant()).await.unwrap().is_empty());
}

async fn plans_issued_in_a_window_are_the_tenants_ehc_requests_issued_on_its_days(engine: Engine) {
    let w = World::new(engine).await;
    let (officer, actor) = w.who("o", Role::CaseOfficer, "886", None);
    let october = w.plan_issued("a", d(2026, 6, 1), d(2026, 10, 31)).await;
    let november = w.plan_issued("b", d(2026, 7, 1), d(2026, 11, 1)).await;
    let (open, _) =
        w.store.submit(&officer, &actor, &new("ehc_needs_assessment", 100001), "c", d(2026, 10, 2)).await.unwrap();
    let issued = w.store.plans_issued_in(officer.tenant(), d(2026, 10, 1)..=d(2026, 10, 31)).await.unwrap();
    assert_eq!(issued.iter().map(|r| r.id).collect::<Vec<_>>(), [october], "not November's, not the open request");
    let issued = w.store.plans_issued_in(officer.tenant(), d(2026, 10, 1)..=d(2026, 11, 30)).await.unwrap();
    assert_eq!(issued.iter().map(|r| r.id).collect::<Vec<_>>(), [october, november]);
    assert_ne!(open.id, november);
    let (medway, _) = w.who("m", Role::CaseOfficer, "887", None);
    assert!(w.store.plans_issued_in(medway.tenant(), d(2026, 1, 1)..=d(2026, 12, 31)).await.unwrap().is_empty());
}

sen_platform::on_both_engines!(
    a_retry_finds_the_first_referral_and_another_body_is_refused,
    illegal_moves_name_the_state_and_change_nothing,
    the_clock_takes_its_steps_in_order_and_lists_the_overdue,
    the_overview_counts_the_tenants_referrals_by_status_day_and_kind,
    plans_issued_in_a_window_are_the_tenants_ehc_requests_issued_on_its_days,
);
