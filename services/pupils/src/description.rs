//! The pupils service as the platform describes every service: its part name,
//! its migrations, its routes, and the schools service it asks about schools.

use sen_platform::config::PoolConfig;
use sen_platform::demo::{DemoBook, DemoPupil};
use sen_platform::identity::{Actor, Role};
use sen_platform::service::{PlatformService, ServiceInfo, Wiring};
use tonic::service::Routes;

use crate::schools::Schools;
use crate::{PART, PupilsApi, SERVICE_NAME, Store};

/// The pupils service.
#[derive(Clone, Copy, Debug, Default)]
pub struct Description;

/// Its names, address and peers.
const INFO: ServiceInfo = ServiceInfo {
    part: PART,
    grpc_name: SERVICE_NAME,
    url_variable: "SEN_PUPILS_URL",
    about: "The SEN register, support, EHCPs, reviews and transfers.",
    peers: &["schools"],
};

#[tonic::async_trait]
impl PlatformService for Description {
    fn info(&self) -> &'static ServiceInfo {
        &INFO
    }

    async fn migrate(&self, database_url: &str, pool: &PoolConfig) -> anyhow::Result<()> {
        // Connecting runs the migrations.
        Store::connect(database_url, pool).await.map(drop)
    }

    async fn add_routes(&self, routes: Routes, wiring: &Wiring<'_>) -> anyhow::Result<Routes> {
        let store = Store::connect(&wiring.database_url, &wiring.config.pool).await?;
        let schools = Schools::new(wiring.peer("schools")?);
        let retention = crate::retention::Retention {
            policy: crate::retention::settings::from_env()?,
            metrics: std::sync::Arc::new(crate::retention::metrics::RetentionMetrics::registered_in(&wiring.metrics)),
        };
        let api = PupilsApi::with_clock(store, schools, wiring.clock.clone()).with_retention(retention);
        api.refusals().register_in(&wiring.metrics);
        Ok(routes.add_service(crate::service(api, wiring.verifier)))
    }

    async fn load_demo(&self, wiring: &Wiring<'_>, book: &mut DemoBook) -> anyhow::Result<()> {
        let store = Store::connect(&wiring.database_url, &wiring.config.pool).await?;
        let schools: Vec<_> = book.schools.iter().filter(|s| s.open).map(crate::demo::DemoSchool::from_book).collect();
        if book.load && crate::demo::seed_if_empty(&store, book.issuer(), &schools, book.today).await? {
            tracing::info!("loaded the demo register: pupils of every demo school");
        }
        for (tenant, _) in book.authorities.clone() {
            let register = store.register_index(&book.loader_scope(tenant)?).await?;
            let pupils =
                register.into_iter().map(|(id, school_urn, sen_status)| DemoPupil { id, school_urn, sen_status });
            book.registers.insert(tenant, pupils.collect());
        }
        Ok(())
    }

    /// Opens each demo case's professional's access to its pupil, as the caseloads
    /// service does when it allocates a case.
    async fn finish_demo(&self, wiring: &Wiring<'_>, book: &DemoBook) -> anyhow::Result<()> {
        if book.grants.values().all(Vec::is_empty) {
            return Ok(());
        }
        let store = Store::connect(&wiring.database_url, &wiring.config.pool).await?;
        let actor = Actor { person: "caseloads".into(), role: Role::Service, trace_id: None };
        for (tenant, grants) in &book.grants {
            let scope = book.loader_scope(tenant)?;
            for grant in grants {
                store.grant_case_access(&scope, &actor, grant.pupil_id, &grant.person, &grant.case_ref).await?;
            }
        }
        Ok(())
    }
}
