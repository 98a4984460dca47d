//! Tests of the suggestion on constructed teams: who is left out, the order's
//! five keys one at a time, the manager's choice of link first, the placement
//! and reasons shown, and (by property) that the order follows its keys and
//! does not depend on the order the team is listed in.

use super::*;
use crate::domain::professional::Specialism;
use proptest::prelude::*;

const EHCNA: ReferralKind = ReferralKind::EhcNeedsAssessment;
const EP_REFERRAL: ReferralKind = ReferralKind::EducationalPsychology;
const ROOM: SuggestionOrder = SuggestionOrder::RoomFirst;
const LINK: SuggestionOrder = SuggestionOrder::LinkFirst;

/// An active, unlinked EP with `open` of `max` open cases.
fn ep(id: i64, grade: EpGrade, open: u32, max: u32) -> Candidate {
    Candidate {
        id,
        name: format!("EP {id}"),
        role: ProfessionalRole::EducationalPsychologist(grade),
        active: true,
        open_cases: open,
        capacity: Capacity::OpenCases(max),
        sessions_used_this_term: 0,
        linked_to_school: false,
    }
}

/// An active, unlinked advisory teacher with `used` of `sessions` sessions this term.
fn teacher(id: i64, specialism: Specialism, used: u32, sessions: u32) -> Candidate {
    Candidate {
        id,
        name: format!("Teacher {id}"),
        role: ProfessionalRole::AdvisoryTeacher(specialism),
        active: true,
        open_cases: 4,
        capacity: Capacity::SessionsPerTerm(sessions),
        sessions_used_this_term: used,
        linked_to_school: false,
    }
}

/// The same candidate, linked to the referral's school.
fn linked(candidate: Candidate) -> Candidate {
    Candidate { linked_to_school: true, ..candidate }
}

/// The ids in ranked order.
fn ids(ranked: &[Ranked]) -> Vec<i64> {
    ranked.iter().map(|r| r.id).collect()
}

#[test]
fn the_schools_link_professional_comes_first() {
    let team =
        [ep(1, EpGrade::MainGrade, 1, 10), linked(ep(2, EpGrade::MainGrade, 8, 10)), ep(3, EpGrade::Senior, 0, 10)];
    assert_eq!(ids(&rank(&team, EP_REFERRAL, ROOM)), [2, 3, 1]);
}

#[test]
fn a_link_ep_over_capacity_comes_after_an_ep_with_room_and_says_why() {
    // The school's link EP holds 14 of 10 open cases (140 %); another has none.
    let team = [linked(ep(1, EpGrade::Senior, 14, 10)), ep(2, EpGrade::MainGrade, 0, 10)];
    let ranked = rank(&team, EP_REFERRAL, ROOM);
    assert_eq!(ids(&ranked), [2, 1]);
    assert_eq!(ranked[0].placement, "has room (0% of capacity)");
    assert_eq!(
        ranked[1].placement,
        "link educational psychologist for this school; 140% of capacity: after everyone with room"
    );
    assert_eq!(SuggestionOrder::default(), ROOM, "room first unless the manager asks otherwise");
}

#[test]
fn a_manager_may_ask_for_the_link_professional_first_even_when_full() {
    let team =
        [linked(ep(1, EpGrade::Senior, 14, 10)), ep(2, EpGrade::MainGrade, 0, 10), ep(3, EpGrade::MainGrade, 12, 10)];
    let ranked = rank(&team, EP_REFERRAL, LINK);
    assert_eq!(ids(&ranked), [1, 2, 3], "then room before full, as ever");
    assert_eq!(ranked[0].placement, "link educational psychologist for this school: first, as asked; 140% of capacity");
    assert_eq!(ranked[1].placement, "not this school's link; has room (0% of capacity)");
    assert_eq!(ranked[2].placement, "not this school's link; 120% of capacity: after those with room");
    assert!(ranked[0].over_capacity, "still marked: allocating needs an override with a reason");
    assert_eq!(ids(&rank(&team, EP_REFERRAL, ROOM)), [2, 1, 3], "the default keeps the link only among equals");
}

#[test]
fn among_those_with_room_the_link_professional_still_comes_first() {
    let team = [ep(1, EpGrade::MainGrade, 0, 10), linked(ep(2, EpGrade::MainGrade, 9, 10))];
    for order in SuggestionOrder::ALL {
        let ranked = rank(&team, EP_REFERRAL, order);
        assert_eq!(ids(&ranked), [2, 1], "{order:?}");
    }
    let ranked = rank(&team, EP_REFERRAL, ROOM);
    assert_eq!(ranked[0].placement, "link educational psychologist for this school; has room (90% of capacity)");
    assert_eq!(SuggestionOrder::ALL.map(SuggestionOrder::code), ["room_first", "link_first"]);
}

#[test]
fn professionals_at_or_over_capacity_come_last() {
    let team = [ep(1, EpGrade::MainGrade, 10, 10), ep(2, EpGrade::MainGrade, 9, 10), ep(3, EpGrade::MainGrade, 13, 10)];
    let ranked = rank(&team, EP_REFERRAL, ROOM);
    assert_eq!(ids(&ranked), [2, 1, 3]);
    assert_eq!(ranked.iter().map(|r| r.over_capacity).collect::<Vec<_>>(), [false, true, true]);
    assert!(ranked[1].reasons.contains(&"at capacity: allocation needs an override with a reason".to_owned()));
    assert!(ranked[2].reasons.contains(&"over capacity: allocation needs an override with a reason".to_owned()));
    assert!(!ranked[0].reasons.iter().any(|reason| reason.contains("capacity:")));
}

#[test]
fn lighter_loads_come_first_whatever_the_limit() {
    // 3/10 = 0.3, 1/10 = 0.1, 5/20 = 0.25, 0/15 = 0.
    let team = [
        ep(1, EpGrade::MainGrade, 3, 10),
        ep(2, EpGrade::MainGrade, 1, 10),
        ep(3, EpGrade::MainGrade, 5, 20),
        ep(4, EpGrade::MainGrade, 0, 15),
    ];
    let ranked = rank(&team, EP_REFERRAL, ROOM);
    assert_eq!(ids(&ranked), [4, 2, 3, 1]);
    assert_eq!(ranked.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(ranked.iter().map(|r| r.load).collect::<Vec<_>>(), [0.0, 0.1, 0.25, 0.3]);
}

#[test]
fn statutory_work_goes_to_the_more_senior_ep_at_equal_load() {
    // 3/10 and 6/20 are the same load exactly.
    let team = [ep(1, EpGrade::MainGrade, 3, 10), ep(2, EpGrade::Principal, 6, 20), ep(3, EpGrade::Senior, 3, 10)];
    assert_eq!(ids(&rank(&team, EHCNA, ROOM)), [2, 3, 1]);
    assert_eq!(ids(&rank(&team, EP_REFERRAL, ROOM)), [1, 2, 3], "seniority counts only for statutory work");
    let lighter_main_grade = [ep(1, EpGrade::Principal, 3, 10), ep(2, EpGrade::MainGrade, 2, 10)];
    assert_eq!(ids(&rank(&lighter_main_grade, EHCNA, ROOM)), [2, 1], "load outranks seniority");
}

#[test]
fn trainees_are_left_out_of_statutory_advice_but_not_other_ep_work() {
    let team = [ep(1, EpGrade::Trainee, 0, 10), ep(2, EpGrade::MainGrade, 5, 10)];
    assert_eq!(ids(&rank(&team, EHCNA, ROOM)), [2]);
    assert_eq!(ids(&rank(&team, EP_REFERRAL, ROOM)), [1, 2]);
}

#[test]
fn advisory_teachers_are_ranked_only_for_their_own_specialism() {
    let team = [
        teacher(1, Specialism::SensoryHearing, 0, 40),
        teacher(2, Specialism::SensoryVision, 0, 40),
        ep(3, EpGrade::Senior, 0, 10),
        teacher(4, Specialism::SensoryHearing, 10, 40),
    ];
    assert_eq!(ids(&rank(&team, ReferralKind::AdvisoryTeacher(Specialism::SensoryHearing), ROOM)), [1, 4]);
    assert_eq!(ids(&rank(&team, ReferralKind::AdvisoryTeacher(Specialism::SensoryVision), ROOM)), [2]);
    assert!(rank(&team, ReferralKind::AdvisoryTeacher(Specialism::PhysicalAndMedical), ROOM).is_empty());
    assert_eq!(ids(&rank(&team, EP_REFERRAL, ROOM)), [3]);
}

#[test]
fn inactive_professionals_are_left_out() {
    let away = Candidate { active: false, ..linked(ep(1, EpGrade::Principal, 0, 10)) };
    let team = [away, ep(2, EpGrade::MainGrade, 9, 10)];
    assert_eq!(ids(&rank(&team, EHCNA, ROOM)), [2]);
}

#[test]
fn equals_are_ordered_by_id_whatever_the_listing() {
    let team = [ep(7, EpGrade::Senior, 2, 10), ep(3, EpGrade::Senior, 2, 10), ep(5, EpGrade::Senior, 2, 10)];
    assert_eq!(ids(&rank(&team, EHCNA, ROOM)), [3, 5, 7]);
    let reversed: Vec<Candidate> = team.iter().rev().cloned().collect();
    assert_eq!(rank(&reversed, EHCNA, ROOM), rank(&team, EHCNA, ROOM));
}

#[test]
fn reasons_say_what_they_take_the_link_the_load_and_the_clock() {
    let team = [linked(ep(1, EpGrade::Senior, 3, 10))];
    let ranked = rank(&team, EHCNA, ROOM);
    assert_eq!(
        ranked[0].reasons,
        [
            "educational psychologist (senior): takes EHC needs assessment advice",
            "link educational psychologist for this school",
            "load 3 of 10 open cases (30%)",
            "statutory: advice due within 6 weeks of being asked for; ranked ahead of non-statutory work",
        ]
    );
    let full = rank(&[ep(2, EpGrade::MainGrade, 10, 10)], EP_REFERRAL, ROOM);
    assert_eq!(
        full[0].reasons,
        [
            "educational psychologist (main grade): takes educational psychology referrals",
            "load 10 of 10 open cases (100%)",
            "at capacity: allocation needs an override with a reason",
        ]
    );
}

#[test]
fn session_limits_count_sessions_used_this_term() {
    let hearing = ReferralKind::AdvisoryTeacher(Specialism::SensoryHearing);
    let ranked = rank(&[linked(teacher(1, Specialism::SensoryHearing, 12, 40))], hearing, ROOM);
    assert_eq!(ranked[0].load, 0.3);
    assert_eq!(
        ranked[0].reasons,
        [
            "advisory teacher (sensory — hearing): takes referrals in their specialism",
            "link advisory teacher for this school",
            "load 12 of 40 sessions this term (30%)",
        ]
    );
}

#[test]
fn over_capacity_means_no_room_for_one_more() {
    assert!(!is_over_capacity(&ep(1, EpGrade::MainGrade, 9, 10)));
    assert!(is_over_capacity(&ep(1, EpGrade::MainGrade, 10, 10)));
    assert!(is_over_capacity(&ep(1, EpGrade::MainGrade, 11, 10)));
    assert!(!is_over_capacity(&teacher(1, Specialism::SensoryVision, 39, 40)));
    assert!(is_over_capacity(&teacher(1, Specialism::SensoryVision, 40, 40)));
}

#[test]
fn a_zero_capacity_counts_as_full_with_a_finite_load() {
    let none = ep(1, EpGrade::MainGrade, 0, 0);
    assert_eq!(load(&none), 1.0);
    assert!(is_over_capacity(&none));
    assert_eq!(load(&ep(1, EpGrade::MainGrade, 3, 0)), 3.0);
}

/// A random team member: any role, active or not, linked or not, some load.
fn any_candidate() -> impl Strategy<Value = Candidate> {
    let roles = ProfessionalRole::all();
    (0..roles.len(), any::<bool>(), any::<bool>(), 0u32..15, 1u32..12, any::<bool>()).prop_map(
        move |(role, active, linked, used, max, by_sessions)| Candidate {
            id: 0,
            name: String::new(),
            role: roles[role],
            active,
            open_cases: used,
            capacity: if by_sessions { Capacity::SessionsPerTerm(max) } else { Capacity::OpenCases(max) },
            sessions_used_this_term: used,
            linked_to_school: linked,
        },
    )
}

proptest! {
    #[test]
    fn the_ranking_follows_its_keys_and_ignores_listing_order(
        members in prop::collection::vec(any_candidate(), 0..12),
        kind_index in 0usize..7,
    ) {
        let kinds = [EP_REFERRAL, EHCNA, ReferralKind::AdvisoryTeacher(Specialism::SensoryHearing),
            ReferralKind::AdvisoryTeacher(Specialism::CognitionAndLearning), EP_REFERRAL, EHCNA, EHCNA];
        let kind = kinds[kind_index];
        let team: Vec<Candidate> = members.into_iter().zip(1..).map(|(c, id)| Candidate { id, ..c }).collect();
        for order in SuggestionOrder::ALL {
            let ranked = rank(&team, kind, order);
            let eligible = team.iter().filter(|c| c.active && can_take(c.role, kind)).count();
            prop_assert_eq!(ranked.len(), eligible);
            let by_id = |id: i64| &team[usize::try_from(id - 1).unwrap()];
            for (pair, expected_rank) in ranked.windows(2).zip(1..) {
                let (a, b) = (by_id(pair[0].id), by_id(pair[1].id));
                prop_assert_eq!(pair[0].rank, expected_rank);
                prop_assert_eq!(compare(a, b, kind, order), Ordering::Less);
                let (room_a, room_b) = (!is_over_capacity(a), !is_over_capacity(b));
                match order {
                    SuggestionOrder::RoomFirst => {
                        prop_assert!((room_a, a.linked_to_school) >= (room_b, b.linked_to_school));
                    }
                    SuggestionOrder::LinkFirst => {
                        prop_assert!((a.linked_to_school, room_a) >= (b.linked_to_school, room_b));
                    }
                }
            }
            let reversed: Vec<Candidate> = team.iter().rev().cloned().collect();
            prop_assert_eq!(rank(&reversed, kind, order), ranked);
        }
    }
}
