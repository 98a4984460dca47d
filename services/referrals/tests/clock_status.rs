//! The statutory clock against every referral status, in the store on both
//! engines: the query for requests past a deadline (SQL) leaves out exactly the
//! requests the domain says have no live deadline (declined, withdrawn, closed
//! before a decision to assess, or with their statutory outcome recorded), and
//! a request whose clock has stopped takes no further step.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_referrals::domain::{
    AssessmentDecision, BroadArea, ClockDates, ClockHealth, Consent, ConsentMethod, NewReferral, PlanDecision,
    Priority, ReferralKind, Stage, Status, Tried, health, stage, statutory_stage,
};
use sen_referrals::error::Error;
use sen_referrals::store::{ReferralFilter, SeedReferral, Store, clock_dates};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The day the tests judge the clock on.
fn today() -> NaiveDate {
    d(2026, 11, 24)
}

fn who(issuer: &DevIssuer, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
    let grant = Grant {
        person: "tester".into(),
        role,
        tenant: LaCode::parse(tenant).ok(),
        school: school.map(|u| Urn::parse(&u.to_string()).unwrap()),
    };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    let identity = issuer.verifier.verify(&token).unwrap();
    (identity.scope().unwrap(), identity.actor())
}

fn scope(issuer: &DevIssuer, role: Role, tenant: &str, school: Option<u32>) -> Scope {
    who(issuer, role, tenant, school).0
}

/// An EHC needs assessment request for `pupil` at school 100001.
fn request(pupil: i64) -> NewReferral {
    NewReferral {
        pupil_id: pupil,
        school: Urn::parse("100001").unwrap(),
        kind: ReferralKind::EhcNeedsAssessment,
        broad_areas: vec![BroadArea::CommunicationAndInteraction],
        concern: "Very limited expressive language".into(),
        tried: Tried { summary: "Two cycles of language work".into(), cycles: vec![], provisions: vec![] },
        consent: Consent::new("Mother", d(2025, 1, 2), ConsentMethod::SignedForm, d(2025, 1, 6)).unwrap(),
        priority: Priority::Routine,
    }
}

/// The six shapes of stored dates for a request received on 6 January 2025, so
/// long ago that every deadline has passed by [`today`].
fn every_shape() -> [ClockDates; 6] {
    let received = ClockDates {
        received_on: d(2025, 1, 6),
        assessment_decision: None,
        plan_decision: None,
        final_plan_issued_on: None,
        exception: None,
    };
    let assessing = ClockDates { assessment_decision: Some((AssessmentDecision::Assess, d(2025, 2, 10))), ..received };
    let drafting = ClockDates { plan_decision: Some((PlanDecision::Issue, d(2025, 4, 14))), ..assessing };
    [
        received,
        ClockDates { assessment_decision: Some((AssessmentDecision::NotAssess, d(2025, 2, 10))), ..received },
        assessing,
        drafting,
        ClockDates { plan_decision: Some((PlanDecision::NotIssue, d(2025, 4, 14))), ..assessing },
        ClockDates { final_plan_issued_on: Some(d(2025, 5, 19)), ..drafting },
    ]
}

/// One request for every referral status at every shape of dates, each for its
/// own pupil (a pupil has one open request at a time), loaded into 886 and the
/// same again into 887; with its status and dates.
async fn load_every_status(store: &Store, issuer: &DevIssuer) -> Vec<(Status, ClockDates)> {
    let mut seeds = Vec::new();
    let mut cases = Vec::new();
    for status in Status::ALL {
        for dates in every_shape() {
            let pupil = i64::try_from(seeds.len()).unwrap() + 1;
            let path = if status == Status::Submitted { vec![] } else { vec![(status, d(2025, 6, 2), "case_officer")] };
            seeds.push(SeedReferral {
                new: request(pupil),
                submitted_on: dates.received_on,
                path,
                allocated_to: None,
                outcome: (!status.is_open()).then(|| format!("{} for the test", status.name())),
                clock: Some(dates),
            });
            cases.push((status, dates));
        }
    }
    for tenant in ["886", "887"] {
        let loader = scope(issuer, Role::Service, tenant, None);
        // Loaded as the demo data is, behind the tenant's wall.
        let load = store.load_referrals(loader.tenant(), "tester", &seeds);
        sen_platform::walls::within_tenant(tenant, load).await.unwrap();
    }
    cases
}

async fn every_status_at_every_stage_is_listed_past_a_deadline_only_while_its_clock_runs(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let cases = load_every_status(&store, &issuer).await;
    let officer = scope(&issuer, Role::CaseOfficer, "886", None);
    let page = Page { size: 500, after: None };
    let overdue = ReferralFilter { overdue_on: Some(today()), ..Default::default() };
    let (listed, _) = store.list(&officer, &overdue, &page).await.unwrap();
    let mut from_sql = BTreeSet::new();
    for row in &listed {
        let dates = clock_dates(row).unwrap().unwrap();
        from_sql.insert((Status::parse(&row.status).unwrap().code(), statutory_stage(&dates).code()));
    }
    let mut from_domain = BTreeSet::new();
    for (status, dates) in &cases {
        if health(*status, dates, today()) == Some(ClockHealth::Breached) {
            from_domain.insert((status.code(), statutory_stage(dates).code()));
        }
    }
    assert_eq!(from_sql, from_domain, "the query and the domain agree on every status at every stage");
    // Written out: five statuses at the three open stages, closed only once assessing.
    assert_eq!(from_sql.len(), 5 * 3 + 2);
    for status in [Status::Declined, Status::Withdrawn] {
        assert!(!from_sql.iter().any(|(s, _)| *s == status.code()), "{status:?} is never past a deadline");
    }
    assert!(!from_sql.contains(&(Status::Closed.code(), Stage::AwaitingAssessmentDecision.code())));
    assert!(from_sql.contains(&(Status::Closed.code(), Stage::AwaitingFinalPlan.code())));

    // Every row's own stage says how it ended; none of the ended shows a breach.
    let (all, _) = store.list(&officer, &ReferralFilter::default(), &page).await.unwrap();
    assert_eq!(all.len(), cases.len());
    for row in &all {
        let (status, dates) = (Status::parse(&row.status).unwrap(), clock_dates(row).unwrap().unwrap());
        let shown = stage(status, &dates);
        if matches!(status, Status::Declined | Status::Withdrawn) {
            assert!(!shown.is_open(), "{status:?} at {:?}", statutory_stage(&dates));
        }
    }

    // Another authority's requests, and another school's SENCO, are not in the list.
    let (theirs, _) = store.list(&scope(&issuer, Role::CaseOfficer, "887", None), &overdue, &page).await.unwrap();
    assert!(theirs.iter().all(|r| r.la_code == "887") && theirs.len() == listed.len());
    let elsewhere = scope(&issuer, Role::Senco, "886", Some(100002));
    assert!(store.list(&elsewhere, &overdue, &page).await.unwrap().0.is_empty());
}

async fn a_request_whose_clock_has_stopped_takes_no_further_step(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    load_every_status(&store, &issuer).await;
    let (officer, actor) = who(&issuer, Role::CaseOfficer, "886", None);
    let page = Page { size: 500, after: None };
    let declined = ReferralFilter { status: Some(Status::Declined), ..Default::default() };
    let (rows, _) = store.list(&officer, &declined, &page).await.unwrap();
    let waiting = rows
        .iter()
        .find(|r| statutory_stage(&clock_dates(r).unwrap().unwrap()) == Stage::AwaitingAssessmentDecision)
        .unwrap();
    let refused = store
        .record_assessment_decision(&officer, &actor, i64::from(waiting.id), None, AssessmentDecision::Assess, today())
        .await;
    assert!(matches!(&refused, Err(Error::FailedPrecondition(m)) if m.contains("request declined")), "{refused:?}");
    let after = store.get(&officer, i64::from(waiting.id)).await.unwrap();
    assert_eq!((after.version, after.assessment_decision), (waiting.version, None), "nothing written");
    assert_eq!(store.timeline(&officer, i64::from(waiting.id)).await.unwrap().len(), 2);
}

sen_platform::on_both_engines!(
    every_status_at_every_stage_is_listed_past_a_deadline_only_while_its_clock_runs,
    a_request_whose_clock_has_stopped_takes_no_further_step,
);
