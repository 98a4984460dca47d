//! The referrals store on both engines it runs on: SQLite (the embedded default)
//! and PostgreSQL (production), each test on a fresh database.

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_referrals::domain::{
    AssessmentDecision, BroadArea, Consent, ConsentMethod, Event, NewReferral, PlanDecision, Priority, ReferralKind,
    Status, Tried,
};
use sen_referrals::entity::referral;
use sen_referrals::error::Error;
use sen_referrals::store::{ReferralFilter, Store};

struct World {
    store: Store,
    issuer: DevIssuer,
    db: TestDatabase,
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

/// An EHC needs assessment request for `pupil` at school 100001.
fn ehc_request(pupil: i64) -> NewReferral {
    NewReferral { pupil_id: pupil, ..new("ehc_needs_assessment", 100001) }
}

impl World {
    async fn new(engine: Engine) -> Self {
        let db = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        Self { store, issuer: DevIssuer::generate().unwrap(), db }
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

    /// An EHC needs assessment request of 886 for `pupil` received on `received`,
    /// both decisions taken that day, and its final plan issued on `issued`; its id.
    async fn plan_issued(&self, pupil: i64, key: &str, received: NaiveDate, issued: NaiveDate) -> i32 {
        let (officer, actor) = self.who("o", Role::CaseOfficer, "886", None);
        let (r, _) = self.store.submit(&officer, &actor, &ehc_request(pupil), key, received).await.unwrap();
        let id = i64::from(r.id);
        self.store
            .record_assessment_decision(&officer, &actor, id, None, AssessmentDecision::Assess, received)
            .await
            .unwrap();
        self.store.record_plan_decision(&officer, &actor, id, None, PlanDecision::Issue, received).await.unwrap();
        self.store.record_final_plan_issued(&officer, &actor, id, None, issued).await.unwrap().0.id
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
    let err =
        w.store.record_final_plan_issued(&officer, &actor, i64::from(r.id), None, d(2026, 10, 1)).await.unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)));
    let before = w
        .store
        .record_assessment_decision(&officer, &actor, i64::from(r.id), None, AssessmentDecision::Assess, d(2026, 8, 1))
        .await;
    assert!(matches!(before, Err(Error::Invalid(_))), "no decision before the request was received");
    w.store
        .record_assessment_decision(&officer, &actor, i64::from(r.id), None, AssessmentDecision::Assess, d(2026, 10, 1))
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
    let october = w.plan_issued(7, "a", d(2026, 6, 1), d(2026, 10, 31)).await;
    let november = w.plan_issued(8, "b", d(2026, 7, 1), d(2026, 11, 1)).await;
    let (open, _) = w.store.submit(&officer, &actor, &ehc_request(9), "c", d(2026, 10, 2)).await.unwrap();
    let issued = w.store.plans_issued_in(officer.tenant(), d(2026, 10, 1)..=d(2026, 10, 31)).await.unwrap();
    assert_eq!(issued.iter().map(|r| r.id).collect::<Vec<_>>(), [october], "not November's, not the open request");
    let issued = w.store.plans_issued_in(officer.tenant(), d(2026, 10, 1)..=d(2026, 11, 30)).await.unwrap();
    assert_eq!(issued.iter().map(|r| r.id).collect::<Vec<_>>(), [october, november]);
    assert_ne!(open.id, november);
    let (medway, _) = w.who("m", Role::CaseOfficer, "887", None);
    assert!(w.store.plans_issued_in(medway.tenant(), d(2026, 1, 1)..=d(2026, 12, 31)).await.unwrap().is_empty());
}

/// Referrals of the tenant, as many as there are (up to a page).
async fn count(w: &World, scope: &Scope) -> usize {
    let page = Page { size: 50, after: None };
    w.store.list(scope, &ReferralFilter::default(), &page).await.unwrap().0.len()
}

/// A body whose free text holds `|`: concern "a|b", tried "c"; and the one the
/// fingerprint of old, joining fields with `|`, could not tell from it.
fn bodies_that_joined_alike() -> (NewReferral, NewReferral) {
    let with = |concern: &str, summary: &str| NewReferral {
        concern: concern.into(),
        tried: Tried { summary: summary.into(), cycles: vec![], provisions: vec![] },
        ..new("educational_psychology", 100001)
    };
    (with("a|b", "c"), with("a", "b|c"))
}

async fn a_retry_with_another_body_is_refused_even_when_its_text_joins_alike(engine: Engine) {
    let w = World::new(engine).await;
    let (senco, actor) = w.who("s", Role::Senco, "886", Some(100001));
    let (first_body, other_body) = bodies_that_joined_alike();
    let (first, _) = w.store.submit(&senco, &actor, &first_body, "k", d(2026, 11, 24)).await.unwrap();
    let other = w.store.submit(&senco, &actor, &other_body, "k", d(2026, 11, 24)).await;
    assert!(matches!(&other, Err(Error::AlreadyExists(m)) if m.contains(&first.id.to_string())), "{other:?}");
    assert_eq!(count(&w, &senco).await, 1, "nothing written");
    assert_eq!(w.store.timeline(&senco, i64::from(first.id)).await.unwrap().len(), 1);
    let (again, entry) = w.store.submit(&senco, &actor, &first_body, "k", d(2026, 11, 24)).await.unwrap();
    assert_eq!((again.id, entry), (first.id, None), "a true retry still finds the first referral");
}

/// Gives referral `id` the fingerprint it was stored with before the upgrade:
/// every field of its body joined with `|`.
async fn stored_before_the_upgrade(w: &World, id: i32, old_fingerprint: &str) {
    let db = sea_orm::Database::connect(&w.db.url).await.unwrap();
    referral::Entity::update_many()
        .col_expr(referral::Column::Fingerprint, Expr::value(old_fingerprint))
        .filter(referral::Column::Id.eq(id))
        .exec(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
}

async fn a_retry_of_a_referral_submitted_before_the_upgrade_is_still_recognised(engine: Engine) {
    let w = World::new(engine).await;
    let (senco, actor) = w.who("s", Role::Senco, "886", Some(100001));
    let plain = new("educational_psychology", 100001);
    let (first, _) = w.store.submit(&senco, &actor, &plain, "plain", d(2026, 11, 24)).await.unwrap();
    let old = "7|100001|educational_psychology|cognition_and_learning|Reading well below peers despite support|\
               Phonics catch-up|3,4||Father, Tomasz Nowak|2026-11-01|email|routine";
    stored_before_the_upgrade(&w, first.id, old).await;
    let (again, entry) = w.store.submit(&senco, &actor, &plain, "plain", d(2026, 11, 24)).await.unwrap();
    assert_eq!((again.id, entry), (first.id, None));
    let changed = NewReferral { concern: "Another concern".into(), ..plain };
    let other = w.store.submit(&senco, &actor, &changed, "plain", d(2026, 11, 24)).await;
    assert!(matches!(other, Err(Error::AlreadyExists(_))), "{other:?}");

    let (piped, joined_alike) = bodies_that_joined_alike();
    let (first, _) = w.store.submit(&senco, &actor, &piped, "piped", d(2026, 11, 24)).await.unwrap();
    let old =
        "7|100001|educational_psychology|cognition_and_learning|a|b|c|||Father, Tomasz Nowak|2026-11-01|email|routine";
    stored_before_the_upgrade(&w, first.id, old).await;
    let (again, entry) = w.store.submit(&senco, &actor, &piped, "piped", d(2026, 11, 24)).await.unwrap();
    assert_eq!((again.id, entry), (first.id, None));
    let other = w.store.submit(&senco, &actor, &joined_alike, "piped", d(2026, 11, 24)).await;
    assert!(matches!(other, Err(Error::AlreadyExists(_))), "{other:?}");
    assert_eq!(count(&w, &senco).await, 2, "nothing written");
}

async fn a_pupil_has_one_open_ehc_request_at_a_time_and_may_have_another_once_it_ends(engine: Engine) {
    let w = World::new(engine).await;
    let (officer, actor) = w.who("o", Role::CaseOfficer, "886", None);
    let today = d(2026, 11, 24);
    let (open, _) = w.store.submit(&officer, &actor, &ehc_request(7), "r1", today).await.unwrap();
    let second = w.store.submit(&officer, &actor, &ehc_request(7), "r2", today).await;
    let expected = format!("referral {} is an open EHC needs assessment request for this pupil", open.id);
    assert!(matches!(&second, Err(Error::FailedPrecondition(m)) if m.contains(&expected)), "{second:?}");
    assert_eq!(count(&w, &officer).await, 1, "nothing written");
    w.store.submit(&officer, &actor, &new("educational_psychology", 100001), "ep", today).await.unwrap();
    w.store.submit(&officer, &actor, &ehc_request(8), "other-pupil", today).await.unwrap();
    let (medway, medway_actor) = w.who("m", Role::CaseOfficer, "887", None);
    w.store.submit(&medway, &medway_actor, &ehc_request(7), "r1", today).await.unwrap();

    // Once a request ends (withdrawn, declined, closed) the pupil may have another.
    let id = i64::from(open.id);
    w.store.change_status(&officer, &actor, id, 1, Event::Withdraw, "").await.unwrap();
    let (declined, _) = w.store.submit(&officer, &actor, &ehc_request(7), "r3", today).await.unwrap();
    let id = i64::from(declined.id);
    w.store.change_status(&officer, &actor, id, 1, Event::Decline, "Needs met at SEN support").await.unwrap();
    let (closed, _) = w.store.submit(&officer, &actor, &ehc_request(7), "r4", today).await.unwrap();
    let id = i64::from(closed.id);
    w.store.change_status(&officer, &actor, id, 1, Event::Accept, "").await.unwrap();
    let (service, service_actor) = w.who("caseloads", Role::Service, "886", None);
    w.store.mark_allocated(service.tenant(), &service_actor, id, "ep-jones", "C-1").await.unwrap();
    w.store.change_status(&officer, &actor, id, 3, Event::Close, "Advice given").await.unwrap();
    let (last, entry) = w.store.submit(&officer, &actor, &ehc_request(7), "r5", today).await.unwrap();
    assert!(entry.is_some() && last.id > closed.id);
}

/// Takes the database back to before the rule of one open EHC needs assessment
/// request per pupil, with two open requests for pupil 7.
async fn two_open_requests_from_before_the_rule(w: &World) -> (i32, i32) {
    let (officer, actor) = w.who("o", Role::CaseOfficer, "886", None);
    let (first, _) = w.store.submit(&officer, &actor, &ehc_request(7), "r1", d(2026, 10, 1)).await.unwrap();
    let (second, _) = w.store.submit(&officer, &actor, &ehc_request(8), "r2", d(2026, 10, 3)).await.unwrap();
    let db = sea_orm::Database::connect(&w.db.url).await.unwrap();
    db.execute_unprepared("DROP INDEX ux_referrals_open_ehc_request").await.unwrap();
    db.execute_unprepared("DELETE FROM seaql_migrations_referrals WHERE version LIKE '%one_open_ehc_request%'")
        .await
        .unwrap();
    db.execute_unprepared("UPDATE referrals SET pupil_id = 7").await.unwrap();
    db.close().await.unwrap();
    (first.id, second.id)
}

async fn an_upgrade_over_two_open_requests_for_one_pupil_names_them_and_changes_nothing(engine: Engine) {
    let w = World::new(engine).await;
    let (first, second) = two_open_requests_from_before_the_rule(&w).await;
    let refused = Store::connect(&w.db.url, &Default::default()).await.unwrap_err().to_string();
    for needed in [
        "more than one open EHC needs assessment request".to_owned(),
        format!(
            "authority 886, pupil 7: referrals {first} (submitted, received 2026-10-01), {second} (submitted, received 2026-10-03)"
        ),
        "decline or withdraw".to_owned(),
        "sen migrate referrals".to_owned(),
    ] {
        assert!(refused.contains(&needed), "{needed:?} not in: {refused}");
    }
    let (officer, actor) = w.who("o", Role::CaseOfficer, "886", None);
    w.store.change_status(&officer, &actor, i64::from(second), 1, Event::Withdraw, "Duplicate").await.unwrap();
    let upgraded = Store::connect(&w.db.url, &Default::default()).await.unwrap();
    let again = upgraded.submit(&officer, &actor, &ehc_request(7), "r3", d(2026, 11, 24)).await;
    assert!(matches!(again, Err(Error::FailedPrecondition(_))), "the rule holds once the upgrade ran: {again:?}");
}

sen_platform::on_both_engines!(
    a_retry_finds_the_first_referral_and_another_body_is_refused,
    illegal_moves_name_the_state_and_change_nothing,
    the_clock_takes_its_steps_in_order_and_lists_the_overdue,
    the_overview_counts_the_tenants_referrals_by_status_day_and_kind,
    plans_issued_in_a_window_are_the_tenants_ehc_requests_issued_on_its_days,
    a_retry_with_another_body_is_refused_even_when_its_text_joins_alike,
    a_retry_of_a_referral_submitted_before_the_upgrade_is_still_recognised,
    a_pupil_has_one_open_ehc_request_at_a_time_and_may_have_another_once_it_ends,
    an_upgrade_over_two_open_requests_for_one_pupil_names_them_and_changes_nothing,
);
