//! `referrals`: one row per referral, with the statutory clock's dates for EHC
//! needs assessment requests.

use sea_orm::entity::prelude::*;

/// A referral as stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    /// Referral id.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Tenant.
    pub la_code: String,
    /// The pupil (pupils service id).
    pub pupil_id: i64,
    /// The pupil's school when referred.
    pub school_urn: i32,
    /// Kind code.
    pub kind: String,
    /// Broad area codes, comma-separated.
    pub broad_areas: String,
    /// The concern, in the SENCO's words.
    pub concern: String,
    /// What the graduated approach has tried.
    pub tried_summary: String,
    /// Support cycle ids drawn from the pupils service, comma-separated.
    pub support_cycle_ids: String,
    /// Provision ids drawn from the pupils service, comma-separated.
    pub provision_ids: String,
    /// Who gave parental consent.
    pub consent_given_by: String,
    /// When.
    pub consent_given_on: Date,
    /// How.
    pub consent_method: String,
    /// routine or urgent.
    pub priority: String,
    /// Lifecycle status.
    pub status: String,
    /// Day submitted (the day an EHC needs assessment request is received).
    pub submitted_on: Date,
    /// Who submitted it.
    pub submitted_by: String,
    /// Professional it is allocated to.
    pub allocated_to: Option<String>,
    /// Caseloads service case reference.
    pub case_ref: Option<String>,
    /// Outcome when closed.
    pub outcome: Option<String>,
    /// The client's key for this submission (unique in the tenant).
    pub idempotency_key: String,
    /// The submission as first received, to tell a retry from a different request.
    pub fingerprint: String,
    /// EHC clock: decision whether to assess, due (stored when received).
    pub decision_due: Option<Date>,
    /// EHC clock: notice of no plan, due.
    pub no_plan_notice_due: Option<Date>,
    /// EHC clock: final plan, due.
    pub final_plan_due: Option<Date>,
    /// assess or not_assess.
    pub assessment_decision: Option<String>,
    /// When.
    pub assessment_decision_on: Option<Date>,
    /// issue or not_issue.
    pub plan_decision: Option<String>,
    /// When.
    pub plan_decision_on: Option<Date>,
    /// Final plan issued.
    pub final_plan_issued_on: Option<Date>,
    /// Exception code (excluded from timeliness).
    pub clock_exception: Option<String>,
    /// EHC request: who made it (parent, young_person, school, …); none for a SENCO's referral (a school's).
    pub requester: Option<String>,
    /// EHC request: how it reached the council (letter, email, …); none for the referral form.
    pub received_via: Option<String>,
    /// EHC request: who made it, in words.
    pub requester_name: Option<String>,
    /// EHC clock: the draft plan sent to the parent or young person.
    pub draft_plan_sent_on: Option<Date>,
    /// EHC clock: the last day for their comments and the naming of a school.
    pub consultation_ends_on: Option<Date>,
    /// The day the exception arose.
    pub clock_exception_on: Option<Date>,
    /// The council's note of the exception.
    pub clock_exception_note: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
