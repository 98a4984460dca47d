//! The pupils service (`sen.v1.PupilsService`).
//!
//! Owns every pupil record of a tenant: the SEN register (status and needs with
//! their history), the graduated approach (support cycles and provision), EHCPs
//! with their annual reviews and phase transfers, and the access grants that open
//! a pupil to the educational psychologist or advisory teacher on their case. It
//! is the most sensitive data in the platform: every read or change by a person is
//! audited, and names never reach logs or traces. It asks the schools service
//! whether a school belongs to the tenant and what phase it is; the caseloads
//! service opens and closes access grants.
//!
//! Rooms: `domain` (rules and types, no I/O), `store` (scoped, audited
//! persistence), `entity` and `migration` (tables), `schools` (the schools client),
//! `ctf` (the DfE Common Transfer File, read and checked), `api` (the gRPC service), `retention` (each authority's retention period and
//! the erasures' metric), `demo`, `demo_appeals` and `demo_reviews` (the embedded mode's
//! register, its appeals and its reviews' amendments and cessations).

pub mod api;
pub mod ctf;
pub mod demo;
pub mod demo_appeals;
pub mod demo_reviews;
pub mod description;
pub mod domain;
pub mod entity;
pub mod error;
pub mod migration;
pub mod retention;
pub mod schools;
pub mod store;

use sen_platform::audit::Audited;
use sen_platform::identity::IdentityVerifier;
use sen_proto::v1::pupils_service_server::PupilsServiceServer;
use tonic::server::NamedService;

pub use api::PupilsApi;
pub use description::Description;
pub use store::Store;

/// The service's short name: its database file and its `sen serve` part.
pub const PART: &str = "pupils";
/// Fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = <PupilsServiceServer<PupilsApi> as NamedService>::NAME;

/// The gRPC service behind identity verification, its refusals recorded in the
/// api's trail, to serve beside others.
pub fn service(api: PupilsApi, verifier: &IdentityVerifier) -> Audited<PupilsServiceServer<PupilsApi>> {
    let refusals = api.refusals();
    sen_platform::audit::audited(PupilsServiceServer::new(api), verifier, refusals)
}
