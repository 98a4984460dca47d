//! The demo register, loaded on both engines, shows an amendment after an
//! annual review issued on time, one issued late, one overdue, and a plan
//! ceased at its review with its SEN2 reason.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::LaCode;
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::demo::{DemoSchool, SchoolKind, seed_if_empty};
use sen_pupils::store::Store;

async fn the_demo_shows_amendments_on_time_late_overdue_and_a_ceased_plan(engine: Engine) {
    let db = TestDatabase::create(engine).await.unwrap();
    let store = Store::connect(&db.url, &Default::default()).await.unwrap();
    let issuer = DevIssuer::generate().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let special = DemoSchool {
        tenant: "886",
        urn: 100_900,
        establishment_number: 7001,
        name: "Eastwold Special School",
        kind: SchoolKind::Special,
        phase_code: 0,
        ages: Some((2, 19)),
        roll: 400,
    };
    assert!(seed_if_empty(&store, &issuer, &[special], today).await.unwrap());
    let grant =
        Grant { person: "manager".into(), role: Role::LaManager, tenant: LaCode::parse("886").ok(), school: None };
    let token = issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
    let identity = issuer.verifier.verify(&token).unwrap();
    let (scope, actor) = (identity.scope().unwrap(), identity.actor());
    let tenant = scope.tenant().clone();
    let page = Page::checked(None, "page").unwrap();
    let (late, _) = store.late_amendments(&scope, &actor, today, &page).await.unwrap();
    let mut kinds: Vec<&str> =
        late.iter().map(|(_, r)| if r.amended_plan_issued_on.is_some() { "issued late" } else { "overdue" }).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["issued late", "overdue"]);
    let index = store.register_index(&tenant).await.unwrap();
    let mut reviews = Vec::new();
    for (id, _, _) in &index {
        reviews.extend(store.annual_reviews(&scope, &actor, *id).await.unwrap().into_iter().map(|r| (*id, r)));
    }
    let amended = reviews.iter().filter(|(_, r)| r.decision.as_deref() == Some("amend")).count();
    assert_eq!(amended, 3, "on time, late and overdue");
    let (ceased_pupil, ceased) = reviews.iter().find(|(_, r)| r.decision.as_deref() == Some("cease")).unwrap();
    assert_eq!((ceased.cease_reason, ceased.ceased_to.as_deref()), (Some(2), Some("K")));
    let pupil = store.get_pupil(&scope, &actor, *ceased_pupil).await.unwrap();
    assert_eq!(pupil.sen.status.code(), "K");
}

sen_platform::on_both_engines!(the_demo_shows_amendments_on_time_late_overdue_and_a_ceased_plan);
