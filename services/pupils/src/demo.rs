//! The embedded mode's demo register: every pupil on the roll of every open demo
//! school, with SEN support and EHCPs in the national proportions (DfE, "Special
//! educational needs in England", January 2025: 14.2 % and 5.3 % in mainstream
//! schools; nearly all pupils of special schools
//! have a plan), needs drawn from the national mix, plans with annual reviews in
//! time, due and overdue, transfers ahead with and without an amended plan (on
//! time, late, pupils staying in their own sixth form, post-16 moves), and
//! support cycles with some reviews overdue. Generated from a fixed seed, so every
//! fresh start shows the same register; no real child is in it.

use std::time::Duration;

use chrono::{Months, NaiveDate};
use sen_platform::identity::{DevIssuer, Grant, Role};
use sen_platform::ids::{LaCode, Urn};

use crate::domain::{
    NcYear, NeedType, PupilDetails, SchoolStage, SenRecord, SenStatus, SupportOutcome, TransferKind, Upn,
    academic_year_start, nc_year_for, next_transfer, parse_need, post16_move,
};
use crate::store::{NewCycle, NewProvision, SeedPlan, SeedPupil, Store, TransferDecision};

/// What sort of school, for the mix of needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchoolKind {
    /// Mainstream school or nursery.
    Mainstream,
    /// Special school.
    Special,
    /// Pupil referral unit or other alternative provision.
    AlternativeProvision,
}

/// A demo school as the register needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSchool {
    /// LA code.
    pub tenant: &'static str,
    /// URN.
    pub urn: u32,
    /// Establishment number (for UPNs).
    pub establishment_number: u16,
    /// Name (the named setting of its pupils' plans).
    pub name: &'static str,
    /// Kind.
    pub kind: SchoolKind,
    /// GIAS phase code.
    pub phase_code: u8,
    /// Statutory ages.
    pub ages: Option<(u8, u8)>,
    /// Number on roll.
    pub roll: u32,
}

impl DemoSchool {
    /// A school as the schools service loaded it for the demo.
    pub fn from_book(school: &sen_platform::demo::DemoSchool) -> Self {
        Self {
            tenant: school.tenant,
            urn: school.urn,
            establishment_number: school.establishment_number.parse().unwrap_or(0),
            name: school.name,
            kind: SchoolKind::of_type(school.type_code),
            phase_code: school.phase_code,
            ages: school.ages.map(|(low, high)| (low as u8, high as u8)),
            roll: school.roll.unwrap_or(0),
        }
    }
}

impl SchoolKind {
    /// The kind of a GIAS establishment type: community and foundation special
    /// schools, non-maintained and independent special schools, special academies
    /// and free schools; pupil referral units and alternative provision academies
    /// and free schools; mainstream otherwise.
    pub fn of_type(type_code: u16) -> Self {
        match type_code {
            7 | 8 | 10 | 12 | 32 | 33 | 36 | 44 => SchoolKind::Special,
            14 | 38 | 42 | 43 => SchoolKind::AlternativeProvision,
            _ => SchoolKind::Mainstream,
        }
    }
}

/// Primary needs of EHC plans, per mille (DfE, "Special educational needs in England", January 2025).
/// The national-scale generator (`sen generate`) draws from the same tables.
pub const EHCP_NEEDS: &[(&str, u32)] = &[
    ("ASD", 315),
    ("SLCN", 213),
    ("SEMH", 207),
    ("MLD", 106),
    ("SLD", 39),
    ("PD", 39),
    ("SPLD", 24),
    ("HI", 14),
    ("PMLD", 13),
    ("OTH", 12),
    ("VI", 8),
    ("MSI", 3),
];

/// Primary needs of pupils on SEN support, per mille (approximately the national mix).
pub const SUPPORT_NEEDS: &[(&str, u32)] = &[
    ("SLCN", 248),
    ("SEMH", 211),
    ("MLD", 186),
    ("SPLD", 122),
    ("ASD", 100),
    ("NSA", 45),
    ("OTH", 38),
    ("PD", 20),
    ("HI", 13),
    ("VI", 7),
    ("SLD", 6),
    ("MSI", 2),
    ("DS", 2),
];

/// Forenames of the demo pupils (and of the generated national dataset).
pub const FORENAMES: &[&str] = &[
    "Amara", "Oliver", "Zainab", "Harry", "Maya", "Leo", "Aisha", "Jack", "Sofia", "Noah", "Ivy", "Musa", "Freya",
    "Ethan", "Chloe", "Yusuf", "Ella", "Tomasz", "Isla", "Kofi", "Ruby", "Arjun", "Grace", "Finn", "Hana", "Oscar",
    "Layla", "Jacob", "Nia", "Alfie", "Mila", "Dev", "Poppy", "Ibrahim", "Lily", "Callum", "Evie", "Rhys", "Zara",
];
/// Surnames, likewise.
pub const SURNAMES: &[&str] = &[
    "Smith", "Khan", "Jones", "Patel", "Williams", "Nowak", "Brown", "Ahmed", "Taylor", "Okafor", "Davies", "Singh",
    "Evans", "Begum", "Wilson", "Kowalski", "Thomas", "Hussain", "Roberts", "Mensah", "Walker", "Ali", "Wright",
    "Chen", "Robinson", "Hughes", "Edwards", "Green", "Hall", "Lewis", "Clarke", "Murphy", "Adeyemi", "Price",
];
/// Provision: (type, provider, hours a week).
pub const PROVISION: &[(&str, &str, f64)] = &[
    ("Speech and language therapy", "NHS speech and language therapy", 0.5),
    ("Small-group literacy", "School", 2.0),
    ("Social skills group", "School", 1.0),
    ("One-to-one teaching assistant support", "School", 10.0),
    ("Occupational therapy programme", "NHS occupational therapy", 0.75),
    ("Emotional literacy support (ELSA)", "School", 1.0),
    ("Precision teaching (maths)", "School", 1.5),
];

/// A small deterministic generator (splitmix64), so the demo is the same every time.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn per_mille(&mut self, p: u32) -> bool {
        self.below(1000) < u64::from(p)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn weighted(&mut self, table: &[(&'static str, u32)]) -> &'static str {
        let total: u32 = table.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(u64::from(total)) as u32;
        for (code, weight) in table {
            if roll < *weight {
                return code;
            }
            roll -= weight;
        }
        table[0].0
    }

    fn days_back(&mut self, today: NaiveDate, from: u32, to: u32) -> NaiveDate {
        today - chrono::Duration::days(i64::from(from) + self.below(u64::from(to.saturating_sub(from).max(1))) as i64)
    }
}

fn need<'a>(code: &str, codes: &'a [NeedType]) -> Option<&'a NeedType> {
    parse_need(code, codes).ok()
}

/// Loads the demo register for every demo school if no pupil is recorded yet.
pub async fn seed_if_empty(
    store: &Store,
    issuer: &DevIssuer,
    schools: &[DemoSchool],
    today: NaiveDate,
) -> anyhow::Result<bool> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    let mut dice = Dice(0x5E4_2026);
    let mut tenants: Vec<&str> = schools.iter().map(|s| s.tenant).collect();
    tenants.dedup();
    for tenant in tenants {
        let la = LaCode::parse(tenant).map_err(anyhow::Error::msg)?;
        let grant = Grant { person: "demo-loader".into(), role: Role::Service, tenant: Some(la), school: None };
        let token = issuer.signer.mint(&grant, Duration::from_secs(60)).map_err(anyhow::Error::msg)?;
        let scope = issuer.verifier.verify(&token)?.tenant_scope()?;
        let codes = store.need_types(&scope).await?;
        let mut pupils = Vec::new();
        for school in schools.iter().filter(|s| s.tenant == tenant) {
            pupils.extend(school_register(&mut dice, la, school, &codes, today).map_err(anyhow::Error::msg)?);
        }
        store.load_register(&scope, "demo-loader", &pupils, today).await?;
        crate::demo_appeals::seed_appeals(store, &scope, today).await?;
        crate::demo_reviews::seed_reviews(store, &scope, today).await?;
    }
    Ok(true)
}

fn school_register(
    dice: &mut Dice,
    la: LaCode,
    school: &DemoSchool,
    codes: &[NeedType],
    today: NaiveDate,
) -> Result<Vec<SeedPupil>, String> {
    let Some((low, high)) = school.ages else { return Ok(Vec::new()) };
    let academic_year = academic_year_start(today);
    let urn = Urn::parse(&school.urn.to_string())?;
    let mut pupils = Vec::new();
    for i in 0..school.roll {
        // Ages low..high on 31 August: one cohort per year of age.
        let age = u32::from(low) + (i % u32::from(high.saturating_sub(low).max(1)));
        let birth_year = academic_year - age as i32;
        let dob = NaiveDate::from_ymd_opt(birth_year - 1, 9, 1).ok_or("date out of range")?
            + chrono::Duration::days(dice.below(365) as i64);
        let Some(year) = nc_year_for(dob, academic_year) else { continue };
        let serial = i % 1000;
        let issue_year = (birth_year + 5).rem_euclid(100);
        let body = format!("{la}{:04}{issue_year:02}{serial:03}", school.establishment_number);
        let upn = Upn::from_body(&body)?;
        let (status, primary) = status_and_need(dice, school.kind, codes);
        let secondary = primary
            .filter(|_| dice.per_mille(300))
            .and_then(|p| need(dice.weighted(EHCP_NEEDS), codes).filter(|s| s.code != p.code));
        let sen = SenRecord::new(status, primary, secondary).map_err(|(f, e)| format!("{f} {e}"))?;
        let forename = dice.pick(FORENAMES).to_string();
        let details = PupilDetails {
            upn,
            legal_forename: forename.clone(),
            legal_surname: dice.pick(SURNAMES).to_string(),
            preferred_forename: (dice.per_mille(40)).then(|| format!("{}{}", &forename[..1], "ie")),
            preferred_surname: None,
            date_of_birth: dob,
            school_urn: urn,
            nc_year_override: (status != SenStatus::NoSen && dice.per_mille(15)).then(|| held_back(year)).flatten(),
            looked_after: dice.per_mille(if status == SenStatus::NoSen { 8 } else { 40 }),
        };
        let plan = (status == SenStatus::EhcPlan).then(|| plan(dice, school, dob, year, today));
        let cycles = if status == SenStatus::SenSupport { cycles(dice, today) } else { Vec::new() };
        let provision = if status == SenStatus::NoSen { Vec::new() } else { provision(dice, today) };
        pupils.push(SeedPupil { details, sen, plan, cycles, provision });
    }
    Ok(pupils)
}

fn status_and_need<'a>(dice: &mut Dice, kind: SchoolKind, codes: &'a [NeedType]) -> (SenStatus, Option<&'a NeedType>) {
    let (ehcp, support) = match kind {
        SchoolKind::Mainstream => (53, 142),
        SchoolKind::Special => (960, 40),
        SchoolKind::AlternativeProvision => (150, 450),
    };
    let roll = dice.below(1000) as u32;
    if roll < ehcp {
        (SenStatus::EhcPlan, need(dice.weighted(EHCP_NEEDS), codes))
    } else if roll < ehcp + support {
        (SenStatus::SenSupport, need(dice.weighted(SUPPORT_NEEDS), codes))
    } else {
        (SenStatus::NoSen, None)
    }
}

/// A pupil taught a year below their cohort.
fn held_back(year: NcYear) -> Option<NcYear> {
    year.ordinal().filter(|o| *o > 0).and_then(|o| NcYear::from_ordinal(o - 1))
}

fn plan(dice: &mut Dice, school: &DemoSchool, dob: NaiveDate, year: NcYear, today: NaiveDate) -> SeedPlan {
    let earliest = dob.checked_add_months(Months::new(30)).unwrap_or(dob);
    let issued_on = dice.days_back(today, 200, 2200).max(earliest).min(today);
    // Most reviews were held within the year; some are due soon and a few overdue.
    let last_review_on = match dice.below(100) {
        0..=9 => None,
        10..=19 => Some(dice.days_back(today, 366, 460)),
        20..=34 => Some(dice.days_back(today, 300, 365)),
        _ => Some(dice.days_back(today, 20, 300)),
    }
    .filter(|d| *d > issued_on);
    let transfer_decision = transfer_decision(dice, school, year, today).filter(|d| {
        d.amended_plan_issued_on.is_none_or(|issued| issued >= issued_on)
            && d.post16_move_on.is_none_or(|moving| moving >= issued_on)
    });
    SeedPlan { issued_on, named_setting: school.name.to_owned(), last_review_on, transfer_decision }
}

/// A phase-transfer decision for some pupils, showing each state a council
/// meets: an amended plan issued on time, one issued late (once this year's
/// deadline has passed), a Year 11 pupil staying in their school's sixth form,
/// and post-16 moves whose amended plan was issued late, is overdue, or is due.
fn transfer_decision(dice: &mut Dice, school: &DemoSchool, year: NcYear, today: NaiveDate) -> Option<TransferDecision> {
    use chrono::Datelike;
    let stage = SchoolStage {
        phase_code: school.phase_code,
        low_age: school.ages.map(|a| a.0),
        high_age: school.ages.map(|a| a.1),
    };
    if year.ordinal().is_some_and(|o| o >= 12) {
        // Young people moving between post-16 institutions during the year (reg. 18(2)).
        let next_setting = "Eastwold College".to_owned();
        let move_in = |dice: &mut Dice, from: u32, to: u32| {
            today + chrono::Duration::days(i64::from(from) + dice.below(u64::from(to - from)) as i64)
        };
        let decision = match dice.below(1000) {
            0..=39 => {
                let moving_on = move_in(dice, 40, 80);
                let deadline = post16_move(moving_on).deadline;
                let late_by = (today - deadline).num_days().max(1);
                let issued = deadline + chrono::Duration::days(1 + dice.below(late_by.unsigned_abs()) as i64);
                (moving_on, Some(issued.min(today)))
            }
            40..=69 => (move_in(dice, 100, 140), None),
            70..=99 => (move_in(dice, 170, 260), None),
            _ => return None,
        };
        return Some(TransferDecision {
            transfer_year: None,
            next_setting,
            amended_plan_issued_on: decision.1,
            staying_in_sixth_form: false,
            post16_move_on: Some(decision.0),
        });
    }
    let transfer = next_transfer(year, &stage, academic_year_start(today))?;
    if transfer.kind == TransferKind::SecondaryToPost16 && stage.has_sixth_form() && dice.per_mille(400) {
        return Some(TransferDecision {
            transfer_year: Some(transfer.transfer_on.year()),
            next_setting: school.name.to_owned(),
            amended_plan_issued_on: None,
            staying_in_sixth_form: true,
            post16_move_on: None,
        });
    }
    if !dice.per_mille(350) {
        return None;
    }
    let next = if transfer.kind == TransferKind::SecondaryToPost16 { "Eastwold College" } else { "Northmoor Academy" };
    // After the deadline, some plans went out late; before it, all so far are on time.
    let issued = if today > transfer.deadline && dice.per_mille(300) {
        let late_by = (today - transfer.deadline).num_days().max(1);
        transfer.deadline + chrono::Duration::days(1 + dice.below(late_by.unsigned_abs()) as i64)
    } else {
        dice.days_back(today.min(transfer.deadline), 5, 60)
    };
    Some(TransferDecision {
        transfer_year: Some(transfer.transfer_on.year()),
        next_setting: next.to_owned(),
        amended_plan_issued_on: Some(issued.min(today)),
        staying_in_sixth_form: false,
        post16_move_on: None,
    })
}

fn cycles(dice: &mut Dice, today: NaiveDate) -> Vec<(NewCycle, Option<(NaiveDate, SupportOutcome)>)> {
    let earlier_start = dice.days_back(today, 200, 260);
    let earlier = NewCycle {
        started_on: earlier_start,
        outcomes_sought: "Reads and retells a short text independently".into(),
        planned_provision: "Small-group phonics three times a week".into(),
        review_due: earlier_start + chrono::Duration::days(84),
    };
    let outcome = *dice.pick(&[SupportOutcome::Met, SupportOutcome::PartlyMet, SupportOutcome::NotMet]);
    let current_start = dice.days_back(today, 30, 110);
    let current = NewCycle {
        started_on: current_start,
        outcomes_sought: "Manages transitions between lessons with a visual timetable".into(),
        planned_provision: "Daily check-in with a key adult; visual timetable".into(),
        review_due: current_start + chrono::Duration::days(84),
    };
    vec![(earlier.clone(), Some((earlier.review_due, outcome))), (current, None)]
}

fn provision(dice: &mut Dice, today: NaiveDate) -> Vec<NewProvision> {
    let (kind, provider, hours) = dice.pick(PROVISION);
    vec![NewProvision {
        provision_type: (*kind).into(),
        provider: (*provider).into(),
        minutes_per_week: (hours * 60.0) as i32,
        start_on: dice.days_back(today, 30, 400),
        end_on: None,
    }]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::{TransferStatus, transfer_deadline, transfer_status};

    /// Every state of a transfer the demo register shows on `today`.
    fn transfer_states(today: NaiveDate) -> BTreeSet<&'static str> {
        let special = DemoSchool {
            tenant: "886",
            urn: 100_900,
            establishment_number: 7001,
            name: "Eastwold Special School",
            kind: SchoolKind::Special,
            phase_code: 0,
            ages: Some((2, 19)),
            roll: 1700,
        };
        let la = LaCode::parse("886").unwrap();
        let codes = crate::domain::codes::tests::national();
        let pupils = school_register(&mut Dice(0x5E4_2026), la, &special, &codes, today).unwrap();
        let mut states = BTreeSet::new();
        for decision in pupils.iter().filter_map(|p| p.plan.as_ref()?.transfer_decision.as_ref()) {
            if decision.staying_in_sixth_form {
                states.insert("staying in own sixth form");
                continue;
            }
            let (deadline, prefix) = match (decision.post16_move_on, decision.transfer_year) {
                (Some(moving_on), _) => (post16_move(moving_on).deadline, "post-16 move"),
                (None, Some(year)) => (transfer_deadline(TransferKind::PrimaryToSecondary, year), "phase transfer"),
                (None, None) => continue,
            };
            let status = transfer_status(deadline, today, decision.amended_plan_issued_on);
            states.insert(match (prefix, status) {
                ("post-16 move", TransferStatus::IssuedLate) => "post-16 move issued late",
                ("post-16 move", TransferStatus::Overdue) => "post-16 move overdue",
                ("post-16 move", TransferStatus::Due) => "post-16 move due",
                (_, TransferStatus::IssuedOnTime) => "issued on time",
                (_, TransferStatus::IssuedLate) => "issued late",
                _ => "other",
            });
        }
        states
    }

    #[test]
    fn the_demo_register_shows_every_state_of_a_transfer() {
        let autumn = transfer_states(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap());
        for state in [
            "staying in own sixth form",
            "post-16 move issued late",
            "post-16 move overdue",
            "post-16 move due",
            "issued on time",
        ] {
            assert!(autumn.contains(state), "{state} in {autumn:?}");
        }
        let summer = transfer_states(NaiveDate::from_ymd_opt(2027, 5, 10).unwrap());
        assert!(summer.contains("issued late"), "after the deadlines some plans went out late: {summer:?}");
    }
}
