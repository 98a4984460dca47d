//! Phase transfers: moves between phases of education that the EHC plan must be
//! reviewed and amended for, naming the next setting, by a statutory date (SEN and
//! Disability Regulations 2014, reg. 18; SEND Code of Practice 9.179):
//! 15 February of the calendar year of transfer, or 31 March for a move from
//! secondary school to post-16 education.
//!
//! Which pupils transfer at the end of the current academic year is decided from
//! their national curriculum year as recorded (an out-of-cohort pupil moves with
//! their year group, not their age) and what GIAS says about their school:
//!
//! - X (not following the national curriculum): never; the council tracks those
//!   moves by hand.
//! - N2, in any setting: early years → school (into Reception). N1 never: the next
//!   year is still early years.
//! - Year 11, in any school: secondary → post-16. We count every Year 11 pupil,
//!   including those staying on in their school's own sixth form or at a special
//!   school, because the move into post-16 education is itself the transfer and a
//!   missed 31 March deadline is worse than a review that turns out unneeded.
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
/// reviewed when the move is not at the usual time (reg. 18).
pub const POST16_MOVE_NOTICE_MONTHS: u32 = 5;

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
}

impl TransferKind {
    /// Every kind, youngest first.
    pub const ALL: [TransferKind; 6] = [
        Self::EarlyYearsToSchool,
        Self::InfantToJunior,
        Self::PrimaryToMiddle,
        Self::PrimaryToSecondary,
        Self::MiddleToSecondary,
        Self::SecondaryToPost16,
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

/// A transfer a pupil is due to make, and the date the plan must be amended by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseTransfer {
    /// Which move.
    pub kind: TransferKind,
    /// 1 September on which the pupil moves.
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

/// The date by which the plan must be amended for a transfer in September of
/// `transfer_year` (reg. 18(1)): 31 March for secondary → post-16, 15 February
/// for every other phase transfer.
pub fn transfer_deadline(kind: TransferKind, transfer_year: i32) -> NaiveDate {
    match kind {
        TransferKind::SecondaryToPost16 => date(transfer_year, 3, 31),
        _ => date(transfer_year, 2, 15),
    }
}

/// The plan review date for a move between post-16 institutions at another time of
/// year: at least five months before the move (reg. 18).
pub fn post16_move_deadline(moving_on: NaiveDate) -> NaiveDate {
    moving_on.checked_sub_months(Months::new(POST16_MOVE_NOTICE_MONTHS)).unwrap_or(NaiveDate::MIN)
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

/// How urgent an outstanding phase transfer is: green once the amended plan is
/// issued; otherwise red when the deadline has passed or is fewer than 28 days
/// away, amber within 90 days, green beyond.
pub fn transfer_rag(deadline: NaiveDate, today: NaiveDate, amended_plan_issued: bool) -> Rag {
    if amended_plan_issued {
        return Rag::Green;
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
        let rag = |days: i64| transfer_rag(deadline, deadline - chrono::TimeDelta::days(days), false);
        assert_eq!(rag(-1), Rag::Red, "passed");
        assert_eq!(rag(0), Rag::Red, "due today");
        assert_eq!(rag(27), Rag::Red);
        assert_eq!(rag(28), Rag::Amber);
        assert_eq!(rag(90), Rag::Amber);
        assert_eq!(rag(91), Rag::Green);
        assert_eq!(transfer_rag(deadline, d(2027, 3, 1), true), Rag::Green, "issued, even if late");
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
    }

    #[test]
    fn far_years_saturate_instead_of_panicking() {
        assert_eq!(transfer_deadline(TransferKind::InfantToJunior, i32::MAX), NaiveDate::MAX);
        assert!(next_transfer(NcYear::Year(6), &PRIMARY, i32::MAX).is_some());
    }
}
