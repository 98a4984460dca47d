//! One authority's dataset as the generator plans it before writing: compact
//! records of its schools, pupils, professionals and referrals, holding what
//! the other services' rows refer to (ids, schools, statuses, dates). Rows that
//! nothing else refers to (histories, timelines, activity, audit) are written
//! straight from these records when the authority is loaded, so one authority
//! at a time is in memory, never England.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sen_platform::ids::{LaCode, Urn};
use sen_pupils::domain::{NcYear, NeedCode, SenStatus, Upn};
use sen_referrals::domain::{BroadArea, ClockDates, ConsentMethod, Priority, ReferralKind, Status};

use super::dice::Dice;

/// The ids each table with rows referred to elsewhere has reached; carried from
/// one authority to the next so ids are unique across the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    /// Schools (`schools.id`; URNs are derived from it).
    pub school: i32,
    /// Pupils.
    pub pupil: i32,
    /// Support cycles.
    pub cycle: i32,
    /// Provision.
    pub provision: i32,
    /// Referrals.
    pub referral: i32,
    /// Professionals.
    pub professional: i32,
    /// Cases.
    pub case: i32,
}

impl Ids {
    /// The next id after `counter`.
    pub fn take(counter: &mut i32) -> i32 {
        *counter += 1;
        *counter
    }
}

/// What the run is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run {
    /// The seed every stream is drawn from.
    pub seed: u64,
    /// The day the dataset stands on.
    pub today: NaiveDate,
}

/// What sort of school, for its ages, roll and pupils' needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Primary, infant or junior.
    Primary,
    /// Secondary, with or without a sixth form.
    Secondary,
    /// All-through (4–18).
    AllThrough,
    /// Middle school deemed secondary.
    Middle,
    /// Special school.
    Special,
    /// Maintained nursery school.
    Nursery,
    /// Pupil referral unit or alternative provision academy.
    AlternativeProvision,
}

/// A school as planned.
#[derive(Clone, Debug, PartialEq)]
pub struct School {
    /// Row id.
    pub id: i32,
    /// URN.
    pub urn: Urn,
    /// Establishment number.
    pub establishment: u16,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: Kind,
    /// GIAS type code.
    pub type_code: u16,
    /// GIAS phase code.
    pub phase: u8,
    /// Statutory ages.
    pub ages: (u8, u8),
    /// Pupils on roll (0 when closed).
    pub roll: u32,
    /// GIAS status code (1 open, 2 closed, 3 open but proposed to close).
    pub status: u8,
    /// Postcode, normal form.
    pub postcode: String,
    /// Opened.
    pub open_date: NaiveDate,
    /// Closed.
    pub close_date: Option<NaiveDate>,
}

impl School {
    /// Open (including open but proposed to close).
    pub fn is_open(&self) -> bool {
        matches!(self.status, 1 | 3)
    }

    /// The school's SENCO's person id.
    pub fn senco(&self) -> String {
        format!("senco-{}", self.urn)
    }
}

/// A pupil's EHC plan as planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Issued.
    pub issued_on: NaiveDate,
    /// Ceased (the pupil is back on SEN support).
    pub ceased_on: Option<NaiveDate>,
    /// Annual review meetings held, oldest first (at most the last three).
    pub reviews: Vec<NaiveDate>,
    /// A phase-transfer decision recorded: (transfer year, next setting, amended plan issued).
    pub transfer: Option<(i32, String, NaiveDate)>,
}

/// A pupil as planned.
#[derive(Clone, Debug, PartialEq)]
pub struct Pupil {
    /// Row id.
    pub id: i32,
    /// Index of their school in [`Authority::schools`].
    pub school: u32,
    /// UPN.
    pub upn: Upn,
    /// Date of birth.
    pub dob: NaiveDate,
    /// Legal forename and surname.
    pub name: (&'static str, &'static str),
    /// Preferred forename.
    pub preferred: Option<String>,
    /// N, K or E now.
    pub status: SenStatus,
    /// Primary need.
    pub primary: Option<NeedCode>,
    /// Secondary need.
    pub secondary: Option<NeedCode>,
    /// Year group set by hand.
    pub year_override: Option<NcYear>,
    /// Looked after.
    pub looked_after: bool,
    /// Joined the register, and the status they joined with.
    pub added: (NaiveDate, SenStatus),
    /// Began SEN support after joining.
    pub identified_on: Option<NaiveDate>,
    /// Their EHC plan, active or ceased.
    pub plan: Option<Plan>,
    /// Support cycle ids (first, count).
    pub cycles: (i32, u8),
    /// Provision ids (first, count).
    pub provisions: (i32, u8),
    /// The seed their details are drawn from.
    pub seed: u64,
}

impl Pupil {
    /// The ids of their support cycles.
    pub fn cycle_ids(&self) -> impl Iterator<Item = i32> {
        self.cycles.0..self.cycles.0 + i32::from(self.cycles.1)
    }

    /// The ids of their provision.
    pub fn provision_ids(&self) -> impl Iterator<Item = i32> {
        self.provisions.0..self.provisions.0 + i32::from(self.provisions.1)
    }

    /// Their details' dice.
    pub fn dice(&self, purpose: u64) -> Dice {
        Dice::new(self.seed, purpose)
    }
}

/// An educational psychologist or advisory teacher as planned.
#[derive(Clone, Debug, PartialEq)]
pub struct Professional {
    /// Row id.
    pub id: i32,
    /// Person id.
    pub person: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: sen_caseloads::domain::ProfessionalRole,
    /// FTE.
    pub fte: f64,
    /// Capacity.
    pub capacity: sen_caseloads::domain::Capacity,
    /// Taking work.
    pub active: bool,
    /// Open cases once every planned allocation is made.
    pub open_cases: u32,
}

/// Who made a change on a referral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// The school's SENCO.
    Senco,
    /// A case officer of the council (numbered).
    Officer(u32),
    /// The caseloads service.
    Service,
    /// The professional the case is with (index into [`Authority::staff`]).
    Professional(usize),
}

/// One entry of a referral's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The day.
    pub on: NaiveDate,
    /// Status before (none for the submission).
    pub from: Option<Status>,
    /// Status after.
    pub to: Status,
    /// Who.
    pub by: Who,
    /// The note, as the store records it.
    pub note: String,
}

/// The case a referral was allocated as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Row id.
    pub id: i32,
    /// Index into [`Authority::staff`].
    pub professional: usize,
    /// Allocated.
    pub allocated_on: NaiveDate,
    /// Closed, with its outcome.
    pub closed: Option<(NaiveDate, String)>,
    /// Why a professional at capacity was given it.
    pub override_reason: Option<&'static str>,
}

impl Case {
    /// The reference the other services know it by.
    pub fn reference(&self) -> String {
        format!("CASE-{}", self.id)
    }
}

/// A referral as planned.
#[derive(Clone, Debug, PartialEq)]
pub struct Referral {
    /// Row id.
    pub id: i32,
    /// Index into [`Authority::pupils`].
    pub pupil: u32,
    /// Kind.
    pub kind: ReferralKind,
    /// Broad areas concerned.
    pub areas: Vec<BroadArea>,
    /// The concern.
    pub concern: &'static str,
    /// What was tried, in the school's words.
    pub tried: &'static str,
    /// Whether it cites the pupil's support cycles and provision.
    pub cites_support: bool,
    /// Consent: who, when, how.
    pub consent: (&'static str, NaiveDate, ConsentMethod),
    /// Priority.
    pub priority: Priority,
    /// Received.
    pub submitted_on: NaiveDate,
    /// The timeline, oldest first; the first entry is the submission.
    pub entries: Vec<Entry>,
    /// The statutory clock (EHC needs assessment requests).
    pub clock: Option<ClockDates>,
    /// The case, once allocated.
    pub case: Option<Case>,
}

impl Referral {
    /// Where it stands.
    pub fn status(&self) -> Status {
        self.entries.last().map_or(Status::Submitted, |e| e.to)
    }
}

/// One authority's plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Authority {
    /// LA code.
    pub la: LaCode,
    /// Name.
    pub name: &'static str,
    /// Its schools.
    pub schools: Vec<School>,
    /// Pupils on their rolls.
    pub pupils: Vec<Pupil>,
    /// The EP and advisory teaching services.
    pub staff: Vec<Professional>,
    /// School links: (professional index, school index).
    pub links: Vec<(usize, u32)>,
    /// Referrals.
    pub referrals: Vec<Referral>,
    /// Case officers.
    pub officers: u32,
}

impl Authority {
    /// An officer's person id.
    pub fn officer(&self, n: u32) -> String {
        format!("officer-{}-{n}", self.la)
    }
}

/// `day` at a time of the working day, `minutes` after 08:30 (a changes' order within the day).
pub fn at(day: NaiveDate, minutes: u32) -> NaiveDateTime {
    let time = NaiveTime::from_hms_opt(8, 30, 0).unwrap_or(NaiveTime::MIN)
        + chrono::Duration::minutes(i64::from(minutes.min(600)));
    day.and_time(time)
}
