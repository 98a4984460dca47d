//! The referrals service's audit trail (`audit_events`): every read of a
//! referral by a person (its concern, consent and timeline carry a child's
//! needs), and every request the service refused.
//!
//! A read's entries are committed before it is answered, by group commit with
//! other reads' ([`GroupCommit`]): a read whose entry cannot be written is
//! refused. A list writes one entry per referral it shows; a watch, one entry
//! per referral it delivered changes of, when the stream ends or at least
//! once a minute while it runs (`crate::feed` counts them). Refusals come from
//! the platform's trail ([`RefusalLog`]), already limited per caller.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sen_platform::audit::{GroupCommit, RefusalLog, RefusalRows};
use sen_platform::identity::{Actor, Scope, TenantScope};

use super::Store;
use crate::entity::audit_event;
use crate::error::Result;

/// The writer of the service's audit entries.
pub(super) type Audits = GroupCommit<audit_event::ActiveModel>;

/// What a read of referrals was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadAction {
    /// One referral (`GetReferral`).
    Read,
    /// A page of referrals (`ListReferrals`).
    List,
    /// A referral's timeline (`GetReferralTimeline`).
    Timeline,
    /// Changes sent to a watcher (`WatchReferrals`).
    Watch,
    /// The list of a referral's documents (`ListReferralAttachments`).
    AttachmentList,
    /// One document, content and all (`GetReferralAttachment`).
    AttachmentRead,
}

impl ReadAction {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Read => "referral.read",
            Self::List => "referral.list",
            Self::Timeline => "referral.timeline",
            Self::Watch => "referral.watch",
            Self::AttachmentList => "referral.attachment_list",
            Self::AttachmentRead => "referral.attachment_read",
        }
    }
}

impl Store {
    /// Records that `actor` read `referrals` (`action`, with `detail`), returning
    /// once the entries are committed: a read is answered only after this succeeds.
    pub async fn audit_reads(
        &self,
        scope: &Scope,
        actor: &Actor,
        referrals: &[i32],
        action: ReadAction,
        detail: &str,
    ) -> Result<()> {
        let at = Utc::now();
        let entries = referrals
            .iter()
            .map(|&id| audit_event::ActiveModel {
                la_code: Set(scope.tenant().key()),
                person: Set(actor.person.clone()),
                role: Set(actor.role.as_str().to_owned()),
                referral_id: Set(Some(id)),
                action: Set(action.code().to_owned()),
                detail: Set(detail.to_owned()),
                at: Set(at),
                trace_id: Set(actor.trace_id.clone()),
                ..Default::default()
            })
            .collect();
        Ok(self.audits.record(entries).await?)
    }

    /// The tenant's audit entries, oldest first.
    pub async fn audit_events(&self, tenant: &TenantScope) -> Result<Vec<audit_event::Model>> {
        Ok(audit_event::Entity::find()
            .filter(audit_event::Column::LaCode.eq(tenant.key()))
            .order_by_asc(audit_event::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Where the service's refusal trail writes: this store's audit entries.
    pub fn refusal_log(&self) -> Arc<dyn RefusalLog> {
        Arc::new(RefusalRows::new(self.audits.clone(), |record| audit_event::ActiveModel {
            la_code: Set(record.tenant_key()),
            person: Set(record.person()),
            role: Set(record.role()),
            referral_id: Set(None),
            action: Set(record.action()),
            detail: Set(record.detail()),
            at: Set(record.at()),
            trace_id: Set(record.trace_id()),
            ..Default::default()
        }))
    }
}
