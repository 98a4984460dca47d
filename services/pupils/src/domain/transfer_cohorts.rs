//! Which birth cohorts can make a phase transfer this academic year, school by
//! school: the narrowing that lets the transfer list read only the pupils who
//! might be moving rather than every pupil with a plan.
//!
//! A pupil makes a transfer only from a year group that [`next_transfer`]
//! names for their school (N2 and Year 11 everywhere; the school's final year,
//! or Year 6 where its ages are unknown). The years are found by asking
//! [`next_transfer`] itself of every year group, so this can never disagree
//! with it: the cohorts are a superset of the pupils who transfer, and the
//! list still judges each pupil read by the same rule. Pupils whose year group
//! was set by hand are read whatever their cohort.
//!
//! Example: in the academic year 2025/26 a junior school ending at 11 moves
//! its Year 6 (the 2014 cohort) on; an infant school ending at 7 its Year 2
//! (the 2018 cohort). Both cohorts, and N2 and Year 11, are read; the infant
//! school's Year 6 is read too, as every school's is, because a pupil at a
//! school the caller may not look up is judged by the standard structure.

use std::collections::{BTreeMap, BTreeSet};

use super::{NcYear, SchoolStage, cohort_in_year, next_transfer};

/// What the school stage of a pupil's school is taken to be when it is not
/// known (the standard structure: Year 6 to secondary, Year 11 to post-16).
pub const UNKNOWN_SCHOOL_STAGE: SchoolStage = SchoolStage { phase_code: 0, low_age: None, high_age: None };

/// The cohorts to read for the transfers of one academic year.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferCohorts {
    /// Cohorts that may transfer at any school.
    pub everywhere: BTreeSet<i32>,
    /// Further cohorts that may transfer only at these schools (URNs).
    pub at_schools: BTreeMap<i32, BTreeSet<i32>>,
}

impl TransferCohorts {
    /// The cohorts of `self` and `other` together: what to read when the
    /// transfers of two academic years are listed.
    pub fn merge(mut self, other: TransferCohorts) -> Self {
        self.everywhere.extend(other.everywhere);
        for (cohort, urns) in other.at_schools {
            self.at_schools.entry(cohort).or_default().extend(urns);
        }
        self
    }
}

/// Every year group, N1 to Year 14.
fn year_groups() -> impl Iterator<Item = NcYear> {
    (-2i8..=14).filter_map(NcYear::from_ordinal)
}

/// The cohorts that transfer at a school like `stage` in the academic year
/// starting in `academic_year`.
fn cohorts_at(stage: &SchoolStage, academic_year: i32) -> BTreeSet<i32> {
    year_groups()
        .filter(|year| next_transfer(*year, stage, academic_year).is_some())
        .filter_map(|year| cohort_in_year(year, academic_year))
        .collect()
}

/// The cohorts to read at `schools` (URN and stage), and at any school not
/// among them, for the academic year starting in `academic_year`.
pub fn transfer_cohorts<'a>(
    schools: impl IntoIterator<Item = (i32, &'a SchoolStage)>,
    academic_year: i32,
) -> TransferCohorts {
    let everywhere = cohorts_at(&UNKNOWN_SCHOOL_STAGE, academic_year);
    let mut at_schools: BTreeMap<i32, BTreeSet<i32>> = BTreeMap::new();
    for (urn, stage) in schools {
        for cohort in cohorts_at(stage, academic_year).difference(&everywhere) {
            at_schools.entry(*cohort).or_default().insert(urn);
        }
    }
    TransferCohorts { everywhere, at_schools }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIMARY: u8 = 2;
    const SECONDARY: u8 = 4;

    fn stage(phase_code: u8, high_age: u8) -> SchoolStage {
        SchoolStage { phase_code, low_age: Some(4), high_age: Some(high_age) }
    }

    #[test]
    fn n2_year_6_and_year_11_are_read_at_every_school() {
        let cohorts = transfer_cohorts([], 2025);
        let expected: BTreeSet<i32> = [NcYear::N2, NcYear::Year(6), NcYear::Year(11)]
            .into_iter()
            .filter_map(|y| cohort_in_year(y, 2025))
            .collect();
        assert_eq!(cohorts.everywhere, expected);
        assert!(cohorts.at_schools.is_empty());
    }

    #[test]
    fn an_infant_schools_year_2_is_read_there_only() {
        let infant = stage(PRIMARY, 7);
        let secondary = stage(SECONDARY, 16);
        let cohorts = transfer_cohorts([(100_001, &infant), (100_002, &secondary)], 2025);
        let year_2 = cohort_in_year(NcYear::Year(2), 2025).expect("a cohort");
        assert_eq!(cohorts.at_schools, BTreeMap::from([(year_2, BTreeSet::from([100_001]))]));
    }

    #[test]
    fn two_years_cohorts_merge_into_one_read() {
        let infant = stage(PRIMARY, 7);
        let both = transfer_cohorts([(100_001, &infant)], 2025).merge(transfer_cohorts([(100_001, &infant)], 2026));
        for academic_year in [2025, 2026] {
            let year_6 = cohort_in_year(NcYear::Year(6), academic_year).expect("a cohort");
            let year_2 = cohort_in_year(NcYear::Year(2), academic_year).expect("a cohort");
            assert!(both.everywhere.contains(&year_6));
            assert_eq!(both.at_schools.get(&year_2), Some(&BTreeSet::from([100_001])));
        }
    }

    #[test]
    fn every_pupil_who_transfers_is_in_a_cohort_read() {
        let stages: Vec<(i32, SchoolStage)> = (0u8..=7)
            .flat_map(|phase| {
                (5u8..=19).map(move |high| (i32::from(phase) * 100 + i32::from(high), stage(phase, high)))
            })
            .collect();
        let cohorts = transfer_cohorts(stages.iter().map(|(urn, s)| (*urn, s)), 2025);
        for (urn, stage) in &stages {
            for year in year_groups() {
                if next_transfer(year, stage, 2025).is_some() {
                    let cohort = cohort_in_year(year, 2025).expect("a cohort");
                    let read = cohorts.everywhere.contains(&cohort)
                        || cohorts.at_schools.get(&cohort).is_some_and(|urns| urns.contains(urn));
                    assert!(read, "{year:?} at school {urn} transfers but its cohort is not read");
                }
            }
        }
    }
}
