//! What the services share to keep their audit trails: the group commit of
//! reads' entries ([`group_commit`]), and the trail of refused requests
//! ([`refusals`]) with the wrapper that catches a gRPC service's refusals
//! ([`grpc`]). Each service keeps the rows in its own audit table; the gateway,
//! which has no database, keeps its refusals as `audit` log lines.

pub mod group_commit;
pub mod grpc;
pub mod refusal;
pub mod refusal_rows;
pub mod refusals;

pub use group_commit::{AuditWriteError, GroupCommit};
pub use grpc::{Audited, RefusalAudit, audited};
pub use refusal_rows::RefusalRows;
pub use refusals::{
    Reason, RefusalLimits, RefusalLog, RefusalRecord, RefusalTrail, Refused, Refusee, Suppressed, WriteFuture,
};
