//! The outbox as the feed reads and writes it: `referral_changes` (one row per
//! committed change, its id the change's [`Position`]) and
//! `referral_change_horizon` (up to which position changes were forgotten).
//! Rows are read across tenants by design: each watcher filters by its own
//! scope, here in the query or in the broadcast.

use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::sea_query::Expr;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};
use sen_platform::identity::Scope;
use sen_proto::v1 as pb;

use super::{Audience, Change, Position};
use crate::entity::{referral_change, referral_change_horizon};
use crate::error::{Error, Result};

/// The PostgreSQL notification channel; the payload is the change's position.
pub(super) const CHANNEL: &str = "sen_referral_changes";

/// The key of the PostgreSQL advisory lock that orders positions: a writer holds
/// it from taking its position until its transaction ends.
const ORDER_LOCK: i64 = i64::from_be_bytes(*b"SEN_feed");

/// Writes `message`, a change `audience` may see, to the outbox inside `txn`, and on
/// PostgreSQL notifies every replica's relay on commit. Call it last before the
/// commit: from the order lock to the commit the transaction takes no other lock.
pub(super) async fn write(txn: &DatabaseTransaction, audience: &Audience, message: &pb::ReferralChange) -> Result<()> {
    let postgres = txn.get_database_backend() == DatabaseBackend::Postgres;
    if postgres {
        // Without it two writers could take positions 7 and 8 and commit 8
        // first: a watcher given 8 and resuming after it would never see 7.
        let lock = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ORDER_LOCK.into()],
        );
        txn.execute(lock).await?;
    }
    let change = referral_change::ActiveModel {
        la_code: Set(audience.tenant.clone()),
        school_urn: Set(audience.school),
        allocated_to: Set(audience.allocated_to.clone()),
        message: Set(message.encode_to_vec()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if postgres {
        let notify = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), change.id.to_string().into()],
        );
        txn.execute(notify).await?;
    }
    Ok(())
}

/// A connection listening on [`CHANNEL`], opened with `db`'s pool's options.
pub(super) async fn listen(db: &DatabaseConnection) -> Result<PgListener> {
    let unavailable = |e: sea_orm::sqlx::Error| Error::Unavailable(format!("cannot listen for changes: {e}"));
    let mut listener = PgListener::connect_with(db.get_postgres_connection_pool()).await.map_err(unavailable)?;
    listener.listen(CHANNEL).await.map_err(unavailable)?;
    Ok(listener)
}

/// What the outbox holds now.
#[derive(Clone, Copy, Debug)]
pub(super) struct Kept {
    /// The latest position taken (0 before any change).
    pub latest: Position,
    /// Changes at or below this position may have been deleted.
    pub forgotten_through: Position,
}

/// The latest position and the horizon of the kept changes.
pub(super) async fn kept(db: &DatabaseConnection) -> Result<Kept> {
    let last: Option<Option<i64>> = referral_change::Entity::find()
        .select_only()
        .column_as(referral_change::Column::Id.max(), "last")
        .into_tuple()
        .one(db)
        .await?;
    let forgotten_through = forgotten_through(db).await?;
    // Read second: had every row been deleted in between, the horizon says how far.
    let latest = Position(last.flatten().unwrap_or(0)).max(forgotten_through);
    Ok(Kept { latest, forgotten_through })
}

/// Changes at or below this position may have been deleted.
pub(super) async fn forgotten_through(db: &impl ConnectionTrait) -> Result<Position> {
    let horizon = referral_change_horizon::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| Error::Corrupt("referral_change_horizon has no row: run `sen migrate referrals`".into()))?;
    Ok(Position(horizon.forgotten_through))
}

/// Some changes read in position order, and how far the read got.
pub(super) struct Page {
    /// The changes read (a row that does not decode is left out).
    pub changes: Vec<Change>,
    /// Every change up to here has been read.
    pub reached: Position,
    /// Whether the read stopped at its limit, with more to read after `reached`.
    pub more: bool,
}

/// Up to `limit` changes after `after`, of every tenant, in position order.
pub(super) async fn after(db: &DatabaseConnection, after: Position, limit: u64) -> Result<Page> {
    let rows = referral_change::Entity::find()
        .filter(referral_change::Column::Id.gt(after.0))
        .order_by_asc(referral_change::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let more = rows.len() as u64 >= limit;
    let reached = rows.last().map_or(after, |last| Position(last.id));
    Ok(Page { changes: rows.into_iter().filter_map(change_of).collect(), reached, more })
}

/// Up to `limit` changes `scope` may see, after `after` and up to `upto`, in
/// position order; once nothing is left before `upto`, the page reaches it.
pub(super) async fn visible_between(
    db: &DatabaseConnection,
    scope: &Scope,
    after: Position,
    upto: Position,
    limit: u64,
) -> Result<Page> {
    let rows = referral_change::Entity::find()
        .filter(visible(scope))
        .filter(referral_change::Column::Id.gt(after.0))
        .filter(referral_change::Column::Id.lte(upto.0))
        .order_by_asc(referral_change::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let reached = match rows.last() {
        Some(last) if rows.len() as u64 >= limit => Position(last.id),
        _ => upto,
    };
    Ok(Page { changes: rows.into_iter().filter_map(change_of).collect(), reached, more: reached < upto })
}

/// The outbox's rows within `scope`, as the store's `visible` is for referrals.
fn visible(scope: &Scope) -> Condition {
    let condition = Condition::all().add(referral_change::Column::LaCode.eq(scope.tenant().key()));
    match scope {
        Scope::Tenant(_) => condition,
        Scope::School(school) => condition.add(referral_change::Column::SchoolUrn.eq(school.urn().as_i32())),
        Scope::Caseload(caseload) => condition.add(referral_change::Column::AllocatedTo.eq(caseload.person())),
    }
}

/// Deletes every change up to the latest one written before `before`, and moves
/// the horizon there, in one transaction; returns how many were deleted. What is
/// kept is always every change after one position, never a set with holes.
pub(super) async fn forget_written_before(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
    let txn = db.begin().await?;
    let through: Option<Option<i64>> = referral_change::Entity::find()
        .select_only()
        .column_as(referral_change::Column::Id.max(), "through")
        .filter(referral_change::Column::CreatedAt.lt(before))
        .into_tuple()
        .one(&txn)
        .await?;
    let Some(through) = through.flatten() else {
        return Ok(0);
    };
    let deleted =
        referral_change::Entity::delete_many().filter(referral_change::Column::Id.lte(through)).exec(&txn).await?;
    referral_change_horizon::Entity::update_many()
        .col_expr(referral_change_horizon::Column::ForgottenThrough, Expr::value(through))
        .filter(referral_change_horizon::Column::Id.eq(1))
        .filter(referral_change_horizon::Column::ForgottenThrough.lt(through))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(deleted.rows_affected)
}

/// The change a row holds, with its position; a row that does not decode is
/// logged and skipped (its position still passes).
fn change_of(row: referral_change::Model) -> Option<Change> {
    match pb::ReferralChange::decode(row.message.as_slice()) {
        Ok(mut message) => {
            message.position = row.id;
            let audience = Audience { tenant: row.la_code, school: row.school_urn, allocated_to: row.allocated_to };
            Some(Change { position: Position(row.id), audience, message })
        }
        Err(e) => {
            tracing::error!(change_id = row.id, error = %e, "an outbox change does not decode; skipped");
            None
        }
    }
}
