//! A refusal trail kept as rows of a service's own audit table: each refusal the
//! trail hands over becomes one row, made by the service's own mapping (its
//! table's columns), and is written by the table's group commit.

use sea_orm::{ActiveModelTrait, EntityTrait};

use super::group_commit::GroupCommit;
use super::refusal::{RefusalLog, RefusalRecord, WriteFuture};

/// Writes each refusal as the row `row` makes of it, through `commit`.
pub struct RefusalRows<A> {
    commit: GroupCommit<A>,
    row: fn(&RefusalRecord) -> A,
}

impl<A> RefusalRows<A> {
    /// Refusals written through `commit`, each as the row `row` makes.
    pub fn new(commit: GroupCommit<A>, row: fn(&RefusalRecord) -> A) -> Self {
        Self { commit, row }
    }
}

impl<A> RefusalLog for RefusalRows<A>
where
    A: ActiveModelTrait + Send + Sync + 'static,
    A::Entity: EntityTrait<ActiveModel = A>,
{
    fn write(&self, record: RefusalRecord) -> WriteFuture<'_> {
        let entry = (self.row)(&record);
        Box::pin(async move {
            if let Err(error) = self.commit.record(vec![entry]).await {
                tracing::error!(%error, "a refusal could not be written to the audit trail");
            }
        })
    }
}
