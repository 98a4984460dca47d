//! Phase-transfer decisions in the pupils store on both engines: what a
//! decision records (the amended plan, staying in the school's own sixth form,
//! a move between post-16 institutions), who may record it, and which pupils
//! the transfer list reads.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role, Scope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{NcYear, NeedCode, PupilDetails, SenRecord, SenStatus, TransferCohorts, Upn, cohort_in_year};
use sen_pupils::error::Error;
use sen_pupils::store::{Actor, NewEhcp, SenChange, Store, TransferDecision};

struct World {
    store: Store,
    issuer: DevIssuer,
    _db: TestDatabase,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn today() -> NaiveDate {
    d(2026, 11, 24)
}

fn urn(n: u32) -> Urn {
    Urn::parse(&n.to_string()).unwrap()
}

fn plan_issued() -> NaiveDate {
    d(2025, 1, 10)
}

impl World {
    async fn new(engine: Engine) -> Self {
        let db = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        Self { store, issuer: DevIssuer::generate().unwrap(), _db: db }
    }

    fn who(&self, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
        let grant =
            Grant { person: "officer".into(), role, tenant: LaCode::parse(tenant).ok(), school: school.map(urn) };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    fn officer(&self) -> (Scope, Actor) {
        self.who(Role::CaseOfficer, "886", None)
    }

    /// A pupil with a plan at `school`, born on `dob`.
    async fn add(&self, serial: u32, school: u32, dob: NaiveDate) -> i64 {
        let (scope, actor) = self.officer();
        let details = PupilDetails {
            upn: Upn::from_body(&format!("886200125{serial:03}")).unwrap(),
            legal_forename: "Kofi".into(),
            legal_surname: "Mensah".into(),
            preferred_forename: None,
            preferred_surname: None,
            date_of_birth: dob,
            school_urn: urn(school),
            nc_year_override: None,
            looked_after: false,
        };
        let sen =
            SenRecord { status: SenStatus::EhcPlan, primary: Some(NeedCode::parse("ASD").unwrap()), secondary: None };
        let plan = NewEhcp { issued_on: plan_issued(), named_setting: "School".into() };
        self.store.create_pupil(&scope, &actor, &details, &sen, Some(&plan), today()).await.unwrap().id
    }

    async fn candidates(&self, scope: &Scope, cohorts: &TransferCohorts, day: NaiveDate) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .store
            .transfer_candidates(scope, cohorts, day)
            .await
            .unwrap()
            .into_iter()
            .map(|c| i64::from(c.pupil.id))
            .collect();
        ids.sort_unstable();
        ids
    }
}

fn decision(next_setting: &str, issued: Option<NaiveDate>) -> TransferDecision {
    TransferDecision {
        transfer_year: Some(2027),
        next_setting: next_setting.into(),
        amended_plan_issued_on: issued,
        staying_in_sixth_form: false,
        post16_move_on: None,
    }
}

fn moving(on: NaiveDate, issued: Option<NaiveDate>) -> TransferDecision {
    TransferDecision {
        transfer_year: None,
        next_setting: "Eastwold College".into(),
        amended_plan_issued_on: issued,
        staying_in_sixth_form: false,
        post16_move_on: Some(on),
    }
}

async fn a_decision_records_the_amended_plan_staying_on_or_a_post_16_move(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let year11 = w.add(1, 100003, d(2010, 10, 1)).await;
    let issued = w
        .store
        .record_transfer_decision(&scope, &actor, year11, &decision("Eastwold College", Some(d(2026, 11, 20))))
        .await
        .unwrap();
    assert_eq!(
        (issued.ehcp.transfer_year, issued.ehcp.next_setting.as_deref(), issued.ehcp.amended_plan_issued_on),
        (Some(2027), Some("Eastwold College"), Some(d(2026, 11, 20)))
    );
    let staying = TransferDecision { staying_in_sixth_form: true, ..decision("Eastwold Academy", None) };
    let stays = w.store.record_transfer_decision(&scope, &actor, year11, &staying).await.unwrap();
    assert!(stays.ehcp.staying_in_sixth_form);
    assert_eq!(
        (stays.ehcp.amended_plan_issued_on, stays.ehcp.version),
        (None, issued.ehcp.version + 1),
        "the later decision replaces the earlier"
    );

    let year13 = w.add(2, 100003, d(2008, 10, 1)).await;
    let moves = w.store.record_transfer_decision(&scope, &actor, year13, &moving(d(2027, 1, 6), None)).await.unwrap();
    assert_eq!(
        (moves.ehcp.post16_move_on, moves.ehcp.transfer_year, moves.ehcp.staying_in_sixth_form),
        (Some(d(2027, 1, 6)), None, false)
    );
    let fetched = w.store.ehcp(&scope, &actor, year13).await.unwrap();
    assert_eq!(fetched.ehcp, moves.ehcp);
}

async fn a_decision_dated_before_the_plan_is_refused_and_writes_nothing(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let year13 = w.add(1, 100003, d(2008, 10, 1)).await;
    let before = w.store.ehcp(&scope, &actor, year13).await.unwrap().ehcp;
    let early_move = w.store.record_transfer_decision(&scope, &actor, year13, &moving(d(2024, 12, 1), None)).await;
    assert!(
        matches!(&early_move, Err(Error::Invalid(v)) if format!("{v:?}").contains("post16_move_on")),
        "{early_move:?}"
    );
    let early_plan =
        w.store.record_transfer_decision(&scope, &actor, year13, &decision("X", Some(d(2025, 1, 9)))).await;
    assert!(
        matches!(&early_plan, Err(Error::Invalid(v)) if format!("{v:?}").contains("amended_plan_issued_on")),
        "{early_plan:?}"
    );
    // The day the plan was issued is allowed.
    w.store
        .record_transfer_decision(&scope, &actor, year13, &moving(plan_issued(), Some(plan_issued())))
        .await
        .unwrap();
    let after = w.store.ehcp(&scope, &actor, year13).await.unwrap().ehcp;
    assert_eq!((after.version, after.post16_move_on), (before.version + 1, Some(plan_issued())));
}

async fn only_the_pupils_authority_and_school_may_record_a_decision(engine: Engine) {
    let w = World::new(engine).await;
    let pupil = w.add(1, 100003, d(2010, 10, 1)).await;
    let (medway, actor) = w.who(Role::LaManager, "887", None);
    let refused = w.store.record_transfer_decision(&medway, &actor, pupil, &decision("X", Some(today()))).await;
    assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    let (other_school, actor) = w.who(Role::Senco, "886", Some(100001));
    let refused = w.store.record_transfer_decision(&other_school, &actor, pupil, &decision("X", Some(today()))).await;
    assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    let (scope, actor) = w.officer();
    assert_eq!(w.store.ehcp(&scope, &actor, pupil).await.unwrap().ehcp.next_setting, None, "nothing written");
}

async fn the_transfer_list_reads_post_16_moves_until_the_day_of_the_move(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let year6 = w.add(1, 100001, d(2015, 10, 1)).await;
    let year13 = w.add(2, 100003, d(2008, 10, 1)).await;
    let year12 = w.add(3, 100003, d(2009, 10, 1)).await;
    w.store.record_transfer_decision(&scope, &actor, year13, &moving(d(2027, 1, 6), None)).await.unwrap();
    let year_6 = cohort_in_year(NcYear::Year(6), 2026).unwrap();
    let cohorts = TransferCohorts { everywhere: [year_6].into(), at_schools: Default::default() };
    assert_eq!(w.candidates(&scope, &cohorts, d(2027, 1, 5)).await, [year6, year13], "the day before");
    assert_eq!(w.candidates(&scope, &cohorts, d(2027, 1, 6)).await, [year6, year13], "the day");
    assert_eq!(w.candidates(&scope, &cohorts, d(2027, 1, 7)).await, [year6], "the day after");
    assert!(!w.candidates(&scope, &cohorts, today()).await.contains(&year12), "no move recorded");
    let (medway, _) = w.who(Role::LaManager, "887", None);
    assert!(w.candidates(&medway, &cohorts, today()).await.is_empty(), "another authority");
    let (senco, _) = w.who(Role::Senco, "886", Some(100001));
    assert_eq!(w.candidates(&senco, &cohorts, today()).await, [year6], "the SENCO's own school only");
}

async fn a_plan_reopened_forgets_the_old_transfer_decision(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let year11 = w.add(1, 100003, d(2010, 10, 1)).await;
    let staying = TransferDecision { staying_in_sixth_form: true, ..decision("Eastwold Academy", None) };
    w.store.record_transfer_decision(&scope, &actor, year11, &staying).await.unwrap();
    let change = |status, plan| SenChange {
        sen: SenRecord { status, primary: Some(NeedCode::parse("ASD").unwrap()), secondary: None },
        effective_on: d(2026, 11, 1),
        reason: "review".into(),
        ehcp: plan,
    };
    w.store.change_sen_status(&scope, &actor, year11, 1, &change(SenStatus::SenSupport, None)).await.unwrap();
    let plan = NewEhcp { issued_on: d(2026, 11, 2), named_setting: "School".into() };
    w.store.change_sen_status(&scope, &actor, year11, 2, &change(SenStatus::EhcPlan, Some(plan))).await.unwrap();
    let reopened = w.store.ehcp(&scope, &actor, year11).await.unwrap().ehcp;
    assert_eq!((reopened.staying_in_sixth_form, reopened.post16_move_on, reopened.next_setting), (false, None, None));
}

sen_platform::on_both_engines!(
    a_decision_records_the_amended_plan_staying_on_or_a_post_16_move,
    a_decision_dated_before_the_plan_is_refused_and_writes_nothing,
    only_the_pupils_authority_and_school_may_record_a_decision,
    the_transfer_list_reads_post_16_moves_until_the_day_of_the_move,
    a_plan_reopened_forgets_the_old_transfer_decision,
);
