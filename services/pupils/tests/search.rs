//! Finding a pupil by name or UPN in the pupils store, on SQLite and
//! PostgreSQL: every word within a legal or preferred name, in any order,
//! case ignored; a UPN exactly; wildcards taken literally; and only within the
//! searcher's reach (a SENCO their school, another authority nothing).

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{Actor, DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{NeedCode, PupilDetails, PupilSearch, SenRecord, SenStatus, Upn};
use sen_pupils::store::{PupilFilter, Store};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn who(issuer: &DevIssuer, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
    let school = school.map(|u| Urn::parse(&u.to_string()).unwrap());
    let grant = Grant { person: "p".into(), role, tenant: LaCode::parse(tenant).ok(), school };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    let identity = issuer.verifier.verify(&token).unwrap();
    (identity.scope().unwrap(), identity.actor())
}

async fn add(store: &Store, issuer: &DevIssuer, serial: u32, school: u32, names: [&str; 3]) -> (i64, String) {
    let (scope, actor) = who(issuer, Role::CaseOfficer, "886", None);
    let details = PupilDetails {
        upn: Upn::from_body(&format!("886200125{serial:03}")).unwrap(),
        legal_forename: names[0].into(),
        legal_surname: names[1].into(),
        preferred_forename: (!names[2].is_empty()).then(|| names[2].to_owned()),
        preferred_surname: None,
        date_of_birth: d(2016, 1, 1),
        school_urn: Urn::parse(&school.to_string()).unwrap(),
        nc_year_override: None,
        looked_after: false,
    };
    let sen =
        SenRecord { status: SenStatus::SenSupport, primary: Some(NeedCode::parse("SLCN").unwrap()), secondary: None };
    let pupil = store.create_pupil(&scope, &actor, &details, &sen, None, d(2026, 11, 24)).await.unwrap();
    (pupil.id, pupil.details.upn.as_str().to_owned())
}

async fn found(store: &Store, scope: &(Scope, Actor), text: &str) -> Vec<i64> {
    let filter = PupilFilter { search: PupilSearch::parse(text).unwrap(), ..Default::default() };
    let page = Page { size: 50, after: None };
    let (pupils, _) = store.list_pupils(&scope.0, &scope.1, &filter, &page, d(2026, 11, 24)).await.unwrap();
    pupils.iter().map(|p| p.id).collect()
}

async fn a_pupil_is_found_by_any_part_of_their_names_or_their_upn_within_reach(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let (musa, musa_upn) = add(&store, &issuer, 1, 100001, ["Musa", "Ali", ""]).await;
    let (alia, _) = add(&store, &issuer, 2, 100001, ["Alia", "O'Neil", "Lia"]).await;
    let (zara, _) = add(&store, &issuer, 3, 100002, ["Zara", "Alibhai", ""]).await;
    let (percent, _) = add(&store, &issuer, 4, 100001, ["Anne", "100%_Smith", ""]).await;
    let officer = who(&issuer, Role::CaseOfficer, "886", None);
    let senco = who(&issuer, Role::Senco, "886", Some(100001));

    assert_eq!(found(&store, &officer, "ALI musa").await, [musa], "every word, any order, any case");
    assert_eq!(found(&store, &officer, "ali").await, [musa, alia, zara], "a part of any name");
    assert_eq!(found(&store, &officer, "lia").await, [alia], "the preferred name too");
    assert_eq!(found(&store, &officer, "o'neil").await, [alia]);
    assert_eq!(found(&store, &officer, &musa_upn.to_lowercase()).await, [musa], "a UPN as typed");
    assert_eq!(found(&store, &officer, "100%_").await, [percent], "wildcards are literal");
    assert_eq!(found(&store, &officer, "%").await, [percent], "a lone wildcard finds only a name holding it");
    assert!(found(&store, &officer, "_").await.iter().all(|id| *id == percent), "and matches no other character");
    assert_eq!(found(&store, &senco, "ali").await, [musa, alia], "a SENCO finds their school's pupils only");
    let medway = who(&issuer, Role::CaseOfficer, "887", None);
    assert!(found(&store, &medway, "ali").await.is_empty(), "another authority finds nothing");
}

sen_platform::on_both_engines!(a_pupil_is_found_by_any_part_of_their_names_or_their_upn_within_reach);
