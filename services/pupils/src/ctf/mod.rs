//! The DfE Common Transfer File (CTF), the XML a school's management
//! information system exports its pupils in: read as a stream of events
//! (`read`), each pupil checked by the register's rules (`plan`). Written for
//! CTF 24 (valid from September 2024) and reading every version from CTF 17,
//! the first whose SEN history has start and end dates; docs/EXCHANGE.md lists
//! the elements read.

mod plan;
mod read;

use std::collections::HashMap;

use chrono::NaiveDate;

pub use plan::{CtfPupil, CtfSchool, HeaderError, OLDEST_VERSION, Refused, SenSpell, check_header, check_pupil};
pub use read::{MAX_PUPILS, RawHeader, RawNeed, RawPupil, RawSen, ReadError, read};

use crate::domain::NeedType;

/// A file's school, its pupils that can be taken, and those that cannot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtfFile {
    /// The school it comes from.
    pub school: CtfSchool,
    /// Pupils, every field checked, in file order.
    pub pupils: Vec<CtfPupil>,
    /// Pupils refused, in file order.
    pub refused: Vec<Refused>,
}

/// The file as a whole cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CtfError {
    /// The XML.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The header.
    #[error(transparent)]
    Header(#[from] HeaderError),
}

/// Reads and checks a whole file, with `codes` the types of need valid for the
/// authority. A UPN given twice is refused the second time.
pub fn read_file(bytes: &[u8], codes: &[NeedType], today: NaiveDate) -> Result<CtfFile, CtfError> {
    let mut raw = Vec::new();
    let header = read(bytes, |pupil| raw.push(pupil))?;
    let school = check_header(&header)?;
    let mut pupils = Vec::with_capacity(raw.len());
    let mut refused = Vec::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::with_capacity(raw.len());
    for pupil in &raw {
        match check_pupil(pupil, &school, codes, today) {
            Ok(checked) => match first_line_of.get(checked.details.upn.as_str()) {
                Some(first) => refused.push(Refused {
                    line: pupil.line,
                    element: "Pupil/UPN".into(),
                    upn: pupil.upn.clone(),
                    reason: format!("Pupil/UPN: {} appears again (first on line {first})", checked.details.upn),
                }),
                None => {
                    first_line_of.insert(checked.details.upn.as_str().to_owned(), pupil.line);
                    pupils.push(checked);
                }
            },
            Err(refusal) => refused.push(refusal),
        }
    }
    Ok(CtfFile { school, pupils, refused })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::{BroadArea, NcYear, NeedCode, SenStatus};

    const SAMPLE: &str = include_str!("../../../../tests/data/ctf/northmoor_primary_ctf24.xml");

    fn codes() -> Vec<NeedType> {
        ["SPLD", "MLD", "SEMH", "SLCN", "ASD", "NSA"]
            .into_iter()
            .map(|code| NeedType {
                code: NeedCode::parse(code).unwrap(),
                name: code.to_lowercase(),
                area: (code != "NSA").then_some(BroadArea::CognitionAndLearning),
                sen_support_only: code == "NSA",
                added_on: NaiveDate::from_ymd_opt(2014, 9, 1).unwrap(),
                national: true,
            })
            .collect()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn pupil<'a>(file: &'a CtfFile, upn: &str) -> &'a CtfPupil {
        file.pupils.iter().find(|p| p.details.upn.as_str() == upn).unwrap()
    }

    #[test]
    fn the_sample_file_reads_every_pupil_with_provision_needs_and_history() {
        let file = read_file(SAMPLE.as_bytes(), &codes(), today()).unwrap();
        assert!(file.refused.is_empty(), "{:?}", file.refused);
        assert_eq!((file.school.urn.get(), file.school.version.as_str()), (100001, "24.0"));
        assert_eq!(file.pupils.len(), 5);
        let marnie = pupil(&file, "H990200198001");
        assert_eq!(marnie.details.preferred_forename, None, "a preferred name that is the legal one is none");
        assert_eq!(marnie.details.nc_year_override, None, "the year her date of birth gives is no override");
        assert_eq!(marnie.sen.status, SenStatus::SenSupport);
        let toby = pupil(&file, "X990200198002");
        assert_eq!(toby.details.preferred_forename.as_deref(), Some("Toby"));
        assert_eq!(toby.sen.status, SenStatus::EhcPlan);
        assert_eq!(toby.sen.primary.map(|c| c.to_string()).as_deref(), Some("ASD"));
        assert_eq!(toby.sen.secondary.map(|c| c.to_string()).as_deref(), Some("SLCN"));
        assert_eq!(toby.sen_since, NaiveDate::from_ymd_opt(2022, 3, 14));
        assert_eq!(toby.spells.len(), 2);
        let reuben = pupil(&file, "A990200198004");
        assert_eq!(reuben.sen.status, SenStatus::NoSen, "his SEN support ended");
        assert_eq!(reuben.looked_after, Some(true));
        let ended = reuben.spell_record(&reuben.spells[0]).unwrap();
        assert_eq!((ended.status, ended.primary.map(|c| c.to_string())), (SenStatus::SenSupport, Some("SEMH".into())));
        let georgie = pupil(&file, "P990200198005");
        assert_eq!(georgie.details.nc_year_override, Some(NcYear::Year(4)), "taught out of cohort");
    }

    #[test]
    fn a_pupil_with_bad_fields_is_refused_naming_each_element_and_its_line() {
        let bad = SAMPLE
            .replace("<DOB>2017-03-14</DOB>", "<DOB>2017-02-30</DOB>")
            .replace("<SENtype>SPLD</SENtype>", "<SENtype>ADHD</SENtype>");
        let file = read_file(bad.as_bytes(), &codes(), today()).unwrap();
        assert_eq!(file.pupils.len(), 4);
        let refused = &file.refused[0];
        assert_eq!((refused.upn.as_str(), refused.element.as_str()), ("H990200198001", "Pupil/DOB"));
        assert!(refused.reason.contains("Pupil/DOB") && refused.reason.contains("SENneeds/SENneed/SENtype"));
        assert!(refused.reason.contains("ADHD"), "{}", refused.reason);
    }

    #[test]
    fn the_registers_rules_on_needs_apply() {
        // An EHC plan without a need, and NSA with a plan.
        let no_need = SAMPLE.replacen(
            "<SENtype>ASD</SENtype>\n          <SENtypeRank>1</SENtypeRank>",
            "<SENtype>NSA</SENtype><SENtypeRank>1</SENtypeRank>",
            1,
        );
        let file = read_file(no_need.as_bytes(), &codes(), today()).unwrap();
        let refused = file.refused.iter().find(|r| r.upn == "X990200198002").expect("refused");
        assert!(refused.reason.contains("NSA"), "{}", refused.reason);
        let twice = SAMPLE.replace("<SENtypeRank>2</SENtypeRank>", "<SENtypeRank>1</SENtypeRank>");
        let file = read_file(twice.as_bytes(), &codes(), today()).unwrap();
        assert!(file.refused[0].reason.contains("rank 1 is given again"), "{:?}", file.refused);
    }

    #[test]
    fn a_upn_given_twice_is_refused_the_second_time() {
        let twice = SAMPLE.replace("L990200198003", "H990200198001");
        let file = read_file(twice.as_bytes(), &codes(), today()).unwrap();
        assert_eq!(file.refused.len(), 1);
        assert!(file.refused[0].reason.contains("first on line"), "{:?}", file.refused);
    }

    #[test]
    fn a_header_without_its_school_or_from_before_ctf_17_is_refused_whole() {
        let no_urn = SAMPLE.replace("<URN>100001</URN>", "");
        assert!(
            matches!(read_file(no_urn.as_bytes(), &codes(), today()), Err(CtfError::Header(e)) if e.element == "Header/SourceSchool/URN")
        );
        let old = SAMPLE.replace("<CTFversion>24.0</CTFversion>", "<CTFversion>16.0</CTFversion>");
        assert!(
            matches!(read_file(old.as_bytes(), &codes(), today()), Err(CtfError::Header(e)) if e.element == "Header/CTFversion")
        );
    }
}
