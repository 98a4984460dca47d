//! Shared support for the cross-service tests: fixtures and servers.

pub mod gateway;
pub mod gias;
pub mod platform;
pub mod raw;
pub mod referral_steps;

/// The fields an `InvalidArgument` answer names, in its order; fails the test
/// on any other answer.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status.get_details_bad_request().expect("BadRequest").field_violations.into_iter().map(|v| v.field).collect()
}
