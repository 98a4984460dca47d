//! The plan of an authority keeps the rules the services keep, checked without
//! a database: the largest authority's targets exactly, valid and unique UPNs,
//! one open EHC needs assessment request per pupil at most, each referral's
//! path legal, each professional's open cases their active cases, and the EPs'
//! loads spread around their caseload limits.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sen_caseloads::domain::{Capacity, ProfessionalRole};
use sen_pupils::domain::{SenStatus, Upn};
use sen_referrals::domain::{ReferralKind, Status, next_status};

use super::england::authorities;
use super::plan::{Authority, Ids, Run};
use super::plan_authority;

fn kent(seed: u64) -> Authority {
    let run = Run { seed, today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap() };
    let sizing = authorities(0.1, Some(1)).remove(0);
    plan_authority(&run, &sizing, &mut Ids::default()).unwrap()
}

#[test]
fn the_largest_authority_meets_its_targets_with_valid_unique_upns() {
    let kent = kent(2026);
    assert_eq!((kent.la.to_string(), kent.schools.len()), ("886".to_owned(), 60));
    let count = |status| kent.pupils.iter().filter(|p| p.status == status).count();
    assert_eq!((count(SenStatus::EhcPlan), count(SenStatus::SenSupport)), (2_060, 3_400));
    let mut upns = HashSet::new();
    for pupil in &kent.pupils {
        assert_eq!(Upn::parse(pupil.upn.as_str()).as_ref(), Ok(&pupil.upn));
        assert_eq!(&pupil.upn.as_str()[1..4], "886");
        assert!(upns.insert(pupil.upn.as_str().to_owned()), "UPN {} twice", pupil.upn);
        assert_eq!(
            pupil.plan.is_some() && pupil.plan.as_ref().is_some_and(|p| p.ceased_on.is_none()),
            pupil.status == SenStatus::EhcPlan
        );
    }
}

#[test]
fn referrals_follow_the_lifecycle_and_cases_are_counted_on_their_professionals() {
    let kent = kent(2026);
    let mut open_requests = HashSet::new();
    let mut active: HashMap<usize, u32> = HashMap::new();
    for referral in &kent.referrals {
        for pair in referral.entries.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            assert!(before.on <= after.on, "referral {}: entries out of order", referral.id);
            assert_eq!(after.from, Some(before.to));
            let moved = after.from != Some(after.to) || after.note.starts_with("allocated");
            if moved {
                let legal =
                    sen_referrals::domain::Event::ALL.into_iter().any(|e| next_status(before.to, e) == Ok(after.to));
                assert!(legal, "referral {}: {:?} to {:?}", referral.id, before.to, after.to);
            }
        }
        if referral.kind == ReferralKind::EhcNeedsAssessment && referral.status().is_open() {
            assert!(open_requests.insert(referral.pupil), "two open requests for pupil {}", referral.pupil);
        }
        if let Some(case) = &referral.case {
            let professional = &kent.staff[case.professional];
            assert!(sen_caseloads::domain::can_take(professional.role, referral.kind));
            let allocated = matches!(referral.status(), Status::Allocated | Status::InProgress);
            assert_eq!(case.closed.is_none(), allocated, "referral {} is {:?}", referral.id, referral.status());
            if allocated {
                *active.entry(case.professional).or_default() += 1;
            }
        }
    }
    for (index, professional) in kent.staff.iter().enumerate() {
        assert_eq!(professional.open_cases, active.get(&index).copied().unwrap_or(0), "{}", professional.person);
    }
    assert!(kent.referrals.iter().any(|r| r.clock.is_some_and(|c| c.final_plan_issued_on.is_some())));
}

#[test]
fn the_same_seed_makes_the_same_authority_and_another_seed_another() {
    let (a, b) = (kent(7), kent(7));
    assert_eq!(a, b);
    assert_ne!(a.pupils[..100], kent(8).pupils[..100]);
}

#[test]
fn educational_psychologists_hold_about_their_caseload_limit_some_with_room_some_over() {
    let kent = kent(2026);
    let mut loads: Vec<f64> = kent
        .staff
        .iter()
        .filter(|p| p.active && matches!(p.role, ProfessionalRole::EducationalPsychologist(_)))
        .filter_map(|p| match p.capacity {
            Capacity::OpenCases(limit) if limit > 0 => Some(f64::from(p.open_cases) / f64::from(limit)),
            _ => None,
        })
        .collect();
    loads.sort_by(f64::total_cmp);
    assert!(loads.len() >= 10, "Kent's EP team at a tenth of its size: {loads:?}");
    let median = loads[loads.len() / 2];
    assert!((0.7..=1.3).contains(&median), "most EPs near their limit: {loads:?}");
    assert!(loads.iter().any(|&l| l < 0.9), "some with room for more: {loads:?}");
    assert!(loads.iter().any(|&l| l > 1.1), "some over: {loads:?}");
}
