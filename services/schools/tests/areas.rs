//! A council cannot take in a school GIAS gives to another council's area: once
//! an authority has imported a URN, no other authority may add it by hand or by
//! import, and the refusal never says which authority holds it. Each scenario
//! runs on SQLite and PostgreSQL, on a fresh database.

use std::time::Duration;

use sen_platform::identity::{DevIssuer, Grant, Role, Scope, TenantScope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_schools::error::Error;
use sen_schools::gias::{self, Extract};
use sen_schools::store::{OpenFilter, SchoolFilter, Store};

const HEADER: &str = "URN,LA (code),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),TypeOfEstablishment (name),EstablishmentTypeGroup (name),EstablishmentStatus (code),OpenDate,CloseDate,PhaseOfEducation (code),StatutoryLowAge,StatutoryHighAge,NumberOfPupils,Postcode";

struct World {
    store: Store,
    issuer: DevIssuer,
    _db: TestDatabase,
}

fn la(code: &str) -> LaCode {
    LaCode::parse(code).unwrap()
}

fn urn(n: u32) -> Urn {
    Urn::parse(&n.to_string()).unwrap()
}

/// An extract of `(urn, la code)` rows, line 2 onwards.
fn extract(rows: &[(u32, &str)], reader: &str) -> Extract {
    let mut csv = format!("{HEADER}\n");
    for (n, (urn, code)) in rows.iter().enumerate() {
        csv.push_str(&format!("{urn},{code},{:04},School {urn},1,Community school,G,1,,,2,4,11,,\n", 2001 + n));
    }
    gias::read_extract(csv.as_bytes(), la(reader)).unwrap()
}

impl World {
    async fn new(engine: Engine) -> Self {
        let db = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        for code in ["886", "887"] {
            store.create_authority(la(code), &format!("Authority {code}")).await.unwrap();
        }
        Self { store, issuer: DevIssuer::generate().unwrap(), _db: db }
    }

    fn manager(&self, tenant: &str) -> TenantScope {
        let grant = Grant { person: "tester".into(), role: Role::LaManager, tenant: Some(la(tenant)), school: None };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        self.issuer.verifier.verify(&token).unwrap().tenant_scope().unwrap()
    }

    async fn import(&self, tenant: &str, rows: &[(u32, &str)]) -> sen_schools::store::ImportCounts {
        let extract = extract(rows, tenant);
        self.store.import_schools(&self.manager(tenant), &extract.rows, false).await.unwrap()
    }

    async fn urns(&self, tenant: &str) -> Vec<u32> {
        let filter = SchoolFilter {
            phase: None,
            type_code: None,
            open: OpenFilter::Any,
            has_current_senco: None,
            award_overdue: false,
            award_due_within_days: None,
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        };
        let page = Page::checked(None, "page").unwrap();
        let scope = Scope::Tenant(self.manager(tenant));
        let (schools, _) = self.store.list_schools(&scope, &filter, &page).await.unwrap();
        schools.iter().map(|s| s.urn.get()).collect()
    }
}

fn assert_refused_without_naming_the_holder(message: &str) {
    assert!(message.contains("another authority"), "{message}");
    assert!(!message.contains("887") && !message.contains("Authority"), "the holder is not named: {message}");
}

async fn a_council_cannot_create_a_school_another_council_imported(engine: Engine) {
    let w = World::new(engine).await;
    w.import("887", &[(100003, "887")]).await;
    let fields = extract(&[(100003, "886")], "886").rows[0].fields.clone();
    let err = w.store.create_school(&w.manager("886"), urn(100003), &fields).await.unwrap_err();
    let Error::FailedPrecondition(message) = &err else { panic!("{err:?}") };
    assert_refused_without_naming_the_holder(message);
    assert!(w.urns("886").await.is_empty(), "nothing is written");
    assert_eq!(w.urns("887").await, [100003], "the holder keeps its school");

    // A URN no authority has imported can still be added by hand, and the
    // holder itself is told the school exists, not refused.
    let free = extract(&[(100004, "886")], "886").rows[0].fields.clone();
    w.store.create_school(&w.manager("886"), urn(100004), &free).await.unwrap();
    let own = extract(&[(100003, "887")], "887").rows[0].fields.clone();
    let err = w.store.create_school(&w.manager("887"), urn(100003), &own).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");
}

async fn an_import_refuses_by_line_the_rows_another_council_holds_and_loads_the_rest(engine: Engine) {
    let w = World::new(engine).await;
    w.import("887", &[(100003, "887")]).await;
    let rows = [(100001, "886"), (100003, "886"), (100002, "886")];
    let extract = extract(&rows, "886");
    let dry = w.store.import_schools(&w.manager("886"), &extract.rows, true).await.unwrap();
    assert_eq!((dry.created, dry.refused.len()), (2, 1), "a dry run reports the refusal too");

    let counts = w.store.import_schools(&w.manager("886"), &extract.rows, false).await.unwrap();
    assert_eq!(counts.created, 2);
    let [refused] = counts.refused.as_slice() else { panic!("{:?}", counts.refused) };
    assert_eq!((refused.line, refused.urn.as_str()), (3, "100003"));
    assert_refused_without_naming_the_holder(&refused.reason);
    assert_eq!(w.urns("886").await, [100001, 100002]);
    assert_eq!(w.urns("887").await, [100003]);

    // The URNs 886 loaded are now its own: 887 cannot take them in either.
    let again = w.import("887", &[(100001, "887"), (100003, "887")]).await;
    assert_eq!((again.created, again.updated + again.unchanged), (0, 1));
    assert_eq!(again.refused.iter().map(|r| r.line).collect::<Vec<_>>(), [2]);
    assert_eq!(w.urns("887").await, [100003]);
}

async fn a_row_giving_one_of_the_councils_schools_to_another_area_is_reported_by_line(engine: Engine) {
    let w = World::new(engine).await;
    w.import("886", &[(100001, "886"), (100002, "886")]).await;
    // GIAS now places 100002 in 887's area; 100005 was never 886's.
    let extract = extract(&[(100001, "886"), (100002, "887"), (100005, "887")], "886");
    assert_eq!(extract.other_authority_rows, 2);
    let reported = w.store.placed_elsewhere(&w.manager("886"), &extract.elsewhere).await.unwrap();
    let [row] = reported.as_slice() else { panic!("{reported:?}") };
    assert_eq!((row.line, row.urn.as_str()), (3, "100002"));
    assert!(row.reason.contains("LA (code)") && row.reason.contains("another authority"), "{}", row.reason);
    let counts = w.store.import_schools(&w.manager("886"), &extract.rows, false).await.unwrap();
    assert_eq!((counts.created, counts.updated, counts.unchanged), (0, 0, 1));
    assert_eq!(w.urns("886").await, [100001, 100002], "the school is left as it is");
}

sen_platform::on_both_engines!(
    a_council_cannot_create_a_school_another_council_imported,
    an_import_refuses_by_line_the_rows_another_council_holds_and_loads_the_rest,
    a_row_giving_one_of_the_councils_schools_to_another_area_is_reported_by_line,
);
