//! The pupils store on both engines it runs on: SQLite (the embedded default) and
//! PostgreSQL (production), each test on a fresh database.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role, Scope, TenantScope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{NcYear, NeedCode, PupilDetails, SenRecord, SenStatus, Upn};
use sen_pupils::error::Error;
use sen_pupils::store::{Actor, NewEhcp, PupilFilter, SeedPupil, SenChange, Store};

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

fn details(serial: u32, school: u32, dob: NaiveDate) -> PupilDetails {
    PupilDetails {
        upn: Upn::from_body(&format!("886200125{serial:03}")).unwrap(),
        legal_forename: "Kofi".into(),
        legal_surname: "Mensah".into(),
        preferred_forename: None,
        preferred_surname: None,
        date_of_birth: dob,
        school_urn: urn(school),
        nc_year_override: None,
        looked_after: false,
    }
}

fn sen(status: SenStatus, need: Option<&str>) -> SenRecord {
    SenRecord { status, primary: need.map(|n| NeedCode::parse(n).unwrap()), secondary: None }
}

impl World {
    async fn new(engine: Engine) -> Self {
        let db = TestDatabase::create(engine).await.unwrap();
        let store = Store::connect(&db.url, &Default::default()).await.unwrap();
        Self { store, issuer: DevIssuer::generate().unwrap(), _db: db }
    }

    fn who(&self, person: &str, role: Role, tenant: &str, school: Option<u32>) -> (Scope, Actor) {
        let grant = Grant { person: person.into(), role, tenant: LaCode::parse(tenant).ok(), school: school.map(urn) };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        let identity = self.issuer.verifier.verify(&token).unwrap();
        (identity.scope().unwrap(), identity.actor())
    }

    fn officer(&self) -> (Scope, Actor) {
        self.who("officer", Role::CaseOfficer, "886", None)
    }

    fn service(&self) -> (TenantScope, Actor) {
        let (scope, actor) = self.who("caseloads", Role::Service, "886", None);
        (scope.tenant().clone(), actor)
    }

    async fn add(&self, serial: u32, school: u32, record: SenRecord) -> i64 {
        let (scope, actor) = self.officer();
        let plan = NewEhcp { issued_on: d(2025, 1, 10), named_setting: "School".into() };
        let plan = (record.status == SenStatus::EhcPlan).then_some(&plan);
        let dob = d(2016, 1, 1);
        self.store.create_pupil(&scope, &actor, &details(serial, school, dob), &record, plan, today()).await.unwrap().id
    }
}

async fn ids(w: &World, scope: &Scope, actor: &Actor, filter: &PupilFilter) -> Vec<i64> {
    let page = Page { size: 500, after: None };
    w.store.list_pupils(scope, actor, filter, &page, today()).await.unwrap().0.iter().map(|p| p.id).collect()
}

async fn scopes_reach_the_tenant_the_school_and_the_caseload(engine: Engine) {
    let w = World::new(engine).await;
    let a = w.add(1, 100001, sen(SenStatus::SenSupport, Some("SLCN"))).await;
    let b = w.add(2, 100002, sen(SenStatus::EhcPlan, Some("ASD"))).await;
    let all = PupilFilter::default();
    let (officer, actor) = w.officer();
    assert_eq!(ids(&w, &officer, &actor, &all).await, [a, b]);
    let (medway, actor) = w.who("m", Role::LaManager, "887", None);
    assert!(ids(&w, &medway, &actor, &all).await.is_empty());
    assert!(matches!(w.store.get_pupil(&medway, &actor, a).await, Err(Error::NotFound(_))));
    let (senco, actor) = w.who("s", Role::Senco, "886", Some(100001));
    assert_eq!(ids(&w, &senco, &actor, &all).await, [a]);
    assert!(matches!(w.store.ehcp(&senco, &actor, b).await, Err(Error::NotFound(_))));
    let (ep, ep_actor) = w.who("ep-1", Role::EducationalPsychologist, "886", None);
    assert!(ids(&w, &ep, &ep_actor, &all).await.is_empty());
    let (tenant, service) = w.service();
    w.store.grant_case_access(&tenant, &service, b, "ep-1", "C-9").await.unwrap();
    assert_eq!(ids(&w, &ep, &ep_actor, &all).await, [b]);
    w.store.revoke_case_access(&tenant, &service, b, "ep-1", "C-9").await.unwrap();
    assert!(matches!(w.store.get_pupil(&ep, &ep_actor, b).await, Err(Error::NotFound(_))));
    let (events, _) = w.store.audit_events(&tenant, Some(b), &Page { size: 50, after: None }).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["access.revoke", "pupil.list", "access.grant", "pupil.list", "pupil.create"]);
}

async fn filters_find_pupils_by_status_need_year_and_school(engine: Engine) {
    let w = World::new(engine).await;
    let a = w.add(1, 100001, sen(SenStatus::SenSupport, Some("SLCN"))).await;
    let b = w.add(2, 100001, sen(SenStatus::EhcPlan, Some("ASD"))).await;
    let c = w.add(3, 100002, sen(SenStatus::NoSen, None)).await;
    let (scope, actor) = w.officer();
    let by = |f: PupilFilter| f;
    assert_eq!(
        ids(&w, &scope, &actor, &by(PupilFilter { status: Some(SenStatus::EhcPlan), ..Default::default() })).await,
        [b]
    );
    let slcn = NeedCode::parse("SLCN").unwrap();
    assert_eq!(ids(&w, &scope, &actor, &by(PupilFilter { primary_need: Some(slcn), ..Default::default() })).await, [a]);
    assert_eq!(
        ids(&w, &scope, &actor, &by(PupilFilter { school: Some(urn(100002)), ..Default::default() })).await,
        [c]
    );
    // Born 1 January 2016: ten on 31 August 2026, Year 6 in 2026/27.
    let year6 = PupilFilter { nc_year: Some(NcYear::Year(6)), ..Default::default() };
    assert_eq!(ids(&w, &scope, &actor, &year6).await, [a, b, c]);
    let year5 = PupilFilter { nc_year: Some(NcYear::Year(5)), ..Default::default() };
    assert!(ids(&w, &scope, &actor, &year5).await.is_empty());
}

async fn a_plan_opens_with_e_and_ceases_when_the_status_leaves_e(engine: Engine) {
    let w = World::new(engine).await;
    let id = w.add(1, 100001, sen(SenStatus::SenSupport, Some("MLD"))).await;
    let (scope, actor) = w.officer();
    let change = |status, plan| SenChange {
        sen: sen(status, Some("MLD")),
        effective_on: d(2026, 10, 1),
        reason: "review".into(),
        ehcp: plan,
    };
    let missing = w.store.change_sen_status(&scope, &actor, id, 1, &change(SenStatus::EhcPlan, None)).await;
    assert!(matches!(missing, Err(Error::Invalid(_))));
    let plan = NewEhcp { issued_on: d(2026, 10, 1), named_setting: "School".into() };
    w.store.change_sen_status(&scope, &actor, id, 1, &change(SenStatus::EhcPlan, Some(plan))).await.unwrap();
    assert_eq!(w.store.ehcp(&scope, &actor, id).await.unwrap().ehcp.status, "active");
    let stale = w.store.change_sen_status(&scope, &actor, id, 1, &change(SenStatus::SenSupport, None)).await;
    assert!(matches!(stale, Err(Error::Aborted(_))));
    w.store.change_sen_status(&scope, &actor, id, 2, &change(SenStatus::SenSupport, None)).await.unwrap();
    let view = w.store.ehcp(&scope, &actor, id).await.unwrap();
    assert_eq!((view.ehcp.status.as_str(), view.ehcp.ceased_reason.as_deref()), ("ceased", Some("review")));
    assert_eq!(w.store.pupil_history(&scope, &actor, id).await.unwrap().len(), 3);
}

async fn register_counts_come_from_one_grouped_query(engine: Engine) {
    let w = World::new(engine).await;
    let (tenant, _) = w.service();
    let pupils: Vec<SeedPupil> = (0..300)
        .map(|i| SeedPupil {
            details: details(i, 100001 + (i % 3), d(2015 + (i % 2) as i32, 10, 1)),
            sen: match i % 10 {
                0 => sen(SenStatus::EhcPlan, Some("ASD")),
                1 | 2 => sen(SenStatus::SenSupport, Some("SEMH")),
                _ => sen(SenStatus::NoSen, None),
            },
            plan: None,
            cycles: Vec::new(),
            provision: Vec::new(),
        })
        .collect();
    w.store.load_register(&tenant, "loader", &pupils, today()).await.unwrap();
    let (scope, _) = w.officer();
    let counts = w.store.register_counts(&scope).await.unwrap();
    let total: i64 = counts.iter().map(|c| c.pupils).sum();
    assert_eq!(total, 300);
    let ehcp: i64 = counts.iter().filter(|c| c.sen_status == "E").map(|c| c.pupils).sum();
    assert_eq!(ehcp, 30);
    assert!(counts.len() <= 3 * 3 * 2, "grouped rows, not one per pupil: {}", counts.len());
    let (senco, _) = w.who("s", Role::Senco, "886", Some(100002));
    let own: i64 = w.store.register_counts(&senco).await.unwrap().iter().map(|c| c.pupils).sum();
    assert_eq!(own, 100);
}

/// Counts by (school, status): how the figures without breakdowns read them.
fn by_school_and_status(counts: Vec<sen_pupils::store::RegisterCount>) -> Vec<(i32, String, i64)> {
    let mut summed: std::collections::BTreeMap<(i32, String), i64> = std::collections::BTreeMap::new();
    for count in counts {
        *summed.entry((count.school_urn, count.sen_status)).or_default() += count.pupils;
    }
    summed.into_iter().map(|((urn, status), pupils)| (urn, status, pupils)).collect()
}

async fn register_totals_are_the_tallies_summed_by_school_and_status_within_the_callers_reach(engine: Engine) {
    let w = World::new(engine).await;
    for (serial, school, record) in [
        (1, 100001, sen(SenStatus::SenSupport, Some("MLD"))),
        (2, 100001, sen(SenStatus::SenSupport, Some("SLCN"))),
        (3, 100001, sen(SenStatus::EhcPlan, Some("ASD"))),
        (4, 100001, sen(SenStatus::NoSen, None)),
        (5, 100002, sen(SenStatus::SenSupport, Some("MLD"))),
        (6, 100002, sen(SenStatus::NoSen, None)),
    ] {
        w.add(serial, school, record).await;
    }
    let (scope, _) = w.officer();
    let totals = w.store.register_totals(&scope).await.unwrap();
    assert!(totals.iter().all(|t| t.primary_need.is_none() && t.nc_year_override.is_none() && t.birth_cohort == 0));
    let expected = [
        (100001, "E".to_owned(), 1),
        (100001, "K".into(), 2),
        (100001, "N".into(), 1),
        (100002, "K".into(), 1),
        (100002, "N".into(), 1),
    ];
    assert_eq!(by_school_and_status(totals), expected);
    assert_eq!(by_school_and_status(w.store.register_counts(&scope).await.unwrap()), expected);
    let (senco, _) = w.who("s", Role::Senco, "886", Some(100002));
    assert_eq!(by_school_and_status(w.store.register_totals(&senco).await.unwrap()), expected[3..]);
    let (elsewhere, _) = w.who("other", Role::LaManager, "887", None);
    assert!(w.store.register_totals(&elsewhere).await.unwrap().is_empty(), "another authority sums none of them");
    let (ep, _) = w.who("ep-1", Role::EducationalPsychologist, "886", None);
    assert!(w.store.register_totals(&ep).await.unwrap().is_empty(), "a professional without grants sums none");
}

/// The register's counts as the statistics read them: (school, status, need) → pupils.
async fn register_by_need(w: &World, scope: &Scope) -> Vec<(i32, String, Option<String>, i64)> {
    let mut counts: Vec<_> = w
        .store
        .register_counts(scope)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.school_urn, c.sen_status, c.primary_need, c.pupils))
        .collect();
    counts.sort();
    counts
}

async fn register_counts_follow_every_new_pupil_change_and_deletion(engine: Engine) {
    let w = World::new(engine).await;
    let (scope, actor) = w.officer();
    let a = w.add(1, 100001, sen(SenStatus::SenSupport, Some("MLD"))).await;
    w.add(2, 100001, sen(SenStatus::SenSupport, Some("MLD"))).await;
    w.add(3, 100001, sen(SenStatus::NoSen, None)).await;
    w.add(4, 100002, sen(SenStatus::NoSen, None)).await;
    let k = || "K".to_owned();
    let mld = || Some("MLD".to_owned());
    assert_eq!(
        register_by_need(&w, &scope).await,
        [(100001, "K".into(), mld(), 2), (100001, "N".into(), None, 1), (100002, "N".into(), None, 1)]
    );

    // A plan: one pupil leaves SEN support for an EHC plan.
    let plan = NewEhcp { issued_on: d(2026, 10, 1), named_setting: "School".into() };
    let change = SenChange {
        sen: sen(SenStatus::EhcPlan, Some("MLD")),
        effective_on: d(2026, 10, 1),
        reason: "plan".into(),
        ehcp: Some(plan),
    };
    w.store.change_sen_status(&scope, &actor, a, 1, &change).await.unwrap();
    // A move: the same pupil changes school within the authority.
    let moved = details(1, 100002, d(2016, 1, 1));
    w.store.update_pupil(&scope, &actor, a, 2, &moved, today()).await.unwrap();
    assert_eq!(
        register_by_need(&w, &scope).await,
        [
            (100001, k(), mld(), 1),
            (100001, "N".into(), None, 1),
            (100002, "E".into(), mld(), 1),
            (100002, "N".into(), None, 1)
        ]
    );
    let (senco, _) = w.who("s", Role::Senco, "886", Some(100002));
    assert_eq!(register_by_need(&w, &senco).await, [(100002, "E".into(), mld(), 1), (100002, "N".into(), None, 1)]);
    let (elsewhere, _) = w.who("other", Role::CaseOfficer, "201", None);
    assert!(register_by_need(&w, &elsewhere).await.is_empty(), "another authority counts none of these pupils");

    // Deleted rows (as an erasure deletes them) leave the counts in the same transaction.
    let db = sea_orm::Database::connect(&w._db.url).await.unwrap();
    for table in ["pupil_history", "ehcps", "support_cycles", "provisions", "annual_reviews", "case_access"] {
        let sql = format!("DELETE FROM {table} WHERE pupil_id = {a}");
        sea_orm::ConnectionTrait::execute_unprepared(&db, &sql).await.unwrap();
    }
    sea_orm::ConnectionTrait::execute_unprepared(&db, &format!("DELETE FROM pupils WHERE id = {a}")).await.unwrap();
    assert_eq!(
        register_by_need(&w, &scope).await,
        [(100001, k(), mld(), 1), (100001, "N".into(), None, 1), (100002, "N".into(), None, 1)]
    );
}

sen_platform::on_both_engines!(
    register_counts_follow_every_new_pupil_change_and_deletion,
    scopes_reach_the_tenant_the_school_and_the_caseload,
    filters_find_pupils_by_status_need_year_and_school,
    a_plan_opens_with_e_and_ceases_when_the_status_leaves_e,
    register_counts_come_from_one_grouped_query,
    register_totals_are_the_tallies_summed_by_school_and_status_within_the_callers_reach,
);
