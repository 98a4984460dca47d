//! The embedded mode's demo data, loaded service by service through one
//! [`DemoBook`]. Each service loads its own demo records into its own store
//! ([`crate::service::PlatformService::load_demo`]) and writes in the book what
//! the services after it build on: the schools service the authorities and
//! schools, the pupils service each authority's register, the referrals service
//! the referrals it allocated, the caseloads service the case access its cases
//! need (which the pupils service then grants, in
//! [`crate::service::PlatformService::finish_demo`]). Every service also names
//! the demo people who sign in as its users. Services never read one another's
//! stores: the book carries plain facts.
//!
//! No real person or child is in any of it.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;

use crate::identity::{DevIssuer, Grant, Role, TenantScope};
use crate::ids::LaCode;

/// A demo school, as the schools service loads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSchool {
    /// The authority's LA code.
    pub tenant: &'static str,
    /// URN.
    pub urn: u32,
    /// Establishment number.
    pub establishment_number: &'static str,
    /// Name.
    pub name: &'static str,
    /// GIAS establishment type code.
    pub type_code: u16,
    /// GIAS phase code.
    pub phase_code: u8,
    /// Statutory lowest and highest ages.
    pub ages: Option<(u32, u32)>,
    /// Number on roll.
    pub roll: Option<u32>,
    /// Open (a closed school has no pupils).
    pub open: bool,
}

/// A pupil of the demo register, as the services after the register need them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoPupil {
    /// The pupil's id.
    pub id: i64,
    /// Their school's URN.
    pub school_urn: i32,
    /// Their SEN status code (`N`, `K`, `E`).
    pub sen_status: String,
}

/// A demo referral allocated to a professional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoAllocation {
    /// The referral's id.
    pub referral_id: i64,
    /// The pupil's id.
    pub pupil_id: i64,
    /// The school's URN.
    pub school_urn: i32,
    /// The referral kind's code.
    pub kind: String,
    /// When the council received it.
    pub received_on: NaiveDate,
    /// The professional's person id.
    pub professional: String,
    /// Still open (allocated or in progress).
    pub open: bool,
}

/// Access to a pupil that a demo case gives its professional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoGrant {
    /// The pupil's id.
    pub pupil_id: i64,
    /// The professional's person id.
    pub person: String,
    /// The case the access comes with.
    pub case_ref: String,
}

/// Someone the demo sign-in page offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoPerson {
    /// Who they are and what they may do.
    pub grant: Grant,
    /// Who they are, in words.
    pub description: String,
    /// Their name, as the pages greet them.
    pub name: String,
}

/// What the services loading demo data tell each other, in loading order.
#[derive(Debug)]
pub struct DemoBook {
    issuer: DevIssuer,
    /// Whether to load the demo records into empty stores (`SEN_DEMO_DATA`);
    /// without it the book still names the demo people and what is there.
    pub load: bool,
    /// The day the demo is loaded on; dates are relative to it.
    pub today: NaiveDate,
    /// The demo authorities: (LA code, name).
    pub authorities: Vec<(&'static str, &'static str)>,
    /// Every demo school.
    pub schools: Vec<DemoSchool>,
    /// Each authority's register.
    pub registers: BTreeMap<&'static str, Vec<DemoPupil>>,
    /// Each authority's allocated referrals.
    pub allocations: BTreeMap<&'static str, Vec<DemoAllocation>>,
    /// Each authority's case access to grant.
    pub grants: BTreeMap<&'static str, Vec<DemoGrant>>,
    /// The people who sign in.
    pub people: Vec<DemoPerson>,
}

impl DemoBook {
    /// An empty book, loading (when `load`) as the development issuer on `today`.
    pub fn new(issuer: DevIssuer, load: bool, today: NaiveDate) -> Self {
        Self {
            issuer,
            load,
            today,
            authorities: Vec::new(),
            schools: Vec::new(),
            registers: BTreeMap::new(),
            allocations: BTreeMap::new(),
            grants: BTreeMap::new(),
            people: Vec::new(),
        }
    }

    /// The development issuer the demo is loaded as.
    pub fn issuer(&self) -> &DevIssuer {
        &self.issuer
    }

    /// The whole of `tenant`, as the platform's demo loader (a service identity)
    /// sees it: writes go through the same scoped store calls as any other.
    pub fn loader_scope(&self, tenant: &str) -> anyhow::Result<TenantScope> {
        let la = LaCode::parse(tenant).map_err(anyhow::Error::msg)?;
        let grant = Grant { person: "demo-loader".to_owned(), role: Role::Service, tenant: Some(la), school: None };
        let token = self.issuer.signer.mint(&grant, Duration::from_secs(60)).map_err(anyhow::Error::msg)?;
        Ok(self.issuer.verifier.verify(&token)?.tenant_scope()?)
    }

    /// The open demo schools of `tenant`.
    pub fn open_schools_of<'a>(&'a self, tenant: &'a str) -> impl Iterator<Item = &'a DemoSchool> + 'a {
        self.schools.iter().filter(move |school| school.tenant == tenant && school.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_reaches_only_its_own_authority() {
        let issuer = DevIssuer::generate().unwrap();
        let book = DemoBook::new(issuer, true, NaiveDate::from_ymd_opt(2026, 12, 5).unwrap());
        assert_eq!(book.loader_scope("990").unwrap().la_code().to_string(), "990");
        assert!(book.loader_scope("not a code").is_err());
    }
}
