//! What a final EHC plan issued does to a pupil's place on the SEN register.
//!
//! Once the council issues the final plan (Children and Families Act 2014
//! s.37(1); SEND Regulations 2014 reg. 13(2)) it maintains the plan, and the
//! census records the pupil as E (school census guidance: SEN provision E, "an
//! EHC plan", from the date the plan was issued). So a pupil on SEN support (K)
//! moves to E on the issue day, keeping their recorded needs, and the plan's
//! annual-review cycle starts from that day (Children and Families Act 2014
//! s.44(1); CoP 9.166: reviewed within 12 months of the issue). A pupil already
//! on E is not moved again. A pupil with no need the census accepts with E (N,
//! or NSA, which is valid only with K) cannot be put on E by the platform: the
//! council records the status with the primary need by hand.

use super::{NeedType, SenRecord, SenStatus};

/// What registering a final plan does to a pupil now at `current`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanRegistration {
    /// Move to this record (status E, the needs kept).
    MoveToE(SenRecord),
    /// Already on E: nothing changes.
    AlreadyOnPlan,
    /// No primary need the census accepts with E: nothing changes here.
    NoPrimaryNeed,
}

impl PlanRegistration {
    /// Its code, as stored and as the referrals service is told.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MoveToE(_) => "moved_to_e",
            Self::AlreadyOnPlan => "already_on_plan",
            Self::NoPrimaryNeed => "no_primary_need",
        }
    }
}

/// The register change a final plan makes for a pupil at `current`, whose needs
/// are codes of the authority's `codes`.
pub fn registration_for(current: &SenRecord, codes: &[NeedType]) -> PlanRegistration {
    if current.status == SenStatus::EhcPlan {
        return PlanRegistration::AlreadyOnPlan;
    }
    // The census rules decide (`check_needs`): E needs a primary need, never one
    // valid only with SEN support (NSA).
    match current.with_status(SenStatus::EhcPlan, codes) {
        Ok(record) => PlanRegistration::MoveToE(record),
        Err(_) => PlanRegistration::NoPrimaryNeed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NeedCode;
    use crate::domain::codes::tests::national;

    fn need(code: &str) -> NeedCode {
        NeedCode::parse(code).unwrap()
    }

    #[test]
    fn a_pupil_on_sen_support_moves_to_e_keeping_their_needs() {
        let k = SenRecord { status: SenStatus::SenSupport, primary: Some(need("SLCN")), secondary: Some(need("SEMH")) };
        let PlanRegistration::MoveToE(e) = registration_for(&k, &national()) else { panic!("moves") };
        assert_eq!((e.status, e.primary, e.secondary), (SenStatus::EhcPlan, k.primary, k.secondary));
    }

    #[test]
    fn a_pupil_already_on_e_is_left_as_they_are() {
        let e = SenRecord { status: SenStatus::EhcPlan, primary: Some(need("ASD")), secondary: None };
        assert_eq!(registration_for(&e, &national()), PlanRegistration::AlreadyOnPlan);
    }

    #[test]
    fn a_pupil_with_no_need_the_census_accepts_with_e_is_left_to_the_council() {
        let n = SenRecord { status: SenStatus::NoSen, primary: None, secondary: None };
        assert_eq!(registration_for(&n, &national()), PlanRegistration::NoPrimaryNeed);
        let nsa = SenRecord { status: SenStatus::SenSupport, primary: Some(need("NSA")), secondary: None };
        assert_eq!(registration_for(&nsa, &national()), PlanRegistration::NoPrimaryNeed);
    }
}
