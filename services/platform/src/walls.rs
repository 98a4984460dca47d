//! The second wall between tenants: PostgreSQL row-level security.
//!
//! The first wall is in the stores: every query filters on the caller's
//! [`Scope`](crate::identity::Scope). This one holds when a query forgets to.
//! Every table of a service's database that has an `la_code` column (except the
//! few that are about every tenant by nature, [`ACROSS_TENANTS`]) carries a
//! policy that shows and accepts only rows whose `la_code` equals the session
//! setting `sen.tenant`, and the policy is forced, so it binds the table's owner
//! (the service's own role) too. A session that has not said whose data it
//! works on sees nothing and can write nothing.
//!
//! Who sets it: each connection taken from the pool says whose it is before its
//! first statement (the pool's `before_acquire` and `after_connect` hooks run
//! `set_config('sen.tenant', …)` in place of the liveness ping they replace), from
//! the wall of the task that took it:
//!
//! - a gRPC call runs within the tenant of its verified identity (the services'
//!   [`crate::audit::audited`] wrapper enters it, for the handler and for every
//!   frame of a streamed answer), so a call can only ever reach its caller's
//!   council's rows, whatever its queries say;
//! - work that is about every tenant by nature (migrations, the audit writers
//!   that commit many callers' entries at once, the retention and reconciling
//!   jobs, the referral change feed, demo data) says so with [`across_tenants`];
//! - anything else (a task spawned without its wall, a tenant-less token) sees
//!   no tenant data at all.
//!
//! A transaction takes its connection once, so all of its statements share the
//! wall it began under. The setting lives for the session, so the platform needs
//! a connection of its own per session: behind PgBouncer, session pooling only.
//!
//! SQLite has no row-level security; there the embedded single-council default
//! relies on the first wall alone.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

/// The PostgreSQL setting the policies compare `la_code` with.
pub const SETTING: &str = "sen.tenant";

/// The setting's value for work across every tenant.
const EVERY_TENANT: &str = "*";

/// The policy's name on every walled table.
pub const POLICY: &str = "sen_tenant_wall";

/// Tables with an `la_code` that are about every tenant by nature, left
/// unwalled, with why.
pub const ACROSS_TENANTS: &[(&str, &str)] = &[
    ("authorities", "the register of tenants itself, kept by the platform operator, who belongs to no tenant"),
    (
        "gias_areas",
        "which council's area each URN lies in, from the public GIAS register: a council's import is checked against \
         every other council's URNs",
    ),
];

tokio::task_local! {
    static WALL: Wall;
}

/// Whose rows a task's queries may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wall {
    /// One council's, by its LA code.
    Tenant(String),
    /// Every council's: work about every tenant by nature.
    Every,
}

impl Wall {
    fn setting(&self) -> &str {
        match self {
            Self::Tenant(la_code) => la_code,
            Self::Every => EVERY_TENANT,
        }
    }
}

/// Runs `work` with its database sessions walled to the tenant `la_code`.
pub async fn within_tenant<F: Future>(la_code: &str, work: F) -> F::Output {
    WALL.scope(Wall::Tenant(la_code.to_owned()), work).await
}

/// Runs `work` with its database sessions open to every tenant's rows: only for
/// work that is about every tenant by nature.
pub async fn across_tenants<F: Future>(work: F) -> F::Output {
    WALL.scope(Wall::Every, work).await
}

/// Runs `work` within `wall`, or with no tenant's rows at all when there is none.
pub async fn within<F: Future>(wall: Option<Wall>, work: F) -> F::Output {
    match wall {
        Some(wall) => WALL.scope(wall, work).await,
        None => work.await,
    }
}

/// The wall of the running task, if it has one.
pub fn current() -> Option<Wall> {
    WALL.try_with(Clone::clone).ok()
}

/// The setting a connection taken now must carry: the running task's tenant,
/// `*` across tenants, or the empty string (no rows) outside any wall.
pub fn setting_now() -> String {
    WALL.try_with(|wall| wall.setting().to_owned()).unwrap_or_default()
}

/// The statement that gives a session the running task's wall.
pub(crate) const SET_WALL: &str = "SELECT set_config('sen.tenant', $1, false)";

/// Within a transaction: opens it to every tenant until it ends (migrations).
pub async fn open_transaction_to_every_tenant(transaction: &impl ConnectionTrait) -> Result<(), DbErr> {
    if transaction.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    transaction.execute_unprepared(&format!("SELECT set_config('{SETTING}', '{EVERY_TENANT}', true)")).await.map(|_| ())
}

/// A response body polled within a wall: a streamed answer's later frames run
/// their queries as the call's own handler did.
#[derive(Debug)]
pub struct Walled<B> {
    inner: B,
    wall: Option<Wall>,
}

impl<B> Walled<B> {
    /// `inner`, polled within `wall` (or none).
    pub fn new(inner: B, wall: Option<Wall>) -> Self {
        Self { inner, wall }
    }
}

impl<B: http_body::Body + Unpin> http_body::Body for Walled<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match this.wall.clone() {
            Some(wall) => WALL.sync_scope(wall, || Pin::new(&mut this.inner).poll_frame(cx)),
            None => Pin::new(&mut this.inner).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Walls every table of the connection's schema that has an `la_code` column
/// and is not in [`ACROSS_TENANTS`]: row-level security enabled and forced,
/// with the one policy. Run after every migration, so a table added later is
/// walled the moment it exists; tables already walled are left as they are.
/// Nothing on SQLite.
pub async fn wall_every_tenant_table(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(Vec::new());
    }
    let exempt: Vec<String> = ACROSS_TENANTS.iter().map(|(table, _)| format!("'{table}'")).collect();
    let unwalled = db
        .query_all(Statement::from_string(
            DatabaseBackend::Postgres,
            format!(
                "SELECT c.relname AS name FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'la_code' AND NOT a.attisdropped \
                 WHERE c.relkind IN ('r', 'p') AND c.relname NOT IN ({exempt}) \
                   AND (NOT c.relrowsecurity OR NOT c.relforcerowsecurity \
                        OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = '{POLICY}')) \
                 ORDER BY c.relname",
                exempt = exempt.join(", ")
            ),
        ))
        .await?;
    let mut walled = Vec::new();
    for row in unwalled {
        let table: String = row.try_get("", "name")?;
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        let rule = format!(
            "la_code = current_setting('{SETTING}', true) OR current_setting('{SETTING}', true) = '{EVERY_TENANT}'"
        );
        db.execute_unprepared(&format!(
            "ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY; \
             ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY; \
             DROP POLICY IF EXISTS {POLICY} ON {quoted}; \
             CREATE POLICY {POLICY} ON {quoted} USING ({rule}) WITH CHECK ({rule});"
        ))
        .await?;
        walled.push(table);
    }
    Ok(walled)
}

/// Whether the connection's role passes through the walls anyway (a superuser,
/// or a role with BYPASSRLS): said at start, since production must not.
pub async fn bypassed_by_role(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(false);
    }
    let row = db
        .query_one(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT (rolsuper OR rolbypassrls) AS bypassed FROM pg_roles WHERE rolname = current_user",
        ))
        .await?;
    Ok(row.map(|row| row.try_get::<bool>("", "bypassed")).transpose()?.unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_outside_any_wall_reaches_no_tenant() {
        assert_eq!(setting_now(), "");
        assert_eq!(within_tenant("990", async { setting_now() }).await, "990");
        assert_eq!(across_tenants(async { setting_now() }).await, "*");
        assert_eq!(within(None, async { setting_now() }).await, "");
        // A task spawned inside a wall does not inherit it.
        let spawned = within_tenant("990", async { tokio::spawn(async { setting_now() }).await }).await;
        assert_eq!(spawned.expect("the task"), "");
    }
}
