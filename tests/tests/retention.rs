//! Erasure at the end of the retention period across the services, over real
//! gRPC with real databases on both engines: a pupil a day past their
//! authority's period is erased everywhere and one on their last day is kept;
//! the dry run lists without writing; an erasure the referrals service could not
//! take part in stays begun and the next pass finishes it with nothing done
//! twice; another authority's pupils are untouched; erased records cannot be
//! read through any service afterwards; no case is allocated for a pupil whose
//! erasure has begun.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sen_caseloads::peers::Peers;
use sen_caseloads::retention::Eraser;
use sen_platform::identity::{Grant, Role, ServiceIdentity};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::testing::{Engine, TestDatabase};
use sen_proto::v1 as pb;
use sen_pupils::domain::{NeedCode, PupilDetails, RetentionPolicy, SenRecord, SenStatus, Upn};
use sen_tests::platform::{Options, Stores, TestPlatform, today};
use tonic::Code;
use tonic::transport::Endpoint;

struct World {
    platform: TestPlatform,
    pupils: sen_pupils::Store,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("a date")
}

impl World {
    async fn start(engine: Engine) -> Self {
        let mut databases = Vec::new();
        let url = || async {
            let db = TestDatabase::create(engine).await.expect("a database");
            let url = db.url.clone();
            (db, url)
        };
        let (db, schools_url) = url().await;
        databases.push(db);
        let (db, pupils_url) = url().await;
        databases.push(db);
        let (db, referrals_url) = url().await;
        databases.push(db);
        let (db, caseloads_url) = url().await;
        databases.push(db);
        let schools = sen_schools::Store::connect(&schools_url, &Default::default()).await.expect("schools");
        for (code, name) in [("886", "Kent"), ("887", "Medway")] {
            schools.create_authority(LaCode::parse(code).expect("LA"), name).await.expect("authority");
        }
        let pupils = sen_pupils::Store::connect(&pupils_url, &Default::default()).await.expect("pupils");
        let stores = Stores {
            schools,
            pupils: pupils.clone(),
            referrals: sen_referrals::Store::connect(&referrals_url, &Default::default()).await.expect("referrals"),
            caseloads: sen_caseloads::Store::connect(&caseloads_url, &Default::default()).await.expect("caseloads"),
        };
        let platform = TestPlatform::over(stores, databases, Options::default()).await.expect("the platform");
        platform.school_886(100001, "2001", pb::Phase::Secondary, (11, 18), 900).await;
        Self { platform, pupils }
    }

    /// A pupil born on `born` at school 100001 of 886 (or a school of 887), added
    /// straight to the register: the API takes no one older than 25.
    async fn pupil(&self, tenant: &str, serial: u32, born: NaiveDate) -> i64 {
        let urn = if tenant == "886" { 100001 } else { 100002 };
        let grant = Grant {
            person: "test-officer".into(),
            role: Role::CaseOfficer,
            tenant: LaCode::parse(tenant).ok(),
            school: None,
        };
        let token = self.platform.issuer.signer.mint(&grant, Duration::from_secs(60)).expect("token");
        let who = self.platform.issuer.verifier.verify(&token).expect("identity");
        let details = PupilDetails {
            upn: Upn::from_body(&format!("{tenant}199025{serial:03}")).expect("upn"),
            legal_forename: "Ada".into(),
            legal_surname: "Byron".into(),
            preferred_forename: None,
            preferred_surname: None,
            date_of_birth: born,
            school_urn: Urn::parse(&urn.to_string()).expect("urn"),
            nc_year_override: None,
            looked_after: false,
        };
        let sen = SenRecord {
            status: SenStatus::SenSupport,
            primary: Some(NeedCode::parse("SPLD").unwrap()),
            secondary: None,
        };
        let pupil = self
            .pupils
            .create_pupil(&who.scope().expect("scope"), &who.actor(), &details, &sen, None, d(2026, 11, 24))
            .await
            .expect("the pupil");
        pupil.id
    }

    /// The retention pass as the caseloads service runs it, reaching the
    /// referrals service at `referrals` (the platform's own port unless a test
    /// breaks it).
    fn eraser(&self, referrals: Option<&str>) -> Eraser {
        let own = Endpoint::from_shared(format!("http://{}", self.platform.addr)).expect("url").connect_lazy();
        let referrals = match referrals {
            Some(url) => Endpoint::from_shared(url.to_owned())
                .expect("url")
                .connect_timeout(Duration::from_secs(2))
                .timeout(Duration::from_secs(2))
                .connect_lazy(),
            None => own.clone(),
        };
        let peers = Peers {
            schools: own.clone(),
            pupils: own,
            referrals,
            identity: ServiceIdentity::new(self.platform.issuer.signer.clone(), sen_caseloads::PART),
        };
        Eraser::new(self.platform.caseloads_store.clone(), peers).expect("the pass")
    }

    /// An EP with one case: the referral of `pupil` allocated to them.
    async fn allocated_case(&self, pupil: i64, key: &str) -> (i64, i64) {
        let request = self.allocation(pupil, key).await;
        let referral = request.referral_id;
        let mut manager = self.platform.caseloads(Role::LaManager, Some("886")).await;
        let case = manager.allocate_case(request).await.expect("allocated").into_inner();
        (referral, case.id)
    }

    /// The allocation of `pupil`'s accepted referral to a new EP, as a manager asks for it.
    async fn allocation(&self, pupil: i64, key: &str) -> pb::AllocateCaseRequest {
        let referral = self.platform.accepted_referral_886(pupil, "educational_psychology", key).await;
        let mut manager = self.platform.caseloads(Role::LaManager, Some("886")).await;
        let fields = pb::ProfessionalFields {
            person: format!("ep-{key}"),
            name: "Dr Jones".into(),
            role: "educational_psychologist:senior".into(),
            fte: 1.0,
            capacity_kind: "open_cases".into(),
            capacity: 10,
            active: true,
        };
        let professional = manager
            .create_professional(pb::CreateProfessionalRequest { professional: Some(fields) })
            .await
            .expect("professional")
            .into_inner()
            .id;
        pb::AllocateCaseRequest {
            referral_id: referral,
            professional_id: professional,
            idempotency_key: key.into(),
            override_reason: String::new(),
        }
    }

    async fn pupil_is_readable(&self, tenant: &str, id: i64) -> bool {
        let mut officer = self.platform.pupils(Role::CaseOfficer, Some(tenant), None).await;
        match officer.get_pupil(pb::GetPupilRequest { id }).await {
            Ok(_) => true,
            Err(status) if status.code() == Code::NotFound => false,
            Err(status) => panic!("reading pupil {id}: {status:?}"),
        }
    }

    async fn erasure_audits(&self, pupil: i64) -> Vec<pb::AuditEvent> {
        let mut manager = self.platform.pupils(Role::LaManager, Some("886"), None).await;
        // The whole trail: a filter on an erased pupil would find no pupil to filter on.
        let request = pb::ListAuditEventsRequest {
            page: Some(pb::PageRequest { page_size: 500, page_token: String::new() }),
            ..Default::default()
        };
        let events = manager.list_audit_events(request).await.expect("the audit trail").into_inner().events;
        events.into_iter().filter(|e| e.pupil_id == pupil && e.action == sen_pupils::store::ERASED).collect()
    }
}

fn tenant(code: &str) -> Option<LaCode> {
    LaCode::parse(code).ok()
}

async fn a_pupil_a_day_past_retention_is_erased_everywhere_and_one_on_their_last_day_is_kept(engine: Engine) {
    let world = World::start(engine).await;
    // The platform's today is 24 November 2026: records end 31 years after birth.
    let past = world.pupil("886", 1, d(1995, 11, 23)).await;
    let last_day = world.pupil("886", 2, d(1995, 11, 24)).await;
    let (referral, case) = world.allocated_case(past, "k1").await;

    let report = world.eraser(None).pass(tenant("886")).await.expect("a pass");
    assert_eq!(report.erased, vec![("886".to_owned(), past)]);
    assert!(report.left_pending.is_empty());

    assert!(!world.pupil_is_readable("886", past).await, "the erased pupil is gone");
    assert!(world.pupil_is_readable("886", last_day).await, "the pupil on their last day is kept");
    let mut officer = world.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    let read = officer.get_referral(pb::GetReferralRequest { id: referral, as_of: None }).await;
    assert_eq!(read.map(|_| ()).unwrap_err().code(), Code::NotFound, "the referral is gone");
    let timeline = officer.get_referral_timeline(pb::GetReferralTimelineRequest { id: referral }).await;
    assert!(timeline.map(|t| t.into_inner().entries.is_empty()).unwrap_or(true), "its timeline is gone");
    let mut manager = world.platform.caseloads(Role::LaManager, Some("886")).await;
    let read = manager.get_case(pb::GetCaseRequest { case_id: case }).await;
    assert_eq!(read.map(|_| ()).unwrap_err().code(), Code::NotFound, "the case is gone");

    let audits = world.erasure_audits(past).await;
    assert_eq!(audits.len(), 1, "one erasure, audited once: {audits:?}");
    assert_eq!(audits[0].person, sen_pupils::store::RETENTION_ACTOR);
    assert!(world.erasure_audits(last_day).await.is_empty());

    let again = world.eraser(None).pass(tenant("886")).await.expect("a second pass");
    assert!(again.erased.is_empty() && again.left_pending.is_empty(), "nothing left: {again:?}");
}

async fn the_dry_run_lists_without_writing(engine: Engine) {
    let world = World::start(engine).await;
    let past = world.pupil("886", 1, d(1990, 1, 1)).await;
    world.pupil("886", 2, d(2001, 1, 1)).await;
    let eraser = world.eraser(None);
    assert_eq!(eraser.dry_run(tenant("886")).await.expect("dry run"), vec![("886".to_owned(), past)]);
    assert_eq!(eraser.dry_run(tenant("886")).await.expect("again"), vec![("886".to_owned(), past)]);
    assert!(world.pupil_is_readable("886", past).await, "a dry run erases nothing");
    assert!(world.erasure_audits(past).await.is_empty(), "nor audits an erasure");
    // Nothing was marked either: the pass finds the pupil as new.
    let report = eraser.pass(tenant("886")).await.expect("a pass");
    assert_eq!(report.erased, vec![("886".to_owned(), past)]);
}

async fn an_erasure_the_referrals_service_missed_is_finished_by_the_next_pass(engine: Engine) {
    let world = World::start(engine).await;
    let past = world.pupil("886", 1, d(1990, 1, 1)).await;
    let (referral, _) = world.allocated_case(past, "k1").await;
    // A port where nothing answers: the referrals service is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);

    // A short lease, so the test waits seconds for it to run out, not a minute.
    let lease = Duration::from_secs(4);
    let report = world.eraser(Some(&dead)).with_lease(lease).pass(tenant("886")).await.expect("a pass");
    assert_eq!(report.left_pending, vec![("886".to_owned(), past)]);
    assert!(report.erased.is_empty());
    assert!(world.pupil_is_readable("886", past).await, "nothing is erased half-way");
    let mut officer = world.platform.referrals(Role::CaseOfficer, Some("886"), None).await;
    assert!(officer.get_referral(pb::GetReferralRequest { id: referral, as_of: None }).await.is_ok());
    // Another pass while the first one's claim holds leaves it alone.
    let meanwhile = world.eraser(None).pass(tenant("886")).await.expect("a pass");
    assert!(meanwhile.erased.is_empty(), "the erasure is held by the pass that took it: {meanwhile:?}");

    // Once the claim has run out, the next pass finishes it.
    let deadline = std::time::Instant::now() + lease * 5;
    let finished = loop {
        let report = world.eraser(None).pass(tenant("886")).await.expect("a pass");
        if !report.erased.is_empty() {
            break report;
        }
        assert!(std::time::Instant::now() < deadline, "the begun erasure was never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(finished.erased, vec![("886".to_owned(), past)]);
    assert!(!world.pupil_is_readable("886", past).await);
    assert_eq!(world.erasure_audits(past).await.len(), 1, "audited once");
}

async fn another_authoritys_pupils_are_untouched(engine: Engine) {
    let world = World::start(engine).await;
    world.platform.school_of("887", 100002, "2002", pb::Phase::Secondary, (11, 18), 500).await;
    let ours = world.pupil("886", 1, d(1990, 1, 1)).await;
    let theirs = world.pupil("887", 1, d(1990, 1, 1)).await;

    let report = world.eraser(None).pass(tenant("886")).await.expect("a pass");
    assert_eq!(report.erased, vec![("886".to_owned(), ours)]);
    assert!(world.pupil_is_readable("887", theirs).await, "887's pupil is kept on 886's run");
    // A pass over every authority erases 887's in turn.
    let report = world.eraser(None).pass(None).await.expect("a pass");
    assert_eq!(report.erased, vec![("887".to_owned(), theirs)]);
}

async fn no_case_is_allocated_for_a_pupil_whose_erasure_has_begun(engine: Engine) {
    let world = World::start(engine).await;
    let past = world.pupil("886", 1, d(1990, 1, 1)).await;
    // The referral was accepted before the pupil was found past retention.
    let allocation = world.allocation(past, "k1").await;
    let marked = world
        .pupils
        .mark_erasures_due(Some("886"), &RetentionPolicy::default(), today(), Utc::now())
        .await
        .expect("the erasure begun");
    assert_eq!(marked, 1);

    let mut manager = world.platform.caseloads(Role::LaManager, Some("886")).await;
    for attempt in ["first", "retry"] {
        let refused = manager.allocate_case(allocation.clone()).await.map(|_| ()).unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition, "{attempt}: {refused:?}");
        assert!(refused.message().contains("records are being erased"), "{attempt}: {}", refused.message());
    }
    let team = manager
        .list_professionals(pb::ListProfessionalsRequest::default())
        .await
        .expect("the team")
        .into_inner()
        .professionals;
    assert!(team.iter().all(|p| p.open_cases == 0), "no place is held by a case never allocated: {team:?}");

    // Asked directly, as the caseloads service would, the pupils service refuses too.
    let mut service = world.platform.pupils(Role::Service, Some("886"), None).await;
    let grant = pb::GrantCaseAccessRequest { pupil_id: past, person: "ep-k1".into(), case_ref: "CASE-9".into() };
    let refused = service.grant_case_access(grant).await.map(|_| ()).unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("records are being erased"), "{}", refused.message());

    // A pupil not due is allocated as ever, and the begun erasure is finished.
    let kept = world.pupil("886", 2, d(2001, 1, 1)).await;
    world.allocated_case(kept, "k2").await;
    let report = world.eraser(None).pass(tenant("886")).await.expect("a pass");
    assert_eq!(report.erased, vec![("886".to_owned(), past)]);
}

#[tokio::test]
async fn no_case_is_allocated_for_a_pupil_whose_erasure_has_begun_sqlite() {
    no_case_is_allocated_for_a_pupil_whose_erasure_has_begun(Engine::Sqlite).await;
}

#[tokio::test]
async fn no_case_is_allocated_for_a_pupil_whose_erasure_has_begun_postgres() {
    no_case_is_allocated_for_a_pupil_whose_erasure_has_begun(Engine::Postgres).await;
}

#[tokio::test]
async fn a_pupil_a_day_past_retention_is_erased_everywhere_and_one_on_their_last_day_is_kept_sqlite() {
    a_pupil_a_day_past_retention_is_erased_everywhere_and_one_on_their_last_day_is_kept(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_pupil_a_day_past_retention_is_erased_everywhere_and_one_on_their_last_day_is_kept_postgres() {
    a_pupil_a_day_past_retention_is_erased_everywhere_and_one_on_their_last_day_is_kept(Engine::Postgres).await;
}

#[tokio::test]
async fn the_dry_run_lists_without_writing_sqlite() {
    the_dry_run_lists_without_writing(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_dry_run_lists_without_writing_postgres() {
    the_dry_run_lists_without_writing(Engine::Postgres).await;
}

#[tokio::test]
async fn an_erasure_the_referrals_service_missed_is_finished_by_the_next_pass_sqlite() {
    an_erasure_the_referrals_service_missed_is_finished_by_the_next_pass(Engine::Sqlite).await;
}

#[tokio::test]
async fn an_erasure_the_referrals_service_missed_is_finished_by_the_next_pass_postgres() {
    an_erasure_the_referrals_service_missed_is_finished_by_the_next_pass(Engine::Postgres).await;
}

#[tokio::test]
async fn another_authoritys_pupils_are_untouched_sqlite() {
    another_authoritys_pupils_are_untouched(Engine::Sqlite).await;
}

#[tokio::test]
async fn another_authoritys_pupils_are_untouched_postgres() {
    another_authoritys_pupils_are_untouched(Engine::Postgres).await;
}
