//! The type-of-need codes valid for an authority: the national DfE codes (one
//! table for every council, shipped by migrations) and the council's own
//! additions (its rows only). A council's additions are audited.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use sen_platform::error::on_unique;
use sen_platform::identity::TenantScope;

use super::{Actor, Store};
use crate::domain::{BroadArea, NeedCode, NeedType, check_new_need};
use crate::entity::{audit_event, council_need_type, need_type};
use crate::error::{Error, Result};

/// A code a council adds, as asked (checked by [`Store::add_need_type`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNeedType {
    /// The census code as given.
    pub code: String,
    /// What it means.
    pub name: String,
    /// The broad area of need, if it belongs to one.
    pub area: Option<BroadArea>,
    /// Valid only with SEN support (K).
    pub sen_support_only: bool,
    /// When the DfE introduced it; none: today.
    pub added_on: Option<NaiveDate>,
}

/// The audit action of a code added.
const ADDED: &str = "need_type.added";

impl Store {
    /// The codes valid for the authority: the national ones in census order, then
    /// the council's own by code.
    pub async fn need_types(&self, tenant: &TenantScope) -> Result<Vec<NeedType>> {
        need_types_of(&self.read, &tenant.key()).await
    }

    /// Adds a council's own code: 2 to 6 upper-case letters the authority does not
    /// have yet, with a name. Audited in the same transaction.
    pub async fn add_need_type(&self, tenant: &TenantScope, actor: &Actor, new: &NewNeedType) -> Result<NeedType> {
        let la_code = tenant.key();
        let txn = self.db.begin().await?;
        let existing = need_types_of(&txn, &la_code).await?;
        let (code, name) =
            check_new_need(&new.code, &new.name, &existing).map_err(|(field, e)| Error::invalid(field, e))?;
        let now = Utc::now();
        let row = council_need_type::ActiveModel {
            la_code: Set(la_code.clone()),
            code: Set(code.as_str().to_owned()),
            name: Set(name),
            broad_area: Set(new.area.map(|a| a.code().to_owned())),
            sen_support_only: Set(new.sen_support_only),
            added_on: Set(new.added_on.unwrap_or_else(|| now.date_naive())),
            added_by: Set(actor.person.clone()),
            added_at: Set(now),
            ..Default::default()
        };
        let taken = || Error::AlreadyExists(format!("{code} is already a type of need of this authority"));
        let row = row.insert(&txn).await.map_err(|e| on_unique(e, taken))?;
        audit_event::Entity::insert(audit_event::ActiveModel {
            la_code: Set(la_code),
            person: Set(actor.person.clone()),
            role: Set(actor.role.as_str().to_owned()),
            pupil_id: Set(None),
            action: Set(ADDED.to_owned()),
            detail: Set(Some(code.as_str().to_owned())),
            at: Set(now),
            trace_id: Set(actor.trace_id.clone()),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        txn.commit().await?;
        council(row)
    }
}

/// The codes valid for authority `la_code`, read on `db` (a transaction's own
/// connection when a change depends on them).
pub(super) async fn need_types_of(db: &impl ConnectionTrait, la_code: &str) -> Result<Vec<NeedType>> {
    let national = need_type::Entity::find().order_by_asc(need_type::Column::Position).all(db).await?;
    let own = council_need_type::Entity::find()
        .filter(council_need_type::Column::LaCode.eq(la_code))
        .order_by_asc(council_need_type::Column::Code)
        .all(db)
        .await?;
    let mut codes = Vec::with_capacity(national.len() + own.len());
    for row in national {
        codes.push(NeedType {
            code: code(&row.code)?,
            name: row.name,
            area: area(row.broad_area.as_deref())?,
            sen_support_only: row.sen_support_only,
            added_on: row.added_on,
            national: true,
        });
    }
    // A council's code the platform has since shipped nationally is the national one.
    let shipped: Vec<NeedCode> = codes.iter().map(|n| n.code).collect();
    for row in own {
        let own = council(row)?;
        if !shipped.contains(&own.code) {
            codes.push(own);
        }
    }
    Ok(codes)
}

fn council(row: council_need_type::Model) -> Result<NeedType> {
    Ok(NeedType {
        code: code(&row.code)?,
        name: row.name,
        area: area(row.broad_area.as_deref())?,
        sen_support_only: row.sen_support_only,
        added_on: row.added_on,
        national: false,
    })
}

fn code(stored: &str) -> Result<NeedCode> {
    NeedCode::parse(stored).map_err(Error::Corrupt)
}

fn area(stored: Option<&str>) -> Result<Option<BroadArea>> {
    stored.map(BroadArea::parse).transpose().map_err(Error::Corrupt)
}
