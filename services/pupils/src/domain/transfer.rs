//! Phase transfers: moves between phases of education that the EHC plan must be
//! reviewed and amended for, naming the next setting, by a statutory date (SEN and
//! Disability Regulations 2014, reg. 18; SEND Code of Practice 9.179):
//! 15 February of the calendar year of transfer, or 31 March for a move from
//! secondary school to a post-16 institution (reg. 18(1)); for a move from one
//! post-16 institution to another at any other time, at least five months before
//! the move (reg. 18(2)), on a move date the council records.
//!
//! An amended plan issued on or before its deadline is on time ("by 15 February",
//! Code of Practice 9.179); issued on any later day it is late, and stays late.
//!
//! The duty applies once the pupil is within 12 months of the transfer (reg.
//! 18(1)), that is from 1 September of the academic year in which they move. So
//! that a council can plan those reviews before the duty starts, next academic
//! year's transfers are listed from 1 April ([`NEXT_YEAR_LISTED_FROM`]), the day
//! after the current year's last reg. 18(1) deadline has passed: the whole summer
//! term before the 1 September on which the duty begins.
//!
//! Which pupils transfer at the end of the current academic year is decided from
//! their national curriculum year as recorded (an out-of-cohort pupil moves with
//! their year group, not their age) and what GIAS says about their school:
//!
//! - X (not following the national curriculum): never; the council tracks those
//!   moves by hand.
//! - N2, in any setting: early years → school (into Reception). N1 never: the next
//!   year is still early years.
//! - Year 11, in any school: secondary → post-16, until the council records that
//!   the pupil stays in their school's own sixth form. A school sixth form is not
//!   a post-16 institution (Children and Families Act 2014, s. 83(2)), so staying
//!   there is no transfer between phases (reg. 2(1)) and has no 31 March deadline;
//!   it can be recorded only at a school whose statutory high age is over 16.
//!   Until it is, every Year 11 pupil is counted, special schools included,
//!   because a missed 31 March deadline is worse than a review that turns out
//!   unneeded.
//! - Otherwise the pupil must be in their school's final year group, the one aged
//!   `high_age − 1` on 31 August (high age 7 → Year 2, 9 → Year 4, 11 → Year 6,
//!   13 → Year 8):
//!   - primary phase with high age 7 or 8 (infant): infant → junior;
//!     9 or 10 (first school): primary → middle; 11 or more: primary → secondary;
//!   - middle schools (deemed primary or secondary): middle → secondary;
//!   - all-through schools and those with no phase (special schools, PRUs), whose
//!     year structure GIAS does not tell us: only Year 6 → secondary, and only when
//!     the school's high age is 11 or less;
//!   - nursery, secondary and 16-plus schools: no other transfer.
//! - When the school's high age is unknown, the standard structure is assumed:
//!   Year 6 → secondary (except at an all-through school).

use chrono::{Months, NaiveDate};

use super::NcYear;

/// GIAS `PhaseOfEducation (code)` 1: nursery. (0, not applicable, is special schools, PRUs and the like.)
const PHASE_NURSERY: u8 = 1;
/// GIAS phase 2: primary.
const PHASE_PRIMARY: u8 = 2;
/// GIAS phase 3: middle deemed primary.
const PHASE_MIDDLE_DEEMED_PRIMARY: u8 = 3;
/// GIAS phase 4: secondary.
const PHASE_SECONDARY: u8 = 4;
/// GIAS phase 5: middle deemed secondary.
const PHASE_MIDDLE_DEEMED_SECONDARY: u8 = 5;
/// GIAS phase 6: 16 plus.
const PHASE_16_PLUS: u8 = 6;
/// GIAS phase 7: all-through.
const PHASE_ALL_THROUGH: u8 = 7;

/// Age on 31 August of a Year n pupil is this plus n; so a school's final year
/// group is its high age less one, less this.
const AGE_IN_YEAR_0: i16 = 4;

/// Red when the deadline has passed or is fewer than this many days away.
pub const RAG_RED_WITHIN_DAYS: i64 = 28;

/// Amber when the deadline is at most this many days away (and not red).
pub const RAG_AMBER_WITHIN_DAYS: i64 = 90;

/// Months before a move between post-16 institutions by which the plan must be
/// reviewed when the move is not at the usual time (reg. 18(2)).
pub const POST16_MOVE_NOTICE_MONTHS: u32 = 5;

/// Day and month from which next academic year's transfers are listed: the day
/// after the last reg. 18(1) deadline (31 March) of the current year, so the
/// council sees them through the summer term, before the reg. 18(1) duty
/// starts on 1 September, 12 months before the transfer.
pub const NEXT_YEAR_LISTED_FROM: (u32, u32) = (4, 1);

/// A school's statutory high age above which it has its own sixth form.
const COMPULSORY_SCHOOL_HIGH_AGE: u8 = 16;

/// A move between phases of education.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// Early years setting → school (into Reception).
    EarlyYearsToSchool,
    /// Infant school → junior school.
    InfantToJunior,
    /// First or primary school → middle school.
    PrimaryToMiddle,
    /// Primary school → secondary school.
    PrimaryToSecondary,
    /// Middle school → secondary (upper) school.
    MiddleToSecondary,
    /// Secondary school → post-16 institution.
    SecondaryToPost16,
    /// One post-16 institution → another, at a time the council records (reg. 18(2)).
    Post16Move,
}

impl TransferKind {
    /// Every kind, youngest first.
    pub const ALL: [TransferKind; 7] = [
        Self::EarlyYearsToSchool,
        Self::InfantToJunior,
        Self::PrimaryToMiddle,
        Self::PrimaryToSecondary,
        Self::MiddleToSecondary,
        Self::SecondaryToPost16,
        Self::Post16Move,
    ];

    /// For people.
    pub fn name(self) -> &'static str {
        match self {
            Self::EarlyYearsToSchool => "early years to school",
            Self::InfantToJunior => "infant to junior",
            Self::PrimaryToMiddle => "primary to middle",
            Self::PrimaryToSecondary => "primary to secondary",
            Self::MiddleToSecondary => "middle to secondary",
            Self::SecondaryToPost16 => "secondary to post-16",
            Self::Post16Move => "between post-16 settings",
        }
    }

    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::EarlyYearsToSchool => "early_years_to_school",
            Self::InfantToJunior => "infant_to_junior",
            Self::PrimaryToMiddle => "primary_to_middle",
            Self::PrimaryToSecondary => "primary_to_secondary",
            Self::MiddleToSecondary => "middle_to_secondary",
            Self::SecondaryToPost16 => "secondary_to_post16",
            Self::Post16Move => "post16_move",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL.into_iter().find(|k| k.code() == code).ok_or_else(|| format!("'{code}' is not a phase transfer"))
    }
}

/// What the pupils service knows of a pupil's current school, from GIAS via the
/// schools service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SchoolStage {
    /// GIAS `PhaseOfEducation (code)`, 0–7.
    pub phase_code: u8,
    /// GIAS statutory low age, when recorded.
    pub low_age: Option<u8>,
    /// GIAS statutory high age, when recorded: pupils leave in the year they turn it.
    pub high_age: Option<u8>,
}

impl SchoolStage {
    /// The school teaches beyond compulsory school age: its statutory high age is
    /// over 16 (GIAS records 18 or 19 for a school with a sixth form).
    pub fn has_sixth_form(&self) -> bool {
        self.high_age.is_some_and(|age| age > COMPULSORY_SCHOOL_HIGH_AGE)
    }
}

/// A transfer a pupil is due to make, and the date the plan must be amended by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseTransfer {
    /// Which move.
    pub kind: TransferKind,
    /// The day the pupil moves: 1 September, or the recorded date of a post-16 move.
    pub transfer_on: NaiveDate,
    /// Date the amended plan naming the next setting must be issued by.
    pub deadline: NaiveDate,
}

/// Red, amber, green: how close a deadline is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rag {
    /// Passed, or fewer than [`RAG_RED_WITHIN_DAYS`] days left.
    Red,
    /// Within [`RAG_AMBER_WITHIN_DAYS`] days.
    Amber,
    /// Done, or further off.
    Green,
}

impl Rag {
    /// `red`, `amber` or `green`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Red => "red",
            Self::Amber => "amber",
            Self::Green => "green",
        }
    }
}

/// Where an outstanding or decided transfer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferStatus {
    /// No amended plan yet, and the deadline is today or ahead.
    Due,
    /// No amended plan, and the deadline has passed.
    Overdue,
    /// The amended plan was issued on or before the deadline.
    IssuedOnTime,
    /// The amended plan was issued after the deadline.
    IssuedLate,
}

impl TransferStatus {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Overdue => "overdue",
            Self::IssuedOnTime => "issued_on_time",
            Self::IssuedLate => "issued_late",
        }
    }
}

/// The date by which the plan must be amended for a transfer in September of
/// `transfer_year` (reg. 18(1)): 31 March for secondary → post-16 (reg.
/// 18(1)(a)), 15 February for every other phase transfer (reg. 18(1)(b)). A
/// post-16 move has no fixed date: see [`post16_move_deadline`].
pub fn transfer_deadline(kind: TransferKind, transfer_year: i32) -> NaiveDate {
    match kind {
        TransferKind::SecondaryToPost16 => date(transfer_year, 3, 31),
        _ => date(transfer_year, 2, 15),
    }
}

/// The plan review date for a move between post-16 institutions at another time of
/// year: at least five months before the move (reg. 18(2)), the same day of the
/// month five months earlier, or that month's last day when it is shorter (a move
/// on 31 July 2028 is due by 29 February 2028).
pub fn post16_move_deadline(moving_on: NaiveDate) -> NaiveDate {
    moving_on.checked_sub_months(Months::new(POST16_MOVE_NOTICE_MONTHS)).unwrap_or(NaiveDate::MIN)
}

/// A recorded move between post-16 institutions on `moving_on` (reg. 18(2)).
pub fn post16_move(moving_on: NaiveDate) -> PhaseTransfer {
    PhaseTransfer { kind: TransferKind::Post16Move, transfer_on: moving_on, deadline: post16_move_deadline(moving_on) }
}

/// The academic years (by their starting year) whose transfers are listed on
/// `today`: the current one, and from 1 April ([`NEXT_YEAR_LISTED_FROM`]) the next.
pub fn listed_transfer_years(today: NaiveDate) -> Vec<i32> {
    let current = super::academic_year_start(today);
    let (month, day) = NEXT_YEAR_LISTED_FROM;
    let opens = date(current.saturating_add(1), month, day);
    if today >= opens { vec![current, current.saturating_add(1)] } else { vec![current] }
}

/// Where a transfer with this deadline stands on `today`, given the day its
/// amended plan was issued, if it was: on time when issued on or before the
/// deadline (Code of Practice 9.179, "by 15 February"), late on any day after.
pub fn transfer_status(deadline: NaiveDate, today: NaiveDate, issued_on: Option<NaiveDate>) -> TransferStatus {
    match issued_on {
        Some(issued) if issued <= deadline => TransferStatus::IssuedOnTime,
        Some(_) => TransferStatus::IssuedLate,
        None if today > deadline => TransferStatus::Overdue,
        None => TransferStatus::Due,
    }
}

/// The phase transfer the pupil makes at the end of the academic year that began
/// in September of `academic_year_start`, if any (rules in the module doc).
pub fn next_transfer(year: NcYear, stage: &SchoolStage, academic_year_start: i32) -> Option<PhaseTransfer> {
    let kind = transfer_kind(year, stage)?;
    let transfer_year = academic_year_start.saturating_add(1);
    Some(PhaseTransfer {
        kind,
        transfer_on: date(transfer_year, 9, 1),
        deadline: transfer_deadline(kind, transfer_year),
    })
}

/// Which transfer, if any, a pupil in `year` at a school like `stage` makes next.
fn transfer_kind(year: NcYear, stage: &SchoolStage) -> Option<TransferKind> {
    let n = match year {
        NcYear::N2 => return Some(TransferKind::EarlyYearsToSchool),
        NcYear::Year(11) => return Some(TransferKind::SecondaryToPost16),
        NcYear::Year(n) => n,
        NcYear::N1 | NcYear::Reception | NcYear::NotFollowing => return None,
    };
    let Some(high_age) = stage.high_age else {
        let standard = n == 6 && stage.phase_code != PHASE_ALL_THROUGH;
        return standard.then_some(TransferKind::PrimaryToSecondary);
    };
    let in_final_year = i16::from(n) == i16::from(high_age) - 1 - AGE_IN_YEAR_0;
    match stage.phase_code {
        PHASE_PRIMARY => in_final_year.then_some(match high_age {
            ..=8 => TransferKind::InfantToJunior,
            9 | 10 => TransferKind::PrimaryToMiddle,
            _ => TransferKind::PrimaryToSecondary,
        }),
        PHASE_MIDDLE_DEEMED_PRIMARY | PHASE_MIDDLE_DEEMED_SECONDARY => {
            in_final_year.then_some(TransferKind::MiddleToSecondary)
        }
        PHASE_NURSERY | PHASE_SECONDARY | PHASE_16_PLUS => None,
        // 0 (special schools, PRUs), all-through, and any code GIAS adds later: the
        // year structure is unknown, so only the move at 11 out of a school that ends there.
        _ => (n == 6 && high_age <= 11).then_some(TransferKind::PrimaryToSecondary),
    }
}

/// How a phase transfer rates: green once the amended plan is issued on time,
/// red when it was issued late (the statutory deadline was missed, whatever
/// happened after); otherwise red when the deadline has passed or is fewer than
/// 28 days away, amber within 90 days, green beyond.
pub fn transfer_rag(deadline: NaiveDate, today: NaiveDate, issued_on: Option<NaiveDate>) -> Rag {
    match transfer_status(deadline, today, issued_on) {
        TransferStatus::IssuedOnTime => return Rag::Green,
        TransferStatus::IssuedLate => return Rag::Red,
        TransferStatus::Due | TransferStatus::Overdue => {}
    }
    match days_left(deadline, today) {
        days if days < RAG_RED_WITHIN_DAYS => Rag::Red,
        days if days <= RAG_AMBER_WITHIN_DAYS => Rag::Amber,
        _ => Rag::Green,
    }
}

/// Whole days from `today` to the deadline; 0 on the day, negative once passed.
pub fn days_left(deadline: NaiveDate, today: NaiveDate) -> i64 {
    (deadline - today).num_days()
}

/// A calendar date; years beyond chrono's range (±262,000) saturate rather than panic.
fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn school(phase_code: u8, low_age: u8, high_age: u8) -> SchoolStage {
        SchoolStage { phase_code, low_age: Some(low_age), high_age: Some(high_age) }
    }

    fn kind(year: NcYear, stage: SchoolStage) -> Option<TransferKind> {
        next_transfer(year, &stage, 2026).map(|t| t.kind)
    }

    const PRIMARY: SchoolStage = SchoolStage { phase_code: 2, low_age: Some(4), high_age: Some(11) };

    #[test]
    fn a_year_6_pupil_in_2026_27_transfers_in_september_2027_with_a_15_february_deadline() {
        let transfer = next_transfer(NcYear::Year(6), &PRIMARY, 2026);
        assert_eq!(
            transfer,
            Some(PhaseTransfer {
                kind: TransferKind::PrimaryToSecondary,
                transfer_on: d(2027, 9, 1),
                deadline: d(2027, 2, 15),
            })
        );
    }

    #[test]
    fn each_kind_has_its_deadline() {
        for kind in TransferKind::ALL {
            let expected = if kind == TransferKind::SecondaryToPost16 { d(2027, 3, 31) } else { d(2027, 2, 15) };
            assert_eq!(transfer_deadline(kind, 2027), expected, "{}", kind.name());
            assert_eq!(TransferKind::parse(kind.code()), Ok(kind));
        }
        assert!(TransferKind::parse("sideways").is_err());
    }

    #[test]
    fn every_year_11_pupil_moves_to_post_16_by_31_march() {
        for stage in [school(4, 11, 16), school(4, 11, 18), school(7, 4, 18), school(0, 2, 19), PRIMARY] {
            let transfer = next_transfer(NcYear::Year(11), &stage, 2026).unwrap();
            assert_eq!(transfer.kind, TransferKind::SecondaryToPost16);
            assert_eq!(transfer.deadline, d(2027, 3, 31));
        }
        let unknown = SchoolStage { phase_code: 4, low_age: None, high_age: None };
        assert_eq!(kind(NcYear::Year(11), unknown), Some(TransferKind::SecondaryToPost16));
    }

    #[test]
    fn nursery_pupils_move_into_reception_from_n2() {
        assert_eq!(kind(NcYear::N2, school(1, 2, 5)), Some(TransferKind::EarlyYearsToSchool));
        assert_eq!(kind(NcYear::N2, school(2, 3, 11)), Some(TransferKind::EarlyYearsToSchool));
        assert_eq!(kind(NcYear::N1, school(1, 2, 4)), None, "N1 stays in early years");
        assert_eq!(kind(NcYear::Reception, PRIMARY), None);
    }

    #[test]
    fn infant_first_and_middle_schools_transfer_from_their_final_year() {
        assert_eq!(kind(NcYear::Year(2), school(2, 4, 7)), Some(TransferKind::InfantToJunior));
        assert_eq!(kind(NcYear::Year(1), school(2, 4, 7)), None);
        assert_eq!(kind(NcYear::Year(4), school(2, 4, 9)), Some(TransferKind::PrimaryToMiddle));
        assert_eq!(kind(NcYear::Year(5), school(2, 4, 10)), Some(TransferKind::PrimaryToMiddle));
        assert_eq!(kind(NcYear::Year(6), school(2, 7, 11)), Some(TransferKind::PrimaryToSecondary), "junior");
        assert_eq!(kind(NcYear::Year(8), school(5, 9, 13)), Some(TransferKind::MiddleToSecondary));
        assert_eq!(kind(NcYear::Year(7), school(3, 8, 12)), Some(TransferKind::MiddleToSecondary));
        assert_eq!(kind(NcYear::Year(6), school(5, 9, 13)), None, "a middle school keeps its Year 6");
    }

    #[test]
    fn an_out_of_cohort_pupil_transfers_with_their_year_group() {
        // Aged 12 but recorded in Year 6: the recorded year decides, not the age.
        assert_eq!(kind(NcYear::Year(6), PRIMARY), Some(TransferKind::PrimaryToSecondary));
        assert_eq!(kind(NcYear::Year(7), PRIMARY), None);
    }

    #[test]
    fn pupils_below_their_schools_final_year_stay() {
        assert_eq!(kind(NcYear::Year(5), PRIMARY), None);
        assert_eq!(kind(NcYear::Year(9), school(4, 11, 16)), None);
        assert_eq!(kind(NcYear::Year(12), school(4, 11, 18)), None);
        assert_eq!(kind(NcYear::NotFollowing, school(0, 5, 19)), None);
    }

    #[test]
    fn all_through_and_special_schools_move_pupils_only_at_11_and_16() {
        assert_eq!(kind(NcYear::Year(6), school(7, 4, 18)), None);
        assert_eq!(kind(NcYear::Year(6), school(0, 5, 11)), Some(TransferKind::PrimaryToSecondary));
        assert_eq!(kind(NcYear::Year(6), school(0, 5, 19)), None);
        assert_eq!(kind(NcYear::Year(8), school(0, 9, 13)), None);
    }

    #[test]
    fn an_unknown_high_age_assumes_the_standard_structure() {
        let primary = SchoolStage { phase_code: 2, low_age: None, high_age: None };
        assert_eq!(kind(NcYear::Year(6), primary), Some(TransferKind::PrimaryToSecondary));
        assert_eq!(kind(NcYear::Year(2), primary), None);
        let special = SchoolStage { phase_code: 0, low_age: None, high_age: None };
        assert_eq!(kind(NcYear::Year(6), special), Some(TransferKind::PrimaryToSecondary));
        let all_through = SchoolStage { phase_code: 7, low_age: None, high_age: None };
        assert_eq!(kind(NcYear::Year(6), all_through), None);
    }

    #[test]
    fn rag_boundaries_are_28_and_90_days() {
        let deadline = d(2027, 2, 15);
        let rag = |days: i64| transfer_rag(deadline, deadline - chrono::TimeDelta::days(days), None);
        assert_eq!(rag(-1), Rag::Red, "passed");
        assert_eq!(rag(0), Rag::Red, "due today");
        assert_eq!(rag(27), Rag::Red);
        assert_eq!(rag(28), Rag::Amber);
        assert_eq!(rag(90), Rag::Amber);
        assert_eq!(rag(91), Rag::Green);
        assert_eq!(transfer_rag(deadline, d(2027, 3, 1), Some(d(2027, 2, 15))), Rag::Green, "issued on the day");
        assert_eq!(transfer_rag(deadline, d(2027, 3, 1), Some(d(2027, 2, 16))), Rag::Red, "issued a day late");
        assert_eq!(Rag::Amber.name(), "amber");
    }

    #[test]
    fn days_left_counts_whole_days() {
        assert_eq!(days_left(d(2027, 2, 15), d(2027, 1, 16)), 30);
        assert_eq!(days_left(d(2027, 2, 15), d(2027, 2, 16)), -1);
    }

    #[test]
    fn a_post_16_move_mid_year_needs_five_months_notice() {
        assert_eq!(post16_move_deadline(d(2027, 1, 6)), d(2026, 8, 6));
        assert_eq!(post16_move_deadline(d(2027, 7, 31)), d(2027, 2, 28));
        let moving = post16_move(d(2027, 1, 6));
        assert_eq!(
            (moving.kind, moving.transfer_on, moving.deadline),
            (TransferKind::Post16Move, d(2027, 1, 6), d(2026, 8, 6))
        );
        assert_eq!(TransferKind::parse("post16_move"), Ok(TransferKind::Post16Move));
    }

    #[test]
    fn a_post_16_move_in_a_leap_year_is_due_on_29_february() {
        assert_eq!(post16_move_deadline(d(2028, 7, 29)), d(2028, 2, 29));
        assert_eq!(post16_move_deadline(d(2028, 7, 31)), d(2028, 2, 29), "the shorter month's last day");
        assert_eq!(post16_move_deadline(d(2028, 7, 28)), d(2028, 2, 28));
        assert_eq!(post16_move_deadline(d(2028, 8, 1)), d(2028, 3, 1));
        let deadline = post16_move_deadline(d(2028, 7, 29));
        assert_eq!(transfer_status(deadline, d(2028, 3, 10), Some(d(2028, 2, 28))), TransferStatus::IssuedOnTime);
        assert_eq!(transfer_status(deadline, d(2028, 3, 10), Some(d(2028, 2, 29))), TransferStatus::IssuedOnTime);
        assert_eq!(transfer_status(deadline, d(2028, 3, 10), Some(d(2028, 3, 1))), TransferStatus::IssuedLate);
        assert_eq!(transfer_status(deadline, d(2028, 2, 29), None), TransferStatus::Due, "due on the day");
        assert_eq!(transfer_status(deadline, d(2028, 3, 1), None), TransferStatus::Overdue);
    }

    #[test]
    fn an_amended_plan_is_on_time_up_to_and_on_the_deadline_and_late_the_day_after() {
        for (deadline, kind) in
            [(d(2027, 2, 15), TransferKind::PrimaryToSecondary), (d(2027, 3, 31), TransferKind::SecondaryToPost16)]
        {
            assert_eq!(transfer_deadline(kind, 2027), deadline);
            let later = deadline + chrono::TimeDelta::days(40);
            let status =
                |issued: i64| transfer_status(deadline, later, Some(deadline + chrono::TimeDelta::days(issued)));
            assert_eq!(status(-1), TransferStatus::IssuedOnTime, "the day before");
            assert_eq!(status(0), TransferStatus::IssuedOnTime, "the day");
            assert_eq!(status(1), TransferStatus::IssuedLate, "the day after");
            let outstanding = |today: i64| transfer_status(deadline, deadline + chrono::TimeDelta::days(today), None);
            assert_eq!(outstanding(-1), TransferStatus::Due);
            assert_eq!(outstanding(0), TransferStatus::Due);
            assert_eq!(outstanding(1), TransferStatus::Overdue);
        }
        assert_eq!(TransferStatus::IssuedLate.code(), "issued_late");
    }

    #[test]
    fn next_years_transfers_are_listed_from_1_april() {
        assert_eq!(listed_transfer_years(d(2027, 3, 31)), [2026], "the day before");
        assert_eq!(listed_transfer_years(d(2027, 4, 1)), [2026, 2027], "the day");
        assert_eq!(listed_transfer_years(d(2027, 8, 31)), [2026, 2027], "the last day of the year");
        assert_eq!(listed_transfer_years(d(2027, 9, 1)), [2027], "the new year");
        assert_eq!(listed_transfer_years(d(2028, 2, 29)), [2027], "29 February");
        // The Year 5 pupils of 2026/27 show in the summer term, due by 15 February 2028.
        let next = next_transfer(NcYear::Year(6), &PRIMARY, 2027).unwrap();
        assert_eq!(next.deadline, d(2028, 2, 15));
    }

    #[test]
    fn only_a_school_teaching_beyond_16_has_a_sixth_form() {
        assert!(school(4, 11, 18).has_sixth_form());
        assert!(school(0, 2, 19).has_sixth_form());
        assert!(!school(4, 11, 16).has_sixth_form());
        assert!(!SchoolStage { phase_code: 4, low_age: None, high_age: None }.has_sixth_form());
    }

    #[test]
    fn far_years_saturate_instead_of_panicking() {
        assert_eq!(transfer_deadline(TransferKind::InfantToJunior, i32::MAX), NaiveDate::MAX);
        assert!(next_transfer(NcYear::Year(6), &PRIMARY, i32::MAX).is_some());
    }
}
