//! Tests of the time-allocation model: cases worked out by hand, the edges (a
//! figure nobody has, a base that needs more than is available), the parts
//! adding up to the sessions available (by property), and the term calendar.

use super::*;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn school(urn: u32, number_on_roll: u32, sen_support: u32, ehc_plans: u32) -> SchoolFigures {
    SchoolFigures { urn, number_on_roll, sen_support, ehc_plans }
}

fn settings(sessions_available: u32, base_per_school: u32, weights: [u32; 3]) -> ModelSettings {
    let [number_on_roll, sen_support, ehc_plans] = weights;
    ModelSettings::new(sessions_available, base_per_school, Weights { number_on_roll, sen_support, ehc_plans }).unwrap()
}

/// The three schools of the module doc's worked example.
fn three_schools(ehc_plans: [u32; 3]) -> [SchoolFigures; 3] {
    [
        school(100001, 200, 20, ehc_plans[0]),
        school(100002, 300, 30, ehc_plans[1]),
        school(100003, 500, 50, ehc_plans[2]),
    ]
}

fn assert_close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} is not {expected}");
}

/// Each school's (by_roll, by_sen_support, by_ehc_plans, sessions).
fn parts(allocations: &[SchoolAllocation]) -> Vec<[f64; 4]> {
    allocations.iter().map(|a| [a.by_roll, a.by_sen_support, a.by_ehc_plans, a.sessions]).collect()
}

fn assert_parts(allocations: &[SchoolAllocation], expected: &[[f64; 4]]) {
    assert_eq!(allocations.len(), expected.len());
    for (actual, expected) in parts(allocations).iter().zip(expected) {
        for (a, e) in actual.iter().zip(expected) {
            assert_close(*a, *e);
        }
    }
}

#[test]
fn the_worked_example_in_the_module_doc() {
    // R = 100 − 3 × 10 = 70; by roll 70 × 20/100 = 14, by K and by E 70 × 40/100 = 28 each.
    // A: 14 × 200/1000 = 2.8, 28 × 20/100 = 5.6, 28 × 5/20 = 7.0  → 10 + 15.4 = 25.4
    // B: 14 × 300/1000 = 4.2, 28 × 30/100 = 8.4, 28 × 10/20 = 14.0 → 10 + 26.6 = 36.6
    // C: 14 × 500/1000 = 7.0, 28 × 50/100 = 14.0, 28 × 5/20 = 7.0 → 10 + 28.0 = 38.0
    let allocations = allocate(&settings(100, 10, [20, 40, 40]), &three_schools([5, 10, 5])).unwrap();
    assert_parts(&allocations, &[[2.8, 5.6, 7.0, 25.4], [4.2, 8.4, 14.0, 36.6], [7.0, 14.0, 7.0, 38.0]]);
    assert_eq!(allocations.iter().map(|a| a.urn).collect::<Vec<_>>(), [100001, 100002, 100003], "order kept");
    assert!(allocations.iter().all(|a| a.base == 10.0));
}

#[test]
fn a_figure_nobody_has_passes_its_weight_to_the_others() {
    // No EHC plans anywhere: its weight of 40 counts as 0, so the remainder of 70
    // is shared 20:40 between roll (70 × 20/60 = 23⅓) and K (70 × 40/60 = 46⅔).
    // A: 23⅓ × 0.2 = 4⅔, 46⅔ × 0.2 = 9⅓   → 10 + 14 = 24.0
    // B: 23⅓ × 0.3 = 7,  46⅔ × 0.3 = 14   → 10 + 21 = 31.0
    // C: 23⅓ × 0.5 = 11⅔, 46⅔ × 0.5 = 23⅓ → 10 + 35 = 45.0
    let allocations = allocate(&settings(100, 10, [20, 40, 40]), &three_schools([0, 0, 0])).unwrap();
    let third = 1.0 / 3.0;
    assert_parts(
        &allocations,
        &[
            [4.0 + 2.0 * third, 9.0 + third, 0.0, 24.0],
            [7.0, 14.0, 0.0, 31.0],
            [11.0 + 2.0 * third, 23.0 + third, 0.0, 45.0],
        ],
    );
}

#[test]
fn only_the_sessions_are_rounded_to_a_tenth() {
    // 40 sessions, base 5, weights 1/1/1, three schools of 100 on roll with 1 on K
    // each; only the first has EHC plans (3). R = 40 − 15 = 25, a third (8⅓) per figure.
    // Every school: 8⅓ / 3 = 2 7/9 by roll and 2 7/9 by K; the first also 8⅓ by E.
    // First: 5 + 5 5/9 + 8⅓ = 18 8/9 → 18.9; the others: 5 + 5 5/9 = 10 5/9 → 10.6.
    let schools = [school(1, 100, 1, 3), school(2, 100, 1, 0), school(3, 100, 1, 0)];
    let allocations = allocate(&settings(40, 5, [1, 1, 1]), &schools).unwrap();
    let (seven_ninths, third) = (25.0 / 9.0, 25.0 / 3.0);
    assert_parts(
        &allocations,
        &[
            [seven_ninths, seven_ninths, third, 18.9],
            [seven_ninths, seven_ninths, 0.0, 10.6],
            [seven_ninths, seven_ninths, 0.0, 10.6],
        ],
    );
    // The rounded figures add to 40.1; the unrounded parts to exactly 40.
    let unrounded: f64 = allocations.iter().map(|a| a.base + a.by_roll + a.by_sen_support + a.by_ehc_plans).sum();
    assert_close(unrounded, 40.0);
}

#[test]
fn a_base_that_needs_more_than_is_available_is_refused() {
    let error = allocate(&settings(100, 40, [20, 40, 40]), &three_schools([5, 10, 5])).unwrap_err();
    assert_eq!(error, "the base alone needs 120 sessions; only 100 are available");
}

#[test]
fn a_base_that_takes_everything_leaves_nothing_to_weight() {
    let schools = [school(1, 0, 0, 0), school(2, 0, 0, 0)];
    let allocations = allocate(&settings(50, 25, [1, 0, 0]), &schools).unwrap();
    assert_parts(&allocations, &[[0.0, 0.0, 0.0, 25.0], [0.0, 0.0, 0.0, 25.0]]);
}

#[test]
fn a_remainder_with_no_weighted_figure_to_share_it_by_is_refused() {
    let schools = [school(1, 300, 30, 0), school(2, 200, 10, 0)];
    let error = allocate(&settings(100, 10, [0, 0, 5]), &schools).unwrap_err();
    assert!(error.contains("remaining 80 sessions cannot be shared"), "{error}");
}

#[test]
fn no_schools_share_nothing() {
    assert_eq!(allocate(&settings(100, 10, [1, 1, 1]), &[]), Ok(vec![]));
}

#[test]
fn settings_name_the_field_at_fault() {
    let weights = Weights { number_on_roll: 20, sen_support: 40, ehc_plans: 40 };
    assert!(ModelSettings::new(100_000, 0, weights).is_ok());
    assert_eq!(ModelSettings::new(0, 0, weights).unwrap_err().0, "sessions_available");
    assert_eq!(ModelSettings::new(100_001, 0, weights).unwrap_err().0, "sessions_available");
    assert_eq!(ModelSettings::new(100, 101, weights).unwrap_err().0, "base_per_school");
    let zero = Weights { number_on_roll: 0, sen_support: 0, ehc_plans: 0 };
    assert_eq!(
        ModelSettings::new(100, 10, zero),
        Err(("weights", "are all 0: give at least one weight above 0".into()))
    );
    // Settings built directly, past `new`, are still refused by the model.
    let built = ModelSettings { sessions_available: 100, base_per_school: 10, weights: zero };
    assert!(allocate(&built, &three_schools([1, 1, 1])).unwrap_err().contains("weights are all 0"));
}

#[test]
fn balance_is_what_is_left_to_a_tenth() {
    assert_eq!(balance(25.4, 20), 5.4);
    assert_eq!(balance(36.6, 36), 0.6);
    assert_eq!(balance(10.0, 12), -2.0);
    assert_eq!(balance(0.0, 0), 0.0);
}

#[test]
fn terms_run_from_september_to_august() {
    let autumn = AcademicTerm { year: 2026, term: Term::Autumn };
    let spring = AcademicTerm { year: 2026, term: Term::Spring };
    let summer = AcademicTerm { year: 2026, term: Term::Summer };
    assert_eq!((autumn.starts_on(), autumn.ends_on()), (d(2026, 9, 1), d(2026, 12, 31)));
    assert_eq!((spring.starts_on(), spring.ends_on()), (d(2027, 1, 1), d(2027, 3, 31)));
    assert_eq!((summer.starts_on(), summer.ends_on()), (d(2027, 4, 1), d(2027, 8, 31)));
    assert_eq!(spring.name(), "spring term 2026/27");
    assert_eq!(AcademicTerm { year: 1999, term: Term::Autumn }.name(), "autumn term 1999/00");
    assert!(autumn < spring && spring < summer && summer < AcademicTerm { year: 2027, term: Term::Autumn });
}

#[test]
fn the_term_containing_a_date_at_each_boundary() {
    let term = |year, term| AcademicTerm { year, term };
    assert_eq!(AcademicTerm::containing(d(2026, 9, 1)), term(2026, Term::Autumn));
    assert_eq!(AcademicTerm::containing(d(2026, 12, 31)), term(2026, Term::Autumn));
    assert_eq!(AcademicTerm::containing(d(2027, 1, 1)), term(2026, Term::Spring));
    assert_eq!(AcademicTerm::containing(d(2027, 3, 31)), term(2026, Term::Spring));
    assert_eq!(AcademicTerm::containing(d(2027, 4, 1)), term(2026, Term::Summer));
    assert_eq!(AcademicTerm::containing(d(2027, 8, 31)), term(2026, Term::Summer));
    assert_eq!(AcademicTerm::containing(d(2027, 9, 1)), term(2027, Term::Autumn));
    assert_eq!(AcademicTerm::containing(d(2028, 2, 29)), term(2027, Term::Spring), "leap day");
}

#[test]
fn term_codes_round_trip() {
    for year in [1999, 2026, 2030] {
        for term in Term::ALL {
            let academic = AcademicTerm { year, term };
            assert_eq!(AcademicTerm::parse(&academic.code()), Ok(academic));
        }
    }
    assert_eq!(AcademicTerm { year: 2026, term: Term::Spring }.code(), "2026-spring");
    assert_eq!(AcademicTerm::parse(" 2026-autumn "), Ok(AcademicTerm { year: 2026, term: Term::Autumn }));
    for bad in ["2026", "26-autumn", "2026-winter", "2026-Autumn", "autumn-2026", "+202-autumn", "2026/27-autumn", ""] {
        let error = AcademicTerm::parse(bad).unwrap_err();
        assert!(error.contains("e.g. 2026-autumn"), "{bad}: {error}");
    }
    assert!(Term::parse("winter").is_err());
}

proptest! {
    #[test]
    fn every_date_is_in_exactly_the_term_that_contains_it(days in 0i64..40_000) {
        let date = d(1990, 1, 1) + chrono::TimeDelta::days(days);
        let term = AcademicTerm::containing(date);
        prop_assert!(term.contains(date));
        prop_assert_eq!(AcademicTerm::containing(term.starts_on()), term);
        prop_assert_eq!(AcademicTerm::containing(term.ends_on()), term);
        // The next day is either in the same term or starts the next one.
        let next = AcademicTerm::containing(date + chrono::TimeDelta::days(1));
        prop_assert!(next == term || next.starts_on() == term.ends_on() + chrono::TimeDelta::days(1));
    }

    #[test]
    fn the_unrounded_parts_add_up_to_the_sessions_available(
        sessions_available in 1u32..=MAX_SESSIONS_AVAILABLE,
        weights in [0u32..100, 0u32..100, 1u32..100],
        figures in prop::collection::vec((0u32..3000, 0u32..400, 0u32..100), 1..60),
        base_fraction in 0.0f64..1.0,
    ) {
        let schools: Vec<SchoolFigures> =
            figures.iter().zip(1..).map(|(&(roll, k, e), urn)| school(urn, roll, k, e.max(1))).collect();
        let most_base = sessions_available / u32::try_from(schools.len()).unwrap();
        let base = (f64::from(most_base) * base_fraction) as u32;
        let allocations = allocate(&settings(sessions_available, base, weights), &schools).unwrap();
        let total: f64 = allocations.iter().map(|a| a.base + a.by_roll + a.by_sen_support + a.by_ehc_plans).sum();
        prop_assert!((total - f64::from(sessions_available)).abs() < 1e-6, "{} vs {}", total, sessions_available);
        for allocation in &allocations {
            prop_assert!(allocation.by_roll >= 0.0 && allocation.by_sen_support >= 0.0 && allocation.by_ehc_plans >= 0.0);
            prop_assert!(allocation.sessions >= f64::from(base));
        }
    }
}
