//! What a refusal is, as the trail records it ([`Refused`], [`Suppressed`]),
//! and where a service keeps it ([`RefusalLog`]): the parts of a row every
//! service's audit table has (tenant, person, role, action, detail, time,
//! trace), so that each service maps a record to its own table in one place.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No identity, or one that did not verify (UNAUTHENTICATED).
    Unauthenticated,
    /// The caller's role may not do this (PERMISSION_DENIED).
    PermissionDenied,
    /// The record is missing or out of the caller's reach (NOT_FOUND): the two
    /// are never told apart, so both are recorded.
    NotFound,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 3] = [Reason::Unauthenticated, Reason::PermissionDenied, Reason::NotFound];

    /// The name in metrics, log lines and audit rows.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Unauthenticated => "unauthenticated",
            Reason::PermissionDenied => "permission_denied",
            Reason::NotFound => "not_found",
        }
    }

    /// The reason a gRPC status code stands for, if it is a refusal.
    pub fn of(code: tonic::Code) -> Option<Self> {
        match code {
            tonic::Code::Unauthenticated => Some(Reason::Unauthenticated),
            tonic::Code::PermissionDenied => Some(Reason::PermissionDenied),
            tonic::Code::NotFound => Some(Reason::NotFound),
            _ => None,
        }
    }
}

/// Who was refused, as far as is known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refusee {
    /// Their authority, when their identity verified and has one.
    pub tenant: Option<String>,
    /// Their person id, when their identity verified.
    pub person: Option<String>,
    /// Their role, when their identity verified.
    pub role: Option<String>,
    /// Their client address, when known (the gateway).
    pub client: Option<String>,
}

/// One refused request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Who.
    pub who: Refusee,
    /// The method or route asked for, e.g. `/sen.v1.PupilsService/GetPupil`.
    pub method: String,
    /// Why it was refused.
    pub reason: Reason,
    /// When.
    pub at: DateTime<Utc>,
    /// The platform's own trace of the request.
    pub trace_id: Option<String>,
}

/// A caller's refusals that one window left out of the trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    /// Who (as their first refusal of the window named them).
    pub who: Refusee,
    /// How many refusals were only counted.
    pub count: u64,
    /// When the window opened.
    pub since: DateTime<Utc>,
    /// When it closed.
    pub at: DateTime<Utc>,
}

/// What the trail hands a [`RefusalLog`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefusalRecord {
    /// One refusal.
    Refused(Refused),
    /// The count of a window's refusals recorded only as a number.
    Suppressed(Suppressed),
}

impl RefusalRecord {
    /// Who, as far as is known.
    pub fn who(&self) -> &Refusee {
        match self {
            Self::Refused(refused) => &refused.who,
            Self::Suppressed(suppressed) => &suppressed.who,
        }
    }

    /// The tenant key an audit row is kept under: the caller's authority, or `-`.
    pub fn tenant_key(&self) -> String {
        self.who().tenant.clone().unwrap_or_else(|| "-".into())
    }

    /// The person an audit row names, or `-`.
    pub fn person(&self) -> String {
        self.who().person.clone().unwrap_or_else(|| "-".into())
    }

    /// The role an audit row names, or `-`.
    pub fn role(&self) -> String {
        self.who().role.clone().unwrap_or_else(|| "-".into())
    }

    /// The audit action: `refused.<reason>`, or `refused.suppressed` for a window's count.
    pub fn action(&self) -> String {
        match self {
            Self::Refused(refused) => format!("refused.{}", refused.reason.code()),
            Self::Suppressed(_) => "refused.suppressed".into(),
        }
    }

    /// The audit detail: the method refused, or how many refusals were only counted.
    pub fn detail(&self) -> String {
        match self {
            Self::Refused(refused) => refused.method.clone(),
            Self::Suppressed(suppressed) => {
                format!("{} refusals only counted between {} and {}", suppressed.count, suppressed.since, suppressed.at)
            }
        }
    }

    /// When.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Refused(refused) => refused.at,
            Self::Suppressed(suppressed) => suppressed.at,
        }
    }

    /// The trace of the refused request (none for a window's count).
    pub fn trace_id(&self) -> Option<String> {
        match self {
            Self::Refused(refused) => refused.trace_id.clone(),
            Self::Suppressed(_) => None,
        }
    }

    /// How many refusals a window's count says were only counted.
    pub fn suppressed(&self) -> Option<u64> {
        match self {
            Self::Refused(_) => None,
            Self::Suppressed(suppressed) => Some(suppressed.count),
        }
    }
}

/// The future of a [`RefusalLog::write`].
pub type WriteFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where a service keeps its refusals: its audit table.
pub trait RefusalLog: Send + Sync + 'static {
    /// Writes `record`. A failure is the log's to report: the refusal stands either way.
    fn write(&self, record: RefusalRecord) -> WriteFuture<'_>;
}
