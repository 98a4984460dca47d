//! `TestPlatform`: the schools and pupils services as users run them, on one real
//! tonic server on an ephemeral loopback port (as in the embedded mode) over fresh
//! databases, with identities minted for any role and tenant and typed clients
//! that carry them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use sen_platform::identity::{AttachIdentity, DevIssuer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::serve::{ServeOptions, serve};
use sen_platform::testing::{Engine, TestDatabase};
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use sen_schools::{SchoolsApi, Store};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

/// A schools client speaking as one identity.
pub type SchoolsClient = SchoolsServiceClient<InterceptedService<Channel, AttachIdentity>>;
/// A pupils client speaking as one identity.
pub type PupilsClient = PupilsServiceClient<InterceptedService<Channel, AttachIdentity>>;
/// A caseloads client speaking as one identity.
pub type CaseloadsClient =
    sen_proto::v1::caseloads_service_client::CaseloadsServiceClient<InterceptedService<Channel, AttachIdentity>>;
/// A referrals client speaking as one identity.
pub type ReferralsClient = ReferralsServiceClient<InterceptedService<Channel, AttachIdentity>>;

/// The day the test platform believes it is.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default()
}

/// A running schools service.
pub struct TestPlatform {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The issuer whose tokens it trusts.
    pub issuer: DevIssuer,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    databases: Vec<TestDatabase>,
    /// The caseloads service's store, to build a second caseloads service over
    /// the same data (for failure tests).
    pub caseloads_store: sen_caseloads::Store,
    /// The referrals service's store, likewise.
    pub referrals_store: sen_referrals::Store,
}

/// The four services' stores a platform runs over.
pub struct Stores {
    /// The schools service's.
    pub schools: Store,
    /// The pupils service's.
    pub pupils: sen_pupils::Store,
    /// The referrals service's.
    pub referrals: sen_referrals::Store,
    /// The caseloads service's.
    pub caseloads: sen_caseloads::Store,
}

/// Starting options.
#[derive(Default)]
pub struct Options {
    /// TLS for the port.
    pub tls: Option<sen_platform::tls::ServerTls>,
    /// Time in-flight calls get after the stop signal.
    pub shutdown_grace: Option<Duration>,
    /// Changes a referrals watcher may fall behind by.
    pub watch_buffer: Option<usize>,
    /// How many refusals the services record one by one (their default otherwise).
    pub refusal_limits: Option<sen_platform::audit::RefusalLimits>,
}

/// The fields of an open community primary school of `tenant` named `name`
/// (ages 4 to 11, 300 on roll), as its manager would enter them.
pub fn primary_school(tenant: &str, estab: &str, name: &str) -> sen_proto::v1::SchoolFields {
    use sen_proto::v1 as pb;
    pb::SchoolFields {
        laestab: format!("{tenant}{estab}"),
        name: name.into(),
        establishment_type_code: 1,
        phase: pb::Phase::Primary as i32,
        statutory_low_age: Some(4),
        statutory_high_age: Some(11),
        number_on_roll: Some(300),
        postcode: "CT1 1AA".into(),
        status: pb::EstablishmentStatus::Open as i32,
        open_date: None,
        close_date: None,
    }
}

impl TestPlatform {
    /// Starts the service on `engine` with authorities 886 and 887 registered.
    pub async fn start(engine: Engine) -> anyhow::Result<Self> {
        Self::start_with(engine, Options::default()).await
    }

    /// Starts with options.
    pub async fn start_with(engine: Engine, options: Options) -> anyhow::Result<Self> {
        let db = TestDatabase::for_service(engine).await?;
        let store = Store::connect(&db.url, &Default::default()).await?;
        let pupils_db = TestDatabase::for_service(engine).await?;
        let pupils = sen_pupils::Store::connect(&pupils_db.url, &Default::default()).await?;
        let referrals_db = TestDatabase::for_service(engine).await?;
        let referrals = sen_referrals::Store::connect(&referrals_db.url, &Default::default()).await?;
        let caseloads_db = TestDatabase::for_service(engine).await?;
        let caseloads = sen_caseloads::Store::connect(&caseloads_db.url, &Default::default()).await?;
        for (code, name) in [("886", "Kent"), ("887", "Medway")] {
            store.create_authority(LaCode::parse(code).map_err(anyhow::Error::msg)?, name).await?;
        }
        let stores = Stores { schools: store, pupils, referrals, caseloads };
        Self::over(stores, vec![db, pupils_db, referrals_db, caseloads_db], options).await
    }

    /// Starts the services over `stores`, whatever their databases hold (a
    /// generated dataset, say); `databases` live as long as the platform.
    pub async fn over(stores: Stores, databases: Vec<TestDatabase>, options: Options) -> anyhow::Result<Self> {
        let Stores { schools: store, pupils, referrals, caseloads: caseloads_store } = stores;
        let issuer = DevIssuer::generate().map_err(anyhow::Error::msg)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let scheme = if options.tls.is_some() { "https" } else { "http" };
        // The services reach each other through the same port, as in the embedded mode.
        let own = Endpoint::from_shared(format!("{scheme}://{addr}"))?.connect_lazy();
        let schools = sen_pupils::schools::Schools::new(own.clone());
        let peers = sen_caseloads::peers::Peers {
            schools: own.clone(),
            pupils: own.clone(),
            referrals: own.clone(),
            identity: sen_platform::identity::ServiceIdentity::new(issuer.signer.clone(), sen_caseloads::PART),
        };
        let pupils_client = sen_referrals::pupils::Pupils::new(own)
            .acting_as(sen_platform::identity::ServiceIdentity::new(issuer.signer.clone(), sen_referrals::PART));
        let limits = options.refusal_limits.unwrap_or_default();
        let schools_refusals = sen_platform::audit::RefusalTrail::new(sen_schools::PART, None, limits);
        let routes = tonic::service::Routes::new(sen_schools::service(
            SchoolsApi::with_clock(store, Arc::new(today)),
            &issuer.verifier,
            schools_refusals,
        ))
        .add_service(sen_pupils::service(
            sen_pupils::PupilsApi::with_clock(pupils, schools, Arc::new(today)).with_refusal_limits(limits),
            &issuer.verifier,
        ))
        .add_service(sen_caseloads::service(
            sen_caseloads::CaseloadsApi::with_clock(caseloads_store.clone(), peers, Arc::new(today))
                .with_refusal_limits(limits),
            &issuer.verifier,
        ))
        .add_service(sen_referrals::service(
            sen_referrals::ReferralsApi::with_clock(referrals.clone(), pupils_client, Arc::new(today))
                .with_watch_buffer(options.watch_buffer.unwrap_or(1024))
                .with_refusal_limits(limits),
            &issuer.verifier,
        ));
        let (stop, stopped) = oneshot::channel::<()>();
        let serve_options = ServeOptions {
            tls: options.tls,
            shutdown_grace: options.shutdown_grace.unwrap_or(Duration::from_secs(5)),
            admin: None,
            metrics: Default::default(),
        };
        let server = tokio::spawn(async move {
            let names = [
                sen_schools::SERVICE_NAME,
                sen_pupils::SERVICE_NAME,
                sen_referrals::SERVICE_NAME,
                sen_caseloads::SERVICE_NAME,
            ];
            serve(listener, routes, &names, serve_options, async {
                let _ = stopped.await;
            })
            .await
        });
        Ok(Self {
            addr,
            issuer,
            stop: Some(stop),
            server: Some(server),
            databases,
            caseloads_store,
            referrals_store: referrals,
        })
    }

    /// A token for `role` in `tenant` (and `school`, for SENCOs).
    pub fn token(&self, role: Role, tenant: Option<&str>, school: Option<u32>) -> String {
        let grant = Grant {
            person: format!("test-{role}"),
            role,
            tenant: tenant.and_then(|t| LaCode::parse(t).ok()),
            school: school.and_then(|u| Urn::parse(&u.to_string()).ok()),
        };
        self.issuer.signer.mint(&grant, Duration::from_secs(300)).unwrap_or_default()
    }

    /// A plaintext channel to the service.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(format!("http://{}", self.addr))?.connect().await?)
    }

    /// A schools client sending `token`.
    pub async fn client_with_token(&self, token: &str) -> anyhow::Result<SchoolsClient> {
        let attach = AttachIdentity::new(token).map_err(anyhow::Error::msg)?;
        Ok(SchoolsServiceClient::with_interceptor(self.channel().await?, attach))
    }

    /// A schools client for `role` in `tenant` (and `school`).
    pub async fn client(&self, role: Role, tenant: Option<&str>, school: Option<u32>) -> SchoolsClient {
        match self.client_with_token(&self.token(role, tenant, school)).await {
            Ok(client) => client,
            Err(e) => panic!("cannot reach the test platform: {e}"),
        }
    }

    /// A pupils client for `role` in `tenant` (and `school`).
    pub async fn pupils(&self, role: Role, tenant: Option<&str>, school: Option<u32>) -> PupilsClient {
        self.pupils_as(&self.token(role, tenant, school)).await
    }

    /// A pupils client for a specific person (professionals' grants are per person).
    pub async fn pupils_as(&self, token: &str) -> PupilsClient {
        match (self.channel().await, AttachIdentity::new(token)) {
            (Ok(channel), Ok(attach)) => PupilsServiceClient::with_interceptor(channel, attach),
            _ => panic!("cannot reach the test platform"),
        }
    }

    /// A referrals client for `role` in `tenant` (and `school`).
    pub async fn referrals(&self, role: Role, tenant: Option<&str>, school: Option<u32>) -> ReferralsClient {
        self.referrals_as(&self.token(role, tenant, school)).await
    }

    /// A referrals client for a specific token.
    pub async fn referrals_as(&self, token: &str) -> ReferralsClient {
        match (self.channel().await, AttachIdentity::new(token)) {
            (Ok(channel), Ok(attach)) => ReferralsServiceClient::with_interceptor(channel, attach),
            _ => panic!("cannot reach the test platform"),
        }
    }

    /// A caseloads client for a specific token.
    pub async fn caseloads_as(&self, token: &str) -> CaseloadsClient {
        match (self.channel().await, AttachIdentity::new(token)) {
            (Ok(channel), Ok(attach)) => {
                sen_proto::v1::caseloads_service_client::CaseloadsServiceClient::with_interceptor(channel, attach)
            }
            _ => panic!("cannot reach the test platform"),
        }
    }

    /// A caseloads client for `role` in `tenant` (and `school`, for the policy tables).
    pub async fn caseloads_for(&self, role: Role, tenant: Option<&str>, school: Option<u32>) -> CaseloadsClient {
        self.caseloads_as(&self.token(role, tenant, school)).await
    }

    /// A caseloads client for `role` in `tenant`.
    pub async fn caseloads(&self, role: Role, tenant: Option<&str>) -> CaseloadsClient {
        self.caseloads_as(&self.token(role, tenant, None)).await
    }

    /// A token for a named person in `role`.
    pub fn token_for(&self, person: &str, role: Role, tenant: &str) -> String {
        let grant = Grant { person: person.into(), role, tenant: LaCode::parse(tenant).ok(), school: None };
        self.issuer.signer.mint(&grant, Duration::from_secs(300)).unwrap_or_default()
    }

    /// Adds an open community school of authority 886, as its manager would.
    pub async fn school_886(&self, urn: u32, estab: &str, phase: sen_proto::v1::Phase, ages: (u32, u32), roll: u32) {
        self.school_of("886", urn, estab, phase, ages, roll).await;
    }

    /// Adds an open community school of `tenant`, as its manager would.
    pub async fn school_of(
        &self,
        tenant: &str,
        urn: u32,
        estab: &str,
        phase: sen_proto::v1::Phase,
        ages: (u32, u32),
        roll: u32,
    ) {
        use sen_proto::v1 as pb;
        let fields = pb::SchoolFields {
            laestab: format!("{tenant}{estab}"),
            name: format!("School {estab}"),
            establishment_type_code: 1,
            phase: phase as i32,
            statutory_low_age: Some(ages.0),
            statutory_high_age: Some(ages.1),
            number_on_roll: Some(roll),
            postcode: "CT1 1AA".into(),
            status: pb::EstablishmentStatus::Open as i32,
            open_date: None,
            close_date: None,
        };
        let request = pb::CreateSchoolRequest { urn: urn.to_string(), school: Some(fields) };
        if let Err(status) = self.manager(tenant).await.create_school(request).await {
            panic!("the school could not be created: {status:?}");
        }
    }

    /// Adds a pupil on SEN support (speech, language and communication) born
    /// 2 February 2017 to school `urn` of `tenant`, as a case officer would; the
    /// UPN is made from the tenant and `serial`. Returns the pupil's id.
    pub async fn pupil_on_support(&self, tenant: &str, serial: u32, urn: u32, name: (&str, &str)) -> i64 {
        use sen_proto::v1 as pb;
        let upn = match sen_pupils::domain::Upn::from_body(&format!("{tenant}200125{serial:03}")) {
            Ok(upn) => upn,
            Err(e) => panic!("no UPN for serial {serial}: {e}"),
        };
        let fields = pb::PupilFields {
            upn: upn.as_str().into(),
            legal_forename: name.0.into(),
            legal_surname: name.1.into(),
            date_of_birth: Some(pb::Date { year: 2017, month: 2, day: 2 }),
            school_urn: urn.to_string(),
            ..Default::default()
        };
        let request = pb::CreatePupilRequest {
            pupil: Some(fields),
            sen_status: pb::SenProvision::SenSupport as i32,
            primary_need_code: "SLCN".into(),
            ..Default::default()
        };
        match self.pupils(Role::CaseOfficer, Some(tenant), None).await.create_pupil(request).await {
            Ok(pupil) => pupil.into_inner().id,
            Err(status) => panic!("the pupil could not be added: {status:?}"),
        }
    }

    /// A referral of `kind` for `pupil` of school 100001 of authority 886, sent by
    /// its SENCO with consent and accepted by a case officer; returns its id.
    pub async fn accepted_referral_886(&self, pupil: i64, kind: &str, key: &str) -> i64 {
        use sen_proto::v1 as pb;
        let mut senco = self.referrals(Role::Senco, Some("886"), Some(100001)).await;
        let body = pb::ReferralBody {
            pupil_id: pupil,
            school_urn: "100001".into(),
            kind: kind.into(),
            broad_areas: vec!["cognition_and_learning".into()],
            concern: "Reading age three years behind".into(),
            graduated_approach: Some(pb::GraduatedApproach {
                summary: "Two cycles of phonics".into(),
                ..Default::default()
            }),
            consent: Some(pb::ParentalConsent {
                given_by: "Mother".into(),
                given_on: Some(pb::Date { year: 2026, month: 11, day: 1 }),
                method: "email".into(),
            }),
            priority: "routine".into(),
        };
        // Tests may refer one pupil for one kind several times on purpose.
        let request =
            pb::SubmitReferralRequest { referral: Some(body), idempotency_key: key.into(), confirm_duplicate: true };
        let referral = match senco.submit_referral(request).await {
            Ok(referral) => referral.into_inner(),
            Err(status) => panic!("the referral could not be sent: {status:?}"),
        };
        let mut officer = self.referrals(Role::CaseOfficer, Some("886"), None).await;
        let accept = pb::ChangeReferralStatusRequest {
            id: referral.id,
            version: referral.version,
            event: pb::ReferralEvent::Accept as i32,
            note: String::new(),
        };
        if let Err(status) = officer.change_referral_status(accept).await {
            panic!("the referral could not be accepted: {status:?}");
        }
        referral.id
    }

    /// The URLs of the databases it runs over: the schools, pupils, referrals
    /// and caseloads services' when it made them itself ([`Self::start_with`]).
    pub fn database_urls(&self) -> Vec<String> {
        self.databases.iter().map(|db| db.url.clone()).collect()
    }

    /// A council manager of `tenant`.
    pub async fn manager(&self, tenant: &str) -> SchoolsClient {
        self.client(Role::LaManager, Some(tenant), None).await
    }

    /// Sends the stop signal (SIGTERM's equivalent) without waiting.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.signal_stop();
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

/// Creates an educational psychologist "Dr {person}" of `grade` (`senior`,
/// `main_grade`, …) with room for `cases` open cases, full time, through
/// `client`; answers their professional id.
pub async fn create_ep(client: &mut CaseloadsClient, person: &str, grade: &str, cases: u32) -> i64 {
    use sen_proto::v1 as pb;
    let fields = pb::ProfessionalFields {
        person: person.into(),
        name: format!("Dr {person}"),
        role: format!("educational_psychologist:{grade}"),
        fte: 1.0,
        capacity_kind: "open_cases".into(),
        capacity: cases,
        active: true,
    };
    let request = pb::CreateProfessionalRequest { professional: Some(fields) };
    client.create_professional(request).await.expect("the professional is created").into_inner().id
}

/// Four fresh PostgreSQL databases, one per service, for `sen generate` to fill
/// (dropped with the first half of the pair).
pub async fn generate_targets() -> (Vec<TestDatabase>, sen_cli::generate::Targets) {
    let mut databases = Vec::new();
    for _ in 0..4 {
        databases.push(TestDatabase::create(Engine::Postgres).await.expect("database"));
    }
    let targets = sen_cli::generate::Targets {
        schools: databases[0].url.clone(),
        pupils: databases[1].url.clone(),
        referrals: databases[2].url.clone(),
        caseloads: databases[3].url.clone(),
    };
    (databases, targets)
}
