//! The schools service as the platform describes every service: its part name,
//! its migrations, its routes; it calls no other service.

use sen_platform::config::PoolConfig;
use sen_platform::demo::{DemoBook, DemoPerson, DemoSchool};
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};
use sen_platform::service::{PlatformService, ServiceInfo, Wiring};
use tonic::service::Routes;

use crate::demo::{AUTHORITIES, SCHOOLS};
use crate::{PART, SERVICE_NAME, SchoolsApi, Store};

/// The schools service.
#[derive(Clone, Copy, Debug, Default)]
pub struct Description;

/// Its names, address and peers.
const INFO: ServiceInfo = ServiceInfo {
    part: PART,
    grpc_name: SERVICE_NAME,
    url_variable: "SEN_SCHOOLS_URL",
    about: "Authorities, schools and SENCOs.",
    peers: &[],
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
        let refusals = crate::refusals();
        refusals.register_in(&wiring.metrics);
        Ok(routes.add_service(crate::service(
            SchoolsApi::with_clock(store, wiring.clock.clone()),
            wiring.verifier,
            refusals,
        )))
    }

    async fn load_demo(&self, wiring: &Wiring<'_>, book: &mut DemoBook) -> anyhow::Result<()> {
        let store = Store::connect(&wiring.database_url, &wiring.config.pool).await?;
        if book.load && crate::demo::seed_if_empty(&store, book.issuer(), book.today).await? {
            tracing::info!("loaded demo data: authorities 990 (Northmoor) and 991 (Eastwold)");
        }
        book.authorities = AUTHORITIES.to_vec();
        book.schools = SCHOOLS
            .iter()
            .map(|&(tenant, urn, establishment_number, name, type_code, phase_code, ages, roll, _, status)| {
                DemoSchool {
                    tenant,
                    urn,
                    establishment_number,
                    name,
                    type_code,
                    phase_code,
                    ages,
                    roll,
                    open: status == 1,
                }
            })
            .collect();
        // Each authority's SEN manager and case officer, and the SENCOs of its first schools.
        for (tenant, name) in AUTHORITIES {
            let la = LaCode::parse(tenant).map_err(anyhow::Error::msg)?;
            let person =
                |id: String, role: Role, school: Option<Urn>, (description, name): (String, String)| DemoPerson {
                    grant: Grant { person: format!("{id}-{tenant}"), role, tenant: Some(la), school },
                    description,
                    name,
                };
            let (manager, officer) = crate::demo::council_team(tenant);
            let about = format!("the SEN manager of {name}");
            book.people.push(person("manager".into(), Role::LaManager, None, (about, manager.into())));
            let about = format!("a SEN case officer of {name}");
            book.people.push(person("officer".into(), Role::CaseOfficer, None, (about, officer.into())));
            for school in book.schools.iter().filter(|s| s.tenant == tenant && s.open).take(3) {
                let urn = Urn::parse(&school.urn.to_string()).map_err(anyhow::Error::msg)?;
                let about = format!("the SENCO of {}", school.name);
                let senco = crate::demo::senco_name(school.urn).map_or_else(|| about.clone(), str::to_owned);
                book.people.push(person(format!("senco-{}", school.urn), Role::Senco, Some(urn), (about, senco)));
            }
        }
        Ok(())
    }
}
