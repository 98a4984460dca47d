//! Persistence of the pupils service. Every function takes the caller's [`Scope`]
//! (whole tenant, one school, or one professional's caseload) and an [`Actor`] for
//! the audit log; a pupil outside the scope is not found, exactly as a missing one.
//! Every read or change of a pupil's record writes an audit entry, in the same
//! transaction as a change; a read's entry is committed (with other reads'
//! entries: `read_audits`) before the read is answered. Reads outside a
//! transaction go to the database's read connections ([`Db`]).

mod access;
mod appeals;
mod convert;
mod ctf_import;
mod ehcp;
mod lists;
mod need_types;
mod plan_register;
mod pupils;
mod read_audits;
mod retention;
mod reviews;
mod reviews_due;
mod search;
mod seed;
mod sen2;
mod stats;
mod support;

pub use appeals::{AppealView, appeal_facts};
pub use ctf_import::{ChangeKind, CtfChange, CtfImport, IMPORT_ACTION};
pub use ehcp::{EhcpView, ReviewDueRow, TransferCandidate, TransferDecision};
pub use lists::{PupilFilter, PupilOrder};
pub use need_types::NewNeedType;
pub use plan_register::{FinalPlan, Registered, reason_for};
pub use pupils::{NewEhcp, SenChange};
pub use retention::{DueErasure, ERASED, ERASING, RETENTION_ACTOR, Removed};
pub use reviews::{AnnualReviewInput, Cessation, LateAmendmentRow};
pub use reviews_due::ReviewsDueFilter;
pub use seed::{SeedPlan, SeedPupil};
pub use sen2::{MOST_NAMED, Sen2Row, Sen2Selection};
pub use stats::RegisterCount;
pub use support::{NewCycle, NewProvision};

/// A stored pupil row as a domain pupil (for rows returned beside other records).
pub fn pupil_from_row(row: pupil::Model) -> Result<crate::domain::Pupil> {
    convert::pupil(row)
}

use chrono::Utc;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
};
use sen_platform::config::PoolConfig;
use sen_platform::db::Db;
use sen_platform::error::on_unique;
/// Who is acting, for the audit log: the platform's one definition.
pub use sen_platform::identity::Actor;
use sen_platform::identity::Scope;

use crate::entity::{audit_event, case_access, pupil};
use crate::error::{Error, Result};
use crate::migration::Migrator;

/// The pupils service's database.
#[derive(Clone, Debug)]
pub struct Store {
    /// Changes, and reads inside a change's transaction.
    db: DatabaseConnection,
    /// Reads outside a transaction.
    read: DatabaseConnection,
    /// The writer of reads' audit entries.
    read_audits: read_audits::ReadAudits,
}

impl Store {
    /// Connects to `url` and brings the schema up to date. Must be called on a
    /// tokio runtime (it starts the writer of reads' audit entries).
    pub async fn connect(url: &str, pool: &PoolConfig) -> anyhow::Result<Self> {
        Ok(Self::over(Db::connect_and_migrate::<Migrator>(url, pool).await?))
    }

    /// A store over `db`, already opened and migrated, for reads and writes alike:
    /// for callers that watch the statements it runs (the query-plan test sets a
    /// metric callback on it). Must be called on a tokio runtime.
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self::over(Db::single(db))
    }

    fn over(db: Db) -> Self {
        Self { read_audits: read_audits::ReadAudits::start(db.write.clone()), db: db.write, read: db.read }
    }

    /// Records that the caller read `pupils` (`action`), returning once the
    /// entries are committed: a read is answered only after this succeeds.
    async fn audit_read(&self, scope: &Scope, actor: &Actor, pupils: &[i32], action: &str) -> Result<()> {
        Ok(self.read_audits.record(audit_entries(scope, actor, pupils, action)).await?)
    }

    /// Where the service's refusal trail writes: this store's audit entries.
    pub fn refusal_log(&self) -> std::sync::Arc<dyn sen_platform::audit::RefusalLog> {
        read_audits::refusal_log(&self.read_audits)
    }
}

/// Pupils within `scope`: the tenant's; one school's; or those with an open
/// access grant to the professional.
fn visible(scope: &Scope) -> Condition {
    let tenant = scope.tenant().key();
    let condition = Condition::all().add(pupil::Column::LaCode.eq(tenant.clone()));
    match scope {
        Scope::Tenant(_) => condition,
        Scope::School(school) => condition.add(pupil::Column::SchoolUrn.eq(school.urn().as_i32())),
        Scope::Caseload(caseload) => condition.add(
            pupil::Column::Id.in_subquery(
                Query::select()
                    .column(case_access::Column::PupilId)
                    .from(case_access::Entity)
                    .and_where(case_access::Column::LaCode.eq(tenant))
                    .and_where(case_access::Column::Person.eq(caseload.person()))
                    .and_where(case_access::Column::RevokedAt.is_null())
                    .to_owned(),
            ),
        ),
    }
}

/// `rows` (plans, reviews, appeals, support cycles: rows of pupils' records,
/// already filtered on the scope's authority) kept to the pupils within `scope`
/// by their `pupil_id` column. For the whole council the authority's filter is
/// the scope, since each such row carries its pupil's authority, and no pupil
/// is read: asking the pupils as well made PostgreSQL read every pupil of a
/// large council (Kent's 233,515) to keep a few thousand rows. For a school or
/// a caseload, the pupils it reaches.
fn of_pupils_within(rows: Condition, scope: &Scope, pupil_id: impl ColumnTrait) -> Condition {
    match scope {
        Scope::Tenant(_) => rows,
        Scope::School(_) | Scope::Caseload(_) => rows.add(pupil_id.in_subquery(ehcp::pupils_in(scope))),
    }
}

/// The pupil row if `scope` reaches it.
async fn load_visible(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> Result<pupil::Model> {
    let row_id = i32::try_from(id).map_err(|_| Error::NotFound(format!("pupil {id}")))?;
    pupil::Entity::find()
        .filter(visible(scope))
        .filter(pupil::Column::Id.eq(row_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("pupil {id}")))
}

/// Writes one audit entry per pupil for `action`, in the caller's transaction.
async fn audit(db: &impl ConnectionTrait, scope: &Scope, actor: &Actor, pupils: &[i32], action: &str) -> Result<()> {
    let rows = audit_entries(scope, actor, pupils, action);
    for batch in rows.chunks(read_audits::entries_per_insert()) {
        audit_event::Entity::insert_many(batch.to_vec()).exec(db).await?;
    }
    Ok(())
}

/// One audit entry per pupil for `action`, by `actor`, now.
fn audit_entries(scope: &Scope, actor: &Actor, pupils: &[i32], action: &str) -> Vec<audit_event::ActiveModel> {
    let at = Utc::now();
    pupils
        .iter()
        .map(|&pupil_id| audit_event::ActiveModel {
            la_code: Set(scope.tenant().key()),
            person: Set(actor.person.clone()),
            role: Set(actor.role.as_str().to_owned()),
            pupil_id: Set(Some(pupil_id)),
            action: Set(action.to_owned()),
            at: Set(at),
            trace_id: Set(actor.trace_id.clone()),
            ..Default::default()
        })
        .collect()
}

/// Writes one audit entry.
async fn audit_one(db: &impl ConnectionTrait, scope: &Scope, actor: &Actor, pupil: i32, action: &str) -> Result<()> {
    audit(db, scope, actor, &[pupil], action).await
}

/// Inserts `model`, mapping a unique violation to `conflict()`.
async fn insert<A>(
    db: &impl ConnectionTrait,
    model: A,
    conflict: impl FnOnce() -> Error,
) -> Result<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    model.insert(db).await.map_err(|e| on_unique(e, conflict))
}
