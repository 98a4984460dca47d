//! The pupils service's error type: the platform's `ServiceError`, whose
//! mapping to gRPC statuses is shared by every service.

pub use sen_platform::error::ServiceError as Error;

/// Result of a pupils operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
