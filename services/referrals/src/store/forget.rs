//! Forgetting a pupil erased at the end of their retention period: their
//! referrals go, with the timeline of each (notes, consent, the concern in the
//! school's words) and the documents attached to each, in one transaction. Forgetting a pupil twice finds nothing
//! the second time and is not an error.
//!
//! Nothing is kept for the SEN2 return: a pupil is past retention at 31 at the
//! earliest, and an EHC needs assessment request is made before 25, so every
//! request of theirs is at least six years old, before any year a return or the
//! statutory clock report counts. The audit trail keeps who read each referral
//! by its id only. Watchers are not told (there is no change to send); the
//! outbox's encoded copies of earlier changes go within its 72 hours.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use sen_platform::identity::TenantScope;

use super::Store;
use crate::entity::{referral, referral_attachment, referral_event};
use crate::error::Result;

/// What forgetting a pupil removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Referrals deleted.
    pub referrals: u64,
    /// Timeline entries deleted with them.
    pub timeline_entries: u64,
    /// Documents deleted with them.
    pub attachments: u64,
}

impl Store {
    /// Deletes every referral of `pupil_id` in `tenant`, with their timelines and documents.
    pub async fn forget_pupil(&self, tenant: &TenantScope, pupil_id: i64) -> Result<Forgotten> {
        let txn = self.db.begin().await?;
        let ids: Vec<i32> = referral::Entity::find()
            .select_only()
            .column(referral::Column::Id)
            .filter(referral::Column::LaCode.eq(tenant.key()))
            .filter(referral::Column::PupilId.eq(pupil_id))
            .into_tuple()
            .all(&txn)
            .await?;
        let mut forgotten = Forgotten::default();
        for batch in ids.chunks(500) {
            forgotten.attachments += referral_attachment::Entity::delete_many()
                .filter(referral_attachment::Column::LaCode.eq(tenant.key()))
                .filter(referral_attachment::Column::ReferralId.is_in(batch.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected;
            forgotten.timeline_entries += referral_event::Entity::delete_many()
                .filter(referral_event::Column::LaCode.eq(tenant.key()))
                .filter(referral_event::Column::ReferralId.is_in(batch.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected;
            forgotten.referrals += referral::Entity::delete_many()
                .filter(referral::Column::LaCode.eq(tenant.key()))
                .filter(referral::Column::Id.is_in(batch.iter().copied()))
                .exec(&txn)
                .await?
                .rows_affected;
        }
        // A plan's register change waiting for a pupil being erased has nothing left to change.
        super::register::forget(&txn, &tenant.key(), pupil_id).await?;
        txn.commit().await?;
        Ok(forgotten)
    }
}
