//! What a Common Transfer File says, checked by the register's own rules: the
//! school it comes from, and each pupil's details, current SEN provision and
//! needs, and SEN history, or the reasons a pupil cannot be taken, naming the
//! elements at fault.

use chrono::NaiveDate;
use sen_platform::ids::{LaCode, Urn};

use super::read::{RawHeader, RawPupil, RawSen};
use crate::domain::{
    NcYear, NeedCode, NeedType, PupilDetails, SenRecord, SenStatus, Upn, academic_year_start, check_date_of_birth,
    clean_line, nc_year_for, optional_line, parse_need,
};

/// The oldest CTF version read: SEN provision has had start and end dates since CTF 17.
pub const OLDEST_VERSION: u32 = 17;
/// The longest name the register keeps.
const NAME_MAX: usize = 100;

/// The school a file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtfSchool {
    /// `CTFversion` as written.
    pub version: String,
    /// The source school.
    pub urn: Urn,
    /// Its local authority, when given.
    pub la: Option<LaCode>,
    /// Its name, as the file gives it.
    pub name: String,
    /// The academic year the year groups are for (its first calendar year), when given.
    pub academic_year: Option<i32>,
}

/// The header cannot be used, so neither can the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{element}: {reason}")]
pub struct HeaderError {
    /// The element at fault.
    pub element: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Checks the header: a version from CTF 17 on and the source school's URN.
pub fn check_header(raw: &RawHeader) -> Result<CtfSchool, HeaderError> {
    let bad = |element, reason: String| HeaderError { element, reason };
    let major = raw.version.split('.').next().and_then(|m| m.trim().parse::<u32>().ok());
    match major {
        None => {
            return Err(bad("Header/CTFversion", format!("'{}' is not a CTF version (e.g. 24.0)", raw.version)));
        }
        Some(m) if m < OLDEST_VERSION => {
            return Err(bad(
                "Header/CTFversion",
                format!(
                    "CTF {} is older than CTF {OLDEST_VERSION}, the first with SEN start and end dates",
                    raw.version
                ),
            ));
        }
        Some(_) => {}
    }
    let urn = Urn::parse(&raw.urn).map_err(|e| bad("Header/SourceSchool/URN", e))?;
    let la = if raw.lea.is_empty() {
        None
    } else {
        Some(LaCode::parse(&raw.lea).map_err(|e| bad("Header/SourceSchool/LEA", e))?)
    };
    let academic_year = if raw.academic_year.is_empty() {
        None
    } else {
        let year = raw.academic_year.parse::<i32>().ok().filter(|y| (1990..=2100).contains(y));
        Some(year.ok_or_else(|| {
            bad("Header/SourceSchool/AcademicYear", format!("'{}' is not a year such as 2024", raw.academic_year))
        })?)
    };
    Ok(CtfSchool { version: raw.version.clone(), urn, la, name: raw.school_name.clone(), academic_year })
}

/// One spell of SEN provision from the file's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenSpell {
    /// N, K or E.
    pub status: SenStatus,
    /// From.
    pub start: NaiveDate,
    /// To, when it has ended.
    pub end: Option<NaiveDate>,
}

/// A pupil of the file, every field checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtfPupil {
    /// Line of `<Pupil>`.
    pub line: u64,
    /// Who they are, on roll at the file's school.
    pub details: PupilDetails,
    /// Their SEN provision and needs now.
    pub sen: SenRecord,
    /// Looked after (`LookedAfter/InCare`); none when the file does not say.
    pub looked_after: Option<bool>,
    /// When the current provision began (the day the register's history records).
    pub sen_since: Option<NaiveDate>,
    /// The SEN history the file carries, oldest first.
    pub spells: Vec<SenSpell>,
    /// The file's types of need by rank (it carries one set, not one a spell).
    pub ranked_needs: Vec<NeedCode>,
}

impl CtfPupil {
    /// A spell as the register's history records it: a K or E spell with the
    /// file's needs (the first two by rank); none for a K or E spell when the
    /// file gives no need, which the register cannot record.
    pub fn spell_record(&self, spell: &SenSpell) -> Option<SenRecord> {
        if spell.status == SenStatus::NoSen {
            return Some(SenRecord { status: spell.status, primary: None, secondary: None });
        }
        let primary = *self.ranked_needs.first()?;
        let secondary = self.ranked_needs.get(1).copied();
        Some(SenRecord { status: spell.status, primary: Some(primary), secondary })
    }
}

/// A pupil of the file that cannot be taken, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Line of the element at fault (of `<Pupil>` when it is the pupil as a whole).
    pub line: u64,
    /// The element at fault, e.g. `Pupil/DOB`; every other fault is in `reason`.
    pub element: String,
    /// The pupil's UPN as written.
    pub upn: String,
    /// Every fault, each naming its element.
    pub reason: String,
}

/// The faults of one pupil, gathered.
struct Faults {
    first: Option<(u64, String)>,
    reasons: Vec<String>,
}

impl Faults {
    fn add(&mut self, line: u64, element: &str, reason: impl std::fmt::Display) {
        if self.first.is_none() {
            self.first = Some((line, element.to_owned()));
        }
        self.reasons.push(format!("{element}: {reason}"));
    }

    fn check<T>(&mut self, line: u64, element: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.add(line, element, e)).ok()
    }
}

fn ctf_date(s: &str) -> Result<NaiveDate, String> {
    if s.is_empty() {
        return Err("is missing".into());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date (YYYY-MM-DD)"))
}

/// Checks one pupil against the register's rules, with `codes` the types of
/// need valid for the authority and `today` the day of the import.
pub fn check_pupil(
    raw: &RawPupil,
    school: &CtfSchool,
    codes: &[NeedType],
    today: NaiveDate,
) -> Result<CtfPupil, Refused> {
    let line = raw.line;
    let mut faults = Faults { first: None, reasons: Vec::new() };
    let upn = faults.check(line, "Pupil/UPN", Upn::parse(&raw.upn));
    let surname = faults.check(line, "Pupil/Surname", clean_line(&raw.surname, NAME_MAX));
    let forename = faults.check(line, "Pupil/Forename", clean_line(&raw.forename, NAME_MAX));
    let preferred_surname =
        faults.check(line, "Pupil/BasicDetails/PreferredSurname", optional_line(&raw.preferred_surname, NAME_MAX));
    let preferred_forename =
        faults.check(line, "Pupil/BasicDetails/PreferredForename", optional_line(&raw.preferred_forename, NAME_MAX));
    let dob = faults.check(line, "Pupil/DOB", ctf_date(&raw.dob).and_then(|d| check_date_of_birth(d, today)));
    let year = if raw.nc_year.is_empty() {
        Some(None)
    } else {
        faults.check(line, "Pupil/BasicDetails/NCyearActual", NcYear::parse(&raw.nc_year).map(Some))
    };
    let looked_after = match raw.in_care.to_ascii_lowercase().as_str() {
        "" => Some(None),
        "true" | "1" => Some(Some(true)),
        "false" | "0" => Some(Some(false)),
        other => faults.check(line, "Pupil/LookedAfter/InCare", Err(format!("'{other}' is not true or false"))),
    };
    let spells = spells(&raw.sen, &mut faults);
    let current = spells.as_ref().map(|spells| current_spell(spells, today));
    let status = current.map(|c| c.map_or(SenStatus::NoSen, |s| s.status));
    let needs = status.and_then(|status| needs(raw, status, codes, &mut faults));
    match (upn, surname, forename, preferred_surname, preferred_forename, dob, year, looked_after, spells, needs) {
        (
            Some(upn),
            Some(surname),
            Some(forename),
            Some(preferred_surname),
            Some(preferred_forename),
            Some(dob),
            Some(year),
            Some(looked_after),
            Some(spells),
            Some((sen, ranked_needs)),
        ) if faults.reasons.is_empty() => {
            // The year the date of birth gives is no override; another is (taught out of cohort).
            let academic_year = school.academic_year.unwrap_or_else(|| academic_year_start(today));
            let nc_year_override = year.filter(|&y| nc_year_for(dob, academic_year) != Some(y));
            // A preferred name that is the legal one is no preferred name.
            let preferred_surname = preferred_surname.filter(|p| *p != surname);
            let preferred_forename = preferred_forename.filter(|p| *p != forename);
            let sen_since = current_spell(&spells, today).map(|s| s.start);
            Ok(CtfPupil {
                line,
                details: PupilDetails {
                    upn,
                    legal_forename: forename,
                    legal_surname: surname,
                    preferred_forename,
                    preferred_surname,
                    date_of_birth: dob,
                    school_urn: school.urn,
                    nc_year_override,
                    looked_after: looked_after.unwrap_or(false),
                },
                looked_after,
                sen,
                sen_since,
                spells,
                ranked_needs,
            })
        }
        _ => {
            let (line, element) = faults.first.unwrap_or((line, "Pupil".to_owned()));
            Err(Refused { line, element, upn: raw.upn.clone(), reason: faults.reasons.join("; ") })
        }
    }
}

/// The history's spells, each checked, oldest first.
fn spells(raw: &[RawSen], faults: &mut Faults) -> Option<Vec<SenSpell>> {
    let mut spells = Vec::with_capacity(raw.len());
    let before = faults.reasons.len();
    for sen in raw {
        let start = faults.check(sen.line, "SENhistory/SEN/StartDate", ctf_date(&sen.start));
        let status = faults.check(sen.line, "SENhistory/SEN/SENprovision", SenStatus::from_code(&sen.provision));
        let end = if sen.end.is_empty() {
            Some(None)
        } else {
            faults.check(sen.line, "SENhistory/SEN/EndDate", ctf_date(&sen.end).map(Some))
        };
        if let (Some(start), Some(status), Some(end)) = (start, status, end) {
            if end.is_some_and(|end| end < start) {
                faults.add(sen.line, "SENhistory/SEN/EndDate", format!("is before the StartDate {start}"));
            }
            spells.push(SenSpell { status, start, end });
        }
    }
    spells.sort_by_key(|s| (s.start, s.end));
    (faults.reasons.len() == before).then_some(spells)
}

/// The provision in force on `today`: the spell that began last of those begun
/// and not ended; none (N) when there is none.
fn current_spell(spells: &[SenSpell], today: NaiveDate) -> Option<SenSpell> {
    spells.iter().filter(|s| s.start <= today && s.end.is_none_or(|end| end >= today)).max_by_key(|s| s.start).copied()
}

/// The needs by rank (1 the primary, 2 the secondary), checked with the
/// provision by the register's rules. A pupil without SEN (N) keeps none: the
/// needs of a past spell are history.
fn needs(
    raw: &RawPupil,
    status: SenStatus,
    codes: &[NeedType],
    faults: &mut Faults,
) -> Option<(SenRecord, Vec<NeedCode>)> {
    let before = faults.reasons.len();
    let mut ranked: Vec<(u8, u64, &NeedType)> = Vec::new();
    for need in &raw.needs {
        let rank = faults.check(
            need.line,
            "SENneeds/SENneed/SENtypeRank",
            need.rank
                .parse::<u8>()
                .ok()
                .filter(|r| *r >= 1)
                .ok_or_else(|| format!("'{}' is not a rank (1, 2, …)", need.rank)),
        );
        let code = faults.check(need.line, "SENneeds/SENneed/SENtype", parse_need(&need.code, codes));
        if let (Some(rank), Some(code)) = (rank, code) {
            if let Some(&(_, first, _)) = ranked.iter().find(|(r, _, _)| *r == rank) {
                faults.add(
                    need.line,
                    "SENneeds/SENneed/SENtypeRank",
                    format!("rank {rank} is given again (first on line {first})"),
                );
            }
            ranked.push((rank, need.line, code));
        }
    }
    if faults.reasons.len() != before {
        return None;
    }
    ranked.sort_by_key(|(rank, _, _)| *rank);
    let codes: Vec<NeedCode> = ranked.iter().map(|(_, _, n)| n.code).collect();
    if status == SenStatus::NoSen {
        let sen = faults.check(raw.line, "SENneeds", SenRecord::new(status, None, None).map_err(|(_, e)| e))?;
        return Some((sen, codes));
    }
    let primary = ranked.first().map(|(_, _, n)| *n);
    let secondary = ranked.get(1).map(|(_, _, n)| *n);
    match SenRecord::new(status, primary, secondary) {
        Ok(sen) => Some((sen, codes)),
        Err((field, reason)) => {
            let (line, element) = match (field, ranked.get(usize::from(field != "primary_need"))) {
                (_, Some((_, line, _))) => (*line, "SENneeds/SENneed/SENtype"),
                _ => (raw.line, "SENneeds"),
            };
            let which =
                if field == "primary_need" { "the primary need (rank 1)" } else { "the secondary need (rank 2)" };
            faults.add(line, element, format!("{which} {reason}"));
            None
        }
    }
}
