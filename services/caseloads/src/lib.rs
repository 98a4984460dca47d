//! The caseloads service (`sen.v1.CaseloadsService`).
//!
//! Who in the council's educational psychology and advisory teaching services
//! works which case, and whether each school gets its fair share of their time.
//! Owns the professionals (role, FTE, capacity, link schools), their cases and
//! recorded activity, and each term's time-allocation model. Allocation asks the
//! referrals service for the referral, marks it allocated there and opens the
//! professional's access to the pupil in the pupils service, all or nothing.
//!
//! Rooms: `domain` (roles, ranking, activity, the allocation formula; no I/O),
//! `store`, `entity` and `migration`, `peers` (the other services), `api`, `demo`.

pub mod api;
pub mod demo;
pub mod domain;
pub mod entity;
pub mod error;
pub mod migration;
pub mod peers;
pub mod store;

use sen_platform::identity::{IdentityVerifier, ServiceIdentity, VerifyIdentity};
use sen_proto::v1::caseloads_service_server::CaseloadsServiceServer;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

pub use api::CaseloadsApi;
pub use store::Store;

/// The service's short name: its database file, its `sen serve` part, and the
/// person its service tokens name.
pub const PART: &str = "caseloads";
/// Fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = <CaseloadsServiceServer<CaseloadsApi> as NamedService>::NAME;

/// The gRPC service behind identity verification, to serve beside others.
pub fn service(
    api: CaseloadsApi,
    verifier: &IdentityVerifier,
) -> InterceptedService<CaseloadsServiceServer<CaseloadsApi>, VerifyIdentity> {
    InterceptedService::new(CaseloadsServiceServer::new(api), verifier.interceptor())
}

/// Runs the service alone, as configured (`sen serve caseloads`).
pub async fn serve(config: &sen_platform::config::Config) -> anyhow::Result<()> {
    let url = |value: &Option<String>, name: &str| {
        value.clone().ok_or_else(|| anyhow::anyhow!("{name} is required: the caseloads service calls that service"))
    };
    let peers = peers::Peers {
        schools: sen_platform::client::channel(&url(&config.schools_url, "SEN_SCHOOLS_URL")?, config)?,
        pupils: sen_platform::client::channel(&url(&config.pupils_url, "SEN_PUPILS_URL")?, config)?,
        referrals: sen_platform::client::channel(&url(&config.referrals_url, "SEN_REFERRALS_URL")?, config)?,
        identity: ServiceIdentity::from_config(config, PART)?,
    };
    let store = Store::connect(&config.database_url_for(PART), &config.pool).await?;
    let verifier = sen_platform::identity::verifier_for(config)?;
    let listener = sen_platform::serve::bind(config).await?;
    tracing::info!(address = %listener.local_addr()?, tls = config.tls.is_some(), "caseloads service listening");
    let routes = Routes::new(service(CaseloadsApi::new(store, peers), &verifier));
    sen_platform::serve::run(listener, config, routes, &[SERVICE_NAME]).await
}
