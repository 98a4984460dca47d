//! The pupils on each school's roll, planned: ages across the school's
//! statutory range (dates of birth that give the year group by the 31 August
//! rule), valid UPNs issued by the school (the check letter computed by the
//! domain's own `Upn`), and the authority's SEN register in the national
//! proportions: SEN support and EHC plans shared over the schools so the
//! authority's totals come out exactly (special schools nearly all plans,
//! alternative provision many on support), needs drawn from the national mix,
//! and for each pupil when they joined, when support began, and their plan with
//! its reviews, phase transfer and, for a few, its end.

use chrono::{Datelike, Duration, Months, NaiveDate};
use sen_platform::ids::LaCode;
use sen_pupils::demo::{EHCP_NEEDS, FORENAMES, SUPPORT_NEEDS, SURNAMES};
use sen_pupils::domain::{
    NcYear, NeedCode, NeedType, SchoolStage, SenRecord, SenStatus, Upn, academic_year_start, nc_year_for, next_transfer,
};

use super::dice::Dice;
use super::england::Sizing;
use super::plan::{Ids, Kind, Plan, Pupil, Run, School};

/// Share of a special school's pupils with a plan, and on SEN support.
const SPECIAL: (f64, f64) = (0.96, 0.03);
/// Share of alternative provision's pupils with a plan, and on SEN support.
const ALTERNATIVE: (f64, f64) = (0.15, 0.45);

/// Rounds `exact` plus what earlier rounding left over, so a sum of shares comes out whole.
fn with_carry(exact: f64, carry: &mut f64) -> u32 {
    let n = (exact + *carry).round().max(0.0);
    *carry += exact - n;
    n as u32
}

/// Plans every pupil of the authority's open schools.
pub fn plan(
    run: &Run,
    la: LaCode,
    sizing: &Sizing,
    schools: &[School],
    dice: &Dice,
    ids: &mut Ids,
) -> anyhow::Result<Vec<Pupil>> {
    let roll = |kinds: &[Kind]| -> f64 {
        schools.iter().filter(|s| s.is_open() && kinds.contains(&s.kind)).map(|s| f64::from(s.roll)).sum()
    };
    let special = roll(&[Kind::Special]);
    let alternative = roll(&[Kind::AlternativeProvision]);
    let total: f64 = schools.iter().filter(|s| s.is_open()).map(|s| f64::from(s.roll)).sum();
    let mainstream = (total - special - alternative).max(1.0);
    let (plans, support) = match sizing.targets {
        Some((plans, support)) => (f64::from(plans), f64::from(support)),
        None => (total * sizing.plan_rate, total * sizing.support_rate),
    };
    let mainstream_rates = (
        ((plans - special * SPECIAL.0 - alternative * ALTERNATIVE.0) / mainstream).clamp(0.0, 0.5),
        ((support - special * SPECIAL.1 - alternative * ALTERNATIVE.1) / mainstream).clamp(0.0, 0.5),
    );
    let (mut plan_carry, mut support_carry) = (0.0, 0.0);
    let mut pupils = Vec::with_capacity(total as usize);
    for (index, school) in schools.iter().enumerate().filter(|(_, s)| s.is_open()) {
        let rates = match school.kind {
            Kind::Special => SPECIAL,
            Kind::AlternativeProvision => ALTERNATIVE,
            _ => mainstream_rates,
        };
        let roll = f64::from(school.roll);
        let mut plans = with_carry(roll * rates.0, &mut plan_carry).min(school.roll);
        let mut support = with_carry(roll * rates.1, &mut support_carry).min(school.roll - plans);
        let mut dice = dice.split(u64::from(school.urn.get()));
        let mut serials = std::collections::HashMap::new();
        for left in (1..=school.roll).rev() {
            // Draw each status in proportion to what is left, so the school's counts come out exact.
            let roll = dice.below(u64::from(left)) as u32;
            let status = if roll < plans {
                plans -= 1;
                SenStatus::EhcPlan
            } else if roll < plans + support {
                support -= 1;
                SenStatus::SenSupport
            } else {
                SenStatus::NoSen
            };
            let new = pupil(run, la, schools, index, status, &mut dice, &mut serials, ids)?;
            pupils.push(new);
        }
    }
    Ok(pupils)
}

/// A national code the generator draws, with the one census rule of its own:
/// `NSA` is valid only with SEN support (K), as the register's migration ships it.
fn need(code: &str) -> Option<NeedType> {
    Some(NeedType {
        code: NeedCode::parse(code).ok()?,
        name: String::new(),
        area: None,
        sen_support_only: code == "NSA",
        added_on: NaiveDate::MIN,
        national: true,
    })
}

#[allow(clippy::too_many_arguments)]
fn pupil(
    run: &Run,
    la: LaCode,
    schools: &[School],
    index: usize,
    status: SenStatus,
    dice: &mut Dice,
    serials: &mut std::collections::HashMap<i32, u32>,
    ids: &mut Ids,
) -> anyhow::Result<Pupil> {
    let school = &schools[index];
    let today = run.today;
    let year = academic_year_start(today);
    let (low, high) = match school.kind {
        Kind::Nursery => (2, 3),
        _ => (i32::from(school.ages.0), i32::from(school.ages.1) - 1),
    };
    let mut age = dice.between(i64::from(low), i64::from(high)) as i32;
    if age >= 16 && dice.chance(0.4) {
        age = dice.between(i64::from(low), i64::from(high)) as i32;
    }
    // Born in the academic year that gives this age on 31 August.
    let born_from = NaiveDate::from_ymd_opt(year - age - 1, 9, 1).unwrap_or(today);
    let dob = dice.day_between(born_from, born_from + Duration::days(364));
    let years_here = dice.between(0, i64::from(age - low)) as i32;
    let added_on = if dice.chance(0.1) {
        dice.day_between(NaiveDate::from_ymd_opt(year, 9, 2).unwrap_or(today), today)
    } else {
        NaiveDate::from_ymd_opt(year - years_here, 9, dice.between(1, 10) as u32).unwrap_or(today)
    }
    .min(today);
    let upn = upn(la, school, (year - years_here).rem_euclid(100), dice, serials)?;
    let (primary, secondary) = match status {
        SenStatus::NoSen => (None, None),
        SenStatus::SenSupport => (need(SUPPORT_NEEDS[dice.weighted(SUPPORT_NEEDS.iter().map(|n| n.1))].0), None),
        SenStatus::EhcPlan => (need(EHCP_NEEDS[dice.weighted(EHCP_NEEDS.iter().map(|n| n.1))].0), None),
    };
    let secondary = secondary.or_else(|| {
        let p = primary.as_ref().filter(|_| dice.chance(0.3))?;
        need(EHCP_NEEDS[dice.weighted(EHCP_NEEDS.iter().map(|n| n.1))].0).filter(|s| s.code != p.code)
    });
    // The census rules the register's own writes pass.
    let record = SenRecord::new(status, primary.as_ref(), secondary.as_ref())
        .map_err(|(field, e)| anyhow::anyhow!("{field} {e}"))?;
    let (primary, secondary) = (record.primary, record.secondary);
    let in_year = nc_year_for(dob, year);
    let year_override = (status != SenStatus::NoSen && dice.chance(0.015))
        .then(|| in_year.and_then(|y| y.ordinal()).filter(|o| *o > 0).and_then(|o| NcYear::from_ordinal(o - 1)))
        .flatten();
    let plan_window = (dob.checked_add_months(Months::new(12)).unwrap_or(dob), today - Duration::days(14));
    let (added_status, identified_on, plan) = match status {
        SenStatus::NoSen => (SenStatus::NoSen, None, None),
        SenStatus::SenSupport => {
            let identified = (dice.chance(0.5) && added_on + Duration::days(30) < today - Duration::days(7))
                .then(|| dice.day_between(added_on + Duration::days(30), today - Duration::days(7)));
            let ceased = ceased_plan(dice, added_on, today, plan_window.0);
            let joined = if identified.is_some() { SenStatus::NoSen } else { SenStatus::SenSupport };
            (
                if ceased.is_some() { SenStatus::SenSupport } else { joined },
                identified.filter(|_| ceased.is_none()),
                ceased,
            )
        }
        SenStatus::EhcPlan => {
            // About one plan in five was issued in the last year (97,700 new plans in 2024 of 483,000).
            let earliest = plan_window.0.max(today - Months::new(96)).min(plan_window.1);
            let recent = (today - Months::new(24)).clamp(earliest, plan_window.1);
            let issued_on = if dice.chance(0.4) {
                dice.day_between(recent, plan_window.1)
            } else {
                dice.day_between(earliest, recent)
            };
            let joined = if issued_on <= added_on { SenStatus::EhcPlan } else { SenStatus::SenSupport };
            let plan = active_plan(run, dice, issued_on, school, schools, in_year, year_override);
            (joined, None, Some(plan))
        }
    };
    let on_support = status != SenStatus::NoSen;
    let cycles = if status == SenStatus::SenSupport { dice.between(1, 3) as u8 } else { 0 };
    let provisions = if on_support { dice.between(1, 2) as u8 } else { 0 };
    let first_cycle = ids.cycle + 1;
    ids.cycle += i32::from(cycles);
    let first_provision = ids.provision + 1;
    ids.provision += i32::from(provisions);
    let forename = *dice.pick(FORENAMES);
    Ok(Pupil {
        id: Ids::take(&mut ids.pupil),
        school: index as u32,
        upn,
        dob,
        name: (forename, *dice.pick(SURNAMES)),
        preferred: dice.chance(0.04).then(|| format!("{}ie", &forename[..1])),
        status,
        primary,
        secondary,
        year_override,
        looked_after: dice.chance(if on_support { 0.04 } else { 0.008 }),
        added: (added_on, added_status),
        identified_on,
        plan,
        cycles: (first_cycle, cycles),
        provisions: (first_provision, provisions),
        seed: dice.next(),
    })
}

/// The letters a temporary UPN may end with.
const UPN_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// A UPN issued by `school` in year `issued` (two digits): serials 000–999, then
/// (and for a few pupils whose permanent UPN is not yet known) temporary ones,
/// whose last character is a letter.
fn upn(
    la: LaCode,
    school: &School,
    issued: i32,
    dice: &mut Dice,
    serials: &mut std::collections::HashMap<i32, u32>,
) -> anyhow::Result<Upn> {
    let temporary = dice.chance(0.003);
    let permanent = serials.entry(issued).or_default();
    let body = if !temporary && *permanent < 1000 {
        let n = *permanent;
        *permanent += 1;
        format!("{la}{:04}{issued:02}{n:03}", school.establishment)
    } else {
        let next = serials.entry(issued + 100).or_default();
        let m = *next;
        *next += 1;
        if m >= 2300 {
            anyhow::bail!("school {} would issue more than 3,300 UPNs in one year", school.urn);
        }
        let letter = char::from(UPN_LETTERS[(m % 23) as usize]);
        format!("{la}{:04}{issued:02}{:02}{letter}", school.establishment, m / 23)
    };
    Upn::from_body(&body).map_err(anyhow::Error::msg)
}

/// An active plan issued on `issued_on`: annual reviews about a year apart
/// (most on time, some overdue), and for a pupil in the last year of their
/// phase, sometimes the transfer decision already recorded.
fn active_plan(
    run: &Run,
    dice: &mut Dice,
    issued_on: NaiveDate,
    school: &School,
    schools: &[School],
    in_year: Option<NcYear>,
    year_override: Option<NcYear>,
) -> Plan {
    let today = run.today;
    let mut reviews = Vec::new();
    let mut last = issued_on;
    loop {
        let next = last.checked_add_months(Months::new(12)).unwrap_or(last) + Duration::days(dice.between(-40, 20));
        if next > today || dice.chance(0.06) {
            break;
        }
        reviews.push(next);
        last = next;
    }
    let keep = reviews.len().saturating_sub(3);
    reviews.drain(..keep);
    let year = academic_year_start(today);
    let stage = SchoolStage { phase_code: school.phase, low_age: Some(school.ages.0), high_age: Some(school.ages.1) };
    let decided_from = NaiveDate::from_ymd_opt(year, 10, 1).unwrap_or(today);
    let transfer = year_override
        .or(in_year)
        .and_then(|y| next_transfer(y, &stage, year))
        .filter(|_| decided_from < today && dice.chance(0.3))
        .map(|t| {
            let next = schools
                .iter()
                .filter(|s| s.is_open() && s.id != school.id && matches!(s.kind, Kind::Secondary | Kind::Special))
                .nth(dice.below(8) as usize)
                .map_or_else(|| "Sixth form college".to_owned(), |s| s.name.clone());
            (t.transfer_on.year(), next, dice.day_between(decided_from, today))
        });
    Plan { issued_on, ceased_on: None, reviews, transfer }
}

/// For about one pupil in fifty on SEN support, a plan they had that has since
/// ceased, issued after they joined.
fn ceased_plan(dice: &mut Dice, added_on: NaiveDate, today: NaiveDate, earliest: NaiveDate) -> Option<Plan> {
    let first = added_on.max(earliest);
    let last = today - Duration::days(400);
    if first >= last || !dice.chance(0.02) {
        return None;
    }
    let issued_on = dice.day_between(first, last);
    let ceased_on = dice.day_between(issued_on + Duration::days(365), today - Duration::days(7));
    let reviews =
        vec![issued_on + Duration::days(dice.between(330, 370))].into_iter().filter(|r| *r < ceased_on).collect();
    Some(Plan { issued_on, ceased_on: Some(ceased_on), reviews, transfer: None })
}
