//! The record of the lists people export from the web pages (a CSV or XLSX
//! file of pupils, referrals, deadlines…): one row per export in the session
//! store, the database the gateway already keeps and every replica shares, so
//! the record is as durable as the sessions and needs no service of its own.
//!
//! A row is written before the first byte of the file is sent (who, as what,
//! which list, its filters, the format) and completed with the number of rows
//! when the file has been written in full; a download broken off part way
//! stays recorded, without a count. Rows are kept: the record is an audit
//! trail, not a session.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use sen_platform::identity::{Grant, Role};
use sen_platform::ids::{LaCode, Urn};

use super::store::SessionStore;

/// The `web_exports` table as sea-orm sees it.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One export of a list.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "web_exports")]
    pub struct Model {
        /// Its number.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The person who exported it.
        pub person: String,
        /// Their role, as `Role::as_str` writes it.
        pub role: String,
        /// Their authority's LA code.
        pub tenant: Option<String>,
        /// Their school's URN (SENCOs).
        pub school: Option<String>,
        /// The list (its page's path without the slash: `pupils`, `referrals`…).
        pub list: String,
        /// `csv` or `xlsx`.
        pub format: String,
        /// The filters applied, as the page's query string has them.
        pub filters: String,
        /// When the export began (Unix seconds).
        pub started_at: i64,
        /// When its last row was written, if it was.
        pub finished_at: Option<i64>,
        /// How many rows the file holds (besides its header), once written.
        pub rows: Option<i64>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{Column, Entity};

/// An export about to begin.
#[derive(Clone, Debug)]
pub struct NewExport<'a> {
    /// Who asks for it, as what.
    pub grant: &'a Grant,
    /// The list.
    pub list: &'a str,
    /// `csv` or `xlsx`.
    pub format: &'a str,
    /// The filters, as a query string.
    pub filters: &'a str,
    /// Now (Unix seconds).
    pub at: i64,
}

/// An export as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRecord {
    /// Its number.
    pub id: i64,
    /// Who exported it, as what.
    pub grant: Grant,
    /// The list.
    pub list: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// The filters, as a query string.
    pub filters: String,
    /// When it began.
    pub started_at: i64,
    /// When its last row was written (none: broken off, or still being written).
    pub finished_at: Option<i64>,
    /// How many rows it held.
    pub rows: Option<u64>,
}

impl SessionStore {
    /// Records that an export begins; its number, to record its end with.
    pub async fn export_started(&self, export: NewExport<'_>) -> anyhow::Result<i64> {
        let row = entity::ActiveModel {
            id: ActiveValue::NotSet,
            person: ActiveValue::Set(export.grant.person.clone()),
            role: ActiveValue::Set(export.grant.role.as_str().to_owned()),
            tenant: ActiveValue::Set(export.grant.tenant.map(|t| t.to_string())),
            school: ActiveValue::Set(export.grant.school.map(|s| s.to_string())),
            list: ActiveValue::Set(export.list.chars().take(64).collect()),
            format: ActiveValue::Set(export.format.chars().take(8).collect()),
            filters: ActiveValue::Set(export.filters.chars().take(2000).collect()),
            started_at: ActiveValue::Set(export.at),
            finished_at: ActiveValue::Set(None),
            rows: ActiveValue::Set(None),
        };
        Ok(Entity::insert(row).exec(&self.db.write).await?.last_insert_id)
    }

    /// Records that export `id` was written in full with `rows` rows.
    pub async fn export_finished(&self, id: i64, rows: u64, at: i64) -> anyhow::Result<()> {
        Entity::update_many()
            .col_expr(Column::FinishedAt, Expr::value(at))
            .col_expr(Column::Rows, Expr::value(i64::try_from(rows).unwrap_or(i64::MAX)))
            .filter(Column::Id.eq(id))
            .exec(&self.db.write)
            .await?;
        Ok(())
    }

    /// The exports of `tenant`'s people (every authority's with `None`), newest first.
    pub async fn exports(&self, tenant: Option<LaCode>) -> anyhow::Result<Vec<ExportRecord>> {
        let mut query = Entity::find().order_by_desc(Column::Id);
        if let Some(tenant) = tenant {
            query = query.filter(Column::Tenant.eq(tenant.to_string()));
        }
        query.all(&self.db.read).await?.into_iter().map(record).collect()
    }
}

/// A row read back; a row that does not parse is an error.
fn record(row: entity::Model) -> anyhow::Result<ExportRecord> {
    let bad = |field: &str, e: String| anyhow::anyhow!("web_exports.{field}: {e}");
    let grant = Grant {
        person: row.person,
        role: Role::parse(&row.role).map_err(|e| bad("role", e))?,
        tenant: row.tenant.as_deref().map(LaCode::parse).transpose().map_err(|e| bad("tenant", e))?,
        school: row.school.as_deref().map(Urn::parse).transpose().map_err(|e| bad("school", e))?,
    };
    Ok(ExportRecord {
        id: row.id,
        grant,
        list: row.list,
        format: row.format,
        filters: row.filters,
        started_at: row.started_at,
        finished_at: row.finished_at,
        rows: row.rows.and_then(|n| u64::try_from(n).ok()),
    })
}

#[cfg(test)]
mod tests {
    use sen_platform::config::PoolConfig;
    use sen_platform::on_both_engines;
    use sen_platform::testing::{Engine, TestDatabase};

    use super::*;

    const NOW: i64 = 1_796_000_000;

    fn officer(tenant: &str) -> Grant {
        Grant {
            person: format!("officer-{tenant}"),
            role: Role::CaseOfficer,
            tenant: LaCode::parse(tenant).ok(),
            school: None,
        }
    }

    async fn an_export_is_recorded_when_it_begins_and_counted_when_it_ends(engine: Engine) {
        let db = TestDatabase::create(engine).await.expect("a database");
        let store = SessionStore::connect(&db.url, &PoolConfig::default()).await.expect("the store opens");
        let (ours, theirs) = (officer("886"), officer("887"));
        let started = NewExport { grant: &ours, list: "pupils", format: "xlsx", filters: "status=E", at: NOW };
        let id = store.export_started(started).await.expect("recorded");
        let other = NewExport { grant: &theirs, list: "referrals", format: "csv", filters: "", at: NOW + 1 };
        store.export_started(other).await.expect("recorded");

        let begun = store.exports(LaCode::parse("886").ok()).await.expect("read");
        assert_eq!(begun.len(), 1, "an authority's record holds its own people's exports only");
        assert_eq!(
            (begun[0].list.as_str(), begun[0].format.as_str(), begun[0].filters.as_str()),
            ("pupils", "xlsx", "status=E")
        );
        assert_eq!((begun[0].grant.clone(), begun[0].rows, begun[0].finished_at), (ours.clone(), None, None));

        store.export_finished(id, 1234, NOW + 5).await.expect("finished");
        let done = store.exports(LaCode::parse("886").ok()).await.expect("read");
        assert_eq!((done[0].rows, done[0].finished_at), (Some(1234), Some(NOW + 5)));
        assert_eq!(store.exports(None).await.expect("read").len(), 2);
    }

    on_both_engines!(an_export_is_recorded_when_it_begins_and_counted_when_it_ends);
}
