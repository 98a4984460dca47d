//! Tests of professionals: codes round trip (and match the referrals service's),
//! capacity and FTE bounds, and who may take which kind of referral.

use super::*;

/// Every kind of referral, advisory teaching once per specialism.
fn every_kind() -> Vec<ReferralKind> {
    let mut kinds = vec![ReferralKind::EducationalPsychology, ReferralKind::EhcNeedsAssessment];
    kinds.extend(Specialism::ALL.map(ReferralKind::AdvisoryTeacher));
    kinds
}

#[test]
fn grade_and_specialism_codes_round_trip() {
    for grade in EpGrade::ALL {
        assert_eq!(EpGrade::parse(grade.code()), Ok(grade));
    }
    for specialism in Specialism::ALL {
        assert_eq!(Specialism::parse(specialism.code()), Ok(specialism));
    }
    assert_eq!(EpGrade::MainGrade.code(), "main_grade");
    assert_eq!(EpGrade::MainGrade.name(), "main grade");
    assert!(EpGrade::parse("assistant").unwrap_err().contains("not an EP grade"));
    assert!(Specialism::parse("semh").is_err());
}

#[test]
fn grades_order_by_seniority() {
    assert!(EpGrade::Trainee < EpGrade::MainGrade);
    assert!(EpGrade::MainGrade < EpGrade::Senior);
    assert!(EpGrade::Senior < EpGrade::Principal);
}

#[test]
fn role_codes_round_trip_for_every_grade_and_specialism() {
    let roles = ProfessionalRole::all();
    assert_eq!(roles.len(), 9);
    for role in roles {
        assert_eq!(ProfessionalRole::parse(&role.code()), Ok(role), "{}", role.code());
    }
    let senior = ProfessionalRole::EducationalPsychologist(EpGrade::Senior);
    assert_eq!(senior.code(), "educational_psychologist:senior");
    assert_eq!(senior.name(), "educational psychologist (senior)");
    let hearing = ProfessionalRole::AdvisoryTeacher(Specialism::SensoryHearing);
    assert_eq!(hearing.code(), "advisory_teacher:sensory_hearing");
    assert_eq!(hearing.name(), "advisory teacher (sensory — hearing)");
    assert_eq!(
        ProfessionalRole::parse(" advisory_teacher:sensory_vision "),
        Ok(ProfessionalRole::AdvisoryTeacher(Specialism::SensoryVision))
    );
}

#[test]
fn unknown_roles_are_refused() {
    assert!(ProfessionalRole::parse("educational_psychologist").unwrap_err().contains("not a professional role"));
    assert!(ProfessionalRole::parse("educational_psychologist:chief").unwrap_err().contains("EP grade"));
    assert!(ProfessionalRole::parse("advisory_teacher:music").unwrap_err().contains("specialism"));
    assert!(ProfessionalRole::parse("speech_therapist").is_err());
    assert!(ProfessionalRole::parse("").is_err());
}

#[test]
fn capacity_is_open_cases_or_sessions_within_bounds() {
    assert_eq!(Capacity::new("open_cases", 30), Ok(Capacity::OpenCases(30)));
    assert_eq!(Capacity::new("sessions_per_term", 120), Ok(Capacity::SessionsPerTerm(120)));
    assert_eq!(Capacity::new("open_cases", 200), Ok(Capacity::OpenCases(200)));
    assert_eq!(Capacity::new("sessions_per_term", 400), Ok(Capacity::SessionsPerTerm(400)));
    assert_eq!(Capacity::new("open_cases", 1), Ok(Capacity::OpenCases(1)));
    assert_eq!(Capacity::new("open_cases", 0).unwrap_err(), "a capacity of 0 open cases: give between 1 and 200");
    assert!(Capacity::new("open_cases", 201).is_err());
    assert!(Capacity::new("sessions_per_term", 401).unwrap_err().contains("between 1 and 400"));
    assert!(Capacity::new("sessions_per_term", 0).is_err());
    assert!(Capacity::new("days_per_term", 10).unwrap_err().contains("not a kind of capacity"));
}

#[test]
fn capacity_reports_its_kind_and_amount() {
    for (kind, amount) in [("open_cases", 25), ("sessions_per_term", 90)] {
        let capacity = Capacity::new(kind, amount).unwrap();
        assert_eq!((capacity.kind(), capacity.amount()), (kind, amount));
    }
    assert_eq!(Capacity::OpenCases(3).unit(), "open cases");
    assert_eq!(Capacity::SessionsPerTerm(3).unit(), "sessions this term");
}

#[test]
fn fte_is_between_a_tenth_and_full_time() {
    assert_eq!(check_fte(1.0), Ok(1.0));
    assert_eq!(check_fte(0.1), Ok(0.1));
    assert_eq!(check_fte(0.6), Ok(0.6));
    assert_eq!(check_fte(1.2).unwrap_err(), "an FTE of 1.2: give between 0.1 and 1.0");
    assert!(check_fte(0.05).is_err());
    assert!(check_fte(0.0).is_err());
    assert!(check_fte(-0.5).is_err());
    assert!(check_fte(f64::NAN).unwrap_err().contains("not a number"));
    assert!(check_fte(f64::INFINITY).is_err());
}

#[test]
fn referral_kinds_use_the_referrals_services_codes() {
    for kind in every_kind() {
        assert_eq!(ReferralKind::parse(&kind.code()), Ok(kind), "{}", kind.code());
    }
    assert_eq!(ReferralKind::parse("educational_psychology"), Ok(ReferralKind::EducationalPsychology));
    assert_eq!(ReferralKind::parse("ehc_needs_assessment"), Ok(ReferralKind::EhcNeedsAssessment));
    assert_eq!(
        ReferralKind::parse("advisory_teacher:communication_and_interaction"),
        Ok(ReferralKind::AdvisoryTeacher(Specialism::CommunicationAndInteraction))
    );
    assert!(ReferralKind::parse("advisory_teacher").unwrap_err().contains("not a kind of referral"));
    assert!(ReferralKind::parse("advisory_teacher:music").unwrap_err().contains("specialism"));
    assert_eq!(ReferralKind::EhcNeedsAssessment.name(), "EHC needs assessment request");
}

#[test]
fn only_the_ehc_needs_assessment_is_statutory() {
    for kind in every_kind() {
        assert_eq!(kind.is_statutory(), kind == ReferralKind::EhcNeedsAssessment, "{kind:?}");
    }
}

#[test]
fn every_ep_grade_takes_educational_psychology_referrals() {
    for grade in EpGrade::ALL {
        assert!(can_take(ProfessionalRole::EducationalPsychologist(grade), ReferralKind::EducationalPsychology));
    }
}

#[test]
fn qualified_eps_but_not_trainees_take_statutory_advice() {
    let ep = ProfessionalRole::EducationalPsychologist;
    assert!(!can_take(ep(EpGrade::Trainee), ReferralKind::EhcNeedsAssessment));
    for grade in [EpGrade::MainGrade, EpGrade::Senior, EpGrade::Principal] {
        assert!(can_take(ep(grade), ReferralKind::EhcNeedsAssessment), "{grade:?}");
    }
}

#[test]
fn eps_do_not_take_advisory_teaching_referrals() {
    for grade in EpGrade::ALL {
        for specialism in Specialism::ALL {
            let role = ProfessionalRole::EducationalPsychologist(grade);
            assert!(!can_take(role, ReferralKind::AdvisoryTeacher(specialism)));
        }
    }
}

#[test]
fn advisory_teachers_take_only_their_own_specialism() {
    for own in Specialism::ALL {
        let role = ProfessionalRole::AdvisoryTeacher(own);
        for kind in every_kind() {
            let expected = kind == ReferralKind::AdvisoryTeacher(own);
            assert_eq!(can_take(role, kind), expected, "{own:?} for {kind:?}");
        }
    }
}
