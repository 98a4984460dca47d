//! The outbox table as the feed reads it: listening for its notifications,
//! reading changes after a point, and forgetting old ones. Both the writer
//! ([`super::OutboxFeed`]) and the [`super::relay`] use it; it uses neither.

use chrono::{DateTime, Utc};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::referral_change;
use crate::error::{Error, Result};

/// The PostgreSQL notification channel; the payload is the change's id.
pub(super) const CHANNEL: &str = "sen_referral_changes";

/// A connection listening on [`CHANNEL`], taken from `db`'s pool.
pub(super) async fn listen(db: &DatabaseConnection) -> Result<PgListener> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Err(Error::FailedPrecondition("only PostgreSQL shares changes between replicas".into()));
    }
    let unavailable = |e: sea_orm::sqlx::Error| Error::Unavailable(format!("cannot listen for changes: {e}"));
    let mut listener = PgListener::connect_with(db.get_postgres_connection_pool()).await.map_err(unavailable)?;
    listener.listen(CHANNEL).await.map_err(unavailable)?;
    Ok(listener)
}

/// One change of the outbox, if it is still there.
pub(super) async fn change(db: &DatabaseConnection, id: i64) -> Result<Option<referral_change::Model>> {
    Ok(referral_change::Entity::find_by_id(id).one(db).await?)
}

/// The changes written after change `id`, in id order.
pub(super) async fn changes_after(db: &DatabaseConnection, id: i64) -> Result<Vec<referral_change::Model>> {
    Ok(referral_change::Entity::find()
        .filter(referral_change::Column::Id.gt(id))
        .order_by_asc(referral_change::Column::Id)
        .all(db)
        .await?)
}

/// The id of the latest change in the outbox (0 when it is empty).
pub(super) async fn last_change(db: &DatabaseConnection) -> Result<i64> {
    let last: Option<Option<i64>> = referral_change::Entity::find()
        .select_only()
        .column_as(referral_change::Column::Id.max(), "last")
        .into_tuple()
        .one(db)
        .await?;
    Ok(last.flatten().unwrap_or(0))
}

/// Deletes the outbox's changes written before `before`; returns how many.
pub(super) async fn forget_changes_before(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
    let deleted =
        referral_change::Entity::delete_many().filter(referral_change::Column::CreatedAt.lt(before)).exec(db).await?;
    Ok(deleted.rows_affected)
}
