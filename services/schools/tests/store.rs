//! The schools store on both engines it runs on: SQLite (the embedded default) and
//! PostgreSQL (production), each test on a fresh database.

use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{DevIssuer, Grant, Role, Scope, TenantScope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_schools::domain::{
    AgeRange, Email, EstablishmentStatus, EstablishmentType, Laestab, PersonName, Phase, Postcode, SchoolFields,
    SchoolName, SencoAward, SencoDetails,
};
use sen_schools::error::Error;
use sen_schools::gias;
use sen_schools::store::{NewAppointment, OpenFilter, SchoolFilter, Store};

struct World {
    store: Store,
    issuer: DevIssuer,
    _db: TestDatabase,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn la(code: &str) -> LaCode {
    LaCode::parse(code).unwrap()
}

fn urn(n: u32) -> Urn {
    Urn::parse(&n.to_string()).unwrap()
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

    fn scope(&self, role: Role, tenant: &str, school: Option<u32>) -> Scope {
        let grant = Grant { person: "tester".into(), role, tenant: Some(la(tenant)), school: school.map(urn) };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).unwrap();
        self.issuer.verifier.verify(&token).unwrap().scope().unwrap()
    }

    fn manager(&self, tenant: &str) -> TenantScope {
        self.scope(Role::LaManager, tenant, None).tenant().clone()
    }

    async fn school(&self, tenant: &str, n: u32, estab: &str, phase: Phase) {
        let fields = fields(tenant, estab, phase, 1);
        self.store.create_school(&self.manager(tenant), urn(n), &fields).await.unwrap();
    }

    async fn appoint(&self, tenant: &str, n: u32, appointed_on: NaiveDate, award: SencoAward, prior: bool) -> i64 {
        let new = NewAppointment {
            details: details("Alex Senco", award),
            appointed_on,
            prior_experience_over_12_months: prior,
        };
        self.store.appoint_senco(&self.manager(tenant), urn(n), &new, "tester").await.unwrap().id
    }
}

fn fields(tenant: &str, estab: &str, phase: Phase, type_code: u16) -> SchoolFields {
    SchoolFields {
        laestab: Laestab::from_parts(la(tenant), estab).unwrap(),
        name: SchoolName::parse(&format!("School {estab}")).unwrap(),
        establishment_type: EstablishmentType::known(type_code).unwrap(),
        phase,
        ages: Some(AgeRange::new(4, 11).unwrap()),
        number_on_roll: Some(200),
        postcode: Some(Postcode::parse("NG1 5DT").unwrap()),
        status: EstablishmentStatus::Open,
        open_date: Some(d(1990, 9, 1)),
        close_date: None,
    }
}

fn details(name: &str, award: SencoAward) -> SencoDetails {
    SencoDetails {
        person_name: PersonName::parse(name).unwrap(),
        email: Email::parse("senco@school.example").unwrap(),
        qualified_teacher: true,
        award,
        award_achieved_on: award.is_achieved().then(|| d(2025, 7, 1)),
    }
}

fn filter(today: NaiveDate) -> SchoolFilter {
    SchoolFilter {
        phase: None,
        type_code: None,
        open: OpenFilter::Any,
        has_current_senco: None,
        award_overdue: false,
        award_due_within_days: None,
        today,
    }
}

fn first_page(size: u64) -> Page {
    Page { size, after: None }
}

async fn urns(world: &World, scope: &Scope, filter: &SchoolFilter) -> Vec<u32> {
    let (schools, _) = world.store.list_schools(scope, filter, &first_page(500)).await.unwrap();
    schools.iter().map(|s| s.urn.get()).collect()
}

async fn another_authority_never_sees_a_school(engine: Engine) {
    let w = World::new(engine).await;
    w.school("886", 100001, "2001", Phase::Primary).await;
    let other = w.scope(Role::LaManager, "887", None);
    assert!(matches!(w.store.get_school(&other, urn(100001)).await, Err(Error::NotFound(_))));
    assert!(urns(&w, &other, &filter(d(2026, 1, 1))).await.is_empty());
    assert!(matches!(w.store.senco_history(&other, urn(100001)).await, Err(Error::NotFound(_))));
    let own = w.scope(Role::CaseOfficer, "886", None);
    assert_eq!(w.store.get_school(&own, urn(100001)).await.unwrap().fields.name.as_str(), "School 2001");
    // The same URN may be recorded by another authority without touching the first.
    w.store.create_school(&w.manager("887"), urn(100001), &fields("887", "2001", Phase::Primary, 1)).await.unwrap();
    assert_eq!(w.store.get_school(&own, urn(100001)).await.unwrap().fields.laestab.to_string(), "8862001");
}

async fn a_senco_sees_only_their_own_school(engine: Engine) {
    let w = World::new(engine).await;
    w.school("886", 100001, "2001", Phase::Primary).await;
    w.school("886", 100002, "2002", Phase::Primary).await;
    let senco = w.scope(Role::Senco, "886", Some(100001));
    assert_eq!(urns(&w, &senco, &filter(d(2026, 1, 1))).await, [100001]);
    assert!(w.store.get_school(&senco, urn(100001)).await.is_ok());
    assert!(matches!(w.store.get_school(&senco, urn(100002)).await, Err(Error::NotFound(_))));
    assert!(matches!(w.store.senco_history(&senco, urn(100002)).await, Err(Error::NotFound(_))));
}

async fn a_stale_version_is_refused_and_changes_nothing(engine: Engine) {
    let w = World::new(engine).await;
    w.school("886", 100001, "2001", Phase::Primary).await;
    let tenant = w.manager("886");
    let mut first = fields("886", "2001", Phase::Primary, 1);
    first.name = SchoolName::parse("Renamed Once").unwrap();
    let updated = w.store.update_school(&tenant, urn(100001), 1, &first).await.unwrap();
    assert_eq!(updated.version, 2);
    let mut second = first.clone();
    second.name = SchoolName::parse("Renamed From A Stale Copy").unwrap();
    let err = w.store.update_school(&tenant, urn(100001), 1, &second).await.unwrap_err();
    assert!(matches!(&err, Error::Aborted(m) if m.contains("version 2")), "{err:?}");
    let stored = w.store.get_school(&Scope::Tenant(tenant.clone()), urn(100001)).await.unwrap();
    assert_eq!((stored.fields.name.as_str(), stored.version), ("Renamed Once", 2));
    let other = w.manager("887");
    assert!(matches!(w.store.update_school(&other, urn(100001), 2, &second).await, Err(Error::NotFound(_))));
}

async fn one_current_senco_per_school_with_history_kept(engine: Engine) {
    let w = World::new(engine).await;
    w.school("886", 100001, "2001", Phase::Primary).await;
    let tenant = w.manager("886");
    let first = w.appoint("886", 100001, d(2020, 9, 1), SencoAward::Nasenco, false).await;
    let again = NewAppointment {
        details: details("Second Person", SencoAward::None),
        appointed_on: d(2026, 1, 5),
        prior_experience_over_12_months: false,
    };
    let err = w.store.appoint_senco(&tenant, urn(100001), &again, "tester").await.unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err:?}");
    w.store.end_senco(&tenant, first, d(2025, 12, 19), "retired").await.unwrap();
    let err = w.store.end_senco(&tenant, first, d(2025, 12, 20), "again").await.unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err:?}");
    w.store.appoint_senco(&tenant, urn(100001), &again, "tester").await.unwrap();
    let history = w.store.senco_history(&Scope::Tenant(tenant.clone()), urn(100001)).await.unwrap();
    let names: Vec<&str> = history.iter().map(|a| a.details.person_name.as_str()).collect();
    assert_eq!(names, ["Second Person", "Alex Senco"]);
    assert_eq!(history[1].end_reason.as_deref(), Some("retired"));
    let school = w.store.get_school(&Scope::Tenant(tenant), urn(100001)).await.unwrap();
    assert_eq!(school.current_senco.map(|a| a.details.person_name.as_str().to_owned()), Some("Second Person".into()));
}

async fn two_managers_appointing_at_once_cannot_both_succeed(engine: Engine) {
    let w = World::new(engine).await;
    w.school("886", 100001, "2001", Phase::Primary).await;
    let tenant = w.manager("886");
    let new = |name: &str| NewAppointment {
        details: details(name, SencoAward::None),
        appointed_on: d(2026, 1, 5),
        prior_experience_over_12_months: false,
    };
    let (a, b) = (new("First Manager's Pick"), new("Second Manager's Pick"));
    let (ra, rb) = tokio::join!(
        w.store.appoint_senco(&tenant, urn(100001), &a, "m1"),
        w.store.appoint_senco(&tenant, urn(100001), &b, "m2"),
    );
    assert_eq!(ra.is_ok() as u8 + rb.is_ok() as u8, 1, "{ra:?} / {rb:?}");
    let history = w.store.senco_history(&Scope::Tenant(tenant), urn(100001)).await.unwrap();
    assert_eq!(history.len(), 1);
}

async fn an_award_update_with_a_stale_version_is_refused(engine: Engine) {
    let w = World::new(engine).await;
    w.school("886", 100001, "2001", Phase::Primary).await;
    let tenant = w.manager("886");
    let id = w.appoint("886", 100001, d(2024, 9, 2), SencoAward::InProgress, false).await;
    let achieved = details("Alex Senco", SencoAward::NpqSenco);
    let updated = w.store.update_senco(&tenant, id, 1, &achieved).await.unwrap();
    assert_eq!((updated.version, updated.award_deadline()), (2, None));
    let err = w.store.update_senco(&tenant, id, 1, &details("Alex Senco", SencoAward::None)).await.unwrap_err();
    assert!(matches!(err, Error::Aborted(_)), "{err:?}");
    assert!(matches!(w.store.update_senco(&w.manager("887"), id, 2, &achieved).await, Err(Error::NotFound(_))));
}

async fn filters_narrow_the_list_and_pages_are_stable(engine: Engine) {
    let w = World::new(engine).await;
    let today = d(2026, 11, 24);
    for (n, estab, phase) in [
        (100001, "2001", Phase::Primary),
        (100002, "2002", Phase::Primary),
        (100003, "4001", Phase::Secondary),
        (100004, "2003", Phase::Primary),
        (100005, "4002", Phase::Secondary),
    ] {
        w.school("886", n, estab, phase).await;
    }
    w.appoint("886", 100001, d(2022, 9, 1), SencoAward::InProgress, false).await; // overdue since 2025-09-01
    w.appoint("886", 100002, d(2023, 12, 1), SencoAward::InProgress, false).await; // due 2026-12-01
    w.appoint("886", 100003, d(2018, 9, 1), SencoAward::None, true).await; // exempt
    let scope = w.scope(Role::LaManager, "886", None);
    let mut f = filter(today);
    f.phase = Some(Phase::Secondary);
    assert_eq!(urns(&w, &scope, &f).await, [100003, 100005]);
    let mut f = filter(today);
    f.has_current_senco = Some(false);
    assert_eq!(urns(&w, &scope, &f).await, [100004, 100005]);
    f.has_current_senco = Some(true);
    assert_eq!(urns(&w, &scope, &f).await, [100001, 100002, 100003]);
    let mut f = filter(today);
    f.award_overdue = true;
    assert_eq!(urns(&w, &scope, &f).await, [100001]);
    let mut f = filter(today);
    f.award_due_within_days = Some(30);
    assert_eq!(urns(&w, &scope, &f).await, [100002]);
    f.award_due_within_days = Some(6);
    assert!(urns(&w, &scope, &f).await.is_empty());
    let mut f = filter(today);
    f.open = OpenFilter::Closed;
    assert!(urns(&w, &scope, &f).await.is_empty());

    let mut seen = Vec::new();
    let mut page = first_page(2);
    loop {
        let (schools, token) = w.store.list_schools(&scope, &filter(today), &page).await.unwrap();
        seen.extend(schools.iter().map(|s| s.urn.get()));
        if token.is_empty() {
            break;
        }
        let mut errors = sen_platform::error::FieldViolations::new();
        let req = sen_proto::v1::PageRequest { page_size: 2, page_token: token };
        page = Page::parse(Some(&req), "page", &mut errors);
        assert!(errors.is_empty());
    }
    assert_eq!(seen, [100001, 100002, 100003, 100004, 100005]);
}

async fn compliance_finds_missing_sencos_and_awards_due(engine: Engine) {
    let w = World::new(engine).await;
    let today = d(2026, 11, 24);
    w.school("886", 100001, "2001", Phase::Primary).await;
    w.school("886", 100002, "2002", Phase::Primary).await;
    w.school("886", 100003, "2003", Phase::Primary).await;
    let special = fields("886", "7001", Phase::NotApplicable, 7);
    w.store.create_school(&w.manager("886"), urn(100004), &special).await.unwrap();
    w.appoint("886", 100001, d(2022, 9, 1), SencoAward::InProgress, false).await;
    w.appoint("886", 100002, d(2023, 12, 1), SencoAward::InProgress, false).await;
    let report = w.store.compliance(&w.manager("886"), today, 90).await.unwrap();
    let without: Vec<u32> = report.without_senco.iter().map(|s| s.urn.get()).collect();
    assert_eq!(without, [100003], "special schools are not under the SENCO duty");
    assert_eq!(report.awards_overdue.len(), 1);
    assert_eq!(report.awards_overdue[0].days_to_deadline, -449);
    assert_eq!(report.awards_due_soon[0].school.urn.get(), 100002);
    assert_eq!(report.awards_due_soon[0].days_to_deadline, 7);
    let other = w.store.compliance(&w.manager("887"), today, 90).await.unwrap();
    assert!(other.without_senco.is_empty() && other.awards_overdue.is_empty());
}

async fn a_closed_school_leaves_senco_compliance_and_takes_no_new_senco(engine: Engine) {
    let w = World::new(engine).await;
    let today = d(2026, 11, 24);
    let manager = w.manager("886");
    let scope = Scope::Tenant(manager.clone());
    // 100001 keeps a SENCO whose award is overdue; 100002 has none; both close.
    w.school("886", 100001, "2001", Phase::Primary).await;
    w.school("886", 100002, "2002", Phase::Primary).await;
    w.school("886", 100003, "2003", Phase::Primary).await;
    w.appoint("886", 100001, d(2022, 9, 1), SencoAward::InProgress, false).await;
    let before = w.store.compliance(&manager, today, 90).await.unwrap();
    assert_eq!(before.awards_overdue.len(), 1);
    assert_eq!(before.without_senco.iter().map(|s| s.urn.get()).collect::<Vec<_>>(), [100002, 100003]);
    for (n, estab) in [(100001, "2001"), (100002, "2002")] {
        let closed = SchoolFields {
            status: EstablishmentStatus::Closed,
            close_date: Some(d(2026, 8, 31)),
            ..fields("886", estab, Phase::Primary, 1)
        };
        let school = w.store.update_school(&manager, urn(n), 1, &closed).await.unwrap();
        assert!(!school.fields.requires_senco(), "a closed school is under no SENCO duty");
    }
    let after = w.store.compliance(&manager, today, 90).await.unwrap();
    assert!(after.awards_overdue.is_empty(), "a closed school's SENCO is not overdue");
    assert_eq!(after.without_senco.iter().map(|s| s.urn.get()).collect::<Vec<_>>(), [100003]);
    let open = w.store.get_school(&scope, urn(100003)).await.unwrap();
    assert!(open.fields.requires_senco());

    let new = NewAppointment {
        details: details("Sam Senco", SencoAward::None),
        appointed_on: d(2026, 11, 1),
        prior_experience_over_12_months: false,
    };
    let refused = w.store.appoint_senco(&manager, urn(100002), &new, "tester").await;
    assert!(matches!(&refused, Err(Error::FailedPrecondition(m)) if m.contains("100002 is closed")), "{refused:?}");
    assert!(w.store.senco_history(&scope, urn(100002)).await.unwrap().is_empty(), "nothing written");
}

/// An appointment of `appointed_on` holding a NASENCO achieved on `achieved_on`.
async fn appoint_nasenco(w: &World, n: u32, appointed_on: NaiveDate, achieved_on: NaiveDate) -> i64 {
    let new = NewAppointment {
        details: SencoDetails {
            award_achieved_on: Some(achieved_on),
            ..details("Nasenco Holder", SencoAward::Nasenco)
        },
        appointed_on,
        prior_experience_over_12_months: false,
    };
    w.store.appoint_senco(&w.manager("886"), urn(n), &new, "tester").await.unwrap().id
}

async fn a_nasenco_does_not_qualify_a_senco_appointed_from_1_september_2024(engine: Engine) {
    let w = World::new(engine).await;
    for (n, estab) in [(100001, "2001"), (100002, "2002"), (100003, "2003")] {
        w.school("886", n, estab, Phase::Primary).await;
    }
    let manager = w.manager("886");
    let after = appoint_nasenco(&w, 100001, d(2024, 9, 1), d(2025, 7, 1)).await;
    appoint_nasenco(&w, 100002, d(2024, 8, 31), d(2025, 7, 1)).await;
    appoint_nasenco(&w, 100003, d(2025, 1, 6), d(2023, 7, 1)).await; // held it before the change
    let scope = Scope::Tenant(manager.clone());
    let deadline = |n| {
        let scope = scope.clone();
        let store = &w.store;
        async move { store.get_school(&scope, urn(n)).await.unwrap().current_senco.unwrap().award_deadline() }
    };
    assert_eq!(deadline(100001).await, Some(d(2027, 9, 1)), "the NPQ for SENCOs is still due");
    assert_eq!(deadline(100002).await, None, "appointed the day before the change: the NASENCO counts");
    assert_eq!(deadline(100003).await, None, "a NASENCO held before the change counts");

    for (today, overdue, due_soon) in [
        (d(2027, 8, 31), vec![], vec![100001]),
        (d(2027, 9, 1), vec![], vec![100001]),
        (d(2027, 9, 2), vec![100001], vec![]),
    ] {
        let report = w.store.compliance(&manager, today, 90).await.unwrap();
        let urns =
            |items: &[sen_schools::store::ComplianceItem]| items.iter().map(|i| i.school.urn.get()).collect::<Vec<_>>();
        assert_eq!(urns(&report.awards_overdue), overdue, "overdue on {today}");
        assert_eq!(urns(&report.awards_due_soon), due_soon, "due soon on {today}");
        let mut f = filter(today);
        f.award_overdue = true;
        assert_eq!(
            w.store.list_schools(&w.scope(Role::LaManager, "886", None), &f, &first_page(10)).await.unwrap().0.len(),
            overdue.len(),
            "the school list's overdue filter agrees on {today}"
        );
    }
    let other = w.store.compliance(&w.manager("887"), d(2027, 9, 2), 90).await.unwrap();
    assert!(other.awards_overdue.is_empty(), "another authority sees none of it");

    // Recording the NPQ for SENCOs clears the deadline.
    let npq =
        SencoDetails { award_achieved_on: Some(d(2026, 7, 1)), ..details("Nasenco Holder", SencoAward::NpqSenco) };
    let updated = w.store.update_senco(&manager, after, 1, &npq).await.unwrap();
    assert_eq!(updated.award_deadline(), None);
    assert!(w.store.compliance(&manager, d(2027, 9, 2), 90).await.unwrap().awards_overdue.is_empty());
}

async fn a_senco_appointed_on_29_february_after_the_change_is_overdue_from_1_march(engine: Engine) {
    let w = World::new(engine).await;
    w.school("886", 100001, "2001", Phase::Primary).await;
    appoint_nasenco(&w, 100001, d(2028, 2, 29), d(2028, 7, 1)).await;
    let manager = w.manager("886");
    let report = w.store.compliance(&manager, d(2031, 2, 28), 90).await.unwrap();
    assert_eq!(report.awards_due_soon.len(), 1);
    assert_eq!(report.awards_due_soon[0].senco.award_deadline(), Some(d(2031, 2, 28)));
    assert_eq!(report.awards_due_soon[0].days_to_deadline, 0);
    let report = w.store.compliance(&manager, d(2031, 3, 1), 90).await.unwrap();
    assert_eq!(report.awards_overdue.len(), 1);
}

async fn upgrading_gives_an_earlier_nasenco_record_its_npq_deadline(engine: Engine) {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    use sea_orm_migration::MigratorTrait;
    let w = World::new(engine).await;
    w.school("886", 100001, "2001", Phase::Primary).await;
    w.school("886", 100002, "2002", Phase::Primary).await;
    let after = appoint_nasenco(&w, 100001, d(2024, 9, 1), d(2025, 7, 1)).await;
    let before = appoint_nasenco(&w, 100002, d(2024, 8, 31), d(2025, 7, 1)).await;
    // As the previous release stored it: any NASENCO left no deadline.
    let db = sea_orm::Database::connect(&w._db.url).await.unwrap();
    let row = sen_schools::entity::senco_appointment::Entity::find_by_id(i32::try_from(after).unwrap())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut model: sen_schools::entity::senco_appointment::ActiveModel = row.into();
    model.award_deadline = Set(None);
    model.update(&db).await.unwrap();
    sen_schools::migration::Migrator::down(&db, Some(1)).await.unwrap();
    sen_schools::migration::Migrator::up(&db, None).await.unwrap();
    let stored = |id: i64| {
        let db = db.clone();
        async move {
            sen_schools::entity::senco_appointment::Entity::find_by_id(i32::try_from(id).unwrap())
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .award_deadline
        }
    };
    assert_eq!(stored(after).await, Some(d(2027, 9, 1)));
    assert_eq!(stored(before).await, None);
    let report = w.store.compliance(&w.manager("886"), d(2027, 9, 2), 90).await.unwrap();
    assert_eq!(report.awards_overdue.iter().map(|i| i.school.urn.get()).collect::<Vec<_>>(), [100001]);
}

async fn an_import_creates_then_updates_and_a_dry_run_writes_nothing(engine: Engine) {
    let w = World::new(engine).await;
    let header = "URN,LA (code),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),TypeOfEstablishment (name),EstablishmentTypeGroup (name),EstablishmentStatus (code),OpenDate,CloseDate,PhaseOfEducation (code),StatutoryLowAge,StatutoryHighAge,NumberOfPupils,Postcode";
    let csv = |name: &str| {
        format!(
            "{header}\n100001,886,2001,{name},1,Community school,G,1,,,2,4,11,100,NG1 5DT\n100002,886,2002,Second,1,Community school,G,1,,,2,4,11,,\n100003,887,2001,Elsewhere,1,Community school,G,1,,,2,4,11,,\n"
        )
    };
    let tenant = w.manager("886");
    let scope = Scope::Tenant(tenant.clone());
    let extract = gias::read_extract(csv("First").as_bytes(), la("886")).unwrap();
    let dry = w.store.import_schools(&tenant, &extract.rows, true).await.unwrap();
    assert_eq!(dry.created, 2);
    assert!(urns(&w, &scope, &filter(d(2026, 1, 1))).await.is_empty(), "a dry run writes nothing");
    let counts = w.store.import_schools(&tenant, &extract.rows, false).await.unwrap();
    assert_eq!((counts.created, counts.updated, counts.unchanged), (2, 0, 0));
    let extract = gias::read_extract(csv("Renamed").as_bytes(), la("886")).unwrap();
    let counts = w.store.import_schools(&tenant, &extract.rows, false).await.unwrap();
    assert_eq!((counts.created, counts.updated, counts.unchanged), (0, 1, 1));
    let school = w.store.get_school(&scope, urn(100001)).await.unwrap();
    assert_eq!((school.fields.name.as_str(), school.version), ("Renamed", 2));
    assert!(urns(&w, &w.scope(Role::LaManager, "887", None), &filter(d(2026, 1, 1))).await.is_empty());
}

sen_platform::on_both_engines!(
    another_authority_never_sees_a_school,
    a_senco_sees_only_their_own_school,
    a_stale_version_is_refused_and_changes_nothing,
    one_current_senco_per_school_with_history_kept,
    two_managers_appointing_at_once_cannot_both_succeed,
    an_award_update_with_a_stale_version_is_refused,
    filters_narrow_the_list_and_pages_are_stable,
    compliance_finds_missing_sencos_and_awards_due,
    a_closed_school_leaves_senco_compliance_and_takes_no_new_senco,
    an_import_creates_then_updates_and_a_dry_run_writes_nothing,
    a_nasenco_does_not_qualify_a_senco_appointed_from_1_september_2024,
    a_senco_appointed_on_29_february_after_the_change_is_overdue_from_1_march,
    upgrading_gives_an_earlier_nasenco_record_its_npq_deadline,
);
