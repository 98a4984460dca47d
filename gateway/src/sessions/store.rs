//! The session store: one row per sign-in, in a database every replica of the
//! gateway shares (a SQLite file in the data folder embedded; PostgreSQL in
//! production, `SEN_GATEWAY_DATABASE_URL`). Times are Unix seconds, passed in by
//! the caller, so that the rules are exact under test.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue, ColumnTrait, EntityTrait, QueryFilter};
use sen_platform::config::PoolConfig;
use sen_platform::db::Db;
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};

use super::entity::{self, Column, Entity};
use super::migration::Migrator;

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The person signed out.
    SignedOut,
    /// An operator ended the person's sessions (`sen sessions end`).
    Operator,
    /// The identity provider no longer gives the person the session's role.
    RoleChanged,
    /// The identity provider would not confirm the person at a re-check.
    RecheckFailed,
    /// The key that signed the session's cookie was taken out of the key set.
    KeyRemoved,
}

impl EndReason {
    /// The reason as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedOut => "signed_out",
            Self::Operator => "ended_by_operator",
            Self::RoleChanged => "role_changed",
            Self::RecheckFailed => "recheck_failed",
            Self::KeyRemoved => "key_removed",
        }
    }
}

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    /// Who signed in, as what.
    pub grant: Grant,
    /// The key that signed its cookie.
    pub key_id: String,
    /// When they signed in.
    pub created_at: i64,
    /// When it expires.
    pub expires_at: i64,
    /// When the identity provider last confirmed it.
    pub checked_at: i64,
    /// When it was ended, if it was.
    pub ended_at: Option<i64>,
}

impl StoredSession {
    /// Whether the session may be used at `now`: not ended, not expired.
    pub fn is_live(&self, now: i64) -> bool {
        self.ended_at.is_none() && now < self.expires_at
    }
}

/// A new session's row.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    /// The digest of its id ([`super::digest`]).
    pub id_digest: &'a str,
    /// Who signed in, as what.
    pub grant: &'a Grant,
    /// The key that signs its cookie.
    pub key_id: &'a str,
    /// Now.
    pub created_at: i64,
    /// When it expires.
    pub expires_at: i64,
}

/// The gateway's store of web sessions.
#[derive(Clone, Debug)]
pub struct SessionStore {
    pub(super) db: Db,
}

impl SessionStore {
    /// Opens the store at `url` (`sqlite://…` or `postgres://…`) and brings its
    /// schema up to date.
    pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<Self> {
        Ok(Self { db: Db::connect_and_migrate::<Migrator>(url, pool).await? })
    }

    /// Records a new session.
    pub async fn begin(&self, session: NewSession<'_>) -> anyhow::Result<()> {
        let row = entity::ActiveModel {
            id_digest: ActiveValue::Set(session.id_digest.to_owned()),
            person: ActiveValue::Set(session.grant.person.clone()),
            role: ActiveValue::Set(session.grant.role.as_str().to_owned()),
            tenant: ActiveValue::Set(session.grant.tenant.map(|t| t.to_string())),
            school: ActiveValue::Set(session.grant.school.map(|s| s.to_string())),
            key_id: ActiveValue::Set(session.key_id.to_owned()),
            created_at: ActiveValue::Set(session.created_at),
            expires_at: ActiveValue::Set(session.expires_at),
            checked_at: ActiveValue::Set(session.created_at),
            ended_at: ActiveValue::Set(None),
            ended_reason: ActiveValue::Set(None),
        };
        Entity::insert(row).exec_without_returning(&self.db.write).await?;
        Ok(())
    }

    /// The session whose id has `id_digest`, live or not.
    pub async fn find(&self, id_digest: &str) -> anyhow::Result<Option<StoredSession>> {
        let Some(row) = Entity::find_by_id(id_digest.to_owned()).one(&self.db.read).await? else {
            return Ok(None);
        };
        Ok(Some(stored(row)?))
    }

    /// Records that the identity provider confirmed a live session at `at`;
    /// whether there was such a session.
    pub async fn confirmed(&self, id_digest: &str, at: i64) -> anyhow::Result<bool> {
        let done = Entity::update_many()
            .col_expr(Column::CheckedAt, Expr::value(at))
            .filter(Column::IdDigest.eq(id_digest))
            .filter(Column::EndedAt.is_null())
            .exec(&self.db.write)
            .await?;
        Ok(done.rows_affected > 0)
    }

    /// Ends one session; whether it was live until now.
    pub async fn end(&self, id_digest: &str, at: i64, reason: EndReason) -> anyhow::Result<bool> {
        let done = Self::ending(at, reason)
            .filter(Column::IdDigest.eq(id_digest))
            .filter(Column::EndedAt.is_null())
            .exec(&self.db.write)
            .await?;
        Ok(done.rows_affected > 0)
    }

    /// Ends every session of `person` (in `tenant`, when given); how many were live.
    pub async fn end_person(
        &self,
        person: &str,
        tenant: Option<LaCode>,
        at: i64,
        reason: EndReason,
    ) -> anyhow::Result<u64> {
        let mut update = Self::ending(at, reason).filter(Column::Person.eq(person)).filter(Column::EndedAt.is_null());
        if let Some(tenant) = tenant {
            update = update.filter(Column::Tenant.eq(tenant.to_string()));
        }
        Ok(update.exec(&self.db.write).await?.rows_affected)
    }

    /// Ends every live session whose cookie was signed by a key not in
    /// `key_ids` (a key taken out of the set); how many.
    pub async fn end_signed_by_other_keys(&self, key_ids: &[String], at: i64) -> anyhow::Result<u64> {
        let done = Self::ending(at, EndReason::KeyRemoved)
            .filter(Column::KeyId.is_not_in(key_ids.iter().cloned()))
            .filter(Column::EndedAt.is_null())
            .filter(Column::ExpiresAt.gt(at))
            .exec(&self.db.write)
            .await?;
        Ok(done.rows_affected)
    }

    /// Deletes the rows of sessions that expired before `before`; how many.
    pub async fn forget_expired(&self, before: i64) -> anyhow::Result<u64> {
        let done = Entity::delete_many().filter(Column::ExpiresAt.lt(before)).exec(&self.db.write).await?;
        Ok(done.rows_affected)
    }

    fn ending(at: i64, reason: EndReason) -> sea_orm::UpdateMany<Entity> {
        Entity::update_many()
            .col_expr(Column::EndedAt, Expr::value(at))
            .col_expr(Column::EndedReason, Expr::value(reason.as_str()))
    }
}

/// A row read back as a session; a row that does not parse is an error, never a grant.
fn stored(row: entity::Model) -> anyhow::Result<StoredSession> {
    let bad = |field: &str, e: String| anyhow::anyhow!("web_sessions.{field}: {e}");
    let grant = Grant {
        person: row.person,
        role: Role::parse(&row.role).map_err(|e| bad("role", e))?,
        tenant: row.tenant.as_deref().map(LaCode::parse).transpose().map_err(|e| bad("tenant", e))?,
        school: row.school.as_deref().map(Urn::parse).transpose().map_err(|e| bad("school", e))?,
    };
    Ok(StoredSession {
        grant,
        key_id: row.key_id,
        created_at: row.created_at,
        expires_at: row.expires_at,
        checked_at: row.checked_at,
        ended_at: row.ended_at,
    })
}
