//! The schools service's rows: each authority, its schools shaped like GIAS
//! records (URNs, LAESTABs whose establishment number hints at the kind, types,
//! phases, statutory ages, rolls, postcodes, a few closed), and SENCO
//! appointments in every state the compliance report looks for: in time, due
//! soon, overdue, exempt, achieved, not a qualified teacher, none at all, and
//! earlier appointments that ended. Every value passes the schools domain's own
//! checks, and each award deadline is the domain's rule applied.

use chrono::{Months, NaiveDate};
use sen_platform::ids::{LaCode, Urn};
use sen_schools::domain::{
    Email, EstablishmentType, Laestab, NPQ_REQUIRED_FROM, PersonName, Postcode, SchoolName, SencoAward, award_deadline,
};

use super::copy::{Sink, Table};
use super::dice::Dice;
use super::england::Sizing;
use super::plan::{Authority, Ids, Kind, Run, School, at};

const AUTHORITIES: Table = Table { name: "authorities", columns: &["la_code", "name", "created_at"] };
const SCHOOLS: Table = Table {
    name: "schools",
    columns: &[
        "id",
        "la_code",
        "urn",
        "laestab",
        "name",
        "type_code",
        "type_name",
        "type_group",
        "phase_code",
        "status_code",
        "low_age",
        "high_age",
        "number_on_roll",
        "postcode",
        "open_date",
        "close_date",
        "version",
        "created_at",
        "updated_at",
    ],
};
const SENCOS: Table = Table {
    name: "senco_appointments",
    columns: &[
        "la_code",
        "school_id",
        "urn",
        "person_name",
        "email",
        "qualified_teacher",
        "award",
        "award_achieved_on",
        "appointed_on",
        "prior_experience_over_12_months",
        "award_deadline",
        "ended_on",
        "end_reason",
        "recorded_by",
        "version",
        "created_at",
        "updated_at",
    ],
};

/// Place names for schools.
pub const PLACES: &[&str] = &[
    "Oakfield",
    "Meadowbank",
    "Hillside",
    "Riverside",
    "Greenwood",
    "Ashfield",
    "Beechwood",
    "Elmhurst",
    "Kingsmead",
    "Westfield",
    "Brookside",
    "Fairfield",
    "Highfield",
    "Larkrise",
    "Mapledene",
    "Northgate",
    "Parkside",
    "Queensbury",
    "Redhill",
    "Southway",
    "Thornton",
    "Underwood",
    "Willow Brook",
    "Abbey Lane",
    "Castle View",
    "Bramcote",
    "Carlton",
    "Sherwood",
    "Millbrook",
    "Harbour View",
    "Marshgate",
    "Holmewood",
    "Stonebridge",
    "Fenside",
    "Cherry Tree",
];
const SAINTS: &[&str] = &["Mary", "Peter", "John", "Paul", "Michael", "Joseph", "Anne", "Margaret", "Thomas", "Bede"];
/// Postcode areas the authorities' schools are given, in turn.
const AREAS: &[&str] = &[
    "CT", "ME", "TN", "DA", "BR", "NG", "DE", "LE", "LS", "BD", "HX", "WF", "S", "M", "L", "B", "CV", "WS", "NE", "SR",
    "BS", "BA", "EX", "PL", "TR", "SO", "PO", "GU", "RH", "BN", "CM", "CO", "SS", "IP", "NR", "PE", "CB", "LN", "HU",
    "YO", "DL", "TS", "CA", "LA", "PR", "BB", "FY", "WN", "OL", "SK", "CW", "ST", "TF", "SY", "HR", "WR", "GL", "SN",
    "OX", "RG", "SL", "HP", "MK", "LU", "AL", "SG", "N", "E", "SE", "SW", "W", "NW", "EN", "HA", "UB", "TW", "KT",
];

/// (share of an authority's schools per mille, kind), most common last.
const MIX: [(u32, Kind); 6] = [
    (18, Kind::Nursery),
    (16, Kind::AlternativeProvision),
    (45, Kind::Special),
    (6, Kind::AllThrough),
    (5, Kind::Middle),
    (150, Kind::Secondary),
];

/// Plans the authority's schools: each kind's share of `sizing.schools`
/// (largest remainder to primaries), GIAS types, ages and rolls.
pub fn plan(run: &Run, la: LaCode, sizing: &Sizing, dice: &mut Dice, ids: &mut Ids) -> anyhow::Result<Vec<School>> {
    let total = sizing.schools;
    let mut kinds = Vec::new();
    for (share, kind) in MIX {
        let n = (f64::from(total) * f64::from(share) / 1000.0).round() as u32;
        kinds.extend(std::iter::repeat_n(kind, n as usize));
    }
    kinds.truncate(total.saturating_sub(1) as usize);
    kinds.resize(total as usize, Kind::Primary);
    let area = AREAS[usize::from(sizing.code) % AREAS.len()];
    let mut numbers = std::collections::HashMap::new();
    let mut schools = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let id = Ids::take(&mut ids.school);
        // A bijection of 0..900,000 onto itself (7919 is prime to 900,000): URNs unique across the run.
        let urn = Urn::parse(&(100_000 + (i64::from(id) * 7919) % 900_000).to_string()).map_err(anyhow::Error::msg)?;
        let base = match kind {
            Kind::Nursery => 1000,
            Kind::AlternativeProvision => 1100,
            Kind::Primary => 2000,
            Kind::Secondary => 4000,
            Kind::AllThrough => 4600,
            Kind::Middle => 4800,
            Kind::Special => 7000,
        };
        let n: &mut u16 = numbers.entry(base).or_default();
        *n += 1;
        let establishment = base + *n;
        schools.push(school(run, la, dice, id, urn, establishment, kind, area)?);
    }
    Ok(schools)
}

/// A kind of school's GIAS types (code, weight), phase, statutory ages, roll range and name.
type Shape = (&'static [(u16, u32)], u8, (u8, u8), (i64, i64), String);

#[allow(clippy::too_many_arguments)]
fn school(
    run: &Run,
    la: LaCode,
    dice: &mut Dice,
    id: i32,
    urn: Urn,
    establishment: u16,
    kind: Kind,
    area: &str,
) -> anyhow::Result<School> {
    let place = *dice.pick(PLACES);
    let (types, phase, ages, roll, name): Shape = match kind {
        Kind::Primary => {
            let types: &[(u16, u32)] = &[(1, 35), (2, 12), (3, 10), (5, 3), (34, 25), (28, 12), (35, 3)];
            match dice.below(100) {
                0..=5 => (types, 2, (4, 7), (80, 240), format!("{place} Infant School")),
                6..=11 => (types, 2, (7, 11), (110, 320), format!("{place} Junior School")),
                12..=19 => (types, 2, (3, 11), (180, 430), format!("{place} Primary School")),
                20..=29 => (types, 2, (4, 11), (60, 360), format!("St {}'s Primary School", dice.pick(SAINTS))),
                _ => (types, 2, (4, 11), (80, 520), format!("{place} Primary School")),
            }
        }
        Kind::Secondary => {
            let types: &[(u16, u32)] = &[(34, 45), (28, 25), (1, 10), (5, 5), (2, 8), (35, 7)];
            let ages = if dice.chance(0.6) { (11, 18) } else { (11, 16) };
            (types, 4, ages, (550, 1750), format!("{place} {}", dice.pick(&["Academy", "High School", "School"])))
        }
        Kind::AllThrough => (&[(34, 60), (35, 40)], 7, (4, 18), (900, 1800), format!("{place} All-through School")),
        Kind::Middle => (&[(1, 50), (34, 50)], 5, (9, 13), (300, 600), format!("{place} Middle School")),
        Kind::Special => {
            let ages = *dice.pick(&[(2, 19), (4, 19), (11, 19), (3, 11)]);
            (&[(7, 55), (44, 25), (36, 10), (33, 10)], 0, ages, (60, 250), format!("{place} Special School"))
        }
        Kind::Nursery => (&[(15, 1)], 1, (2, 5), (50, 140), format!("{place} Nursery School")),
        Kind::AlternativeProvision => {
            (&[(14, 60), (42, 25), (43, 15)], 0, (11, 16), (20, 80), format!("{place} Pupil Referral Unit"))
        }
    };
    let type_code = types[dice.weighted(types.iter().map(|t| t.1))].0;
    let status = match dice.below(1000) {
        0..=24 => 2,
        25..=27 => 3,
        _ => 1,
    };
    let academy = matches!(type_code, 28 | 33 | 34 | 35 | 36 | 42 | 43 | 44);
    let open_date = if academy {
        NaiveDate::from_ymd_opt(dice.between(2011, 2024) as i32, 9, 1)
    } else {
        NaiveDate::from_ymd_opt(dice.between(1950, 2010) as i32, 9, 1)
    }
    .unwrap_or(run.today);
    let close_date = (status == 2).then(|| dice.day_between(open_date.max(run.today - Months::new(72)), run.today));
    let inward = format!(
        "{}{}{}",
        dice.below(10),
        char::from(*dice.pick(b"ABDEFGHJLNPQRSTUWXYZ")),
        char::from(*dice.pick(b"ABDEFGHJLNPQRSTUWXYZ"))
    );
    let postcode = Postcode::parse(&format!("{area}{} {inward}", dice.between(1, 20))).map_err(anyhow::Error::msg)?;
    // The checks a school's manager's edit must pass.
    Laestab::from_parts(la, &format!("{establishment:04}")).map_err(anyhow::Error::msg)?;
    SchoolName::parse(&name).map_err(anyhow::Error::msg)?;
    EstablishmentType::known(type_code).map_err(anyhow::Error::msg)?;
    let roll = if status == 2 { 0 } else { dice.between(roll.0, roll.1) as u32 };
    Ok(School {
        id,
        urn,
        establishment,
        name,
        kind,
        type_code,
        phase,
        ages,
        roll,
        status,
        postcode: postcode.as_str().to_owned(),
        open_date,
        close_date,
    })
}

/// How a current SENCO stands against the award rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    InTime,
    DueSoon,
    Overdue,
    Exempt,
    Achieved,
    NotQualifiedTeacher,
}

/// Loads the authority, its schools, then their SENCO appointments.
pub async fn load(sink: &Sink, run: &Run, authority: &Authority) -> anyhow::Result<()> {
    let mut copy = sink.copy(&AUTHORITIES).await?;
    drop(copy.line().text(&authority.la.to_string()).text(authority.name).at(at(run.today - Months::new(18), 0)));
    copy.finish().await?;
    let la = authority.la.to_string();
    let mut copy = sink.copy(&SCHOOLS).await?;
    for school in &authority.schools {
        let kind = EstablishmentType::known(school.type_code).map_err(anyhow::Error::msg)?;
        let created = at(run.today - Months::new(18), 5);
        let updated_later = school.status != 1;
        drop(
            copy.line()
                .int(school.id)
                .text(&la)
                .int(school.urn)
                .text(&format!("{la}{:04}", school.establishment))
                .text(&school.name)
                .int(school.type_code)
                .text(&kind.name)
                .text(&kind.group)
                .int(school.phase)
                .int(school.status)
                .int(school.ages.0)
                .int(school.ages.1)
                .opt_int((school.status != 2).then_some(school.roll))
                .text(&school.postcode)
                .date(school.open_date)
                .opt_date(school.close_date)
                .int(if updated_later { 2 } else { 1 })
                .at(created)
                .at(if updated_later { at(run.today - Months::new(2), 0) } else { created }),
        );
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    let mut copy = sink.copy(&SENCOS).await?;
    for school in authority.schools.iter().filter(|s| s.is_open()) {
        let kind = EstablishmentType::known(school.type_code).map_err(anyhow::Error::msg)?;
        let mut dice = Dice::new(u64::from(school.urn.get()), 0x5E2C0);
        if !kind.requires_senco() || dice.chance(0.04) {
            continue;
        }
        let current = appointment(run, &la, school, &mut dice, None)?;
        if dice.chance(0.3) {
            let ended = current.appointed_on - chrono::Duration::days(dice.between(1, 30));
            let earlier = appointment(run, &la, school, &mut dice, Some(ended))?;
            earlier.write(&mut copy);
        }
        current.write(&mut copy);
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    Ok(())
}

/// One appointment as the store records it.
struct Appointment<'a> {
    la: &'a str,
    school: &'a School,
    name: PersonName,
    email: Email,
    qualified_teacher: bool,
    award: SencoAward,
    achieved_on: Option<NaiveDate>,
    appointed_on: NaiveDate,
    prior: bool,
    ended: Option<(NaiveDate, &'static str)>,
    recorded_by: String,
}

fn appointment<'a>(
    run: &Run,
    la: &'a str,
    school: &'a School,
    dice: &mut Dice,
    ended_on: Option<NaiveDate>,
) -> anyhow::Result<Appointment<'a>> {
    let forename = *dice.pick(sen_pupils::demo::FORENAMES);
    let surname = *dice.pick(sen_pupils::demo::SURNAMES);
    let name = PersonName::parse(&format!("{forename} {surname}")).map_err(anyhow::Error::msg)?;
    let email =
        Email::parse(&format!("{forename}.{surname}@school-{}.example", school.urn)).map_err(anyhow::Error::msg)?;
    let today = run.today;
    let months_ago = |months: u32| today.checked_sub_months(Months::new(months)).unwrap_or(today);
    let three_years_ago = months_ago(36);
    let (appointed_on, award, achieved_on, prior, qualified_teacher) = if let Some(ended_on) = ended_on {
        let appointed = ended_on.checked_sub_months(Months::new(dice.between(18, 120) as u32)).unwrap_or(ended_on);
        (appointed, SencoAward::Nasenco, Some(appointed + chrono::Duration::days(365)), false, true)
    } else {
        let standing = [
            Standing::Achieved,
            Standing::InTime,
            Standing::Exempt,
            Standing::DueSoon,
            Standing::Overdue,
            Standing::NotQualifiedTeacher,
        ][dice.weighted([45, 25, 18, 4, 4, 4])];
        match standing {
            Standing::InTime => (
                dice.day_between(three_years_ago + chrono::Duration::days(91), today),
                SencoAward::InProgress,
                None,
                false,
                true,
            ),
            Standing::DueSoon => (dice.day_after(three_years_ago, 1, 90), SencoAward::InProgress, None, false, true),
            Standing::Overdue => (dice.day_after(three_years_ago, -400, -1), SencoAward::None, None, false, true),
            Standing::Exempt => (dice.day_between(months_ago(120), today), SencoAward::None, None, true, true),
            Standing::Achieved => {
                let appointed = dice.day_between(months_ago(180), months_ago(24));
                let award = if appointed >= NPQ_REQUIRED_FROM { SencoAward::NpqSenco } else { SencoAward::Nasenco };
                (appointed, award, Some(dice.day_between(appointed + chrono::Duration::days(365), today)), false, true)
            }
            Standing::NotQualifiedTeacher => {
                (dice.day_between(months_ago(30), today), SencoAward::InProgress, None, false, false)
            }
        }
    };
    let ended = ended_on.map(|on| (on, *dice.pick(&["left the school", "retired", "promoted to deputy headteacher"])));
    Ok(Appointment {
        la,
        school,
        name,
        email,
        qualified_teacher,
        award,
        achieved_on,
        appointed_on,
        prior,
        ended,
        recorded_by: format!("manager-{la}"),
    })
}

impl Appointment<'_> {
    fn write(&self, copy: &mut super::copy::Copy) {
        let created = at(self.appointed_on, 15);
        let updated = self.ended.map_or(created, |(on, _)| at(on, 15));
        drop(
            copy.line()
                .text(self.la)
                .int(self.school.id)
                .int(self.school.urn)
                .text(self.name.as_str())
                .text(self.email.as_str())
                .bool(self.qualified_teacher)
                .text(self.award.as_str())
                .opt_date(self.achieved_on)
                .date(self.appointed_on)
                .bool(self.prior)
                .opt_date(award_deadline(self.appointed_on, self.prior, self.award, self.achieved_on))
                .opt_date(self.ended.map(|e| e.0))
                .opt_text(self.ended.map(|e| e.1))
                .text(&self.recorded_by)
                .int(if self.ended.is_some() { 2 } else { 1 })
                .at(created)
                .at(updated),
        );
    }
}
