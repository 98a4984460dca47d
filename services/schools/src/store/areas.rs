//! Whose area a URN lies in. An import claims the URNs of the rows it loads for
//! the importing authority; a URN another authority claimed is refused here, by
//! hand or by import, so a council cannot take in a school GIAS gives to another
//! council's area. Only the fact is told, never which authority holds the URN.
//!
//! Only an authority's own rows make a claim: the rows of other authorities in an
//! extract are not trusted to speak for those authorities, since a council could
//! upload an edited file to block another's schools.
//!
//! A row of another authority that names one of this authority's own schools is
//! reported by line (the school stays as it is): it tells the council that GIAS
//! no longer places that school in its area.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use sen_platform::identity::TenantScope;
use sen_platform::ids::Urn;

use super::Store;
use crate::entity::{gias_area, school};
use crate::error::{Error, Result};
use crate::gias::{Elsewhere, Skipped};

/// Rows per statement, well under SQLite's and PostgreSQL's bind-parameter limits.
const BATCH: usize = 500;

/// Why a URN another authority holds is refused.
pub(crate) fn elsewhere(urn: Urn) -> String {
    format!("URN {urn} belongs to another authority's area in GIAS")
}

/// Refuses `urn` for `tenant` when another authority holds it.
pub(super) async fn check(db: &impl ConnectionTrait, tenant: &TenantScope, urn: Urn) -> Result<()> {
    let holder = gias_area::Entity::find_by_id(urn.as_i32()).one(db).await?;
    match holder {
        Some(area) if area.la_code != tenant.key() => {
            Err(Error::FailedPrecondition(format!("{}; only that authority can add the school", elsewhere(urn))))
        }
        _ => Ok(()),
    }
}

/// Of `urns`, those held by an authority other than `tenant`, and those `tenant` already holds.
pub(super) async fn holders(
    db: &impl ConnectionTrait,
    tenant: &TenantScope,
    urns: &[i32],
) -> Result<(HashSet<i32>, HashSet<i32>)> {
    let mut others = HashSet::new();
    let mut own = HashSet::new();
    for batch in urns.chunks(BATCH) {
        let rows =
            gias_area::Entity::find().filter(gias_area::Column::Urn.is_in(batch.iter().copied())).all(db).await?;
        for row in rows {
            if row.la_code == tenant.key() {
                own.insert(row.urn);
            } else {
                others.insert(row.urn);
            }
        }
    }
    Ok((others, own))
}

/// Records `urns` as `tenant`'s. A URN claimed by another import since
/// [`holders`] read them fails the key and the whole import with it.
pub(super) async fn claim(db: &impl ConnectionTrait, tenant: &TenantScope, urns: &[i32]) -> Result<()> {
    let now = Utc::now();
    for batch in urns.chunks(BATCH) {
        let rows = batch.iter().map(|&urn| gias_area::ActiveModel {
            urn: Set(urn),
            la_code: Set(tenant.key()),
            recorded_at: Set(now),
        });
        gias_area::Entity::insert_many(rows).exec(db).await.map_err(|e| {
            super::on_unique(e, || {
                Error::Aborted(
                    "another authority imported some of these schools while this import ran; run it again".into(),
                )
            })
        })?;
    }
    Ok(())
}

impl Store {
    /// The rows GIAS gives to other authorities that name one of the tenant's own
    /// schools, each reported by line: the import leaves such a school as it is.
    pub async fn placed_elsewhere(&self, tenant: &TenantScope, rows: &[Elsewhere]) -> Result<Vec<Skipped>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let own: HashSet<i32> = school::Entity::find()
            .select_only()
            .column(school::Column::Urn)
            .filter(school::Column::LaCode.eq(tenant.key()))
            .into_tuple::<i32>()
            .all(&self.read)
            .await?
            .into_iter()
            .collect();
        Ok(rows
            .iter()
            .filter(|row| own.contains(&row.urn.as_i32()))
            .map(|row| Skipped {
                line: row.line,
                urn: row.urn.to_string(),
                reason: "LA (code) is another authority's: GIAS places this school outside this authority's area, so the row was not imported".into(),
            })
            .collect())
    }
}
