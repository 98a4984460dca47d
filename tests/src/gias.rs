//! Synthetic DfE "Get Information About Schools" (GIAS) all-establishments
//! extracts (`edubasealldataYYYYMMDD.csv`) for tests and benchmarks of the
//! schools CSV importer.
//!
//! The files look like the real download: 139 columns that must be found by
//! name, CRLF line ends, Windows-1252 text, `dd-mm-yyyy` dates, quoted fields
//! with commas and doubled quotes, many empty cells and postcodes in varied
//! case and spacing. Output is deterministic from a seed, and [`Extract`] says
//! what the importer should accept ([`ExpectedSchool`]) and reject ([`BadRow`]).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::NaiveDate;

/// What to generate.
#[derive(Clone, Debug)]
pub struct ExtractSpec {
    /// Rows for each authority: (la_code, la_name, number of good rows).
    pub authorities: Vec<(u16, String, usize)>,
    /// Rows belonging to other authorities mixed in (the importer must ignore them).
    pub other_rows: usize,
    /// Bad rows for the FIRST authority in `authorities`, mixed in among the good ones.
    pub bad_rows: Vec<BadRow>,
    /// Seed for the deterministic pseudo-random generator.
    pub seed: u64,
}

/// A kind of malformed row the importer must report and skip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BadRow {
    /// `URN` is not a number, e.g. `12A456`.
    BadUrn,
    /// `Postcode` is `ZZ 123`.
    BadPostcode,
    /// `OpenDate` is `31-02-2019`.
    BadOpenDate,
    /// `EstablishmentName` is empty.
    MissingName,
    /// `PhaseOfEducation (code)` is `9`.
    BadPhaseCode,
    /// `EstablishmentNumber` is `20A1`.
    BadEstablishmentNumber,
    /// The row has 20 fields instead of 139.
    WrongColumnCount,
    /// The row repeats the URN of an earlier good row of the same authority.
    DuplicateUrn,
}

/// One good row as generated, so tests can check what was imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedSchool {
    pub urn: u32,
    pub la_code: u16,
    pub establishment_number: u16,
    /// As Unicode (the file holds it in Windows-1252).
    pub name: String,
    pub type_code: u16,
    pub phase_code: u8,
    pub status_code: u8,
    pub low_age: Option<u8>,
    pub high_age: Option<u8>,
    pub number_on_roll: Option<u32>,
    /// Normal form, e.g. `NG1 5DT`, however the file spells it.
    pub postcode: Option<String>,
    pub open_date: Option<NaiveDate>,
    pub close_date: Option<NaiveDate>,
}

/// A generated file and what it contains.
#[derive(Clone, Debug)]
pub struct Extract {
    /// The file, Windows-1252 encoded, CRLF line ends.
    pub bytes: Vec<u8>,
    /// Good rows of the authorities in the spec, in file order (filter by `la_code`).
    pub expected: Vec<ExpectedSchool>,
    /// (1-based line number in the file where the header is line 1, the BadRow kind) for every bad row.
    pub bad: Vec<(u64, BadRow)>,
    /// Number of rows of authorities not in `spec.authorities`.
    pub other_rows: usize,
}

/// The 139 header names, in file order.
pub fn header() -> Vec<&'static str> {
    HEADER.split(',').collect()
}

const COLUMN_COUNT: usize = 139;

const HEADER: &str = "LastChangedDate,UPRN,URN,UKPRN,LA (code),GSSLACode (name),LA (name),PreviousLA (code),\
    EstablishmentNumber,PreviousEstablishmentNumber,EstablishmentName,SiteName,TypeOfEstablishment (code),\
    EstablishmentTypeGroup (code),TypeOfEstablishment (name),FurtherEducationType (name),\
    EstablishmentTypeGroup (name),Boarders (code),EstablishmentStatus (code),Boarders (name),\
    EstablishmentStatus (name),ReasonEstablishmentOpened (code),ReasonEstablishmentOpened (name),OpenDate,\
    ReasonEstablishmentClosed (code),ReasonEstablishmentClosed (name),CloseDate,NurseryProvision (name),\
    PhaseOfEducation (code),OfficialSixthForm (code),PhaseOfEducation (name),OfficialSixthForm (name),\
    Gender (code),StatutoryLowAge,Gender (name),StatutoryHighAge,ReligiousCharacter (code),\
    ReligiousCharacter (name),ReligiousEthos (name),Diocese (code),Diocese (name),AdmissionsPolicy (code),\
    AdmissionsPolicy (name),SchoolCapacity,SpecialClasses (code),SpecialClasses (name),CensusDate,NumberOfPupils,\
    NumberOfBoys,NumberOfGirls,PercentageFSM,FSM,TrustSchoolFlag (code),TrustSchoolFlag (name),Trusts (code),\
    Trusts (name),SchoolSponsorFlag (name),SchoolSponsors (name),FederationFlag (name),Federations (code),\
    Federations (name),FEHEIdentifier,OfstedLastInsp,Street,Locality,Address3,Town,County (name),Postcode,\
    SchoolWebsite,TelephoneNum,HeadTitle (name),HeadFirstName,HeadLastName,HeadPreferredJobTitle,\
    BSOInspectorateName (name),InspectorateReport,DateOfLastInspectionVisit,NextInspectionVisit,TeenMoth (name),\
    TeenMothPlaces,CCF (name),SENPRU (name),EBD (name),PlacesPRU,FTProv (name),EdByOther (name),\
    Section41Approved (name),SEN1 (name),SEN2 (name),SEN3 (name),SEN4 (name),SEN5 (name),SEN6 (name),SEN7 (name),\
    SEN8 (name),SEN9 (name),SEN10 (name),SEN11 (name),SEN12 (name),SEN13 (name),TypeOfResourcedProvision (name),\
    ResourcedProvisionOnRoll,ResourcedProvisionCapacity,SenUnitOnRoll,SenUnitCapacity,GOR (code),GOR (name),\
    DistrictAdministrative (code),DistrictAdministrative (name),AdministrativeWard (code),\
    AdministrativeWard (name),ParliamentaryConstituency (code),ParliamentaryConstituency (name),UrbanRural (code),\
    UrbanRural (name),Easting,Northing,MSOA (name),LSOA (name),InspectorateName (name),SENStat,\
    BoardingEstablishment (name),SENNoStat,PropsName,PreviousLA (name),OfstedRating (name),RSCRegion (name),\
    Country (name),QABName (code),QABName (name),EstablishmentAccredited (code),EstablishmentAccredited (name),\
    QABReport,CHNumber,MSOA (code),LSOA (code),AccreditationExpiryDate,SixthFormProvisionFlag (name)";

const LAM: &str = "Local authority maintained schools";
/// (code, name, group, weight) of the establishment types generated.
const TYPES: [(u16, &str, &str, u64); 12] = [
    (1, "Community school", LAM, 20),
    (2, "Voluntary aided school", LAM, 8),
    (3, "Voluntary controlled school", LAM, 6),
    (5, "Foundation school", LAM, 4),
    (7, "Community special school", "Special schools", 4),
    (14, "Pupil referral unit", LAM, 2),
    (15, "Local authority nursery school", LAM, 2),
    (28, "Academy sponsor led", "Academies", 10),
    (34, "Academy converter", "Academies", 25),
    (35, "Free schools", "Free Schools", 6),
    (44, "Academy special converter", "Special schools", 3),
    (11, "Other independent school", "Independent schools", 10),
];
/// Names by GIAS code.
const PHASES: &str = "Not applicable|Nursery|Primary|Middle deemed primary|Secondary|Middle deemed secondary|\
    16 plus|All-through";
const STATUSES: &str = "|Open|Closed|Open, but proposed to close|Proposed to open";
const PLACES: &str = "Oakfield,Meadowbank,Hillside,Riverside,Greenwood,Ashfield,Beechwood,Elmhurst,Kingsmead,\
    Westfield,Brookside,Fairfield,Highfield,Larkrise,Mapledene,Northgate,Parkside,Queensbury,Redhill,Southway,\
    Thornton,Underwood,Willow Brook,Abbey Lane,Castle View,Bramcote,Carlton,Sherwood,Bestwood,Clifton,Arnold,\
    Beeston,Hucknall,Greythorn,Lady Bay";
const SAINTS: &str = "Mary,Peter,John,Paul,Michael,Joseph,Anne,Margaret,Thomas,Bede,Chad,Hilda";
const ACCENTED: &str = "Ren\u{e9}e Gardens,Caf\u{e9} Lane,Saint-Andr\u{e9}";
/// Other cells: `column=choice|choice...;`, an empty choice leaving the cell empty.
const FILLER: &str = "LastChangedDate=04-09-2024|17-01-2025|02-05-2025|23-06-2025;\
    UKPRN=|10012345|10034567|10078901;\
    Street=|Oakfield Road|Church Lane|12 High Street|Mill Road;\
    Locality=||Bestwood|Clifton;\
    Town=|Nottingham|Derby|Mansfield|Newark;\
    County (name)=|Not recorded|Nottinghamshire|Kent;\
    Boarders (name)=No boarders|No boarders|No boarders|Boarding school;\
    Gender (name)=Mixed|Mixed|Mixed|Boys|Girls;\
    NurseryProvision (name)=No Nursery Classes|Has Nursery Classes|Not applicable;\
    OfficialSixthForm (name)=Does not have a sixth form|Has a sixth form|Not applicable;\
    AdmissionsPolicy (name)=Not applicable|Non-selective|Selective|;\
    ReligiousCharacter (name)=Does not apply|Does not apply|Church of England|Roman Catholic|;\
    SchoolWebsite=|www.oakfield.notts.sch.uk|http://www.hillside.org.uk;\
    TelephoneNum=|01159 123456|01623 456789|0115 915 0000;\
    HeadTitle (name)=Mrs|Mr|Ms|Miss|Dr;\
    HeadFirstName=Sarah|James|Helen|David|Ren\u{e9}e|Zo\u{eb}|Si\u{e2}n|Mohammed|Priya|Aoife;\
    HeadLastName=Smith|Patel|O'Brien|Jones|Khan|Nowak|Bront\u{eb};\
    HeadPreferredJobTitle=Headteacher|Principal|Executive Headteacher;\
    Trusts (name)=||Greenwood Academies Trust|Nova Education Trust|Diverse Academies Learning Partnership;\
    GOR (name)=East Midlands|London|North West|South East|West Midlands;\
    UrbanRural (name)=(England/Wales) Urban city and town|(England/Wales) Rural village;\
    OfstedRating (name)=Good|Good|Outstanding|Requires improvement|;\
    Country (name)=|||United Kingdom;\
    TrustSchoolFlag (name)=Not applicable|Not supported by a trust|Supported by a trust;\
    FederationFlag (name)=Not under a federation|Not applicable|Under a federation;\
    Easting=|438512|455630|531042|392871;\
    Northing=|339861|341245|180364|288194";
const SEN_NEEDS: &str = "ASD - Autistic Spectrum Disorder|SLD - Severe Learning Difficulty|\
    SEMH - Social, Emotional and Mental Health|MLD - Moderate Learning Difficulty";
const OTHER_LAS: &str = "201:City of London,202:Camden,330:Birmingham,340:Knowsley,350:Bolton,373:Sheffield,\
    380:Bradford,800:Bath and North East Somerset,821:Luton,830:Derbyshire,855:Leicestershire,886:Kent,\
    891:Nottinghamshire,892:Nottingham,919:Hertfordshire,936:Surrey";
/// Windows-1252 bytes 0x80..=0x9F; U+FFFD marks the five unassigned ones.
const HIGH: &str = "€\u{fffd}‚ƒ„…†‡ˆ‰Š‹Œ\u{fffd}Ž\u{fffd}\u{fffd}‘’“”•–—˜™š›œ\u{fffd}žŸ";

/// Generates an extract.
///
/// # Panics
///
/// If `bad_rows` is not empty but `authorities` is, if a `DuplicateUrn` is
/// asked for but the first authority has no good rows, or if one authority
/// would need more than 9,000 establishment numbers.
pub fn generate(spec: &ExtractSpec) -> Extract {
    let first = spec.authorities.first();
    let ok = |b: &BadRow| first.is_some_and(|a| a.2 > 0 || *b != BadRow::DuplicateUrn);
    assert!(spec.bad_rows.iter().all(ok), "bad rows need a first authority with good rows");
    let mut g = Generator { rng: Rng(spec.seed), ..Generator::default() };
    let slots = g.plan(spec);
    let others = other_authorities(spec);
    let mut bytes = Vec::with_capacity(slots.len() * 600);
    write_row(&mut bytes, &header());
    let (mut expected, mut bad) = (Vec::new(), Vec::new());
    for (line, slot) in (2u64..).zip(slots) {
        let row = match slot {
            Slot::Good(i) => {
                let (code, name, _) = &spec.authorities[i];
                let school = g.school(*code);
                let row = g.render(&school, name);
                if i == 0 {
                    g.first_urns.push(school.urn);
                }
                expected.push(school);
                row
            }
            Slot::Other => {
                let (code, name) = &others[g.rng.below(others.len())];
                let school = g.school(*code);
                g.render(&school, name)
            }
            Slot::Bad(kind) => {
                bad.push((line, kind));
                g.bad_row(&spec.authorities[0], kind)
            }
        };
        write_row(&mut bytes, &row.0);
    }
    let other_rows = spec.other_rows;
    Extract { bytes, expected, bad, other_rows }
}

/// Encodes text as Windows-1252; characters it lacks become `?`.
fn to_windows_1252(s: &str) -> Vec<u8> {
    if s.is_ascii() {
        return s.as_bytes().to_vec();
    }
    s.chars().map(encode_char).collect()
}

fn encode_char(c: char) -> u8 {
    let special = || HIGH.chars().position(|h| h == c).and_then(|p| u8::try_from(p).ok());
    match u8::try_from(c) {
        Ok(b) if !(0x80..=0x9f).contains(&b) => b,
        _ if c == '\u{fffd}' => b'?',
        _ => special().map_or(b'?', |p| 0x80 + p),
    }
}

/// One CSV record and its CRLF; a field with a comma, quote or line break is quoted.
fn write_row<S: AsRef<str>>(out: &mut Vec<u8>, cells: &[S]) {
    let mut line = String::with_capacity(1024);
    for (i, cell) in cells.iter().map(AsRef::as_ref).enumerate() {
        if i > 0 {
            line.push(',');
        }
        if cell.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
            line.extend(['"'].into_iter().chain(cell.replace('"', "\"\"").chars()).chain(['"']));
        } else {
            line.push_str(cell);
        }
    }
    line.push_str("\r\n");
    out.extend(to_windows_1252(&line));
}

/// Authorities for the rows the importer must ignore: none of `spec.authorities`.
fn other_authorities(spec: &ExtractSpec) -> Vec<(u16, String)> {
    let mut seen: HashSet<u16> = spec.authorities.iter().map(|a| a.0).collect();
    let known = OTHER_LAS.split(',').filter_map(|e| e.split_once(':'));
    let known = known.filter_map(|(c, n)| Some((c.parse().ok()?, n.to_owned())));
    let spare = (201..=999).map(|c| (c, format!("Authority {c}")));
    known.chain(spare).filter(|(c, _)| seen.insert(*c)).take(16).collect()
}

fn columns() -> &'static HashMap<&'static str, usize> {
    static COLUMNS: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    COLUMNS.get_or_init(|| header().into_iter().zip(0..).collect())
}

/// [`FILLER`] as (column index, choices).
fn filler() -> &'static [(usize, Vec<&'static str>)] {
    static FILLER_CELLS: OnceLock<Vec<(usize, Vec<&'static str>)>> = OnceLock::new();
    FILLER_CELLS.get_or_init(|| {
        let cells = FILLER.split(';').filter_map(|e| e.split_once('='));
        let cells = cells.filter_map(|(column, choices)| Some((*columns().get(column)?, choices.split('|').collect())));
        cells.collect()
    })
}

fn dmy(date: Option<NaiveDate>) -> String {
    opt(date.map(|d| d.format("%d-%m-%Y")))
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The `i`th of the `|`-separated `names`, or "".
fn nth(names: &'static str, i: u8) -> &'static str {
    names.split('|').nth(usize::from(i)).unwrap_or_default()
}

/// The cells of one row, set by column name.
struct Row(Vec<String>);

impl Row {
    fn set(&mut self, name: &str, value: impl ToString) {
        let index = columns().get(name).copied();
        debug_assert!(index.is_some(), "no column {name}");
        if let Some(cell) = index.and_then(|i| self.0.get_mut(i)) {
            *cell = value.to_string();
        }
    }
}

/// SplitMix64.
#[derive(Default)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0..n; n must not be 0.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// lo..=hi.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next_u64() % u64::from(hi - lo + 1)) as u32
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    /// One of the `sep`-separated words of `list`.
    fn word(&mut self, list: &'static str, sep: char) -> &'static str {
        let n = list.split(sep).count();
        list.split(sep).nth(self.below(n)).unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Good(usize),
    Other,
    Bad(BadRow),
}

#[derive(Default)]
struct Generator {
    rng: Rng,
    urns: HashSet<u32>,
    numbers: HashMap<u16, HashSet<u16>>,
    first_urns: Vec<u32>,
    serial: u64,
}

impl Generator {
    /// Row kinds in file order: shuffled, each duplicate after a good row of the first authority.
    fn plan(&mut self, spec: &ExtractSpec) -> Vec<Slot> {
        let good = spec.authorities.iter().enumerate();
        let good = good.flat_map(|(i, a)| std::iter::repeat_n(Slot::Good(i), a.2));
        let mut slots: Vec<Slot> = (good.chain(std::iter::repeat_n(Slot::Other, spec.other_rows)))
            .chain(spec.bad_rows.iter().map(|&b| Slot::Bad(b)))
            .collect();
        for i in (1..slots.len()).rev() {
            let j = self.rng.below(i + 1);
            slots.swap(i, j);
        }
        for i in 0..slots.len() {
            if slots[i] == Slot::Bad(BadRow::DuplicateUrn)
                && let Some(first) = slots.iter().position(|s| *s == Slot::Good(0))
                && first > i
            {
                slots.swap(i, first);
            }
        }
        slots
    }

    fn school(&mut self, la_code: u16) -> ExpectedSchool {
        let type_code = self.type_code();
        let phase_code = self.phase(type_code);
        let status_code = match self.rng.below(100) {
            0..80 => 1,
            80..92 => 2,
            92..95 => 3,
            _ => 4,
        };
        let (low_age, high_age) = self.ages(type_code, phase_code);
        let (open_date, close_date) = self.dates(status_code);
        let on_roll = status_code != 4 && !self.rng.chance(12);
        ExpectedSchool {
            urn: self.urn(),
            la_code,
            establishment_number: self.establishment_number(la_code, type_code, phase_code),
            name: self.name(type_code, phase_code),
            type_code,
            phase_code,
            status_code,
            low_age,
            high_age,
            number_on_roll: on_roll.then(|| self.pupils(type_code, phase_code)),
            postcode: (!self.rng.chance(5)).then(|| self.postcode()),
            open_date,
            close_date,
        }
    }

    fn type_code(&mut self) -> u16 {
        let mut roll = self.rng.next_u64() % TYPES.iter().map(|t| t.3).sum::<u64>();
        for (code, _, _, weight) in TYPES {
            if roll < weight {
                return code;
            }
            roll -= weight;
        }
        1
    }

    fn phase(&mut self, type_code: u16) -> u8 {
        match type_code {
            15 => 1,
            7 | 14 | 44 => 0,
            11 => self.rng.pick(&[7, 2, 4, 0]),
            1 | 2 | 3 | 5 => self.rng.pick(&[2, 2, 2, 2, 2, 4, 3, 5]),
            _ => self.rng.pick(&[2, 2, 4, 4, 7, 6]),
        }
    }

    /// Statutory ages; nurseries and PRUs sometimes have none.
    fn ages(&mut self, type_code: u16, phase: u8) -> (Option<u8>, Option<u8>) {
        if matches!(type_code, 14 | 15) && self.rng.chance(30) {
            return (None, None);
        }
        let options: &[(u8, u8)] = match (type_code, phase) {
            (15, _) => &[(2, 5), (3, 5)],
            (14, _) => &[(5, 16), (11, 16), (14, 16)],
            (_, 0) => &[(2, 19), (3, 19), (11, 25), (4, 19)],
            (_, 2) => &[(4, 11), (3, 11), (4, 7), (7, 11)],
            (_, 3) => &[(8, 12), (9, 13)],
            (_, 4) => &[(11, 16), (11, 18)],
            (_, 5) => &[(9, 13), (10, 14)],
            (_, 6) => &[(16, 19)],
            _ => &[(4, 18), (3, 19)],
        };
        let (low, high) = self.rng.pick(options);
        (Some(low), Some(high))
    }

    fn date(&mut self, from_year: u32, to_year: u32) -> NaiveDate {
        let year = self.rng.range(from_year, to_year) as i32;
        let (month, day) = (self.rng.range(1, 12), self.rng.range(1, 28));
        NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
    }

    /// Closed schools opened before 2000 and closed after; no others have a close date.
    fn dates(&mut self, status: u8) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let open = match status {
            2 => (!self.rng.chance(30)).then(|| self.date(1950, 1999)),
            4 => Some(self.date(2026, 2027)),
            _ => self.rng.chance(55).then(|| self.date(1950, 2024)),
        };
        (open, (status == 2).then(|| self.date(2000, 2024)))
    }

    fn pupils(&mut self, type_code: u16, phase: u8) -> u32 {
        let (lo, hi) = match (type_code, phase) {
            (15, _) => (20, 150),
            (14, _) => (5, 120),
            (_, 0) => (20, 300),
            (_, 2 | 3) => (30, 700),
            _ => (400, 2000),
        };
        self.rng.range(lo, hi)
    }

    fn urn(&mut self) -> u32 {
        loop {
            let urn = self.rng.range(100_000, 999_999);
            if self.urns.insert(urn) {
                return urn;
            }
        }
    }

    /// Unique in the authority: from the range for the kind of school, else any free one.
    fn establishment_number(&mut self, la: u16, type_code: u16, phase: u8) -> u16 {
        let (lo, hi) = match (type_code, phase) {
            (15, _) => (1000, 1099),
            (14, _) => (1100, 1199),
            (7 | 44, _) => (7000, 7999),
            (_, 1..=3) => (2000, 2999),
            _ => (4000, 4999),
        };
        let start = self.rng.range(0, u32::from(hi - lo)) as u16;
        let used = self.numbers.entry(la).or_default();
        let preferred = (0..=hi - lo).map(|k| lo + (start + k) % (hi - lo + 1));
        let number = preferred.chain(1000..=9999).find(|n| !used.contains(n));
        let number = number.expect("at most 9,000 establishments in one authority");
        used.insert(number);
        number
    }

    /// Every 7th name has a comma, every 7th quotes and every 7th text beyond ASCII.
    fn name(&mut self, type_code: u16, phase: u8) -> String {
        self.serial += 1;
        let place = self.rng.word(PLACES, ',');
        let saint = self.rng.word(SAINTS, ',');
        let other = self.rng.word(PLACES, ',');
        let name = self.base_name(type_code, phase, place);
        match (self.serial % 7, self.serial / 7 % 3) {
            (0, _) => format!("{name}, {other}"),
            (3, _) => format!("St {saint}'s, Church of England \"Aided\" School"),
            (5, 0) => format!("{} Primary School", self.rng.word(ACCENTED, ',')),
            (5, 1) => format!("St {saint}\u{2019}s Catholic Primary School"),
            (5, _) => format!("{other} Federation \u{2013} {name}"),
            _ => name,
        }
    }

    fn base_name(&mut self, type_code: u16, phase: u8, place: &str) -> String {
        let r = &mut self.rng;
        let suffix = match (type_code, phase) {
            (15, _) => "Nursery School",
            (14, _) => r.word("Pupil Referral Unit|Short Stay School|Centre", '|'),
            (7 | 44, _) => r.word("School|Special School|Academy", '|'),
            (2 | 3, 2 | 3) => {
                let church = r.word("Church of England|Catholic|CofE", '|');
                let kind = r.word("Primary School|Junior School|Infant School", '|');
                return format!("St {}'s {church} {kind}", r.word(SAINTS, ','));
            }
            (28 | 34 | 35, 2 | 3) => r.word("Primary Academy|Academy|Primary School", '|'),
            (_, 2 | 3) => r.word("Primary School|Infant School|Junior School", '|'),
            (_, 6) => "Sixth Form College",
            (11, _) => r.word("House School|Preparatory School|College", '|'),
            (28 | 34 | 35, _) => r.word("Academy|High School|School", '|'),
            _ => r.word("High School|School|Community College|Secondary School", '|'),
        };
        format!("{place} {suffix}")
    }

    /// A valid UK postcode in normal form: outward A9, A99, AA9, AA99, A9A or AA9A.
    fn postcode(&mut self) -> String {
        const INWARD: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
        let r = &mut self.rng;
        let (one, two) = ("B|E|G|L|M|N|S|W", "NG|LS|BS|CB|OX|YO|NE|DE|LE|CV|SK|PE");
        let (area, district, letter) = match r.below(6) {
            0 => (r.word(one, '|'), r.range(1, 9), ""),
            1 => (r.word(one, '|'), r.range(10, 99), ""),
            2 => (r.word(two, '|'), r.range(1, 9), ""),
            3 => (r.word(two, '|'), r.range(10, 99), ""),
            4 => (r.word("E|N|W", '|'), r.range(1, 9), r.word("A|C|D|H|J|K|P|T|U", '|')),
            _ => (r.word("EC|SW|WC", '|'), r.range(1, 4), r.word("A|B|H|M|N|V|X|Y", '|')),
        };
        let (a, b) = (char::from(r.pick(INWARD)), char::from(r.pick(INWARD)));
        format!("{area}{district}{letter} {}{a}{b}", r.range(0, 9))
    }

    /// How a person might have typed the postcode.
    fn spell_postcode(&mut self, postcode: &str) -> String {
        match self.rng.below(12) {
            0 => postcode.to_lowercase(),
            1 => postcode.replace(' ', ""),
            2 => postcode.replace(' ', "  "),
            3 => format!("{postcode} "),
            4 => postcode.to_lowercase().replace(' ', ""),
            _ => postcode.to_owned(),
        }
    }

    fn render(&mut self, s: &ExpectedSchool, la_name: &str) -> Row {
        let mut r = Row(vec![String::new(); COLUMN_COUNT]);
        for (column, choices) in filler() {
            r.0[*column] = self.rng.pick(choices).to_owned();
        }
        let kind = TYPES.iter().find(|t| t.0 == s.type_code);
        r.set("URN", s.urn);
        r.set("LA (code)", s.la_code);
        r.set("LA (name)", la_name);
        r.set("EstablishmentNumber", s.establishment_number);
        r.set("EstablishmentName", &s.name);
        r.set("TypeOfEstablishment (code)", s.type_code);
        r.set("TypeOfEstablishment (name)", kind.map_or("", |t| t.1));
        r.set("EstablishmentTypeGroup (name)", kind.map_or("", |t| t.2));
        r.set("EstablishmentStatus (code)", s.status_code);
        r.set("EstablishmentStatus (name)", nth(STATUSES, s.status_code));
        r.set("OpenDate", dmy(s.open_date));
        r.set("CloseDate", dmy(s.close_date));
        r.set("PhaseOfEducation (code)", s.phase_code);
        r.set("PhaseOfEducation (name)", nth(PHASES, s.phase_code));
        r.set("StatutoryLowAge", opt(s.low_age));
        r.set("StatutoryHighAge", opt(s.high_age));
        r.set("NumberOfPupils", opt(s.number_on_roll));
        let postcode = s.postcode.as_deref().map(|p| self.spell_postcode(p));
        r.set("Postcode", opt(postcode));
        self.fill_sen(&mut r, s);
        r
    }

    /// The SEN cells: pupil counts and resourced provision.
    fn fill_sen(&mut self, r: &mut Row, s: &ExpectedSchool) {
        let g = &mut self.rng;
        if let Some(roll) = s.number_on_roll {
            let (stat, no_stat) = match s.type_code {
                7 | 44 => (roll - roll / 20, 0),
                _ => (roll * g.range(0, 4) / 100, roll * g.range(8, 20) / 100),
            };
            r.set("SENStat", stat);
            r.set("SENNoStat", no_stat);
            r.set("CensusDate", "16-01-2025");
        }
        let provision = g.below(20);
        let label = "Resourced provision|SEN unit|Resourced provision and SEN unit|Not applicable";
        r.set("TypeOfResourcedProvision (name)", nth(label, provision as u8));
        if matches!(provision, 0 | 2) {
            r.set("ResourcedProvisionCapacity", g.range(6, 30));
        }
        if matches!(provision, 1 | 2) {
            r.set("SenUnitCapacity", g.range(4, 20));
        }
        if provision < 3 || matches!(s.type_code, 7 | 44) {
            r.set("SEN1 (name)", g.word(SEN_NEEDS, '|'));
        }
    }

    /// A row of `authority` that is good but for the defect `kind`.
    fn bad_row(&mut self, authority: &(u16, String, usize), kind: BadRow) -> Row {
        let school = self.school(authority.0);
        let mut row = self.render(&school, &authority.1);
        let earlier = self.first_urns.get(self.rng.below(self.first_urns.len().max(1)));
        match kind {
            BadRow::BadUrn => row.set("URN", format!("{}A456", self.rng.range(10, 99))),
            BadRow::BadPostcode => row.set("Postcode", "ZZ 123"),
            BadRow::BadOpenDate => row.set("OpenDate", "31-02-2019"),
            BadRow::MissingName => row.set("EstablishmentName", ""),
            BadRow::BadPhaseCode => row.set("PhaseOfEducation (code)", 9),
            BadRow::BadEstablishmentNumber => row.set("EstablishmentNumber", "20A1"),
            BadRow::WrongColumnCount => row.0.truncate(20),
            BadRow::DuplicateUrn => row.set("URN", opt(earlier)),
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BadRow::*;

    const ALL_BAD: [BadRow; 8] = [
        BadUrn,
        BadPostcode,
        BadOpenDate,
        MissingName,
        BadPhaseCode,
        BadEstablishmentNumber,
        WrongColumnCount,
        DuplicateUrn,
    ];
    /// The columns the importer reads, in file order.
    const USED: &str = "URN|LA (code)|LA (name)|EstablishmentNumber|EstablishmentName|\
        TypeOfEstablishment (code)|TypeOfEstablishment (name)|EstablishmentTypeGroup (name)|\
        EstablishmentStatus (code)|EstablishmentStatus (name)|OpenDate|CloseDate|\
        PhaseOfEducation (code)|PhaseOfEducation (name)|StatutoryLowAge|StatutoryHighAge|\
        NumberOfPupils|Postcode|TypeOfResourcedProvision (name)|ResourcedProvisionCapacity|\
        SenUnitCapacity|SENStat|SENNoStat";

    fn spec(seed: u64, rows: usize) -> ExtractSpec {
        let authorities = vec![(891, "Nottinghamshire".into(), rows), (892, "Nottingham".into(), rows)];
        ExtractSpec { authorities, other_rows: 30, bad_rows: ALL_BAD.to_vec(), seed }
    }

    fn col(name: &str) -> usize {
        columns()[name]
    }

    /// The file's records, decoded from Windows-1252 and split into fields.
    fn records(bytes: &[u8]) -> Vec<Vec<String>> {
        let high = |b: u8| HIGH.chars().nth(usize::from(b - 0x80)).unwrap();
        let text: String =
            bytes.iter().map(|&b| if (0x80..0xa0).contains(&b) { high(b) } else { char::from(b) }).collect();
        assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "bare LF");
        text.strip_suffix("\r\n").unwrap().split("\r\n").map(fields).collect()
    }

    fn fields(line: &str) -> Vec<String> {
        let (mut fields, mut cell, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => cell.extend(chars.next()),
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(std::mem::take(&mut cell)),
                _ => cell.push(c),
            }
        }
        fields.push(cell);
        fields
    }

    fn normal_form(written: &str) -> Option<String> {
        let s = written.split_whitespace().collect::<String>().to_uppercase();
        (!s.is_empty()).then(|| format!("{} {}", &s[..s.len() - 3], &s[s.len() - 3..]))
    }

    fn is_normal_postcode(p: &str) -> bool {
        let Some((outward, inward)) = p.split_once(' ') else {
            return false;
        };
        let shape: String = outward
            .chars()
            .map(|c| match c {
                'A'..='Z' => 'A',
                '0'..='9' => '9',
                _ => '?',
            })
            .collect();
        let inward = inward.as_bytes();
        ["A9", "A99", "AA9", "AA99", "A9A", "AA9A"].contains(&shape.as_str())
            && inward.len() == 3
            && inward[0].is_ascii_digit()
            && inward[1..].iter().all(|b| b.is_ascii_uppercase() && !b"CIKMOV".contains(b))
    }

    #[test]
    fn header_has_139_unique_names_with_the_used_ones_spread_out() {
        let header = header();
        assert_eq!(header.len(), COLUMN_COUNT);
        assert_eq!(header.iter().collect::<HashSet<_>>().len(), 139);
        assert_eq!(filler().len(), FILLER.split(';').count(), "a FILLER column is misspelt");
        let used: Vec<usize> =
            USED.split('|').map(|name| header.iter().position(|h| *h == name).expect(name)).collect();
        assert!(used[0] > 0 && used.windows(2).all(|w| w[1] > w[0] + 1), "{used:?}");
    }

    #[test]
    fn every_row_is_a_line_and_every_bad_row_is_where_it_says() {
        let extract = generate(&spec(7, 50));
        let rows = records(&extract.bytes);
        assert_eq!(rows.len(), 1 + 2 * 50 + 30 + ALL_BAD.len());
        assert_eq!((extract.expected.len(), extract.bad.len(), extract.other_rows), (100, 8, 30));
        let others = rows[1..].iter().filter(|r| !["891", "892"].contains(&r[col("LA (code)")].as_str()));
        assert_eq!(others.count(), 30);
        assert_eq!(extract.bad.iter().map(|b| b.1).collect::<HashSet<_>>().len(), 8);
        for &(line, kind) in &extract.bad {
            let row = &rows[line as usize - 1];
            let cell = |name| row.get(col(name)).map_or("", String::as_str);
            assert_eq!((cell("LA (code)"), row.len() == 139), ("891", kind != WrongColumnCount), "{kind:?}");
            let earlier = |urn: &str| rows[1..line as usize - 1].iter().any(|r| r[col("URN")] == urn);
            match kind {
                BadUrn => assert!(cell("URN").parse::<u32>().is_err()),
                BadPostcode => assert_eq!(cell("Postcode"), "ZZ 123"),
                BadOpenDate => assert_eq!(cell("OpenDate"), "31-02-2019"),
                MissingName => assert_eq!(cell("EstablishmentName"), ""),
                BadPhaseCode => assert_eq!(cell("PhaseOfEducation (code)"), "9"),
                BadEstablishmentNumber => assert_eq!(cell("EstablishmentNumber"), "20A1"),
                WrongColumnCount => assert_eq!(row.len(), 20),
                DuplicateUrn => assert!(earlier(cell("URN")), "URN {} is not earlier", cell("URN")),
            }
        }
    }

    #[test]
    fn good_rows_read_back_as_expected() {
        let extract = generate(&spec(11, 200));
        let rows = records(&extract.bytes);
        let bad: HashSet<u64> = extract.bad.iter().map(|b| b.0).collect();
        let good = (2..)
            .zip(&rows[1..])
            .filter(|(line, r)| !bad.contains(line) && ["891", "892"].contains(&r[col("LA (code)")].as_str()));
        let good: Vec<_> = good.map(|(_, r)| r).collect();
        assert_eq!(good.len(), extract.expected.len());
        for (row, s) in good.into_iter().zip(&extract.expected) {
            let cell = |name| row[col(name)].as_str();
            assert_eq!((cell("URN"), cell("EstablishmentName")), (s.urn.to_string().as_str(), s.name.as_str()));
            assert_eq!(cell("EstablishmentNumber"), format!("{:04}", s.establishment_number));
            assert_eq!((cell("OpenDate"), cell("CloseDate")), (dmy(s.open_date).as_str(), dmy(s.close_date).as_str()));
            assert_eq!(
                (cell("StatutoryLowAge"), cell("NumberOfPupils")),
                (opt(s.low_age).as_str(), opt(s.number_on_roll).as_str())
            );
            assert_eq!(normal_form(cell("Postcode")), s.postcode);
        }
    }

    #[test]
    fn good_rows_are_varied_and_consistent() {
        let extract = generate(&spec(3, 300));
        let schools = &extract.expected;
        for wanted in [',', '"', '\u{e9}', '\u{2019}', '\u{2013}'] {
            assert!(schools.iter().any(|s| s.name.contains(wanted)), "no name with {wanted}");
        }
        assert!(schools.iter().any(|s| s.number_on_roll.is_none()));
        assert!(schools.iter().any(|s| s.postcode.is_none()));
        assert!(schools.iter().any(|s| s.low_age.is_none() && matches!(s.type_code, 14 | 15)));
        let (mut urns, mut numbers) = (HashSet::new(), HashSet::new());
        for s in schools {
            assert!(urns.insert(s.urn) && (100_000..=999_999).contains(&s.urn));
            assert!(numbers.insert((s.la_code, s.establishment_number)));
            assert!((1000..=9999).contains(&s.establishment_number));
            assert_eq!(s.low_age.is_some(), s.high_age.is_some());
            assert!(s.low_age <= s.high_age && s.high_age <= Some(25));
            assert_eq!(s.close_date.is_some(), s.status_code == 2);
            assert!(s.open_date.zip(s.close_date).is_none_or(|(open, close)| open <= close));
        }
    }

    #[test]
    fn every_expected_postcode_is_in_normal_form() {
        let extract = generate(&spec(5, 1000));
        for postcode in extract.expected.iter().filter_map(|s| s.postcode.as_deref()) {
            assert!(is_normal_postcode(postcode), "{postcode}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        assert_eq!(generate(&spec(42, 50)).bytes, generate(&spec(42, 50)).bytes);
        assert_ne!(generate(&spec(42, 50)).bytes, generate(&spec(43, 50)).bytes);
    }

    #[test]
    fn text_is_windows_1252() {
        let text = "Ren\u{e9}e\u{2019}s \u{2013} \u{201c}x\u{201d} \u{2014} \u{20ac}\u{2018}";
        assert_eq!(to_windows_1252(text), b"Ren\xe9e\x92s \x96 \x93x\x94 \x97 \x80\x91");
        assert_eq!(to_windows_1252("\u{6f22}\u{81}\u{fffd}"), b"???");
        let extract = generate(&spec(7, 50));
        let school = extract.expected.iter().find(|s| s.name.contains('\u{e9}')).expect("a name with \u{e9}");
        let encoded = to_windows_1252(&school.name);
        assert_eq!(encoded.len(), school.name.chars().count());
        assert!(encoded.contains(&0xe9) && extract.bytes.windows(encoded.len()).any(|w| w == encoded));
        assert!(!extract.bytes.windows(2).any(|w| w == "\u{e9}".as_bytes()));
    }
}
