//! The SEN2 return's persons from the pupils store, on both engines: the
//! pupils whose plan was in force in the year (a plan ceased in it included,
//! with its SEN2 reason; one ceased before it left out), paged by pupil id, and
//! the pupils named, never another authority's.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{CeaseReason, NeedCode, PupilDetails, ReviewDecision, SenRecord, SenStatus, Upn};
use sen_pupils::store::{Actor, AnnualReviewInput, Cessation, NewEhcp, Sen2Selection, Store};

struct World {
    store: Store,
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
        Self { store, issuer: DevIssuer::generate().unwrap(), _database: database }
    }

    fn who(&self, tenant: &str) -> (Scope, Actor) {
        let grant = Grant {
            person: "officer".into(),
            role: Role::CaseOfficer,
            tenant: LaCode::parse(tenant).ok(),
            school: None,
        };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    /// A pupil of `tenant`, with a plan issued on `plan` if given.
    async fn pupil(&self, tenant: &str, serial: u32, plan: Option<NaiveDate>) -> i64 {
        let (scope, actor) = self.who(tenant);
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
        let status = if plan.is_some() { SenStatus::EhcPlan } else { SenStatus::SenSupport };
        let record = SenRecord { status, primary: Some(NeedCode::parse("SLCN").unwrap()), secondary: None };
        let plan = plan.map(|issued_on| NewEhcp { issued_on, named_setting: "Oak Primary".into() });
        self.store.create_pupil(&scope, &actor, &details, &record, plan.as_ref(), d(2024, 9, 2)).await.unwrap().id
    }

    /// Ceases `pupil`'s plan at a review on `on`, transferred to another authority.
    async fn cease(&self, tenant: &str, pupil: i64, on: NaiveDate) {
        let (scope, actor) = self.who(tenant);
        let review = AnnualReviewInput {
            meeting_on: on,
            report_sent_on: None,
            decision: Some(ReviewDecision::Cease),
            decision_on: Some(on),
            amendments_proposed_on: None,
            amended_plan_issued_on: None,
            cease_reason: Some(CeaseReason::TransferredToAnotherLa),
            cessation: Some(Cessation { ceased_on: on, to: SenStatus::SenSupport }),
        };
        self.store.record_annual_review(&scope, &actor, pupil, &review).await.unwrap();
    }
}

async fn the_persons_are_the_pupils_with_a_plan_in_the_year_and_those_named(engine: Engine) {
    let w = World::new(engine).await;
    let active = w.pupil("886", 1, Some(d(2025, 1, 10))).await;
    let support = w.pupil("886", 2, None).await;
    let ceased_in_year = w.pupil("886", 3, Some(d(2025, 1, 10))).await;
    w.cease("886", ceased_in_year, d(2026, 4, 20)).await;
    let ceased_before = w.pupil("886", 4, Some(d(2025, 1, 10))).await;
    w.cease("886", ceased_before, d(2025, 6, 2)).await;
    let issued_after_census = w.pupil("886", 5, Some(d(2027, 2, 1))).await;
    let elsewhere = w.pupil("887", 6, Some(d(2025, 1, 10))).await;
    let (scope, _) = w.who("886");
    let (from, census) = (d(2026, 1, 1), d(2027, 1, 21));

    let all = w
        .store
        .sen2_persons(&scope, Sen2Selection::WithPlans { from, to: census, after: None, limit: 100 }, census)
        .await
        .unwrap();
    let ids: Vec<i64> = all.iter().map(|r| i64::from(r.pupil.id)).collect();
    assert_eq!(ids, vec![active, ceased_in_year], "not {support}, {ceased_before}, {issued_after_census}, {elsewhere}");
    let ceased = &all[1];
    assert_eq!(ceased.plan.as_ref().and_then(|p| p.ceased_on), Some(d(2026, 4, 20)));
    assert_eq!(ceased.cease_reason, Some(5), "the SEN2 code of the review that ceased it");
    assert_eq!(ceased.last_review.as_ref().map(|r| r.meeting_on), Some(d(2026, 4, 20)));
    assert_eq!(all[0].cease_reason, None);
    assert_eq!(all[0].pupil.primary_need.as_deref(), Some("SLCN"));
    assert_eq!(all[0].school_entry_on, Some(d(2024, 9, 2)), "on roll since the register recorded them");

    // Paged by pupil id.
    let first = w
        .store
        .sen2_persons(&scope, Sen2Selection::WithPlans { from, to: census, after: None, limit: 1 }, census)
        .await
        .unwrap();
    let after = Some(first[0].pupil.id);
    let second = w
        .store
        .sen2_persons(&scope, Sen2Selection::WithPlans { from, to: census, after, limit: 1 }, census)
        .await
        .unwrap();
    assert_eq!((i64::from(first[0].pupil.id), i64::from(second[0].pupil.id)), (active, ceased_in_year));

    // Named: this authority's pupils only.
    let named = [i32::try_from(support).unwrap(), i32::try_from(elsewhere).unwrap()];
    let got = w.store.sen2_persons(&scope, Sen2Selection::Named(&named), census).await.unwrap();
    assert_eq!(got.iter().map(|r| i64::from(r.pupil.id)).collect::<Vec<_>>(), vec![support]);
    assert!(got[0].plan.is_none());

    // The other authority's officer sees only theirs.
    let (theirs, _) = w.who("887");
    let got = w
        .store
        .sen2_persons(&theirs, Sen2Selection::WithPlans { from, to: census, after: None, limit: 100 }, census)
        .await
        .unwrap();
    assert_eq!(got.iter().map(|r| i64::from(r.pupil.id)).collect::<Vec<_>>(), vec![elsewhere]);
}

#[tokio::test]
async fn the_persons_are_the_pupils_with_a_plan_in_the_year_and_those_named_on_sqlite() {
    the_persons_are_the_pupils_with_a_plan_in_the_year_and_those_named(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_persons_are_the_pupils_with_a_plan_in_the_year_and_those_named_on_postgres() {
    the_persons_are_the_pupils_with_a_plan_in_the_year_and_those_named(Engine::Postgres).await;
}
