//! A referral as a school submits it, validated, and the checks it must pass
//! against what the pupils service knows of the pupil: the caller must be able
//! to see the pupil, the school must be the one the pupil is on roll at, and any
//! support cycles or provision it cites as tried must be the pupil's own.
//!
//! The pupils service is asked by the api; the answers come here as plain facts,
//! so the rules are pure and the handler only fetches, calls and stores. A
//! failed check names the field at fault within the referral body
//! (`school_urn`, `graduated_approach.provision_ids`) and what is wrong with it.

use sen_platform::ids::Urn;

use super::kind::{BroadArea, Consent, Priority, ReferralKind};

/// What the school has tried: the graduated approach so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tried {
    /// In the school's words.
    pub summary: String,
    /// Support cycles (pupils service ids).
    pub cycles: Vec<i64>,
    /// Provision (pupils service ids).
    pub provisions: Vec<i64>,
}

impl Tried {
    /// Whether it cites support cycles or provision, which the pupils service must then confirm as the pupil's own.
    pub fn cites_support(&self) -> bool {
        !self.cycles.is_empty() || !self.provisions.is_empty()
    }
}

/// A referral as submitted, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReferral {
    /// The pupil.
    pub pupil_id: i64,
    /// Their current school.
    pub school: Urn,
    /// Kind.
    pub kind: ReferralKind,
    /// Broad areas of need concerned.
    pub broad_areas: Vec<BroadArea>,
    /// The concern.
    pub concern: String,
    /// The graduated approach so far.
    pub tried: Tried,
    /// Parental consent.
    pub consent: Consent,
    /// Priority.
    pub priority: Priority,
}

/// A field of the referral body at fault, and what is wrong with it.
pub type Refusal = (&'static str, String);

/// Checks the referral against the school the pupils service says the pupil is
/// on roll at, as the caller may see them (`None`: the caller cannot see the
/// pupil, or there is no such pupil; the two are not told apart).
pub fn check_on_roll(new: &NewReferral, on_roll_at: Option<Urn>) -> Result<(), Refusal> {
    match on_roll_at {
        None => Err(("pupil_id", "is not a pupil you can refer".into())),
        Some(current) if current != new.school => {
            Err(("school_urn", format!("is not the pupil's current school ({current})")))
        }
        Some(_) => Ok(()),
    }
}

/// Checks that the support cycles and provision `tried` cites are among the
/// pupil's own `cycles` and `provision`, as the pupils service records them.
/// Each list's first id that is not the pupil's is reported, both lists at once.
pub fn check_support_is_own(tried: &Tried, cycles: &[i64], provision: &[i64]) -> Result<(), Vec<Refusal>> {
    let mut refusals = Vec::new();
    if let Some(id) = tried.cycles.iter().find(|id| !cycles.contains(id)) {
        refusals.push(("graduated_approach.support_cycle_ids", format!("{id} is not a support cycle of this pupil")));
    }
    if let Some(id) = tried.provisions.iter().find(|id| !provision.contains(id)) {
        refusals.push(("graduated_approach.provision_ids", format!("{id} is not provision of this pupil")));
    }
    if refusals.is_empty() { Ok(()) } else { Err(refusals) }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::ConsentMethod;

    fn urn(n: u32) -> Urn {
        Urn::parse(&n.to_string()).unwrap()
    }

    fn referral(school: u32, cycles: Vec<i64>, provisions: Vec<i64>) -> NewReferral {
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        NewReferral {
            pupil_id: 7,
            school: urn(school),
            kind: ReferralKind::EducationalPsychology,
            broad_areas: vec![BroadArea::CognitionAndLearning],
            concern: "Reading".into(),
            tried: Tried { summary: "Phonics".into(), cycles, provisions },
            consent: Consent::new("Mother", day, ConsentMethod::Email, day).unwrap(),
            priority: Priority::Routine,
        }
    }

    #[test]
    fn a_pupil_the_caller_cannot_see_is_not_referable() {
        assert_eq!(
            check_on_roll(&referral(100001, vec![], vec![]), None),
            Err(("pupil_id", "is not a pupil you can refer".to_owned()))
        );
    }

    #[test]
    fn the_school_must_be_the_pupils_current_one() {
        let new = referral(100001, vec![], vec![]);
        assert_eq!(check_on_roll(&new, Some(urn(100001))), Ok(()));
        assert_eq!(
            check_on_roll(&new, Some(urn(100002))),
            Err(("school_urn", "is not the pupil's current school (100002)".to_owned()))
        );
    }

    #[test]
    fn only_cited_support_needs_confirming() {
        assert!(!referral(100001, vec![], vec![]).tried.cites_support());
        assert!(referral(100001, vec![3], vec![]).tried.cites_support());
        assert!(referral(100001, vec![], vec![9]).tried.cites_support());
    }

    #[test]
    fn cited_support_must_be_the_pupils_own() {
        let tried = referral(100001, vec![3, 4], vec![9]).tried;
        assert_eq!(check_support_is_own(&tried, &[3, 4, 5], &[9]), Ok(()));
        assert_eq!(
            check_support_is_own(&tried, &[3], &[9]),
            Err(vec![("graduated_approach.support_cycle_ids", "4 is not a support cycle of this pupil".to_owned())])
        );
        let refused = check_support_is_own(&tried, &[], &[]).unwrap_err();
        assert_eq!(
            refused.iter().map(|r| r.0).collect::<Vec<_>>(),
            ["graduated_approach.support_cycle_ids", "graduated_approach.provision_ids"],
            "both lists are reported at once, each by its first stranger"
        );
        assert_eq!(refused[0].1, "3 is not a support cycle of this pupil");
    }
}
