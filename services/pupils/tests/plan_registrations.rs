//! The register's side of a final EHC plan (`Store::register_final_plan`), on
//! both engines: a pupil on SEN support moves to E with their plan once, however
//! many attempts come and in whatever order; a pupil already on E, or with no
//! need the census accepts with E, is left as they are; a pupil not on the
//! authority's register is not found.

use std::time::Duration;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope, TenantScope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{NeedCode, PupilDetails, SenRecord, SenStatus, Upn, next_review_due};
use sen_pupils::entity::{ehcp, plan_registration, pupil_history};
use sen_pupils::error::Error;
use sen_pupils::store::{FinalPlan, Store};

struct World {
    store: Store,
    db: DatabaseConnection,
    issuer: DevIssuer,
    _database: TestDatabase,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

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

    fn referrals_service(&self, tenant: &str) -> (TenantScope, Actor) {
        let (scope, actor) = self.who("referrals", Role::Service, tenant);
        (scope.tenant().clone(), actor)
    }

    /// A pupil of 886 with the status and primary need given.
    async fn pupil(&self, serial: u32, status: SenStatus, need: Option<&str>) -> i64 {
        let (scope, actor) = self.who("officer", Role::CaseOfficer, "886");
        let details = PupilDetails {
            upn: Upn::from_body(&format!("886200125{serial:03}")).unwrap(),
            legal_forename: "Kofi".into(),
            legal_surname: "Mensah".into(),
            preferred_forename: None,
            preferred_surname: None,
            date_of_birth: d(2017, 2, 2),
            school_urn: Urn::parse("100001").unwrap(),
            nc_year_override: None,
            looked_after: false,
        };
        let record = SenRecord { status, primary: need.map(|n| NeedCode::parse(n).unwrap()), secondary: None };
        let plan = (status == SenStatus::EhcPlan)
            .then(|| sen_pupils::store::NewEhcp { issued_on: d(2025, 1, 10), named_setting: "School".into() });
        self.store.create_pupil(&scope, &actor, &details, &record, plan.as_ref(), d(2026, 11, 24)).await.unwrap().id
    }

    async fn count_history(&self, pupil_id: i64) -> u64 {
        pupil_history::Entity::find()
            .filter(pupil_history::Column::PupilId.eq(i32::try_from(pupil_id).unwrap()))
            .filter(pupil_history::Column::Kind.eq("sen_status"))
            .count(&self.db)
            .await
            .unwrap()
    }
}

fn plan(pupil_id: i64, referral_id: i64) -> FinalPlan {
    FinalPlan { pupil_id, referral_id, issued_on: d(2026, 11, 20) }
}

async fn attempts_at_once_move_the_pupil_to_e_exactly_once(engine: Engine) {
    let world = World::new(engine).await;
    let id = world.pupil(1, SenStatus::SenSupport, Some("SLCN")).await;
    let (tenant, actor) = world.referrals_service("886");
    let the_plan = plan(id, 41);
    let attempt = || world.store.register_final_plan(&tenant, &actor, &the_plan, "School 2001");
    let (first, second) = tokio::join!(attempt(), attempt());
    // One records it; the other finds it recorded, or is told to try again (and then finds it).
    let mut recorded_now = 0;
    for outcome in [first, second] {
        let registered = match outcome {
            Ok(registered) => registered,
            Err(Error::Aborted(_)) => attempt().await.unwrap(),
            Err(e) => panic!("{e}"),
        };
        assert_eq!((registered.outcome.as_str(), registered.sen_status.as_str()), ("moved_to_e", "E"));
        recorded_now += u32::from(registered.recorded_now);
    }
    assert_eq!(recorded_now, 1, "one attempt recorded it");
    // A retry long after changes nothing either.
    assert!(!attempt().await.unwrap().recorded_now);
    assert_eq!(world.count_history(id).await, 1, "one history entry");
    let plans = ehcp::Entity::find().filter(ehcp::Column::PupilId.eq(i32::try_from(id).unwrap())).all(&world.db);
    let plans = plans.await.unwrap();
    assert_eq!(plans.len(), 1, "one plan");
    assert_eq!((plans[0].issued_on, plans[0].status.as_str()), (d(2026, 11, 20), "active"));
    assert_eq!(
        plans[0].next_review_due,
        next_review_due(d(2026, 11, 20)),
        "reviews run from the issue (s.44(1), CoP 9.166)"
    );
    assert_eq!(plans[0].named_setting, "School 2001");
    let keys = plan_registration::Entity::find().count(&world.db).await.unwrap();
    assert_eq!(keys, 1);
}

#[tokio::test]
async fn attempts_at_once_move_the_pupil_to_e_exactly_once_on_sqlite() {
    attempts_at_once_move_the_pupil_to_e_exactly_once(Engine::Sqlite).await;
}

#[tokio::test]
async fn attempts_at_once_move_the_pupil_to_e_exactly_once_on_postgres() {
    attempts_at_once_move_the_pupil_to_e_exactly_once(Engine::Postgres).await;
}

async fn pupils_the_plan_cannot_move_are_left_as_they_were(engine: Engine) {
    let world = World::new(engine).await;
    let (tenant, actor) = world.referrals_service("886");
    let on_e = world.pupil(1, SenStatus::EhcPlan, Some("ASD")).await;
    let no_need = world.pupil(2, SenStatus::NoSen, None).await;
    let nsa = world.pupil(3, SenStatus::SenSupport, Some("NSA")).await;
    for (id, referral, outcome, status) in
        [(on_e, 1, "already_on_plan", "E"), (no_need, 2, "no_primary_need", "N"), (nsa, 3, "no_primary_need", "K")]
    {
        let registered = world.store.register_final_plan(&tenant, &actor, &plan(id, referral), "School").await.unwrap();
        assert_eq!((registered.outcome.as_str(), registered.sen_status.as_str()), (outcome, status));
        assert_eq!(world.count_history(id).await, 0, "no status change recorded for pupil {id}");
    }
    // Another authority's service, or a pupil who is not there, finds nobody.
    let (medway, medway_actor) = world.referrals_service("887");
    let elsewhere = world.store.register_final_plan(&medway, &medway_actor, &plan(on_e, 9), "School").await;
    assert!(matches!(elsewhere, Err(Error::NotFound(_))), "{elsewhere:?}");
    let missing = world.store.register_final_plan(&tenant, &actor, &plan(9_999, 10), "School").await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
}

#[tokio::test]
async fn pupils_the_plan_cannot_move_are_left_as_they_were_on_sqlite() {
    pupils_the_plan_cannot_move_are_left_as_they_were(Engine::Sqlite).await;
}

#[tokio::test]
async fn pupils_the_plan_cannot_move_are_left_as_they_were_on_postgres() {
    pupils_the_plan_cannot_move_are_left_as_they_were(Engine::Postgres).await;
}
