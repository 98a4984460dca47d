//! The platform every SEN service stands on, and no domain logic: configuration
//! from the environment, telemetry, database connection and migration, TLS,
//! verified identity and the tenant scopes derived from it, the mapping of errors
//! to gRPC statuses, keyset paging, and serving with health, reflection and a
//! graceful stop.
//!
//! A service crate takes a [`identity::TenantScope`] or [`identity::Scope`] in
//! every store function, so its queries cannot forget whose data they touch.

pub mod accept;
pub mod audit;
pub mod balance;
pub mod client;
pub mod config;
pub mod dates;
pub mod db;
pub mod demo;
pub mod env;
pub mod error;
pub mod fields;
pub mod identity;
pub mod ids;
pub mod keepalive;
pub mod metrics;
pub mod paging;
pub mod private;
pub mod serve;
pub mod service;
pub mod telemetry;
pub mod tls;
pub mod upload;
pub mod walls;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
