//! Turning failures into gRPC statuses the one way the platform answers: bad input is
//! INVALID_ARGUMENT with a `google.rpc.BadRequest` naming every bad field, and
//! internal failures are logged with their detail but shown to callers as a generic
//! message, never SQL or a stack trace.
//!
//! Every service crate calls [`ServiceError`] its `Error`: one enum, mapped to a
//! `tonic::Status` here, so handlers just use `?`. [`FieldViolations`] (what a
//! checked request answers, [`crate::fields::Checked`]) converts to both, so a
//! handler takes a request's values with `?` too.

use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Every field error found in one request, collected before answering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldViolations(Vec<FieldViolation>);

/// One bad field: its path in the request (e.g. `school.postcode`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request message.
    pub field: String,
    /// What is wrong with it, for a person to read.
    pub description: String,
}

impl FieldViolations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Just one violation, on `field`.
    pub fn one(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut violations = Self::new();
        violations.add(field, description);
        violations
    }

    /// Takes in every violation of `other`, after these.
    pub fn extend(&mut self, other: FieldViolations) {
        self.0.extend(other.0);
    }

    /// Records a violation on `field`.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation { field: field.into(), description: description.into() });
    }

    /// Keeps the value of a successful parse, or records its error against `field`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(description) => {
                self.add(field, description);
                None
            }
        }
    }

    /// True when every field was good.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &FieldViolation> {
        self.0.iter()
    }

    /// `Ok(())` when there were none.
    pub fn into_result(self) -> Result<(), FieldViolations> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for FieldViolations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|v| format!("{}: {}", v.field, v.description)).collect();
        write!(f, "{}", parts.join("; "))
    }
}

/// INVALID_ARGUMENT carrying a `google.rpc.BadRequest` with every violation.
pub fn invalid_argument(violations: &FieldViolations) -> Status {
    let mut details = ErrorDetails::new();
    for v in violations.iter() {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    Status::with_error_details(Code::InvalidArgument, format!("invalid request: {violations}"), details)
}

/// INTERNAL with a generic message; the detail goes to the log with the trace context.
pub fn internal(context: &str, error: &dyn fmt::Display) -> Status {
    tracing::error!(error = %error, "{context}");
    Status::internal("internal error; it has been logged")
}

/// Everything that can go wrong in a service call. Each service crate names it
/// `Error`; the mapping to a gRPC status below is the one place statuses are chosen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad input: every bad field, nothing written.
    #[error("invalid request: {0}")]
    Invalid(FieldViolations),
    /// Missing, or outside the caller's scope (never said which).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller's role may not do this.
    #[error(transparent)]
    Denied(#[from] crate::identity::AccessDenied),
    /// The record's state forbids the change.
    #[error("{0}")]
    FailedPrecondition(String),
    /// Someone else changed the record since the caller read it.
    #[error("{0}")]
    Aborted(String),
    /// The record exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// Part of a call spanning services did not happen; the message (ours, safe to
    /// show) says what state things were left in and what to do.
    #[error("{0}")]
    Incomplete(String),
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

impl ServiceError {
    /// One bad field.
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        let mut v = FieldViolations::new();
        v.add(field, description);
        ServiceError::Invalid(v)
    }
}

impl From<FieldViolations> for ServiceError {
    fn from(v: FieldViolations) -> Self {
        ServiceError::Invalid(v)
    }
}

impl From<FieldViolations> for Status {
    fn from(v: FieldViolations) -> Self {
        invalid_argument(&v)
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(v) => invalid_argument(&v),
            ServiceError::NotFound(what) => Status::not_found(format!("{what} not found")),
            ServiceError::Denied(denied) => denied.into(),
            ServiceError::FailedPrecondition(m) => Status::failed_precondition(m),
            ServiceError::Aborted(m) => Status::aborted(m),
            ServiceError::AlreadyExists(m) => Status::already_exists(m),
            ServiceError::Incomplete(m) => Status::unavailable(m),
            ServiceError::Unavailable(m) => {
                tracing::warn!(error = %m, "a service this call depends on did not answer");
                Status::unavailable("a service this call depends on is unavailable; try again shortly")
            }
            ServiceError::Corrupt(m) => internal("stored data failed validation", &m),
            ServiceError::Database(db) if is_connection_failure(&db) => {
                // Nothing the caller sent was wrong and the pool replaces the
                // connection: the same call (a write with its idempotency key) may
                // succeed at once, which UNAVAILABLE tells a client; INTERNAL would not.
                tracing::warn!(error = %db, "the database connection failed");
                Status::unavailable("the database is unavailable; try again shortly")
            }
            ServiceError::Database(db) => internal("database error", &db),
        }
    }
}

/// Whether the database failed as a connection rather than as a statement: the
/// connection was lost or closed under the call (a failover, a restart, an
/// administrator's `pg_terminate_backend`: SQLSTATE classes 08 and 57P), or no
/// connection could be had in time (`SEN_DB_ACQUIRE_TIMEOUT_SECONDS`).
pub fn is_connection_failure(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx};
    let cause = match e {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(cause))
        | DbErr::Exec(RuntimeErr::SqlxError(cause))
        | DbErr::Query(RuntimeErr::SqlxError(cause)) => cause,
        _ => return false,
    };
    match cause {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// A unique-constraint violation becomes `conflict()`: the database settled a race
/// the service's own check could not see. Other failures stay database errors.
pub fn on_unique(e: sea_orm::DbErr, conflict: impl FnOnce() -> ServiceError) -> ServiceError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => conflict(),
        _ => ServiceError::Database(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_every_field() {
        let mut v = FieldViolations::new();
        v.add("urn", "'12' is not a six-digit URN");
        assert_eq!(v.check::<u8>("postcode", Err("bad".into())), None);
        let status = invalid_argument(&v);
        assert_eq!(status.code(), Code::InvalidArgument);
        let fields: Vec<String> =
            status.get_details_bad_request().unwrap().field_violations.into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["urn", "postcode"]);
    }

    #[test]
    fn violations_returned_with_a_question_mark_are_invalid_argument() {
        fn handler(checked: crate::fields::Checked<i64>) -> Result<i64, Status> {
            Ok(checked?)
        }
        let status = handler(Err(FieldViolations::one("version", "is required"))).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "invalid request: version: is required");
    }

    #[test]
    fn a_lost_or_unobtainable_database_connection_is_unavailable_and_a_failed_statement_internal() {
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, sqlx};
        let lost = |cause: sqlx::Error| ServiceError::Database(DbErr::Exec(RuntimeErr::SqlxError(cause)));
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
        for error in [
            lost(sqlx::Error::Io(reset)),
            lost(sqlx::Error::PoolTimedOut),
            ServiceError::Database(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        ] {
            let status = Status::from(error);
            assert_eq!(status.code(), Code::Unavailable);
            assert!(!status.message().contains("reset"), "no detail leaks: {}", status.message());
        }
        let statement = ServiceError::Database(DbErr::Query(RuntimeErr::Internal("syntax error".into())));
        assert_eq!(Status::from(statement).code(), Code::Internal);
        let row_not_found = lost(sqlx::Error::RowNotFound);
        assert_eq!(Status::from(row_not_found).code(), Code::Internal);
    }

    #[test]
    fn internal_errors_do_not_leak_their_detail() {
        let status = internal("query failed", &"relation \"schools\" does not exist");
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("relation"));
    }
}
