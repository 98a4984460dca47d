//! The schools domain: types that cannot hold an invalid value, and the rules of
//! SENCO appointments. No I/O here; `api.rs` parses wire input into these types and
//! `store.rs` persists them.

mod establishment;
mod postcode;
mod senco;

pub use establishment::{AgeRange, EstablishmentStatus, EstablishmentType, Laestab, Phase, SchoolName};
pub use postcode::Postcode;
pub use senco::{
    AWARD_PERIOD_YEARS, Email, NASENCO_COMPLETED_BEFORE, NPQ_REQUIRED_FROM, PersonName, QualificationStanding,
    RequiredQualification, SencoAward, SencoDetails, award_deadline, days_to_deadline, holds_relevant_qualification,
    is_award_due_within, is_award_overdue,
};

use chrono::NaiveDate;
use sen_platform::ids::Urn;

/// Names of schools, people and authorities: trimmed, not blank, at most `max`
/// characters, on one line, every character visible.
pub use sen_platform::fields::clean_line as clean_text;

/// Everything the council records about a school, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolFields {
    /// LA code + establishment number; the LA part is the tenant's.
    pub laestab: Laestab,
    /// Establishment name.
    pub name: SchoolName,
    /// GIAS type of establishment.
    pub establishment_type: EstablishmentType,
    /// GIAS phase of education.
    pub phase: Phase,
    /// Statutory age range, when recorded.
    pub ages: Option<AgeRange>,
    /// Number on roll, when known.
    pub number_on_roll: Option<u32>,
    /// Postcode, when recorded.
    pub postcode: Option<Postcode>,
    /// Open, closed, proposed to open or close.
    pub status: EstablishmentStatus,
    /// Opening date, when recorded.
    pub open_date: Option<NaiveDate>,
    /// Closing date, when recorded.
    pub close_date: Option<NaiveDate>,
}

impl SchoolFields {
    /// Cross-field rule: a school cannot close before it opens.
    pub fn check_dates(open: Option<NaiveDate>, close: Option<NaiveDate>) -> Result<(), String> {
        match (open, close) {
            (Some(open), Some(close)) if close < open => Err(format!("closes on {close}, before it opened on {open}")),
            _ => Ok(()),
        }
    }

    /// Mainstream schools and maintained nurseries must have a SENCO (SEND Code
    /// of Practice 6.84) while they are open; a closed school, or one not yet
    /// open, has no pupils to co-ordinate support for.
    pub fn requires_senco(&self) -> bool {
        self.status.is_open() && self.establishment_type.requires_senco()
    }
}

/// A school as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct School {
    /// Unique reference number.
    pub urn: Urn,
    /// Its fields.
    pub fields: SchoolFields,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Current SENCO, if any.
    pub current_senco: Option<SencoAppointment>,
}

/// A SENCO appointment, current or past.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SencoAppointment {
    /// Appointment id.
    pub id: i64,
    /// The school.
    pub urn: Urn,
    /// Name, email, teacher status and award.
    pub details: SencoDetails,
    /// First day in post.
    pub appointed_on: NaiveDate,
    /// Exempt from the award deadline by prior experience.
    pub prior_experience_over_12_months: bool,
    /// Last day in post, once ended.
    pub ended_on: Option<NaiveDate>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl SencoAppointment {
    /// The date the award must be achieved by, if one is outstanding.
    pub fn award_deadline(&self) -> Option<NaiveDate> {
        award_deadline(
            self.appointed_on,
            self.prior_experience_over_12_months,
            self.details.award,
            self.details.award_achieved_on,
        )
    }

    /// How the SENCO stands against the qualification rule (reg. 49).
    pub fn qualification_standing(&self) -> QualificationStanding {
        QualificationStanding::of(
            self.appointed_on,
            self.prior_experience_over_12_months,
            self.details.award,
            self.details.award_achieved_on,
        )
    }
}
