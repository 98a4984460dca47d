//! The pupils store's part in erasure at the end of the retention period, on
//! both engines, each test on a fresh database: who is due, marking them,
//! taking an erasure for a lease (two takers never get the same pupil), the
//! last step removing every row of the pupil and nothing of another, and no
//! new case access while an erasure is pending.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{NaiveDate, TimeDelta, Utc};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use sen_platform::identity::{DevIssuer, Grant, Role, Scope, TenantScope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{NeedCode, PupilDetails, RetentionPolicy, SenRecord, SenStatus, Upn};
use sen_pupils::entity::{
    annual_review, audit_event, case_access, ehcp, erasure, provision, pupil, pupil_history, support_cycle,
};
use sen_pupils::error::Error;
use sen_pupils::store::{
    Actor, AnnualReviewInput, DueErasure, ERASED, ERASING, NewCycle, NewEhcp, NewProvision, Store,
};

struct World {
    store: Store,
    db: DatabaseConnection,
    issuer: DevIssuer,
    _database: TestDatabase,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn today() -> NaiveDate {
    d(2026, 11, 24)
}

fn due(la: &str, pupil_id: i64) -> DueErasure {
    DueErasure { la_code: la.to_owned(), pupil_id }
}

const LEASE: TimeDelta = TimeDelta::seconds(60);

impl World {
    async fn new(engine: Engine) -> Self {
        let database = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&database.url, &Default::default()).await.unwrap();
        let db = Database::connect(&database.url).await.unwrap();
        Self { store, db, issuer: DevIssuer::generate().unwrap(), _database: database }
    }

    fn who(&self, person: &str, role: Role, tenant: &str) -> (Scope, Actor) {
        let grant = Grant { person: person.into(), role, tenant: LaCode::parse(tenant).ok(), school: None };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    fn service(&self, tenant: &str) -> (TenantScope, Actor) {
        let (scope, actor) = self.who("caseloads", Role::Service, tenant);
        (scope.tenant().clone(), actor)
    }

    /// A pupil of `tenant` born on `born`, with an EHCP, added as a case officer would.
    async fn pupil(&self, tenant: &str, serial: u32, born: NaiveDate) -> i64 {
        let (scope, actor) = self.who("officer", Role::CaseOfficer, tenant);
        let details = PupilDetails {
            upn: Upn::from_body(&format!("{tenant}200125{serial:03}")).unwrap(),
            legal_forename: "Kofi".into(),
            legal_surname: "Mensah".into(),
            preferred_forename: None,
            preferred_surname: None,
            date_of_birth: born,
            school_urn: Urn::parse("100001").unwrap(),
            nc_year_override: None,
            looked_after: false,
        };
        let record =
            SenRecord { status: SenStatus::EhcPlan, primary: Some(NeedCode::parse("ASD").unwrap()), secondary: None };
        let plan = NewEhcp { issued_on: d(2025, 1, 10), named_setting: "School".into() };
        self.store.create_pupil(&scope, &actor, &details, &record, Some(&plan), today()).await.unwrap().id
    }

    /// Every kind of record a pupil can have here: a support cycle, provision,
    /// an annual review and a professional's access, besides the pupil, their
    /// history and plan.
    async fn records(&self, tenant: &str, id: i64) {
        let (scope, actor) = self.who("officer", Role::CaseOfficer, tenant);
        let cycle = NewCycle {
            started_on: d(2026, 9, 1),
            outcomes_sought: "Reading".into(),
            planned_provision: "Small group".into(),
            review_due: d(2026, 12, 1),
        };
        self.store.add_support_cycle(&scope, &actor, id, &cycle).await.unwrap();
        let provision = NewProvision {
            provision_type: "Speech therapy".into(),
            provider: "NHS".into(),
            minutes_per_week: 30,
            start_on: d(2026, 9, 1),
            end_on: None,
        };
        self.store.add_provision(&scope, &actor, id, &provision).await.unwrap();
        let review = AnnualReviewInput {
            meeting_on: d(2026, 1, 5),
            report_sent_on: None,
            decision: None,
            decision_on: None,
            amendments_proposed_on: None,
            amended_plan_issued_on: None,
            cease_reason: None,
            cessation: None,
        };
        self.store.record_annual_review(&scope, &actor, id, &review).await.unwrap();
        let (tenant, service) = self.service(tenant);
        self.store.grant_case_access(&tenant, &service, id, "ep-1", &format!("CASE-{id}")).await.unwrap();
    }

    /// The rows of pupil `id` in every table that holds pupils' records.
    async fn rows_of(&self, id: i64) -> BTreeMap<&'static str, u64> {
        let id = i32::try_from(id).unwrap();
        let db = &self.db;
        BTreeMap::from([
            ("pupils", pupil::Entity::find().filter(pupil::Column::Id.eq(id)).count(db).await.unwrap()),
            (
                "pupil_history",
                pupil_history::Entity::find().filter(pupil_history::Column::PupilId.eq(id)).count(db).await.unwrap(),
            ),
            (
                "support_cycles",
                support_cycle::Entity::find().filter(support_cycle::Column::PupilId.eq(id)).count(db).await.unwrap(),
            ),
            (
                "provisions",
                provision::Entity::find().filter(provision::Column::PupilId.eq(id)).count(db).await.unwrap(),
            ),
            ("ehcps", ehcp::Entity::find().filter(ehcp::Column::PupilId.eq(id)).count(db).await.unwrap()),
            (
                "annual_reviews",
                annual_review::Entity::find().filter(annual_review::Column::PupilId.eq(id)).count(db).await.unwrap(),
            ),
            (
                "case_access",
                case_access::Entity::find().filter(case_access::Column::PupilId.eq(id)).count(db).await.unwrap(),
            ),
            ("erasures", erasure::Entity::find().filter(erasure::Column::PupilId.eq(id)).count(db).await.unwrap()),
        ])
    }

    async fn audits_of(&self, id: i64, action: &str) -> u64 {
        audit_event::Entity::find()
            .filter(audit_event::Column::PupilId.eq(i32::try_from(id).unwrap()))
            .filter(audit_event::Column::Action.eq(action))
            .count(&self.db)
            .await
            .unwrap()
    }
}

async fn an_erasure_is_held_for_its_lease_then_taken_again(engine: Engine) {
    let w = World::new(engine).await;
    let policy = RetentionPolicy::default();
    let past = w.pupil("886", 1, d(1990, 1, 1)).await;
    let last_day = w.pupil("886", 2, d(1995, 11, 24)).await;
    let theirs = w.pupil("887", 1, d(1990, 1, 1)).await;
    let now = Utc::now();

    // Listing writes nothing: there is nothing to take until the pupil is marked.
    assert_eq!(w.store.erasures_due(Some("886"), &policy, today(), 100).await.unwrap(), vec![due("886", past)]);
    assert!(w.store.take_erasures(Some("886"), "pass-1", now, LEASE, 10).await.unwrap().is_empty());
    assert_eq!(w.store.mark_erasures_due(Some("886"), &policy, today(), now).await.unwrap(), 1);
    assert_eq!(w.store.mark_erasures_due(Some("886"), &policy, today(), now).await.unwrap(), 0, "marked once");
    assert_eq!(w.rows_of(last_day).await["erasures"], 0, "kept on the last day of the period");

    assert_eq!(w.store.take_erasures(Some("886"), "pass-1", now, LEASE, 10).await.unwrap(), vec![due("886", past)]);
    let within = now + TimeDelta::seconds(59);
    assert!(w.store.take_erasures(Some("886"), "pass-2", within, LEASE, 10).await.unwrap().is_empty(), "held");
    let after = now + TimeDelta::seconds(61);
    assert_eq!(w.store.take_erasures(Some("886"), "pass-2", after, LEASE, 10).await.unwrap(), vec![due("886", past)]);

    // Another authority's pupil is neither marked nor taken by 886's pass; a pass over every authority takes it.
    assert!(w.store.take_erasures(Some("887"), "pass-3", after, LEASE, 10).await.unwrap().is_empty());
    assert_eq!(w.store.mark_erasures_due(None, &policy, today(), after).await.unwrap(), 1);
    let everyone = w.store.take_erasures(None, "pass-3", after, LEASE, 10).await.unwrap();
    assert_eq!(everyone, vec![due("887", theirs)], "886's erasure is still held by pass-2");

    // The pupil past retention can be erased only by the pass holding it.
    let (tenant, actor) = w.service("886");
    let refused = w.store.erase_pupil(&tenant, &actor, past, "pass-1", "").await.unwrap_err();
    assert!(matches!(refused, Error::FailedPrecondition(_)), "{refused:?}");
    let refused = w.store.erase_pupil(&tenant, &actor, last_day, "pass-2", "").await.unwrap_err();
    assert!(matches!(refused, Error::FailedPrecondition(_)), "a pupil not due is never erased: {refused:?}");
    assert!(w.store.erase_pupil(&tenant, &actor, past, "pass-2", "").await.unwrap().is_some());
}

async fn two_takers_never_get_the_same_pupil(engine: Engine) {
    let w = World::new(engine).await;
    let mut all = BTreeSet::new();
    for serial in 1..=24 {
        all.insert(w.pupil("886", serial, d(1990, 1, 1)).await);
    }
    let now = Utc::now();
    w.store.mark_erasures_due(None, &RetentionPolicy::default(), today(), now).await.unwrap();
    let taker = |holder: &'static str| {
        let store = w.store.clone();
        async move {
            let mut taken = Vec::new();
            loop {
                let batch = store.take_erasures(None, holder, now, LEASE, 5).await.unwrap();
                if batch.is_empty() {
                    return taken;
                }
                taken.extend(batch.into_iter().map(|e| e.pupil_id));
            }
        }
    };
    let (first, second) = tokio::join!(taker("pass-1"), taker("pass-2"));
    let (first, second): (BTreeSet<i64>, BTreeSet<i64>) = (first.into_iter().collect(), second.into_iter().collect());
    assert!(first.is_disjoint(&second), "taken twice: {:?}", first.intersection(&second).collect::<Vec<_>>());
    let together: BTreeSet<i64> = first.union(&second).copied().collect();
    assert_eq!(together, all, "every erasure taken by one of them");
}

async fn erasing_removes_every_row_of_the_pupil_and_nothing_of_another(engine: Engine) {
    let w = World::new(engine).await;
    let past = w.pupil("886", 1, d(1990, 1, 1)).await;
    let kept = w.pupil("886", 2, d(2012, 1, 1)).await;
    w.records("886", past).await;
    w.records("886", kept).await;
    let before = w.rows_of(past).await;
    for (table, rows) in &before {
        assert!(*table == "erasures" || *rows > 0, "the pupil has no {table} row to erase");
    }
    let kept_before = w.rows_of(kept).await;

    let now = Utc::now();
    w.store.mark_erasures_due(Some("886"), &RetentionPolicy::default(), today(), now).await.unwrap();
    assert_eq!(w.store.take_erasures(Some("886"), "pass-1", now, LEASE, 10).await.unwrap(), vec![due("886", past)]);
    let (tenant, actor) = w.service("886");
    let removed = w.store.erase_pupil(&tenant, &actor, past, "pass-1", "referrals: 0 referrals").await.unwrap();
    let removed = removed.expect("erased");
    assert_eq!((removed.pupils, removed.ehcps, removed.access_grants), (1, 1, 1));

    assert!(w.rows_of(past).await.values().all(|rows| *rows == 0), "left behind: {:?}", w.rows_of(past).await);
    assert_eq!(w.rows_of(kept).await, kept_before, "the other pupil's records are untouched");
    assert_eq!(w.audits_of(past, ERASED).await, 1, "the erasure is audited, by the pupil's id only");
    assert!(w.audits_of(past, "access.grant").await > 0, "the audit trail is kept");

    // Erasing again finds nothing to do and is not an error.
    assert_eq!(w.store.erase_pupil(&tenant, &actor, past, "pass-1", "").await.unwrap(), None);
}

async fn no_access_is_opened_to_a_pupil_whose_erasure_has_begun(engine: Engine) {
    let w = World::new(engine).await;
    let past = w.pupil("886", 1, d(1990, 1, 1)).await;
    let (tenant, service) = w.service("886");
    w.store.grant_case_access(&tenant, &service, past, "ep-1", "CASE-1").await.unwrap();
    w.store.mark_erasures_due(Some("886"), &RetentionPolicy::default(), today(), Utc::now()).await.unwrap();

    for (person, case_ref) in [("ep-2", "CASE-2"), ("ep-1", "CASE-1")] {
        let refused = w.store.grant_case_access(&tenant, &service, past, person, case_ref).await.unwrap_err();
        assert!(matches!(&refused, Error::FailedPrecondition(m) if m == ERASING), "{case_ref}: {refused:?}");
    }
    assert_eq!(w.rows_of(past).await["case_access"], 1, "nothing new was opened");
    // Closing an access stays possible: undoing an allocation must not be blocked.
    w.store.revoke_case_access(&tenant, &service, past, "ep-1", "CASE-1").await.unwrap();
}

sen_platform::on_both_engines!(
    an_erasure_is_held_for_its_lease_then_taken_again,
    two_takers_never_get_the_same_pupil,
    erasing_removes_every_row_of_the_pupil_and_nothing_of_another,
    no_access_is_opened_to_a_pupil_whose_erasure_has_begun,
);
