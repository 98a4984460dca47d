//! Reads' audit entries, committed together (group commit) on both engines: every
//! read answered has its own entry committed, and a read whose entry cannot be
//! written is refused.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use futures::future::join_all;
use sea_orm::ConnectionTrait;
use sen_platform::identity::{DevIssuer, Grant, Role, Scope, TenantScope};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::paging::Page;
use sen_platform::testing::{Engine, TestDatabase};
use sen_pupils::domain::{NeedCode, PupilDetails, SenRecord, SenStatus, Upn};
use sen_pupils::entity::audit_event;
use sen_pupils::error::Error;
use sen_pupils::store::{Actor, PupilFilter, SeedPupil, Store};

struct World {
    store: Store,
    issuer: DevIssuer,
    db: TestDatabase,
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date")
}

fn pupil(serial: u32) -> SeedPupil {
    SeedPupil {
        details: PupilDetails {
            upn: Upn::from_body(&format!("88620012{serial:04}")).expect("a UPN"),
            legal_forename: "Kofi".into(),
            legal_surname: "Mensah".into(),
            preferred_forename: None,
            preferred_surname: None,
            date_of_birth: NaiveDate::from_ymd_opt(2016, 1, 1).expect("a date"),
            school_urn: Urn::parse("100001").expect("a URN"),
            nc_year_override: None,
            looked_after: false,
        },
        sen: SenRecord {
            status: SenStatus::SenSupport,
            primary: Some(NeedCode::parse("SLCN").unwrap()),
            secondary: None,
        },
        plan: None,
        cycles: Vec::new(),
        provision: Vec::new(),
    }
}

impl World {
    /// A fresh store with `pupils` on authority 886's register; their ids.
    async fn with_register(engine: Engine, pupils: u32) -> (Self, Vec<i64>) {
        let db = TestDatabase::create(engine).await.expect("a database");
        let store = Store::connect(&db.url, &Default::default()).await.expect("a store");
        let world = Self { store, issuer: DevIssuer::generate().expect("an issuer"), db };
        let register: Vec<SeedPupil> = (0..pupils).map(pupil).collect();
        let (scope, loader) = world.who("loader");
        world.store.load_register(scope.tenant(), "loader", &register, today()).await.expect("a register");
        let mut ids = Vec::new();
        let mut page = Page { size: 500, after: None };
        loop {
            let listed = world.store.list_pupils(&scope, &loader, &PupilFilter::default(), &page, today()).await;
            let (pupils, next) = listed.expect("the register");
            page.after = pupils.last().map(|p| p.id.to_string());
            ids.extend(pupils.iter().map(|p| p.id));
            if next.is_empty() {
                break (world, ids);
            }
        }
    }

    fn who(&self, person: &str) -> (Scope, Actor) {
        let grant =
            Grant { person: person.into(), role: Role::CaseOfficer, tenant: LaCode::parse("886").ok(), school: None };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).expect("a token");
        let identity = self.issuer.verifier.verify(&token).expect("a verified token");
        (identity.scope().expect("a scope"), identity.actor())
    }

    fn officer(&self, person: &str) -> (TenantScope, Actor) {
        let (scope, actor) = self.who(person);
        (scope.tenant().clone(), actor)
    }

    /// Every entry of the tenant's audit log with `action`, oldest first.
    async fn entries(&self, action: &str) -> Vec<audit_event::Model> {
        let (tenant, _) = self.officer("auditor");
        let mut found = Vec::new();
        let mut page = Page { size: 500, after: None };
        loop {
            let (events, next) = self.store.audit_events(&tenant, None, &page).await.expect("the audit log");
            // The next page starts after the last key shown (the token's content).
            page.after = events.last().map(|e| e.id.to_string());
            found.extend(events.into_iter().filter(|e| e.action == action));
            if next.is_empty() {
                break;
            }
        }
        found.reverse();
        found
    }

    /// Runs `sql` on a connection of its own, beside the store's.
    async fn alter(&self, sql: &str) {
        let admin = sen_platform::db::connect(&self.db.url, &Default::default()).await.expect("a connection");
        admin.execute_unprepared(sql).await.expect("the statement");
        admin.close().await.expect("closed");
    }
}

async fn concurrent_reads_each_have_exactly_their_own_committed_audit_entry(engine: Engine) {
    let (w, ids) = World::with_register(engine, 3).await;
    let readers: Vec<(Scope, Actor)> = (0..48).map(|i| w.who(&format!("officer-{i}"))).collect();
    let reads = readers.iter().enumerate().map(|(i, (scope, actor))| w.store.get_pupil(scope, actor, ids[i % 3]));
    for answer in join_all(reads).await {
        answer.expect("every read answered");
    }
    let entries = w.entries("pupil.read").await;
    assert_eq!(entries.len(), 48, "one entry per read, no more, no fewer");
    let mut by_person: BTreeMap<&str, Vec<Option<i32>>> = BTreeMap::new();
    for e in &entries {
        assert_eq!((e.la_code.as_str(), e.role.as_str()), ("886", "case_officer"));
        by_person.entry(e.person.as_str()).or_default().push(e.pupil_id);
    }
    for i in 0..48 {
        let own = by_person.get(format!("officer-{i}").as_str()).expect("each reader's own entry");
        assert_eq!(own, &[Some(ids[i % 3] as i32)], "officer-{i} read one pupil once");
    }
}

async fn reads_waiting_together_audit_every_pupil_each_one_showed(engine: Engine) {
    // Three lists of 500 pupils and a transfer list of 600 waiting together: more
    // entries than one INSERT carries, for one read and for one commit.
    let (w, ids) = World::with_register(engine, 600).await;
    let readers: Vec<(Scope, Actor)> = (0..4).map(|i| w.who(&format!("reader-{i}"))).collect();
    let page = Page { size: 500, after: None };
    let filter = PupilFilter::default();
    let lists = readers[..3].iter().map(|(scope, actor)| w.store.list_pupils(scope, actor, &filter, &page, today()));
    let (scope, actor) = &readers[3];
    let transfers = w.store.audit_reads(scope, actor, &ids, "ehcp.transitions_list");
    let (lists, transfers) = tokio::join!(join_all(lists), transfers);
    transfers.expect("the transfer list answered");
    for answer in lists {
        assert_eq!(answer.expect("every list answered").0.len(), 500);
    }
    let named = |entries: &[audit_event::Model], person: &str| {
        let mut seen: Vec<i64> =
            entries.iter().filter(|e| e.person == person).filter_map(|e| e.pupil_id.map(i64::from)).collect();
        seen.sort_unstable();
        seen
    };
    let listed = w.entries("pupil.list").await;
    for i in 0..3 {
        assert_eq!(named(&listed, &format!("reader-{i}")), ids[..500], "reader-{i} has an entry per pupil shown");
    }
    assert_eq!(named(&w.entries("ehcp.transitions_list").await, "reader-3"), ids);
}

async fn a_read_whose_audit_entry_cannot_be_written_is_refused(engine: Engine) {
    let (w, ids) = World::with_register(engine, 1).await;
    let (scope, actor) = w.who("officer");
    w.store.get_pupil(&scope, &actor, ids[0]).await.expect("a read while the log is writable");
    w.alter("ALTER TABLE audit_events RENAME TO audit_events_away").await;
    let refused = join_all((0..4).map(|_| w.store.get_pupil(&scope, &actor, ids[0]))).await;
    for answer in refused {
        assert!(matches!(answer, Err(Error::Database(_))), "no answer without an audit entry: {answer:?}");
    }
    w.alter("ALTER TABLE audit_events_away RENAME TO audit_events").await;
    w.store.get_pupil(&scope, &actor, ids[0]).await.expect("a read once the log is writable again");
    assert_eq!(w.entries("pupil.read").await.len(), 2, "only the answered reads are in the log");
}

sen_platform::on_both_engines!(
    concurrent_reads_each_have_exactly_their_own_committed_audit_entry,
    reads_waiting_together_audit_every_pupil_each_one_showed,
    a_read_whose_audit_entry_cannot_be_written_is_refused,
);
