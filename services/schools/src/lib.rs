//! The schools service (`sen.v1.SchoolsService`).
//!
//! Owns the authorities that are this deployment's tenants, each authority's
//! schools (created by hand or loaded from the DfE GIAS extract) and every school's
//! SENCO appointments with the award deadline that comes with them. The council
//! SEN team manages it; SENCOs read their own school; the pupils, referrals and
//! caseloads services ask it whether a school belongs to a tenant.
//!
//! Rooms: `domain` (rules and types, no I/O), `gias` (reading the extract),
//! `store` (tenant-scoped persistence), `entity` and `migration` (tables),
//! `api` (the gRPC service), `demo` (the embedded mode's fictional authorities).

pub mod api;
pub mod demo;
pub mod description;
pub mod domain;
pub mod entity;
pub mod error;
pub mod gias;
pub mod migration;
pub mod store;

use std::sync::Arc;

use sen_platform::audit::{Audited, RefusalLimits, RefusalTrail};
use sen_platform::identity::IdentityVerifier;
use sen_proto::v1::schools_service_server::SchoolsServiceServer;
use tonic::server::NamedService;

pub use api::SchoolsApi;
pub use description::Description;
pub use store::Store;

/// The service's short name: its database file and its `sen serve` part.
pub const PART: &str = "schools";
/// Fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = <SchoolsServiceServer<SchoolsApi> as NamedService>::NAME;
/// Largest single message: import chunks are 1 MiB; this leaves room.
const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// The gRPC service behind identity verification, to serve beside others; its
/// refusals are logged and counted (`audit` log lines, `sen_schools_refusals_total`)
/// in `refusals`. The service holds no child's data, so they are not kept in a table.
pub fn service(
    api: SchoolsApi,
    verifier: &IdentityVerifier,
    refusals: Arc<RefusalTrail>,
) -> Audited<SchoolsServiceServer<SchoolsApi>> {
    sen_platform::audit::audited(
        SchoolsServiceServer::new(api).max_decoding_message_size(MAX_MESSAGE_BYTES),
        verifier,
        refusals,
    )
}

/// The trail of the service's refusals: log lines and a counter, at most
/// [`RefusalLimits::default`] a minute for each caller.
pub fn refusals() -> Arc<RefusalTrail> {
    RefusalTrail::new(PART, None, RefusalLimits::default())
}
