//! The caseloads service as the platform describes every service: its part name,
//! its migrations, its routes, and the three services an allocation spans (it
//! calls them as itself, with its own identity, for the writes).

use std::sync::Arc;

use sen_platform::config::PoolConfig;
use sen_platform::demo::{DemoBook, DemoGrant, DemoPerson};
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::LaCode;
use sen_platform::service::{PlatformService, ServiceInfo, Wiring};
use tonic::service::Routes;

use crate::metrics::Metrics;
use crate::peers::Peers;
use crate::reconcile::settings::ReconcileSettings;
use crate::reconcile::{Reconciler, system_now};
use crate::retention::Eraser;
use crate::retention::settings::RetentionSettings;
use crate::{CaseloadsApi, PART, SERVICE_NAME, Store};

/// The caseloads service.
#[derive(Clone, Copy, Debug, Default)]
pub struct Description;

/// Its names, address and peers.
const INFO: ServiceInfo = ServiceInfo {
    part: PART,
    grpc_name: SERVICE_NAME,
    url_variable: "SEN_CASELOADS_URL",
    about: "EP and advisory teacher caseloads, allocation and the time-allocation model.",
    peers: &["schools", "pupils", "referrals"],
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
        let settings = ReconcileSettings::from_env()?;
        let retention = RetentionSettings::from_env()?;
        let store = Store::connect(&wiring.database_url, &wiring.config.pool).await?;
        let peers = Peers {
            schools: wiring.peer("schools")?,
            pupils: wiring.peer("pupils")?,
            referrals: wiring.peer("referrals")?,
            identity: wiring.service_identity(PART)?,
        };
        let (store_for_retention, peers_for_retention) = (store.clone(), peers.clone());
        let mut api = CaseloadsApi::with_clock(store.clone(), peers.clone(), wiring.clock.clone());
        // The reconciler runs beside the service on every replica and stops with it.
        if let Some(every) = settings.every {
            let reconciler = Reconciler::new(store, peers, Arc::new(Metrics::registered_in(&wiring.metrics)))?;
            api = api.with_reconciler(reconciler.spawn(every, system_now(), sen_platform::serve::shutdown_signal()));
        }
        // The retention pass likewise runs on every replica (each erasure is taken by one) and stops with the process.
        if let Some(every) = retention.every {
            let task = Eraser::new(store_for_retention, peers_for_retention)?
                .spawn(every, sen_platform::serve::shutdown_signal());
            drop(tokio::spawn(async move {
                sen_platform::serve::shutdown_signal().await;
                task.stop().await;
            }));
        }
        api.refusals().register_in(&wiring.metrics);
        Ok(routes.add_service(crate::service(api, wiring.verifier)))
    }

    async fn load_demo(&self, wiring: &Wiring<'_>, book: &mut DemoBook) -> anyhow::Result<()> {
        let store = Store::connect(&wiring.database_url, &wiring.config.pool).await?;
        if book.load && store.is_empty().await? {
            for (tenant, _) in book.authorities.clone() {
                let scope = book.loader_scope(tenant)?;
                let schools: Vec<i32> =
                    book.open_schools_of(tenant).filter_map(|s| i32::try_from(s.urn).ok()).collect();
                let allocated: Vec<crate::demo::AllocatedReferral> = book
                    .allocations
                    .get(tenant)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|a| {
                        let (id, pupil, urn) = (a.referral_id, a.pupil_id, a.school_urn);
                        (id, pupil, urn, a.kind.clone(), a.received_on, a.professional.clone(), a.open)
                    })
                    .collect();
                let grants = crate::demo::seed(&store, &scope, &schools, &allocated, book.today).await?;
                let grants =
                    grants.into_iter().map(|(pupil_id, person, case_ref)| DemoGrant { pupil_id, person, case_ref });
                book.grants.insert(tenant, grants.collect());
            }
            tracing::info!("loaded the demo caseloads: teams, link schools, cases, activity and this term's model");
        }
        // The EPs and advisory teachers who carry the demo cases, in each authority.
        for (tenant, _) in &book.authorities {
            let la = LaCode::parse(tenant).map_err(anyhow::Error::msg)?;
            for (id, professional) in crate::demo::people() {
                let role = if id.starts_with("ep-") { Role::EducationalPsychologist } else { Role::AdvisoryTeacher };
                book.people.push(DemoPerson {
                    grant: Grant { person: id.to_owned(), role, tenant: Some(la), school: None },
                    description: professional.to_owned(),
                    name: professional.to_owned(),
                });
            }
        }
        Ok(())
    }
}
