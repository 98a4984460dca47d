//! Demo data for the embedded mode: two fictional authorities with schools that
//! look like GIAS records and SENCOs in every compliance state (in time, due soon,
//! overdue, exempt, achieved, not a qualified teacher, missing), so a first look at
//! the platform shows what it is for. Loaded once, when the database is empty, by a
//! fictional council manager of each authority.

use std::time::Duration;

use chrono::{Months, NaiveDate};
use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};

use crate::domain::{
    AgeRange, Email, EstablishmentStatus, EstablishmentType, Laestab, NASENCO_COMPLETED_BEFORE, NPQ_REQUIRED_FROM,
    PersonName, Phase, Postcode, SchoolFields, SchoolName, SencoAward, SencoDetails,
};
use crate::store::{NewAppointment, Store};

/// The demo authorities: (LA code, name).
pub const AUTHORITIES: [(&str, &str); 2] = [("990", "Northmoor Borough Council"), ("991", "Eastwold County Council")];

/// (authority, URN, establishment number, name, type code, GIAS phase, ages, roll, postcode, status)
pub type Row =
    (&'static str, u32, &'static str, &'static str, u16, u8, Option<(u32, u32)>, Option<u32>, &'static str, u8);

/// The demo schools.
pub const SCHOOLS: &[Row] = &[
    ("990", 100001, "2001", "Northmoor Primary School", 1, 2, Some((4, 11)), Some(412), "NM1 2AB", 1),
    (
        "990",
        100002,
        "2002",
        "St Aidan's Church of England Primary School",
        2,
        2,
        Some((4, 11)),
        Some(205),
        "NM1 4DF",
        1,
    ),
    ("990", 100003, "2003", "Millbrook Infant School", 1, 2, Some((4, 7)), Some(178), "NM2 6HJ", 1),
    ("990", 100004, "2004", "Millbrook Junior School", 3, 2, Some((7, 11)), Some(236), "NM2 6HL", 1),
    ("990", 100005, "4001", "Northmoor Academy", 34, 4, Some((11, 18)), Some(1184), "NM3 1QT", 1),
    ("990", 100006, "4002", "Riverside High School", 28, 4, Some((11, 16)), Some(862), "NM4 8RW", 1),
    ("990", 100007, "7001", "Harbour View Special School", 7, 0, Some((3, 19)), Some(142), "NM5 2SX", 1),
    ("990", 100008, "1001", "Little Oaks Nursery School", 15, 1, Some((2, 5)), Some(96), "NM1 7BN", 1),
    ("990", 100009, "1100", "Northmoor Pupil Referral Unit", 14, 0, Some((11, 16)), Some(38), "NM3 9EP", 1),
    ("990", 100010, "2005", "Ashfield Primary Academy", 34, 2, Some((4, 11)), Some(315), "NM6 3GA", 1),
    ("990", 100011, "2006", "Old Mill Primary School", 1, 2, Some((4, 11)), None, "NM6 5LZ", 2),
    ("990", 100012, "4003", "Kingsgate Middle School", 5, 5, Some((9, 13)), Some(421), "NM7 1UD", 1),
    ("991", 200001, "2001", "Eastwold Village Primary School", 1, 2, Some((4, 11)), Some(98), "EW1 3AB", 1),
    ("991", 200002, "2002", "Holy Trinity Catholic Primary School", 2, 2, Some((4, 11)), Some(210), "EW1 5NP", 1),
    ("991", 200003, "4001", "Eastwold Community College", 34, 4, Some((11, 18)), Some(1402), "EW2 7TQ", 1),
    ("991", 200004, "4002", "Fenside School", 35, 7, Some((4, 16)), Some(640), "EW3 2HD", 1),
    ("991", 200005, "7001", "The Willows Academy", 44, 0, Some((4, 19)), Some(118), "EW4 9JR", 1),
    ("991", 200006, "2003", "Marshgate Primary School", 5, 2, Some((4, 11)), Some(187), "EW5 1LS", 1),
];

/// How a demo SENCO stands against the award rule on the day the demo is loaded.
enum Standing {
    InTime,
    DueSoon,
    Overdue,
    Exempt,
    Achieved(SencoAward),
    NotQualifiedTeacher,
    /// Appointed after 1 September 2024 holding only a NASENCO gained since: it
    /// does not count (reg. 49(7)), so the NPQ for SENCOs is still due.
    NasencoAfterChange,
}

/// (URN, name, email, standing)
const SENCOS: &[(u32, &str, &str, Standing)] = &[
    (100001, "Priya Raman", "p.raman@northmoor-primary.example", Standing::InTime),
    (100002, "Gareth Lloyd", "senco@st-aidans.example", Standing::Overdue),
    (100003, "Helen Okafor", "h.okafor@millbrook-infant.example", Standing::Achieved(SencoAward::NpqSenco)),
    (100005, "Tomasz Nowak", "t.nowak@northmoor-academy.example", Standing::DueSoon),
    (100006, "Janet Whitfield", "j.whitfield@riverside-high.example", Standing::NotQualifiedTeacher),
    (100008, "Aisha Begum", "a.begum@little-oaks.example", Standing::Achieved(SencoAward::Nasenco)),
    (100010, "Rory Campbell", "r.campbell@ashfield.example", Standing::Exempt),
    (100012, "Sian Evans", "s.evans@kingsgate.example", Standing::NasencoAfterChange),
    (200001, "Daniel Moore", "d.moore@eastwold-village.example", Standing::DueSoon),
    (200003, "Grace Adeyemi", "g.adeyemi@eastwold-college.example", Standing::Achieved(SencoAward::NpqSenco)),
    (200004, "Liam Fraser", "senco@fenside.example", Standing::Overdue),
    (200006, "Beth Harper", "b.harper@marshgate.example", Standing::InTime),
];

/// The demo SEN manager's and case officer's names of an authority (fictional).
pub fn council_team(tenant: &str) -> (&'static str, &'static str) {
    match tenant {
        "990" => ("Claire Whitmore", "Owen Price"),
        _ => ("Fiona Marsh", "Kwame Mensah"),
    }
}

/// The name of the demo SENCO of school `urn`, if it has one.
pub fn senco_name(urn: u32) -> Option<&'static str> {
    SENCOS.iter().find(|(school, ..)| *school == urn).map(|(_, name, ..)| *name)
}

/// Loads the demo authorities if the database has none. Returns whether it did.
pub async fn seed_if_empty(store: &Store, issuer: &DevIssuer, today: NaiveDate) -> anyhow::Result<bool> {
    if !store.list_authorities().await?.is_empty() {
        return Ok(false);
    }
    for (code, name) in AUTHORITIES {
        let la = LaCode::parse(code).map_err(anyhow::Error::msg)?;
        store.create_authority(la, name).await?;
        // The demo is loaded by a fictional manager of each authority, through the
        // same scoped store calls as any other write.
        let grant =
            Grant { person: format!("demo-manager-{code}"), role: Role::LaManager, tenant: Some(la), school: None };
        let token = issuer.signer.mint(&grant, Duration::from_secs(60)).map_err(anyhow::Error::msg)?;
        let tenant = issuer.verifier.verify(&token)?.tenant_scope()?;
        for row in SCHOOLS.iter().filter(|row| row.0 == code) {
            let (urn, fields) = school(la, row).map_err(anyhow::Error::msg)?;
            store.create_school(&tenant, urn, &fields).await?;
        }
        for (urn, person, email, standing) in SENCOS {
            let urn = Urn::parse(&urn.to_string()).map_err(anyhow::Error::msg)?;
            if !SCHOOLS.iter().any(|row| row.0 == code && row.1 == urn.get()) {
                continue;
            }
            let new = appointment(person, email, standing, today).map_err(anyhow::Error::msg)?;
            store.appoint_senco(&tenant, urn, &new, &grant.person).await?;
        }
    }
    Ok(true)
}

fn school(la: LaCode, row: &Row) -> Result<(Urn, SchoolFields), String> {
    let &(_, urn, establishment, name, type_code, phase, ages, roll, postcode, status) = row;
    let open = EstablishmentStatus::from_gias_code(status)?;
    Ok((
        Urn::parse(&urn.to_string())?,
        SchoolFields {
            laestab: Laestab::from_parts(la, establishment)?,
            name: SchoolName::parse(name)?,
            establishment_type: EstablishmentType::known(type_code)?,
            phase: Phase::from_gias_code(phase)?,
            ages: ages.map(|(low, high)| AgeRange::new(low, high)).transpose()?,
            number_on_roll: roll,
            postcode: Some(Postcode::parse(postcode)?),
            status: open,
            open_date: NaiveDate::from_ymd_opt(1974, 4, 1),
            close_date: if open.is_open() { None } else { NaiveDate::from_ymd_opt(2023, 8, 31) },
        },
    ))
}

fn appointment(person: &str, email: &str, standing: &Standing, today: NaiveDate) -> Result<NewAppointment, String> {
    let years_ago = |months: u32| today.checked_sub_months(Months::new(months)).ok_or("date out of range");
    let three_years_ago = years_ago(36)?;
    let (appointed_on, award, achieved, prior, qualified) = match standing {
        Standing::InTime => (years_ago(14)?, SencoAward::InProgress, None, false, true),
        Standing::DueSoon => (three_years_ago + chrono::Duration::days(45), SencoAward::InProgress, None, false, true),
        Standing::Overdue => (three_years_ago - chrono::Duration::days(60), SencoAward::None, None, false, true),
        Standing::Exempt => (years_ago(8)?, SencoAward::None, None, true, true),
        // A NASENCO holder is kept one whose award counts, whatever day the demo is
        // loaded on: appointed before 1 September 2024, completed before 1 September 2027.
        Standing::Achieved(SencoAward::Nasenco) => {
            let appointed = years_ago(40)?.min(NPQ_REQUIRED_FROM - chrono::Duration::days(1));
            let achieved = years_ago(6)?.min(NASENCO_COMPLETED_BEFORE - chrono::Duration::days(1)).max(appointed);
            (appointed, SencoAward::Nasenco, Some(achieved.min(today)), false, true)
        }
        Standing::Achieved(award) => (years_ago(40)?, *award, Some(years_ago(6)?), false, true),
        Standing::NotQualifiedTeacher => (years_ago(30)?, SencoAward::InProgress, None, false, false),
        Standing::NasencoAfterChange => {
            let appointed = years_ago(14)?.max(NPQ_REQUIRED_FROM);
            let achieved = years_ago(3)?.max(appointed);
            (appointed, SencoAward::Nasenco, Some(achieved.min(today)), false, true)
        }
    };
    Ok(NewAppointment {
        details: SencoDetails {
            person_name: PersonName::parse(person)?,
            email: Email::parse(email)?,
            qualified_teacher: qualified,
            award,
            award_achieved_on: achieved,
        },
        appointed_on,
        prior_experience_over_12_months: prior,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{QualificationStanding, RequiredQualification, award_deadline};

    fn standing_of(standing: &Standing, today: NaiveDate) -> (QualificationStanding, Option<NaiveDate>) {
        let new = appointment("Demo Senco", "demo@school.example", standing, today).unwrap();
        let d = &new.details;
        (
            QualificationStanding::of(
                new.appointed_on,
                new.prior_experience_over_12_months,
                d.award,
                d.award_achieved_on,
            ),
            award_deadline(new.appointed_on, new.prior_experience_over_12_months, d.award, d.award_achieved_on),
        )
    }

    #[test]
    fn the_demo_shows_each_qualification_state() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let (standing, deadline) = standing_of(&Standing::NasencoAfterChange, today);
        assert_eq!(standing, QualificationStanding::WorkingTowards(RequiredQualification::NpqSenco));
        assert!(deadline.is_some_and(|d| d > today), "the NPQ is due, not yet overdue");
        let (standing, _) = standing_of(&Standing::InTime, today);
        assert_eq!(standing, QualificationStanding::WorkingTowards(RequiredQualification::NpqSenco));
        let (standing, deadline) = standing_of(&Standing::Overdue, today);
        assert_eq!(standing, QualificationStanding::WorkingTowards(RequiredQualification::NasencoOrNpq));
        assert!(deadline.is_some_and(|d| d < today));
        assert_eq!(standing_of(&Standing::Achieved(SencoAward::Nasenco), today).0, QualificationStanding::Qualified);
        assert_eq!(standing_of(&Standing::Achieved(SencoAward::NpqSenco), today).0, QualificationStanding::Qualified);
        assert_eq!(standing_of(&Standing::Exempt, today).0, QualificationStanding::Exempt);
        for (_, _, _, standing) in SENCOS {
            appointment("Demo Senco", "demo@school.example", standing, today).unwrap();
        }
    }
}
