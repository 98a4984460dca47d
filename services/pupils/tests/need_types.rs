//! Type-of-need codes as data, in the store on both engines: the national DfE
//! codes every council reads, a council's own additions that only it sees, and
//! the audit of each addition.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role, TenantScope};
use sen_platform::ids::LaCode;
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{BroadArea, NeedType, parse_need};
use sen_pupils::error::Error;
use sen_pupils::store::{Actor, NewNeedType, Store};

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

    fn manager(&self, tenant: &str) -> (TenantScope, Actor) {
        let grant = Grant {
            person: format!("manager-{tenant}"),
            role: Role::LaManager,
            tenant: LaCode::parse(tenant).ok(),
            school: None,
        };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.tenant_scope().unwrap(), identity.actor())
    }

    async fn codes(&self, tenant: &str) -> Vec<NeedType> {
        self.store.need_types(&self.manager(tenant).0).await.unwrap()
    }
}

fn fasd() -> NewNeedType {
    NewNeedType {
        code: "FASD".into(),
        name: "Fetal alcohol spectrum disorder".into(),
        area: Some(BroadArea::CognitionAndLearning),
        sen_support_only: false,
        added_on: NaiveDate::from_ymd_opt(2026, 9, 1),
    }
}

async fn every_council_reads_the_national_codes_in_census_order(engine: Engine) {
    let w = World::new(engine).await;
    let codes = w.codes("886").await;
    let listed: Vec<&str> = codes.iter().map(NeedType::code).collect();
    assert_eq!(
        listed,
        ["SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "ASD", "HI", "VI", "MSI", "PD", "OTH", "NSA", "DS"]
    );
    assert!(codes.iter().all(|n| n.national));
    let ds = parse_need("DS", &codes).unwrap();
    assert_eq!((ds.name.as_str(), ds.added_on), ("Down syndrome", NaiveDate::from_ymd_opt(2025, 1, 16).unwrap()));
    let only_k: Vec<&str> = codes.iter().filter(|n| n.sen_support_only).map(NeedType::code).collect();
    assert_eq!(only_k, ["NSA"]);
    assert_eq!(parse_need("asd", &codes).unwrap().area, Some(BroadArea::CommunicationAndInteraction));
    assert_eq!(w.codes("201").await, codes, "another council reads the same national codes");
}

async fn a_council_adds_a_code_only_it_sees_and_the_addition_is_audited(engine: Engine) {
    let w = World::new(engine).await;
    let (kent, manager) = w.manager("886");
    let added = w.store.add_need_type(&kent, &manager, &fasd()).await.unwrap();
    assert_eq!((added.code(), added.national), ("FASD", false));
    assert_eq!(added.added_on, NaiveDate::from_ymd_opt(2026, 9, 1).unwrap());

    let codes = w.codes("886").await;
    assert_eq!(codes.last().map(NeedType::code), Some("FASD"), "the council's own come after the national codes");
    assert_eq!(parse_need("fasd", &codes).unwrap().name, "Fetal alcohol spectrum disorder");
    let elsewhere = w.codes("201").await;
    assert!(parse_need("FASD", &elsewhere).is_err(), "another council neither sees nor may use it");

    let db = sea_orm::Database::connect(&w._db.url).await.unwrap();
    let backend = sea_orm::ConnectionTrait::get_database_backend(&db);
    let audits = sea_orm::ConnectionTrait::query_all(
        &db,
        sea_orm::Statement::from_string(
            backend,
            "SELECT la_code, person, detail FROM audit_events WHERE action = 'need_type.added'",
        ),
    )
    .await
    .unwrap();
    assert_eq!(audits.len(), 1);
    let la: String = audits[0].try_get("", "la_code").unwrap();
    let detail: Option<String> = audits[0].try_get("", "detail").unwrap();
    assert_eq!((la.as_str(), detail.as_deref()), ("886", Some("FASD")));
}

async fn a_code_the_council_has_or_a_bad_one_is_refused_naming_the_field(engine: Engine) {
    let w = World::new(engine).await;
    let (kent, manager) = w.manager("886");
    w.store.add_need_type(&kent, &manager, &fasd()).await.unwrap();
    let field_of = |e: Error| match e {
        Error::Invalid(v) => v.iter().map(|f| f.field.clone()).collect::<Vec<_>>(),
        other => panic!("refused as invalid, not {other:?}"),
    };
    let again = w.store.add_need_type(&kent, &manager, &fasd()).await.unwrap_err();
    assert_eq!(field_of(again), ["code"], "a code the council added already");
    let national = NewNeedType { code: "DS".into(), ..fasd() };
    assert_eq!(field_of(w.store.add_need_type(&kent, &manager, &national).await.unwrap_err()), ["code"]);
    for bad in ["F", "FASDXYZ", "fasd", "FA5D", ""] {
        let asked = NewNeedType { code: bad.into(), ..fasd() };
        assert_eq!(field_of(w.store.add_need_type(&kent, &manager, &asked).await.unwrap_err()), ["code"], "{bad}");
    }
    let unnamed = NewNeedType { code: "ARFID".into(), name: "  ".into(), ..fasd() };
    assert_eq!(field_of(w.store.add_need_type(&kent, &manager, &unnamed).await.unwrap_err()), ["name"]);
    let codes: Vec<String> = w.codes("886").await.iter().map(|n| n.code().to_owned()).collect();
    assert_eq!(codes.len(), 15, "nothing refused was written: {codes:?}");

    // Another council may add the same code for itself.
    let (other, their_manager) = w.manager("201");
    w.store.add_need_type(&other, &their_manager, &fasd()).await.unwrap();
    assert_eq!(w.codes("201").await.len(), 15);
}

sen_platform::on_both_engines!(
    every_council_reads_the_national_codes_in_census_order,
    a_council_adds_a_code_only_it_sees_and_the_addition_is_audited,
    a_code_the_council_has_or_a_bad_one_is_refused_naming_the_field,
);
