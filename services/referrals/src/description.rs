//! The referrals service as the platform describes every service: its part name,
//! its migrations, its routes, and the pupils service it asks about pupils.

use sen_platform::config::PoolConfig;
use sen_platform::demo::{DemoAllocation, DemoBook};
use sen_platform::service::{PlatformService, ServiceInfo, Wiring};
use tonic::service::Routes;

use crate::pupils::Pupils;
use crate::{PART, ReferralsApi, SERVICE_NAME, Store};

/// The referrals service.
#[derive(Clone, Copy, Debug, Default)]
pub struct Description;

/// Its names, address and peers.
const INFO: ServiceInfo = ServiceInfo {
    part: PART,
    grpc_name: SERVICE_NAME,
    url_variable: "SEN_REFERRALS_URL",
    about: "Referrals and the EHC needs assessment statutory clock.",
    peers: &["pupils"],
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
        let mut pupils = Pupils::new(wiring.peer("pupils")?);
        // The register's side of a final plan is recorded as this service itself
        // (`crate::plan_issue`); without a key of its own it stays pending, said here once.
        match wiring.service_identity(PART) {
            Ok(identity) => pupils = pupils.acting_as(identity),
            Err(e) => tracing::warn!(
                error = %e,
                "the referrals service has no identity of its own: final plans' register changes will stay pending"
            ),
        }
        let api = ReferralsApi::with_clock(store, pupils, wiring.clock.clone());
        // On every replica, finishing the register changes nobody finished; it stops with the process.
        let task = api.plan_issue().spawn(crate::plan_issue::EVERY, sen_platform::serve::shutdown_signal());
        drop(tokio::spawn(async move {
            sen_platform::serve::shutdown_signal().await;
            task.stop().await;
        }));
        api.refusals().register_in(&wiring.metrics);
        Ok(routes.add_service(crate::service(api, wiring.verifier)))
    }

    async fn load_demo(&self, wiring: &Wiring<'_>, book: &mut DemoBook) -> anyhow::Result<()> {
        let store = Store::connect(&wiring.database_url, &wiring.config.pool).await?;
        if book.load && store.is_empty().await? {
            for (tenant, _) in &book.authorities {
                let register = book.registers.get(tenant).map(Vec::as_slice).unwrap_or_default();
                let pupils: Vec<(i64, i32, String)> =
                    register.iter().map(|p| (p.id, p.school_urn, p.sen_status.clone())).collect();
                crate::demo::seed(&store, book.issuer(), tenant, &pupils, book.today).await?;
            }
            tracing::info!("loaded the demo referrals: every kind and state over the last 18 months");
        }
        for (tenant, _) in book.authorities.clone() {
            let allocated = store.allocated_referrals(&book.loader_scope(tenant)?).await?;
            let allocations = allocated.into_iter().filter_map(|r| {
                Some(DemoAllocation {
                    referral_id: i64::from(r.id),
                    pupil_id: r.pupil_id,
                    school_urn: r.school_urn,
                    open: matches!(r.status.as_str(), "allocated" | "in_progress"),
                    kind: r.kind,
                    received_on: r.submitted_on,
                    professional: r.allocated_to?,
                })
            });
            book.allocations.insert(tenant, allocations.collect());
        }
        Ok(())
    }
}
