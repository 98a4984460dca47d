//! One description per service of the platform, so that everything that
//! serves, migrates or fronts services loops over one list of them, and a new
//! service is one entry in that list (the `sen` binary's `services` table).
//!
//! A service crate implements [`PlatformService`]: its [`ServiceInfo`] (part
//! name for `sen serve <part>` and its database file, gRPC service name,
//! `SEN_<PART>_URL`, the parts it calls), its migrations, its routes and its demo
//! data. [`serve`] runs any one of them
//! alone as configured; the embedded platform and the test platform build their
//! routes from the same description with their own [`Wiring`].

use std::collections::BTreeMap;

use tonic::service::Routes;
use tonic::transport::Channel;

use crate::config::{Config, PoolConfig};
use crate::dates::Clock;
use crate::demo::DemoBook;
use crate::identity::{IdentitySigner, IdentityVerifier, ServiceIdentity};

/// What a service is given to build its routes.
pub struct Wiring<'a> {
    /// The configuration it runs under.
    pub config: &'a Config,
    /// Its database.
    pub database_url: String,
    /// Checks the identity tokens of its callers.
    pub verifier: &'a IdentityVerifier,
    /// Today, as its rules judge deadlines.
    pub clock: Clock,
    /// Signs its own identity tokens, when not as configured (the embedded and test platforms).
    pub own_signer: Option<IdentitySigner>,
    /// Channels to the parts it calls, by part name.
    pub peers: BTreeMap<&'static str, Channel>,
    /// Where it registers its own metrics (served on the admin port).
    pub metrics: crate::metrics::Metrics,
}

impl Wiring<'_> {
    /// The channel to `part`, one of the service's [`ServiceInfo::peers`].
    pub fn peer(&self, part: &str) -> anyhow::Result<Channel> {
        self.peers.get(part).cloned().ok_or_else(|| anyhow::anyhow!("no channel to the {part} service was wired"))
    }

    /// The identity `part` calls others as itself with.
    pub fn service_identity(&self, part: &str) -> anyhow::Result<ServiceIdentity> {
        match &self.own_signer {
            Some(signer) => Ok(ServiceIdentity::new(signer.clone(), part)),
            None => ServiceIdentity::from_config(self.config, part),
        }
    }
}

/// What the platform knows of a service before it runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Its short name: `sen serve <part>`, its database file.
    pub part: &'static str,
    /// Its fully-qualified gRPC service name (`sen.v1.…Service`).
    pub grpc_name: &'static str,
    /// The variable saying where it answers, for the parts that call it (`SEN_<PART>_URL`).
    pub url_variable: &'static str,
    /// What it owns, in a line (`sen serve --help`).
    pub about: &'static str,
    /// The parts it calls.
    pub peers: &'static [&'static str],
}

/// One service of the platform.
#[tonic::async_trait]
pub trait PlatformService: Send + Sync {
    /// Its names, its address variable and the parts it calls.
    fn info(&self) -> &'static ServiceInfo;
    /// Brings its database schema up to date.
    async fn migrate(&self, database_url: &str, pool: &PoolConfig) -> anyhow::Result<()>;
    /// `routes` with its identity-checked gRPC service added, over its store.
    async fn add_routes(&self, routes: Routes, wiring: &Wiring<'_>) -> anyhow::Result<Routes>;
    /// Loads its demo data into its store, if the store is empty, and writes in
    /// `book` what the services after it build on (embedded mode only).
    async fn load_demo(&self, wiring: &Wiring<'_>, book: &mut DemoBook) -> anyhow::Result<()>;
    /// Completes its demo data from what services after it wrote in `book`.
    async fn finish_demo(&self, _wiring: &Wiring<'_>, _book: &DemoBook) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Each of `services` as the configuration knows it: part and URL variable.
pub fn addresses(services: &[&dyn PlatformService]) -> Vec<crate::config::ServiceAddress> {
    services.iter().map(|service| (service.info().part, service.info().url_variable)).collect()
}

/// Runs `service` alone, as configured (`sen serve <part>`), until SIGTERM or Ctrl-C.
pub async fn serve(service: &dyn PlatformService, config: &Config) -> anyhow::Result<()> {
    let info = service.info();
    let part = info.part;
    let mut peers = BTreeMap::new();
    for peer in info.peers {
        let url = config.service_url(peer).ok_or_else(|| {
            let variable = config.url_variable(peer).unwrap_or("the URL of that service");
            anyhow::anyhow!("{variable} is required: the {part} service calls the {peer} service")
        })?;
        peers.insert(*peer, crate::client::channel(url, config)?);
    }
    let verifier = crate::identity::verifier_for(config)?;
    let wiring = Wiring {
        config,
        database_url: config.database_url_for(part),
        verifier: &verifier,
        clock: crate::dates::system_clock(),
        own_signer: None,
        peers,
        metrics: crate::metrics::Metrics::default(),
    };
    let routes = service.add_routes(Routes::default(), &wiring).await?;
    let listener = crate::serve::bind(config).await?;
    tracing::info!(address = %listener.local_addr()?, tls = config.tls.is_some(), "{part} service listening");
    crate::serve::run(listener, config, routes, &[info.grpc_name], wiring.metrics.clone()).await
}

/// Brings `service`'s schema up to date, as configured (`sen migrate <part>`).
pub async fn migrate(service: &dyn PlatformService, config: &Config) -> anyhow::Result<()> {
    let part = service.info().part;
    service.migrate(&config.database_url_for(part), &config.pool).await?;
    tracing::info!(service = part, "the database schema is up to date");
    Ok(())
}
