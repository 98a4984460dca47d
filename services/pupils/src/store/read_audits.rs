//! The audit entries of reads, and of refused requests, written by group commit
//! (`sen_platform::audit::GroupCommit`): a read hands its entries to the one
//! writer and is answered only once the commit carrying them succeeded; a read
//! whose entries could not be written is refused. Changes write their entries
//! inside their own transaction instead, so the change and its entry commit
//! together. Refusals come from the platform's trail, already limited per
//! caller, and are kept as `refused.<reason>` entries naming the method refused
//! (or how many refusals a window only counted) in `detail`.

use std::sync::Arc;

use sea_orm::Set;
use sen_platform::audit::{GroupCommit, RefusalLog, RefusalRows};

use crate::entity::audit_event;

/// The writer of reads' and refusals' audit entries.
pub(super) type ReadAudits = GroupCommit<audit_event::ActiveModel>;

/// Most entries in one INSERT inside a change's transaction.
pub(super) fn entries_per_insert() -> usize {
    sen_platform::audit::group_commit::entries_per_insert::<audit_event::ActiveModel>()
}

/// The refusal trail's rows, in the audit entries.
pub(super) fn refusal_log(audits: &ReadAudits) -> Arc<dyn RefusalLog> {
    Arc::new(RefusalRows::new(audits.clone(), |record| audit_event::ActiveModel {
        la_code: Set(record.tenant_key()),
        person: Set(record.person()),
        role: Set(record.role()),
        pupil_id: Set(None),
        action: Set(record.action()),
        detail: Set(Some(record.detail())),
        at: Set(record.at()),
        trace_id: Set(record.trace_id()),
        ..Default::default()
    }))
}
