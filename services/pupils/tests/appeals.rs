//! The pupils store's appeals on both engines, each test on a fresh database:
//! parallel records under one idempotency key make one appeal (the unique index
//! settles the race and the loser answers as a retry), parallel changes on one
//! version let one in, another authority's caller finds none, and the demo
//! appeals load once.

use std::time::Duration;

use chrono::NaiveDate;
use sea_orm::{Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use sen_platform::identity::{DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{AppealFacts, AppealGround, NeedCode, PlanSections, PupilDetails, SenRecord, SenStatus, Upn};
use sen_pupils::entity::appeal;
use sen_pupils::error::Error;
use sen_pupils::store::{Actor, NewEhcp, Store};

struct World {
    store: Store,
    db: DatabaseConnection,
    issuer: DevIssuer,
    _database: TestDatabase,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn refusal(decision_on: NaiveDate) -> AppealFacts {
    AppealFacts {
        ground: AppealGround::RefusalToAssess,
        sections: PlanSections::default(),
        decision_on,
        mediation_requested_on: None,
        mediation_on: None,
        mediation_outcome: None,
        certificate_issued_on: None,
        registered_on: None,
        response_due_given: None,
        response_sent_on: None,
        hearing_on: None,
        decided_on: None,
        outcome: None,
    }
}

impl World {
    async fn new(engine: Engine) -> Self {
        let database = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&database.url, &Default::default()).await.unwrap();
        let db = Database::connect(&database.url).await.unwrap();
        Self { store, db, issuer: DevIssuer::generate().unwrap(), _database: database }
    }

    fn who(&self, role: Role, tenant: &str) -> (Scope, Actor) {
        let grant = Grant { person: "officer".into(), role, tenant: LaCode::parse(tenant).ok(), school: None };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    async fn pupil(&self, tenant: &str) -> i64 {
        self.pupil_with(tenant, 1, SenStatus::SenSupport).await
    }

    async fn pupil_with(&self, tenant: &str, serial: u32, status: SenStatus) -> i64 {
        let (scope, actor) = self.who(Role::CaseOfficer, tenant);
        let details = PupilDetails {
            upn: Upn::from_body(&format!("{tenant}200125{serial:03}")).unwrap(),
            legal_forename: "Kofi".into(),
            legal_surname: "Mensah".into(),
            preferred_forename: None,
            preferred_surname: None,
            date_of_birth: d(2017, 2, 2),
            school_urn: Urn::parse("100001").unwrap(),
            nc_year_override: None,
            looked_after: false,
        };
        let record = SenRecord { status, primary: Some(NeedCode::parse("SLCN").unwrap()), secondary: None };
        let plan = (status == SenStatus::EhcPlan)
            .then(|| NewEhcp { issued_on: d(2025, 1, 10), named_setting: "School".into() });
        self.store.create_pupil(&scope, &actor, &details, &record, plan.as_ref(), d(2026, 11, 24)).await.unwrap().id
    }

    async fn stored(&self) -> u64 {
        appeal::Entity::find().count(&self.db).await.unwrap()
    }
}

async fn parallel_records_under_one_key_make_one_appeal(engine: Engine) {
    let world = World::new(engine).await;
    let pupil = world.pupil("886").await;
    let (scope, actor) = world.who(Role::CaseOfficer, "886");
    let facts = refusal(d(2026, 10, 1));
    let records = (0..6).map(|_| world.store.record_appeal(&scope, &actor, pupil, &facts, "same-key"));
    let answers = futures::future::join_all(records).await;
    let ids: std::collections::BTreeSet<i32> =
        answers.into_iter().map(|a| a.expect("recorded or retried").id).collect();
    assert_eq!(ids.len(), 1, "every caller answers with the one appeal");
    assert_eq!(world.stored().await, 1);
}

#[tokio::test]
async fn parallel_records_under_one_key_make_one_appeal_on_sqlite() {
    parallel_records_under_one_key_make_one_appeal(Engine::Sqlite).await;
}

#[tokio::test]
async fn parallel_records_under_one_key_make_one_appeal_on_postgres() {
    parallel_records_under_one_key_make_one_appeal(Engine::Postgres).await;
}

async fn of_two_changes_on_one_version_one_is_made(engine: Engine) {
    let world = World::new(engine).await;
    let pupil = world.pupil("886").await;
    let (scope, actor) = world.who(Role::CaseOfficer, "886");
    let first = world.store.record_appeal(&scope, &actor, pupil, &refusal(d(2026, 10, 1)), "key").await.unwrap();
    let mut one = refusal(d(2026, 10, 1));
    one.mediation_requested_on = Some(d(2026, 10, 5));
    let mut other = refusal(d(2026, 10, 1));
    other.registered_on = Some(d(2026, 11, 2));
    let (a, b) = tokio::join!(
        world.store.update_appeal(&scope, &actor, i64::from(first.id), first.version, &one),
        world.store.update_appeal(&scope, &actor, i64::from(first.id), first.version, &other),
    );
    let made = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(made, 1, "{a:?} {b:?}");
    assert!([a, b].into_iter().any(|r| matches!(r, Err(Error::Aborted(_)))));
    let stored = appeal::Entity::find().one(&world.db).await.unwrap().unwrap();
    assert_eq!(stored.version, first.version + 1);
}

#[tokio::test]
async fn of_two_changes_on_one_version_one_is_made_on_sqlite() {
    of_two_changes_on_one_version_one_is_made(Engine::Sqlite).await;
}

#[tokio::test]
async fn of_two_changes_on_one_version_one_is_made_on_postgres() {
    of_two_changes_on_one_version_one_is_made(Engine::Postgres).await;
}

async fn another_authority_finds_no_appeal(engine: Engine) {
    let world = World::new(engine).await;
    let pupil = world.pupil("886").await;
    let (scope, actor) = world.who(Role::CaseOfficer, "886");
    let first = world.store.record_appeal(&scope, &actor, pupil, &refusal(d(2026, 10, 1)), "key").await.unwrap();
    let (medway, someone) = world.who(Role::LaManager, "887");
    assert!(matches!(world.store.appeals_of(&medway, &someone, pupil).await, Err(Error::NotFound(_))));
    assert!(world.store.all_appeals(&medway).await.unwrap().is_empty());
    assert!(world.store.appeals_without_outcome(&medway).await.unwrap().is_empty());
    let change = world.store.update_appeal(&medway, &someone, i64::from(first.id), 1, &refusal(d(2026, 9, 1))).await;
    assert!(matches!(change, Err(Error::NotFound(_))));
    // Recording under the same key in another authority is another appeal of another pupil: not found here.
    let theirs = world.store.record_appeal(&medway, &someone, pupil, &refusal(d(2026, 10, 1)), "key").await;
    assert!(matches!(theirs, Err(Error::NotFound(_))));
    assert_eq!(world.stored().await, 1);
}

#[tokio::test]
async fn another_authority_finds_no_appeal_on_sqlite() {
    another_authority_finds_no_appeal(Engine::Sqlite).await;
}

#[tokio::test]
async fn another_authority_finds_no_appeal_on_postgres() {
    another_authority_finds_no_appeal(Engine::Postgres).await;
}

async fn the_demo_appeals_load_once_in_every_state(engine: Engine) {
    let world = World::new(engine).await;
    for (serial, status) in [(1, SenStatus::EhcPlan), (2, SenStatus::EhcPlan), (3, SenStatus::EhcPlan)] {
        world.pupil_with("886", serial, status).await;
    }
    for serial in [4, 5] {
        world.pupil_with("886", serial, SenStatus::SenSupport).await;
    }
    let (scope, _) = world.who(Role::CaseOfficer, "886");
    let today = d(2026, 11, 24);
    sen_pupils::demo_appeals::seed_appeals(&world.store, scope.tenant(), today).await.unwrap();
    sen_pupils::demo_appeals::seed_appeals(&world.store, scope.tenant(), today).await.unwrap();
    assert_eq!(world.stored().await, 5, "a second load records nothing new");
    let stages: std::collections::BTreeSet<&str> = world
        .store
        .all_appeals(&scope)
        .await
        .unwrap()
        .iter()
        .map(|view| sen_pupils::store::appeal_facts(&view.appeal).unwrap().stage(today).code())
        .collect();
    assert_eq!(
        stages,
        std::collections::BTreeSet::from(["awaiting_hearing", "awaiting_response", "closed", "mediation"])
    );
}

#[tokio::test]
async fn the_demo_appeals_load_once_in_every_state_on_sqlite() {
    the_demo_appeals_load_once_in_every_state(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_demo_appeals_load_once_in_every_state_on_postgres() {
    the_demo_appeals_load_once_in_every_state(Engine::Postgres).await;
}
