//! Persistence of the referrals service. Every function takes the caller's
//! [`Scope`]: the council sees the tenant's referrals, a SENCO their school's, a
//! professional those allocated to them; anything else is not found. Every change
//! writes a timeline entry in the same transaction, and is handed to the store's
//! [`Publish`] (the live feed, `crate::feed`) inside that transaction and again
//! once it has committed.

mod attachments;
mod audit;
mod clock;
mod duplicates;
mod fingerprint;
mod forget;
mod listing;
mod referrals;
mod register;
mod requests;
mod seed;
mod stats;

pub use attachments::AttachmentInfo;
pub use audit::ReadAction;
pub use clock::{ExceptionRecord, OpenClockFigures, clock_dates};
pub use fingerprint::fingerprint;
pub use forget::Forgotten;
pub use listing::{ListColumn, next_position, position};
pub use referrals::ReferralFilter;
pub use register::{CLAIM_LEASE, ChangeEnd, ChangeState, LIVE, PendingChange};
pub use seed::{SeedClockExtras, SeedReferral};
pub use stats::DaySubmissions;

use std::fmt;
use std::sync::Arc;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use sen_platform::config::PoolConfig;
use sen_platform::identity::{Actor, Scope};

use crate::domain::{BroadArea, Status};
use crate::entity::{referral, referral_event};
use crate::error::{Error, Result};
use crate::migration::Migrator;

/// Where the store hands each change it makes: the referral as changed and its
/// timeline entry, inside the change's transaction and again once it has
/// committed. Domain data only; how watchers are told is the receiver's business.
#[async_trait::async_trait]
pub trait Publish: Send + Sync {
    /// The change, inside its transaction `txn`: an error here undoes the change.
    async fn in_transaction(
        &self,
        txn: &DatabaseTransaction,
        row: &referral::Model,
        entry: &referral_event::Model,
    ) -> Result<()>;

    /// The change, once committed. Never waits and cannot fail the change.
    fn committed(&self, row: &referral::Model, entry: &referral_event::Model);
}

/// The [`Publish`] a store was given.
#[derive(Clone)]
struct Publisher(Arc<dyn Publish>);

impl fmt::Debug for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Publisher")
    }
}

/// The referrals service's database.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    publisher: Option<Publisher>,
    /// The writer of the audit entries (`audit`).
    audits: audit::Audits,
}

impl Store {
    /// Connects to `url` and brings the schema up to date. Must be called on a
    /// tokio runtime (it starts the writer of the audit entries).
    pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<Self> {
        let db = sen_platform::db::connect_and_migrate::<Migrator>(url, pool).await?;
        Ok(Self::from_connection(db))
    }

    /// A store over `db`, already opened and migrated: for callers that watch the
    /// statements it runs (the query-plan test sets a metric callback on it).
    /// Must be called on a tokio runtime.
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self { audits: audit::Audits::start(db.clone()), db, publisher: None }
    }

    /// This store, handing every change it makes to `publish` (in place of any before).
    pub fn publishing_to(mut self, publish: Arc<dyn Publish>) -> Self {
        self.publisher = Some(Publisher(publish));
        self
    }

    /// The database itself, for the live feed's outbox: its rows are read across
    /// tenants by design, since each watcher filters by its own scope.
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Tells the publisher, if any, that a change committed.
    fn committed(&self, row: &referral::Model, entry: &referral_event::Model) {
        if let Some(Publisher(publish)) = &self.publisher {
            publish.committed(row, entry);
        }
    }
}

/// Referrals within `scope`.
fn visible(scope: &Scope) -> Condition {
    let condition = Condition::all().add(referral::Column::LaCode.eq(scope.tenant().key()));
    match scope {
        Scope::Tenant(_) => condition,
        Scope::School(school) => condition.add(referral::Column::SchoolUrn.eq(school.urn().as_i32())),
        // A professional reads a referral while their case is open: access ends when the case ends.
        Scope::Caseload(caseload) => condition
            .add(referral::Column::AllocatedTo.eq(caseload.person()))
            .add(referral::Column::Status.is_not_in(Status::finished().map(Status::code))),
    }
}

/// The referral if `scope` reaches it.
async fn load_visible(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> Result<referral::Model> {
    let row_id = i32::try_from(id).map_err(|_| Error::NotFound(format!("referral {id}")))?;
    referral::Entity::find()
        .filter(visible(scope))
        .filter(referral::Column::Id.eq(row_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("referral {id}")))
}

impl Store {
    /// Writes one timeline entry, and hands the change to the publisher, in `txn`.
    async fn record(
        &self,
        txn: &DatabaseTransaction,
        row: &referral::Model,
        actor: &Actor,
        from: Option<Status>,
        to: Status,
        note: &str,
    ) -> Result<referral_event::Model> {
        let entry = referral_event::ActiveModel {
            la_code: Set(row.la_code.clone()),
            referral_id: Set(row.id),
            at: Set(Utc::now()),
            by: Set(actor.person.clone()),
            by_role: Set(actor.role.as_str().to_owned()),
            from_status: Set(from.map(|s| s.code().to_owned())),
            to_status: Set(to.code().to_owned()),
            note: Set(note.to_owned()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        if let Some(Publisher(publish)) = &self.publisher {
            publish.in_transaction(txn, row, &entry).await?;
        }
        Ok(entry)
    }
}

/// Ids as stored: comma-separated.
fn ids(list: &[i64]) -> String {
    list.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Broad areas of need as stored: their codes, comma-separated.
fn areas(list: &[BroadArea]) -> String {
    list.iter().map(|a| a.code()).collect::<Vec<_>>().join(",")
}

/// A stored status.
pub(crate) fn status_of(row: &referral::Model) -> Result<Status> {
    Status::parse(&row.status).map_err(|e| Error::Corrupt(format!("referral {}: {e}", row.id)))
}
