//! Persistence of the referrals service. Every function takes the caller's
//! [`Scope`]: the council sees the tenant's referrals, a SENCO their school's, a
//! professional those allocated to them; anything else is not found. Every change
//! writes a timeline entry in the same transaction, and on PostgreSQL its outbox
//! row (see [`changes`]).

mod changes;
mod clock;
mod referrals;
mod seed;
mod stats;

pub use changes::{CHANNEL, Describe};
pub use clock::clock_dates;
pub use referrals::{NewReferral, ReferralFilter, Tried};
pub use seed::SeedReferral;
pub use stats::DaySubmissions;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
};
use sen_platform::config::PoolConfig;
use sen_platform::identity::{Identity, Role, Scope};

use crate::domain::Status;
use crate::entity::{referral, referral_event};
use crate::error::{Error, Result};
use crate::migration::Migrator;

/// The referrals service's database.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    outbox: Option<changes::Outbox>,
}

impl Store {
    /// Connects to `url` and brings the schema up to date.
    pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<Self> {
        let db = sen_platform::db::connect_and_migrate::<Migrator>(url, pool).await?;
        Ok(Self { db, outbox: None })
    }
}

/// Who is acting, for the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// Person id (or service name).
    pub person: String,
    /// Their role.
    pub role: Role,
}

impl Actor {
    /// The verified caller.
    pub fn of(who: &Identity) -> Self {
        Self { person: who.person().to_owned(), role: who.role() }
    }
}

/// Referrals within `scope`.
fn visible(scope: &Scope) -> Condition {
    let condition = Condition::all().add(referral::Column::LaCode.eq(scope.tenant().key()));
    match scope {
        Scope::Tenant(_) => condition,
        Scope::School(school) => condition.add(referral::Column::SchoolUrn.eq(school.urn().as_i32())),
        Scope::Caseload(caseload) => condition.add(referral::Column::AllocatedTo.eq(caseload.person())),
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
    /// Writes one timeline entry, and on PostgreSQL the change for watchers.
    async fn record(
        &self,
        db: &impl ConnectionTrait,
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
        .insert(db)
        .await?;
        self.publish(db, row, &entry).await?;
        Ok(entry)
    }
}

/// A stored status.
fn status_of(row: &referral::Model) -> Result<Status> {
    Status::parse(&row.status).map_err(|e| Error::Corrupt(format!("referral {}: {e}", row.id)))
}
