//! The caseloads service (`sen.v1.CaseloadsService`).
//!
//! Who in the council's educational psychology and advisory teaching services
//! works which case, and whether each school gets its fair share of their time.
//! Owns the professionals (role, FTE, capacity, link schools), their cases and
//! recorded activity, and each term's time-allocation model. Allocation asks the
//! referrals service for the referral, marks it allocated there and opens the
//! professional's access to the pupil in the pupils service, all or nothing.
//!
//! An allocation nobody came back to finish is finished by the service itself:
//! `completion` holds the allocation's steps across services, which the api's
//! calls and the background `reconcile`r both take.
//!
//! The same service runs the retention pass (`retention`): pupils past their
//! authority's retention period, as the pupils service decides, are erased in
//! every service, a pass at a time, an erasure cut off finished by the next.
//!
//! The breach forecast (`forecast`) learns the authority's own step durations
//! and forecasts each open EHC request's chance of missing its date; pure, like
//! `domain`.
//!
//! Rooms: `domain` (roles, ranking, activity, the allocation formula; no I/O),
//! `store`, `entity` and `migration`, `peers` (the other services),
//! `completion`, `reconcile` and `metrics`, `retention`, `api`, `demo`.

pub mod api;
pub mod completion;
pub mod demo;
pub mod description;
pub mod domain;
pub mod entity;
pub mod error;
pub mod forecast;
pub mod metrics;
pub mod migration;
pub mod peers;
pub mod reconcile;
pub mod retention;
pub mod store;

use sen_platform::audit::Audited;
use sen_platform::identity::IdentityVerifier;
use sen_proto::v1::caseloads_service_server::CaseloadsServiceServer;
use tonic::server::NamedService;

pub use api::CaseloadsApi;
pub use description::Description;
pub use store::Store;

/// The service's short name: its database file, its `sen serve` part, and the
/// person its service tokens name.
pub const PART: &str = "caseloads";
/// Fully-qualified gRPC service name.
pub const SERVICE_NAME: &str = <CaseloadsServiceServer<CaseloadsApi> as NamedService>::NAME;

/// The gRPC service behind identity verification, its refusals recorded in the
/// api's trail, to serve beside others.
pub fn service(api: CaseloadsApi, verifier: &IdentityVerifier) -> Audited<CaseloadsServiceServer<CaseloadsApi>> {
    let refusals = api.refusals();
    sen_platform::audit::audited(CaseloadsServiceServer::new(api), verifier, refusals)
}
