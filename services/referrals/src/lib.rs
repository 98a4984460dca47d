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
//! persistence), `entity` and `migration`, `pupils` (the pupils client), `feed`
//! (live changes to watchers), `api`.

pub mod api;
pub mod demo;
pub mod description;
pub mod domain;
pub mod entity;
pub mod error;
pub mod feed;
pub mod migration;
pub mod plan_issue;
pub mod pupils;
pub mod store;

use sen_platform::audit::Audited;
use sen_platform::identity::IdentityVerifier;
use sen_proto::v1::referrals_service_server::ReferralsServiceServer;
use tonic::server::NamedService;

pub use api::ReferralsApi;
pub use description::Description;
pub use store::Store;

/// The service's short name: its database file and its `sen serve` part.
pub const PART: &str = "referrals";
/// Fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = <ReferralsServiceServer<ReferralsApi> as NamedService>::NAME;

/// The gRPC service behind identity verification, its refusals recorded in the
/// api's trail, to serve beside others.
pub fn service(api: ReferralsApi, verifier: &IdentityVerifier) -> Audited<ReferralsServiceServer<ReferralsApi>> {
    let refusals = api.refusals();
    sen_platform::audit::audited(ReferralsServiceServer::new(api), verifier, refusals)
}
