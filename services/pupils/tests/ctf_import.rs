//! The Common Transfer File import in the pupils store on both engines, each
//! test on a fresh database: the sample file (tests/data/ctf) created, imported
//! again without change, a changed file updating only what changed, one refused
//! pupil leaving the file unwritten, a pupil moving school with their history,
//! and another authority's register untouched.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::ctf::{CtfFile, read_file};
use sen_pupils::domain::SenStatus;
use sen_pupils::store::{Actor, ChangeKind, PupilFilter, Store};

const SAMPLE: &str = include_str!("../../../tests/data/ctf/northmoor_primary_ctf24.xml");

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

struct World {
    store: Store,
    issuer: DevIssuer,
    _db: TestDatabase,
}

impl World {
    async fn new(engine: Engine) -> Self {
        let db = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        Self { store, issuer: DevIssuer::generate().unwrap(), _db: db }
    }

    fn who(&self, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
        let school = school.map(|s| Urn::parse(&s.to_string()).unwrap());
        let grant = Grant { person: format!("{role}"), role, tenant: LaCode::parse(tenant).ok(), school };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    async fn file(&self, scope: &Scope, text: &str) -> CtfFile {
        let codes = self.store.need_types(scope.tenant()).await.unwrap();
        read_file(text.as_bytes(), &codes, today()).unwrap()
    }

    async fn pupils(&self, scope: &Scope, actor: &Actor) -> Vec<sen_pupils::domain::Pupil> {
        let page = Page { size: 100, after: None };
        self.store.list_pupils(scope, actor, &PupilFilter::default(), &page, today()).await.unwrap().0
    }
}

async fn a_file_is_created_then_left_alone_then_updated_where_it_changed(engine: Engine) {
    let world = World::new(engine).await;
    let (scope, actor) = world.who(Role::LaManager, "990", None);
    let file = world.file(&scope, SAMPLE).await;

    let dry = world.store.import_ctf(&scope, &actor, &file, true, today()).await.unwrap();
    assert_eq!((dry.created, dry.written), (5, false));
    assert!(world.pupils(&scope, &actor).await.is_empty(), "a dry run writes nothing");

    let first = world.store.import_ctf(&scope, &actor, &file, false, today()).await.unwrap();
    assert_eq!((first.created, first.updated, first.unchanged, first.written), (5, 0, 0, true));
    let pupils = world.pupils(&scope, &actor).await;
    let toby = pupils.iter().find(|p| p.details.upn.as_str() == "X990200198002").unwrap();
    assert_eq!(toby.sen.status, SenStatus::EhcPlan);
    let history = world.store.pupil_history(&scope, &actor, toby.id).await.unwrap();
    assert_eq!(history.len(), 3, "added, and the two spells of the file's history: {history:?}");

    let again =
        world.store.import_ctf(&scope, &actor, &world.file(&scope, SAMPLE).await, false, today()).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 5));
    assert_eq!(world.store.pupil_history(&scope, &actor, toby.id).await.unwrap().len(), 3);

    // Isla starts SEN support; Toby's preferred name goes.
    let changed = SAMPLE
        .replace(
            "<NCyearActual>2</NCyearActual>\n      </BasicDetails>",
            "<NCyearActual>2</NCyearActual>\n      </BasicDetails>\n      <SENhistory><SEN><StartDate>2026-11-02</StartDate><SENprovision>K</SENprovision></SEN></SENhistory>\n      <SENneeds><SENneed><SENtype>SLCN</SENtype><SENtypeRank>1</SENtypeRank></SENneed></SENneeds>",
        )
        .replace("<PreferredForename>Toby</PreferredForename>", "");
    let update =
        world.store.import_ctf(&scope, &actor, &world.file(&scope, &changed).await, false, today()).await.unwrap();
    assert_eq!((update.created, update.updated, update.unchanged), (0, 2, 3), "{:?}", update.changes);
    let isla = update.changes.iter().find(|c| c.upn == "L990200198003").unwrap();
    assert_eq!(isla.kind, ChangeKind::Updated);
    assert!(isla.what.contains(&"SEN provision and needs".to_owned()), "{:?}", isla.what);
    let toby_now = world.pupils(&scope, &actor).await.into_iter().find(|p| p.id == toby.id).unwrap();
    assert_eq!(toby_now.details.preferred_forename, None);

    let (medway, medway_actor) = world.who(Role::LaManager, "887", None);
    assert!(world.pupils(&medway, &medway_actor).await.is_empty(), "another authority sees nothing");
}

#[tokio::test]
async fn a_file_is_created_then_left_alone_then_updated_where_it_changed_on_sqlite() {
    a_file_is_created_then_left_alone_then_updated_where_it_changed(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_file_is_created_then_left_alone_then_updated_where_it_changed_on_postgres() {
    a_file_is_created_then_left_alone_then_updated_where_it_changed(Engine::Postgres).await;
}

async fn a_refused_pupil_leaves_the_file_unwritten_and_a_move_keeps_history(engine: Engine) {
    let world = World::new(engine).await;
    let (senco, senco_actor) = world.who(Role::Senco, "990", Some(100001));
    let bad = SAMPLE.replace("<Forename>Isla</Forename>", "<Forename></Forename>");
    let file = world.file(&senco, &bad).await;
    assert_eq!(file.refused.len(), 1);
    let refused = world.store.import_ctf(&senco, &senco_actor, &file, false, today()).await.unwrap();
    assert!(!refused.written);
    assert!(world.pupils(&senco, &senco_actor).await.is_empty(), "nothing of the file is written");

    world.store.import_ctf(&senco, &senco_actor, &world.file(&senco, SAMPLE).await, false, today()).await.unwrap();
    let marnie = world
        .pupils(&senco, &senco_actor)
        .await
        .into_iter()
        .find(|p| p.details.upn.as_str() == "H990200198001")
        .unwrap();
    let (next, next_actor) = world.who(Role::Senco, "990", Some(100002));
    let moved = SAMPLE.replace("<URN>100001</URN>", "<URN>100002</URN>");
    let report =
        world.store.import_ctf(&next, &next_actor, &world.file(&next, &moved).await, false, today()).await.unwrap();
    assert_eq!(report.updated, 5);
    assert!(report.changes.iter().all(|c| c.kind == ChangeKind::Moved { from: Urn::parse("100001").unwrap() }));
    let history = world.store.pupil_history(&next, &next_actor, marnie.id).await.unwrap();
    assert!(history.iter().any(|e| e.kind == "school_move" && e.school_urn == 100002));
    assert!(history.iter().any(|e| e.kind == "added" && e.school_urn == 100001), "history kept");
    assert!(world.pupils(&senco, &senco_actor).await.is_empty(), "the first school no longer sees them");
}

#[tokio::test]
async fn a_refused_pupil_leaves_the_file_unwritten_and_a_move_keeps_history_on_sqlite() {
    a_refused_pupil_leaves_the_file_unwritten_and_a_move_keeps_history(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_refused_pupil_leaves_the_file_unwritten_and_a_move_keeps_history_on_postgres() {
    a_refused_pupil_leaves_the_file_unwritten_and_a_move_keeps_history(Engine::Postgres).await;
}
