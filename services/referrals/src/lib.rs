//! The referrals service (`sen.v1.ReferralsService`).
//!
//! How a school asks the council for help, and how the council answers in time.
//! Owns referrals to the educational psychology and advisory teaching services and
//! requests for EHC needs assessments: submission with parental consent (idempotent
//! under the client's key), triage through a checked lifecycle with a timeline of
//! every change, live changes for watchers, and the statutory clock of EHC needs
//! assessments with the timeliness figure of the SEN2 return. It asks the pupils
//! service whether the caller may refer the pupil and which school they attend;
//! the caseloads service records allocations.
//!
//! Rooms: `domain` (kinds, the lifecycle, the clock; no I/O), `store` (scoped
//! persistence), `entity` and `migration`, `pupils` (the pupils client), `api`.

pub mod api;
pub mod demo;
pub mod domain;
pub mod entity;
pub mod error;
pub mod migration;
pub mod pupils;
pub mod store;

use sen_platform::identity::{IdentityVerifier, VerifyIdentity};
use sen_proto::v1::referrals_service_server::ReferralsServiceServer;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

pub use api::ReferralsApi;
pub use store::Store;

/// The service's short name: its database file and its `sen serve` part.
pub const PART: &str = "referrals";
/// Fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = <ReferralsServiceServer<ReferralsApi> as NamedService>::NAME;

/// The gRPC service behind identity verification, to serve beside others.
pub fn service(
    api: ReferralsApi,
    verifier: &IdentityVerifier,
) -> InterceptedService<ReferralsServiceServer<ReferralsApi>, VerifyIdentity> {
    InterceptedService::new(ReferralsServiceServer::new(api), verifier.interceptor())
}

/// The service's routes alone.
pub fn routes(api: ReferralsApi, verifier: &IdentityVerifier) -> Routes {
    Routes::new(service(api, verifier))
}

/// Runs the service alone, as configured (`sen serve referrals`).
pub async fn serve(config: &sen_platform::config::Config) -> anyhow::Result<()> {
    let url = config.pupils_url.as_deref().ok_or_else(|| {
        anyhow::anyhow!("SEN_PUPILS_URL is required: the referrals service asks the pupils service about pupils")
    })?;
    let pupils = pupils::Pupils::new(sen_platform::client::channel(url, config)?);
    let store = Store::connect(&config.database_url_for(PART), &config.pool).await?;
    let verifier = sen_platform::identity::verifier_for(config)?;
    let listener = sen_platform::serve::bind(config).await?;
    tracing::info!(address = %listener.local_addr()?, tls = config.tls.is_some(), "referrals service listening");
    let routes = routes(ReferralsApi::new(store, pupils), &verifier);
    sen_platform::serve::run(listener, config, routes, &[SERVICE_NAME]).await
}
