//! Case access grants (opened and closed by the caseloads service) and the audit log.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use sen_platform::identity::{Scope, TenantScope};
use sen_platform::paging::Page;

use super::{Actor, Store, audit_one, insert};
use crate::entity::{audit_event, case_access, pupil};
use crate::error::{Error, Result};

impl Store {
    /// Opens `person`'s access to a pupil for `case_ref`. Granting again while the
    /// grant is open returns it unchanged, so the caller may retry.
    pub async fn grant_case_access(
        &self,
        tenant: &TenantScope,
        actor: &Actor,
        pupil_id: i64,
        person: &str,
        case_ref: &str,
    ) -> Result<case_access::Model> {
        let scope = Scope::Tenant(tenant.clone());
        let txn = self.db.begin().await?;
        let pupil = super::load_visible(&txn, &scope, pupil_id).await?;
        Self::refuse_while_erasing(&txn, &tenant.key(), pupil.id).await?;
        if let Some(open) = self.open_grant(&txn, tenant, pupil.id, person, case_ref).await? {
            return Ok(open);
        }
        let model = case_access::ActiveModel {
            la_code: Set(tenant.key()),
            pupil_id: Set(pupil.id),
            person: Set(person.to_owned()),
            case_ref: Set(case_ref.to_owned()),
            granted_at: Set(Utc::now()),
            revoked_at: Set(None),
            ..Default::default()
        };
        let row = insert(&txn, model, || Error::Aborted("the grant was opened at the same time; retry".into())).await?;
        audit_one(&txn, &scope, actor, pupil.id, "access.grant").await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Closes the open grant of `person` to a pupil for `case_ref`.
    pub async fn revoke_case_access(
        &self,
        tenant: &TenantScope,
        actor: &Actor,
        pupil_id: i64,
        person: &str,
        case_ref: &str,
    ) -> Result<case_access::Model> {
        let scope = Scope::Tenant(tenant.clone());
        let txn = self.db.begin().await?;
        let pupil = super::load_visible(&txn, &scope, pupil_id).await?;
        let open = self.open_grant(&txn, tenant, pupil.id, person, case_ref).await?.ok_or_else(|| {
            Error::NotFound(format!("open access of {person} to pupil {pupil_id} for case {case_ref}"))
        })?;
        let mut model: case_access::ActiveModel = open.into();
        model.revoked_at = Set(Some(Utc::now()));
        let row = model.update(&txn).await?;
        audit_one(&txn, &scope, actor, pupil.id, "access.revoke").await?;
        txn.commit().await?;
        Ok(row)
    }

    async fn open_grant(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        tenant: &TenantScope,
        pupil_id: i32,
        person: &str,
        case_ref: &str,
    ) -> Result<Option<case_access::Model>> {
        Ok(case_access::Entity::find()
            .filter(case_access::Column::LaCode.eq(tenant.key()))
            .filter(case_access::Column::PupilId.eq(pupil_id))
            .filter(case_access::Column::Person.eq(person))
            .filter(case_access::Column::CaseRef.eq(case_ref))
            .filter(case_access::Column::RevokedAt.is_null())
            .one(db)
            .await?)
    }

    /// The tenant's audit log, newest first, optionally for one pupil.
    pub async fn audit_events(
        &self,
        tenant: &TenantScope,
        pupil_id: Option<i64>,
        page: &Page,
    ) -> Result<(Vec<audit_event::Model>, String)> {
        let mut query = audit_event::Entity::find().filter(audit_event::Column::LaCode.eq(tenant.key()));
        if let Some(id) = pupil_id {
            let id = i32::try_from(id).map_err(|_| Error::NotFound(format!("pupil {id}")))?;
            let known =
                pupil::Entity::find_by_id(id).filter(pupil::Column::LaCode.eq(tenant.key())).one(&self.read).await?;
            if known.is_none() {
                return Err(Error::NotFound(format!("pupil {id}")));
            }
            query = query.filter(audit_event::Column::PupilId.eq(id));
        }
        if let Some(after) = &page.after {
            let after: i32 =
                after.parse().map_err(|_| Error::invalid("page.page_token", "not a token for this list"))?;
            query = query.filter(audit_event::Column::Id.lt(after));
        }
        let rows = query.order_by_desc(audit_event::Column::Id).limit(page.fetch_limit()).all(&self.read).await?;
        Ok(page.finish(rows, |e| e.id.to_string()))
    }
}
