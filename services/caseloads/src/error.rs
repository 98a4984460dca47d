//! The caseloads service's error type: the platform's `ServiceError`, whose
//! mapping to gRPC statuses is shared by every service.

pub use sen_platform::error::ServiceError as Error;

/// Result of a caseloads operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
