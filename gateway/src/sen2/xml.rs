//! The return as the XML file the DfE collection takes: the elements in the
//! 2024 schema's order, text escaped, nothing but elements and text.

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{ActivePlan, Assessment, Flag, NamedPlan, Person, Request, Sen2};

/// The platform's name and release, in the file's header.
const SOFTWARE: &str = "SEN oversight platform";
const RELEASE: &str = env!("CARGO_PKG_VERSION");

struct Writer {
    out: String,
    depth: usize,
}

/// `text` with the five XML specials escaped, and any character XML 1.0 cannot
/// carry (control characters) left out.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

impl Writer {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
    }

    fn date(&mut self, name: &str, date: Option<NaiveDate>) {
        if let Some(date) = date {
            self.leaf(name, &date.format("%Y-%m-%d").to_string());
        }
    }

    fn flag(&mut self, name: &str, flag: Flag) {
        if let Some(value) = flag {
            self.leaf(name, if value { "true" } else { "false" });
        }
    }

    fn some(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(name, text);
        }
    }
}

/// The file, its header stamped `generated`.
pub fn render(sen2: &Sen2, generated: DateTime<Utc>) -> String {
    let mut w = Writer { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), depth: 0 };
    w.open("Message");
    w.open("Header");
    w.open("CollectionDetails");
    w.leaf("Collection", "SEN2");
    w.leaf("Year", &sen2.reference_date.format("%Y").to_string());
    w.date("ReferenceDate", Some(sen2.reference_date));
    w.close("CollectionDetails");
    w.open("Source");
    w.leaf("SourceLevel", "L");
    w.leaf("LEA", &sen2.la);
    w.leaf("SoftwareCode", SOFTWARE);
    w.leaf("Release", RELEASE);
    w.leaf("SerialNo", "001");
    w.leaf("DateTime", &generated.format("%Y-%m-%dT%H:%M:%S").to_string());
    for (name, value) in [("DMO", &sen2.dmo), ("DCO", &sen2.dco)] {
        if matches!(value.as_str(), "Y" | "N" | "R") {
            w.leaf(name, value);
        }
    }
    w.close("Source");
    w.close("Header");
    w.open("Persons");
    for person in &sen2.persons {
        write_person(&mut w, person);
    }
    w.close("Persons");
    w.close("Message");
    w.out
}

fn write_person(w: &mut Writer, person: &Person) {
    w.open("Person");
    w.leaf("Surname", &person.surname);
    w.leaf("Forename", &person.forename);
    w.date("PersonBirthDate", person.birth_date);
    // Not held by the platform: the schema's own codes for "unknown" and
    // "information not yet obtained", and an empty postcode.
    w.leaf("Sex", "U");
    w.leaf("Ethnicity", "NOBT");
    w.leaf("PostCode", "");
    w.some("UPN", Some(person.upn.as_str()).filter(|upn| !upn.is_empty()));
    for request in &person.requests {
        write_request(w, request);
    }
    w.close("Person");
}

fn write_request(w: &mut Writer, request: &Request) {
    w.open("Requests");
    w.date("ReceivedDate", request.received);
    w.flag("RYA", request.rya);
    w.date("RequestOutcomeDate", request.outcome_date);
    w.leaf("RequestOutcome", request.outcome);
    w.flag("RequestMediation", request.mediation);
    w.flag("RequestTribunal", request.tribunal);
    if let Some(assessment) = &request.assessment {
        write_assessment(w, assessment);
    }
    if let Some(active) = &request.active {
        write_active(w, active);
    }
    w.close("Requests");
}

fn write_assessment(w: &mut Writer, assessment: &Assessment) {
    w.open("Assessment");
    w.leaf("AssessmentOutcome", assessment.outcome);
    w.date("AssessmentOutcomeDate", assessment.outcome_date);
    w.flag("AssessmentMediation", assessment.mediation);
    w.flag("AssessmentTribunal", assessment.tribunal);
    w.flag("OtherMediation", assessment.other_mediation);
    w.flag("OtherTribunal", assessment.other_tribunal);
    w.flag("Week20", assessment.week20);
    if let Some(plan) = &assessment.plan {
        write_plan(w, plan);
    }
    w.close("Assessment");
}

/// A placement at a school with a URN: the setting code is for placements
/// without one, and the platform records no SEN unit or resourced provision.
fn write_school(w: &mut Writer, urn: &str) {
    w.some("URN", Some(urn).filter(|urn| !urn.is_empty()));
}

fn write_plan(w: &mut Writer, plan: &NamedPlan) {
    w.open("NamedPlan");
    w.date("StartDate", Some(plan.start));
    w.open("PlanDetail");
    write_school(w, &plan.urn);
    w.leaf("PlacementRank", "1");
    w.leaf("SENunitIndicator", "false");
    w.leaf("ResourcedProvisionIndicator", "false");
    w.close("PlanDetail");
    w.date("CeaseDate", plan.cease_date);
    w.some("CeaseReason", plan.cease_reason.map(|r| r.to_string()).as_deref());
    w.close("NamedPlan");
}

fn write_active(w: &mut Writer, active: &ActivePlan) {
    w.open("ActivePlans");
    w.open("PlacementDetail");
    write_school(w, &active.urn);
    w.leaf("PlacementRank", "1");
    w.date("EntryDate", active.entry_date);
    w.leaf("SENunitIndicator", "false");
    w.leaf("ResourcedProvisionIndicator", "false");
    w.close("PlacementDetail");
    for (rank, code) in active.needs.iter().take(2).enumerate() {
        w.open("SENneed");
        w.leaf("SENtype", code);
        w.leaf("SENtypeRank", &(rank + 1).to_string());
        w.close("SENneed");
    }
    w.date("ReviewMeeting", active.review_meeting);
    w.some("ReviewOutcome", active.review_outcome);
    w.close("ActivePlans");
}
