//! The referrals service's one error type, mapped to a gRPC status in one place.

use sen_platform::error::{self, FieldViolations};
use sen_platform::identity::AccessDenied;
use tonic::Status;

/// Everything that can go wrong in a referrals call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: every bad field, nothing written.
    #[error("invalid request: {0}")]
    Invalid(FieldViolations),
    /// Missing, or outside the caller's scope (never said which).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller's role may not do this.
    #[error(transparent)]
    Denied(#[from] AccessDenied),
    /// The record's state forbids the change.
    #[error("{0}")]
    FailedPrecondition(String),
    /// Someone else changed the record since the caller read it.
    #[error("{0}")]
    Aborted(String),
    /// The record exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// Another service this call depends on did not answer.
    #[error("{0}")]
    Unavailable(String),
    /// A stored row no longer satisfies the domain rules.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl Error {
    /// One bad field.
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        let mut v = FieldViolations::new();
        v.add(field, description);
        Error::Invalid(v)
    }
}

impl From<FieldViolations> for Error {
    fn from(v: FieldViolations) -> Self {
        Error::Invalid(v)
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(v) => error::invalid_argument(&v),
            Error::NotFound(what) => Status::not_found(format!("{what} not found")),
            Error::Denied(denied) => denied.into(),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::Aborted(m) => Status::aborted(m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::Unavailable(m) => {
                tracing::warn!(error = %m, "a service this call depends on did not answer");
                Status::unavailable("a service this call depends on is unavailable; try again shortly")
            }
            Error::Corrupt(m) => error::internal("stored data failed validation", &m),
            Error::Database(db) => error::internal("database error", &db),
        }
    }
}

/// Result of a referrals operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
