//! Reading a Common Transfer File as a stream of XML events (quick-xml): the
//! header's source school and each `<Pupil>` as the text of the elements the
//! register uses, with the line each starts on. Nothing of the file is held as a
//! tree: one pupil at a time is gathered, then handed on.
//!
//! Refused whole, before any pupil is used: a document type declaration (so no
//! entity, external or internal, is ever declared, let alone expanded: that
//! shuts out XML external entities and the "billion laughs"), a reference to
//! any entity but the five XML predefines, elements nested deeper than any CTF,
//! more pupils than any school, and XML that is not well formed.

use quick_xml::Reader;
use quick_xml::events::Event;

/// The most pupils a file may hold: the largest schools in England have
/// about 4,000 on roll; five times that is no real file.
pub const MAX_PUPILS: usize = 20_000;
/// The deepest nesting of elements accepted (a CTF nests about six deep).
const MAX_DEPTH: usize = 32;
/// The longest text of one element kept; longer text is cut here, which the
/// checks on every field the register keeps then refuse.
const MAX_TEXT: usize = 4096;

/// The header's account of where the file comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawHeader {
    /// `Header/CTFversion`, e.g. `24.0`.
    pub version: String,
    /// `Header/SourceSchool/LEA`: the school's local authority number.
    pub lea: String,
    /// `Header/SourceSchool/Estab`.
    pub estab: String,
    /// `Header/SourceSchool/URN`.
    pub urn: String,
    /// `Header/SourceSchool/SchoolName`.
    pub school_name: String,
    /// `Header/SourceSchool/AcademicYear`: the year the year groups are for, e.g. `2024` for 2024/25.
    pub academic_year: String,
}

/// One spell of SEN provision (`SENhistory/SEN`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawSen {
    /// Line of `<SEN>`.
    pub line: u64,
    /// `StartDate`.
    pub start: String,
    /// `SENprovision`: N, K or E (older files also E… codes of the old code of practice).
    pub provision: String,
    /// `EndDate`, when the spell has ended.
    pub end: String,
}

/// One type of need (`SENneeds/SENneed`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawNeed {
    /// Line of `<SENneed>`.
    pub line: u64,
    /// `SENtype`, e.g. `ASD`.
    pub code: String,
    /// `SENtypeRank`: 1 for the primary need, 2 for the secondary.
    pub rank: String,
}

/// One `<Pupil>` as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawPupil {
    /// Line of `<Pupil>`.
    pub line: u64,
    /// `UPN`.
    pub upn: String,
    /// `Surname` (legal).
    pub surname: String,
    /// `Forename` (legal).
    pub forename: String,
    /// `DOB`.
    pub dob: String,
    /// `BasicDetails/PreferredSurname`.
    pub preferred_surname: String,
    /// `BasicDetails/PreferredForename`.
    pub preferred_forename: String,
    /// `BasicDetails/NCyearActual`.
    pub nc_year: String,
    /// `LookedAfter/InCare`: `true` or `false`; empty when the file does not say.
    pub in_care: String,
    /// `SENhistory/SEN`, in file order.
    pub sen: Vec<RawSen>,
    /// `SENneeds/SENneed`, in file order.
    pub needs: Vec<RawNeed>,
}

/// The file as a whole cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Nothing was sent.
    #[error("the file is empty")]
    Empty,
    /// A document type declaration: entities are never declared nor expanded.
    #[error(
        "line {0}: the file has a document type declaration (<!DOCTYPE>); a CTF has none, and entity declarations are refused"
    )]
    DocType(u64),
    /// A reference to an entity other than the XML predefines.
    #[error("line {line}: the entity reference &{name}; is refused; a CTF uses only the predefined XML entities")]
    Entity {
        /// Where.
        line: u64,
        /// The entity's name.
        name: String,
    },
    /// Not well-formed XML.
    #[error("line {line}: the file is not well-formed XML: {message}")]
    Malformed {
        /// Where.
        line: u64,
        /// The parser's account.
        message: String,
    },
    /// Not a CTF at all.
    #[error("the file is not a Common Transfer File: its root element is <{0}>, not <CTfile>")]
    NotCtf(String),
    /// Nesting deeper than any CTF.
    #[error("line {0}: elements are nested more than {MAX_DEPTH} deep")]
    TooDeep(u64),
    /// More pupils than any school.
    #[error("the file has more than {MAX_PUPILS} pupils, the most an import accepts")]
    TooManyPupils,
}

/// Reads the file: calls `pupil` with each `<Pupil>` as soon as it ends, and
/// returns the header. `pupil` sees the pupils in file order.
pub fn read(bytes: &[u8], mut pupil: impl FnMut(RawPupil)) -> Result<RawHeader, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::Empty);
    }
    let mut reader = Reader::from_reader(bytes);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = true;
    let mut lines = Lines { text: bytes, offset: 0, line: 1 };
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut header = RawHeader::default();
    let mut current: Option<RawPupil> = None;
    let mut pupils = 0usize;
    let mut saw_root = false;
    loop {
        let before = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let line = lines.at(reader.error_position());
                return Err(ReadError::Malformed { line, message: e.to_string() });
            }
        };
        match event {
            Event::DocType(_) => return Err(ReadError::DocType(lines.at(before))),
            Event::Start(start) => {
                let line = lines.at(before);
                let name = start.local_name().as_ref().to_owned();
                if !saw_root {
                    saw_root = true;
                    if name != "CTfile" {
                        return Err(ReadError::NotCtf(name));
                    }
                }
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err(ReadError::TooDeep(line));
                }
                text.clear();
                opened(&path, line, &mut current);
            }
            Event::End(_) => {
                if let Some(done) = closed(&path, std::mem::take(&mut text), &mut header, &mut current) {
                    pupils += 1;
                    if pupils > MAX_PUPILS {
                        return Err(ReadError::TooManyPupils);
                    }
                    pupil(done);
                }
                path.pop();
            }
            Event::Text(t) => push_text(&mut text, &t.xml10_content()),
            Event::CData(c) => push_text(&mut text, &c.into_inner()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => predefined(&r.xml10_content()),
                    Err(_) => None,
                };
                match resolved {
                    Some(c) => push_text(&mut text, c.encode_utf8(&mut [0; 4])),
                    None => {
                        let line = lines.at(before);
                        return Err(ReadError::Entity { line, name: r.xml10_content().into_owned() });
                    }
                }
            }
            Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !saw_root {
        return Err(ReadError::Malformed { line: lines.at(reader.buffer_position()), message: "no element".into() });
    }
    Ok(header)
}

fn predefined(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

fn push_text(text: &mut String, more: &str) {
    if text.len() < MAX_TEXT {
        let room = MAX_TEXT - text.len();
        let mut cut = more.len().min(room);
        while !more.is_char_boundary(cut) {
            cut -= 1;
        }
        text.push_str(&more[..cut]);
        if cut < more.len() {
            // Marks the text as over-long, so no check takes it as complete.
            text.push('…');
        }
    }
}

/// The path below `<Pupil>`, if the element is within one.
fn in_pupil(path: &[String]) -> Option<Vec<&str>> {
    match path {
        [root, data, pupil, rest @ ..] if root == "CTfile" && data == "CTFpupilData" && pupil == "Pupil" => {
            Some(rest.iter().map(String::as_str).collect())
        }
        _ => None,
    }
}

fn opened(path: &[String], line: u64, current: &mut Option<RawPupil>) {
    let Some(rest) = in_pupil(path) else { return };
    match rest.as_slice() {
        [] => *current = Some(RawPupil { line, ..Default::default() }),
        [.., "SENhistory", "SEN"] => {
            if let Some(p) = current {
                p.sen.push(RawSen { line, ..Default::default() });
            }
        }
        [.., "SENneeds", "SENneed"] => {
            if let Some(p) = current {
                p.needs.push(RawNeed { line, ..Default::default() });
            }
        }
        _ => {}
    }
}

/// Files the text of the element that closed; the finished pupil when it was `<Pupil>`.
fn closed(path: &[String], text: String, header: &mut RawHeader, current: &mut Option<RawPupil>) -> Option<RawPupil> {
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    let value = || text.trim().to_owned();
    match names.as_slice() {
        ["CTfile", "Header", "CTFversion"] => header.version = value(),
        ["CTfile", "Header", "SourceSchool", field] => match *field {
            "LEA" => header.lea = value(),
            "Estab" => header.estab = value(),
            "URN" => header.urn = value(),
            "SchoolName" => header.school_name = value(),
            "AcademicYear" => header.academic_year = value(),
            _ => {}
        },
        _ => {}
    }
    let rest = in_pupil(path)?;
    if rest.is_empty() {
        return current.take();
    }
    let pupil = current.as_mut()?;
    match rest.as_slice() {
        ["UPN"] => pupil.upn = value(),
        ["Surname"] => pupil.surname = value(),
        ["Forename"] => pupil.forename = value(),
        ["DOB"] => pupil.dob = value(),
        ["BasicDetails", "PreferredSurname"] | ["PreferredSurname"] => pupil.preferred_surname = value(),
        ["BasicDetails", "PreferredForename"] | ["PreferredForename"] => pupil.preferred_forename = value(),
        ["BasicDetails", "NCyearActual"] | ["NCyearActual"] => pupil.nc_year = value(),
        ["LookedAfter", "InCare"] => pupil.in_care = value(),
        [.., "SENhistory", "SEN", field] => {
            if let Some(sen) = pupil.sen.last_mut() {
                match *field {
                    "StartDate" => sen.start = value(),
                    "SENprovision" => sen.provision = value(),
                    "EndDate" => sen.end = value(),
                    _ => {}
                }
            }
        }
        [.., "SENneeds", "SENneed", field] => {
            if let Some(need) = pupil.needs.last_mut() {
                match *field {
                    "SENtype" => need.code = value(),
                    "SENtypeRank" => need.rank = value(),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    None
}

/// Line numbers from byte offsets, counted forward once over the file.
struct Lines<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl Lines<'_> {
    /// The 1-based line of byte `offset`, skipping the white space before the
    /// next mark-up (an event starts where the previous one ended).
    fn at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset).unwrap_or(usize::MAX).min(self.text.len());
        while offset < self.text.len() && self.text[offset].is_ascii_whitespace() {
            offset += 1;
        }
        if offset > self.offset {
            self.line += self.text[self.offset..offset].iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset = offset;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(xml: &str) -> Result<(RawHeader, Vec<RawPupil>), ReadError> {
        let mut pupils = Vec::new();
        let header = read(xml.as_bytes(), |p| pupils.push(p))?;
        Ok((header, pupils))
    }

    const FILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CTfile>
  <Header>
    <DocumentName>Common Transfer File</DocumentName>
    <CTFversion>24.0</CTFversion>
    <SourceSchool>
      <LEA>886</LEA>
      <Estab>2001</Estab>
      <URN>100001</URN>
      <SchoolName>Oak &amp; Ash Primary</SchoolName>
      <AcademicYear>2024</AcademicYear>
    </SourceSchool>
  </Header>
  <CTFpupilData>
    <Pupil>
      <UPN>A886200124001</UPN>
      <Surname>O&apos;Neill</Surname>
      <Forename>Ava</Forename>
      <DOB>2015-03-02</DOB>
      <BasicDetails>
        <PreferredForename>Avie</PreferredForename>
        <NCyearActual>4</NCyearActual>
      </BasicDetails>
      <SENhistory>
        <SEN>
          <StartDate>2022-09-05</StartDate>
          <SENprovision>K</SENprovision>
        </SEN>
      </SENhistory>
      <SENneeds>
        <SENneed><SENtype>SPLD</SENtype><SENtypeRank>1</SENtypeRank></SENneed>
      </SENneeds>
      <Contacts><Contact><Surname>Not the pupil</Surname></Contact></Contacts>
    </Pupil>
  </CTFpupilData>
</CTfile>
"#;

    #[test]
    fn the_header_and_each_pupil_are_read_with_their_lines() {
        let (header, pupils) = read_all(FILE).unwrap();
        assert_eq!(header.version, "24.0");
        assert_eq!((header.lea.as_str(), header.urn.as_str()), ("886", "100001"));
        assert_eq!(header.school_name, "Oak & Ash Primary");
        assert_eq!(pupils.len(), 1);
        let ava = &pupils[0];
        assert_eq!(ava.line, 15);
        assert_eq!(ava.surname, "O'Neill", "a contact's surname is not the pupil's");
        assert_eq!((ava.preferred_forename.as_str(), ava.nc_year.as_str()), ("Avie", "4"));
        assert_eq!(ava.sen, [RawSen { line: 25, start: "2022-09-05".into(), provision: "K".into(), end: "".into() }]);
        assert_eq!(ava.needs[0].code, "SPLD");
        assert_eq!(ava.needs[0].line, 31);
    }

    #[test]
    fn a_document_type_declaration_is_refused_before_any_entity_is_read() {
        let xxe = r#"<?xml version="1.0"?>
<!DOCTYPE CTfile [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<CTfile><Header/><CTFpupilData><Pupil><Surname>&xxe;</Surname></Pupil></CTFpupilData></CTfile>"#;
        assert_eq!(read_all(xxe).unwrap_err(), ReadError::DocType(2));
        let laughs = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]>\n<CTfile>&lol9;</CTfile>",
            (1..10)
                .map(|i| format!("<!ENTITY lol{i} \"{}\">", format!("&lol{};", i - 1).repeat(10)))
                .collect::<String>()
        );
        assert_eq!(read_all(&laughs).unwrap_err(), ReadError::DocType(2));
    }

    #[test]
    fn an_undeclared_entity_is_refused_and_the_predefined_ones_read() {
        let err = read_all("<CTfile><Header><CTFversion>&ver;</CTFversion></Header></CTfile>").unwrap_err();
        assert!(matches!(err, ReadError::Entity { ref name, .. } if name == "ver"), "{err:?}");
        let (header, _) =
            read_all("<CTfile><Header><CTFversion>&#50;4&#x2E;0 &lt;&gt;</CTFversion></Header></CTfile>").unwrap();
        assert_eq!(header.version, "24.0 <>");
    }

    #[test]
    fn a_file_that_is_not_a_ctf_or_not_xml_is_refused_whole() {
        assert_eq!(read_all("  \n").unwrap_err(), ReadError::Empty);
        assert_eq!(read_all("<Schools/>").unwrap_err(), ReadError::NotCtf("Schools".into()));
        let err = read_all("<CTfile>\n<Header></CTfile>").unwrap_err();
        assert!(matches!(err, ReadError::Malformed { line: 2, .. }), "{err:?}");
        let deep = format!("<CTfile>{}{}</CTfile>", "<a>".repeat(40), "</a>".repeat(40));
        assert!(matches!(read_all(&deep).unwrap_err(), ReadError::TooDeep(_)));
    }

    #[test]
    fn more_pupils_than_any_school_is_refused_whole() {
        let pupils = "<Pupil><UPN>x</UPN></Pupil>".repeat(MAX_PUPILS + 1);
        let xml = format!("<CTfile><CTFpupilData>{pupils}</CTFpupilData></CTfile>");
        assert_eq!(read_all(&xml).unwrap_err(), ReadError::TooManyPupils);
    }

    #[test]
    fn over_long_text_is_cut_and_marked() {
        let long = "a".repeat(10 * MAX_TEXT);
        let xml = format!("<CTfile><Header><CTFversion>{long}</CTFversion></Header></CTfile>");
        let (header, _) = read_all(&xml).unwrap();
        assert!(header.version.len() <= MAX_TEXT + 3 && header.version.ends_with('…'));
    }
}
