//! Who did something, by name where the reader may know it: a referral's
//! timeline, a pupil's history, a case's activity and "allocated to" name people,
//! never their ids.
//!
//! Names come from where they are kept, each asked as the reader, so a name is
//! shown only to someone who may read the record that holds it:
//!
//! - the signed-in person's own, from their sign-in;
//! - professionals' (EPs, advisory teachers), from the caseloads service's list,
//!   which the council team may read;
//! - a SENCO's, from their school's appointments in the schools service, which
//!   the council team and the school's own SENCO may read. A SENCO acts only for
//!   their own school, so whoever acted as SENCO on a record of the school is its
//!   SENCO of that day.
//!
//! Anyone else is named by their role ("a SEN case officer"); the platform's own
//! services by what they are ("the caseloads service").

use std::collections::HashMap;

use chrono::NaiveDate;
use sen_platform::identity::Role;
use sen_proto::v1 as pb;
use sen_vocabulary::ReferralKind;

use crate::backend::Backend;
use crate::session::Session;

/// One SENCO appointment of the school: from, until (open when none), who.
struct Appointment {
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    name: String,
}

/// The people a page may name, looked up once for the page.
#[derive(Default)]
pub struct People {
    me: String,
    my_name: Option<String>,
    team: bool,
    professionals: HashMap<String, String>,
    sencos: Vec<Appointment>,
    school: Option<String>,
}

impl People {
    /// The people a page about records of the school `urn` (if any) may name,
    /// asked as the reader, at once.
    pub async fn look_up(backend: &Backend, session: &Session, urn: Option<&str>) -> Self {
        let team = matches!(session.role(), Role::LaManager | Role::CaseOfficer);
        let reads_school = team || session.role() == Role::Senco;
        let professionals = async {
            if !team {
                return HashMap::new();
            }
            let request = backend.request(pb::ListProfessionalsRequest { include_inactive: true });
            let Ok(mut client) = backend.caseloads() else { return HashMap::new() };
            match client.list_professionals(request).await {
                Ok(team) => team
                    .into_inner()
                    .professionals
                    .into_iter()
                    .filter_map(|p| p.professional)
                    .map(|p| (p.person, p.name))
                    .collect(),
                Err(_) => HashMap::new(),
            }
        };
        let school = async {
            let urn = urn.filter(|_| reads_school)?;
            let mut client = backend.schools().ok()?;
            let request = backend.request(pb::GetSchoolRequest { urn: urn.to_owned() });
            Some(client.get_school(request).await.ok()?.into_inner().name)
        };
        let sencos = async {
            let Some(urn) = urn.filter(|_| reads_school) else { return Vec::new() };
            let Ok(mut client) = backend.schools() else { return Vec::new() };
            let request = backend.request(pb::ListSencoAppointmentsRequest { urn: urn.to_owned() });
            let appointments = match client.list_senco_appointments(request).await {
                Ok(answer) => answer.into_inner().appointments,
                Err(_) => return Vec::new(),
            };
            let day = |d: Option<&pb::Date>| d.and_then(|d| sen_platform::dates::from_proto(d).ok());
            appointments
                .into_iter()
                .map(|a| Appointment {
                    from: day(a.appointed_on.as_ref()),
                    until: day(a.ended_on.as_ref()),
                    name: a.person_name,
                })
                .collect()
        };
        let (professionals, school, sencos) = tokio::join!(professionals, school, sencos);
        let (me, my_name) = (session.person().to_owned(), session.name.clone());
        Self { me, my_name, team, professionals, sencos, school }
    }

    /// The school's name, when the page is about one the reader may see.
    pub fn school(&self) -> Option<&str> {
        self.school.as_deref()
    }

    /// The name of the professional `person`, when the reader may know it.
    pub fn professional(&self, person: &str) -> Option<&str> {
        if person == self.me {
            return self.my_name.as_deref();
        }
        self.professionals.get(person).map(String::as_str)
    }

    /// Who a referral of `kind` is allocated to: by name where the reader may
    /// know them, else what they are ("an advisory teacher").
    pub fn allocated(&self, person: &str, kind: &str) -> String {
        match self.professional(person) {
            Some(name) => name.to_owned(),
            None if matches!(ReferralKind::parse(kind), Ok(ReferralKind::AdvisoryTeacher(_))) => {
                anonymous(Role::AdvisoryTeacher, None)
            }
            None => anonymous(Role::EducationalPsychologist, None),
        }
    }

    /// Who recorded work on a case: its professional (now or before) or a SEN
    /// manager, the only ones who may; named where the reader may know them.
    pub fn recorder(&self, person: &str) -> String {
        if person == self.me {
            return self.who(person, Role::LaManager.as_str(), None);
        }
        match self.professionals.get(person) {
            Some(name) => name.clone(),
            // The team reads every professional: anyone else is a manager.
            None if self.team => "a SEN manager".to_owned(),
            None => "a colleague".to_owned(),
        }
    }

    /// Who `person` in `role` (as a record keeps it) was on day `on`, for
    /// "by …": "Priya Raman (SENCO)", "you", or their role in words.
    pub fn who(&self, person: &str, role: &str, on: Option<NaiveDate>) -> String {
        let Ok(role) = Role::parse(role) else { return "someone".to_owned() };
        if role == Role::Service {
            return format!("the {} service", person.replace('-', " "));
        }
        if person == self.me {
            return match &self.my_name {
                Some(name) => format!("{name} (you)"),
                None => "you".to_owned(),
            };
        }
        let named = match role {
            Role::EducationalPsychologist | Role::AdvisoryTeacher => self.professionals.get(person).cloned(),
            Role::Senco => self.senco_on(on),
            _ => None,
        };
        match named {
            Some(name) => format!("{name} ({})", title(role)),
            None => anonymous(role, self.school.as_deref()),
        }
    }

    /// The school's SENCO on `on` (the current one when no day is known).
    fn senco_on(&self, on: Option<NaiveDate>) -> Option<String> {
        self.sencos
            .iter()
            .find(|a| match on {
                Some(day) => a.from.is_none_or(|from| from <= day) && a.until.is_none_or(|until| day <= until),
                None => a.until.is_none(),
            })
            .map(|a| a.name.clone())
    }
}

/// A role as a title after a name.
fn title(role: Role) -> &'static str {
    match role {
        Role::LaManager => "SEN manager",
        Role::CaseOfficer => "SEN case officer",
        Role::Senco => "SENCO",
        Role::EducationalPsychologist => "educational psychologist",
        Role::AdvisoryTeacher => "advisory teacher",
        Role::PlatformOperator => "platform operator",
        Role::Service => "service",
    }
}

/// Someone of `role` the reader may not know by name.
fn anonymous(role: Role, school: Option<&str>) -> String {
    match (role, school) {
        (Role::Senco, Some(school)) => format!("the SENCO of {school}"),
        (Role::Senco, None) => "the school's SENCO".to_owned(),
        (Role::EducationalPsychologist, _) => "an educational psychologist".to_owned(),
        (Role::AdvisoryTeacher, _) => "an advisory teacher".to_owned(),
        (role, _) => format!("a {}", title(role)),
    }
}

/// The day of an RFC 3339 time as records keep it (`None` when unreadable).
pub fn day_of(at: &str) -> Option<NaiveDate> {
    chrono::DateTime::parse_from_rfc3339(at).ok().map(|t| t.date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn people() -> People {
        People {
            me: "manager-886".into(),
            my_name: Some("Alex Morgan".into()),
            team: true,
            professionals: HashMap::from([("ep-1".to_owned(), "Dr Eve Example".to_owned())]),
            sencos: vec![
                Appointment { from: Some(date(2020, 9, 1)), until: Some(date(2025, 8, 31)), name: "Old Senco".into() },
                Appointment { from: Some(date(2025, 9, 1)), until: None, name: "Priya Raman".into() },
            ],
            school: Some("Oak Primary".into()),
        }
    }

    #[test]
    fn people_the_reader_may_know_are_named_and_the_rest_by_their_role() {
        let p = people();
        assert_eq!(p.who("manager-886", "la_manager", None), "Alex Morgan (you)");
        assert_eq!(p.who("ep-1", "educational_psychologist", None), "Dr Eve Example (educational psychologist)");
        assert_eq!(p.who("ep-2", "educational_psychologist", None), "an educational psychologist");
        assert_eq!(p.who("officer-886", "case_officer", None), "a SEN case officer");
        assert_eq!(p.who("manager-2", "la_manager", None), "a SEN manager");
        assert_eq!(p.who("caseloads", "service", None), "the caseloads service");
        assert_eq!(p.who("pupils-retention", "service", None), "the pupils retention service");
        assert_eq!(p.who("x", "nonsense", None), "someone");
    }

    #[test]
    fn a_senco_is_the_schools_senco_of_the_day() {
        let p = people();
        assert_eq!(p.who("senco-100001", "senco", Some(date(2024, 1, 10))), "Old Senco (SENCO)");
        assert_eq!(p.who("senco-100001", "senco", Some(date(2026, 1, 10))), "Priya Raman (SENCO)");
        assert_eq!(p.who("senco-100001", "senco", None), "Priya Raman (SENCO)");
        assert_eq!(p.who("senco-100001", "senco", Some(date(2019, 1, 1))), "the SENCO of Oak Primary");
        let unknown = People::default();
        assert_eq!(unknown.who("senco-100001", "senco", None), "the school's SENCO");
        assert_eq!(day_of("2026-11-24T10:00:00+00:00"), Some(date(2026, 11, 24)));
    }

    #[test]
    fn the_allocated_professional_is_named_only_where_known() {
        let p = people();
        assert_eq!(p.professional("ep-1"), Some("Dr Eve Example"));
        assert_eq!(p.professional("ep-9"), None);
        assert_eq!(p.allocated("ep-1", "educational_psychology"), "Dr Eve Example");
        assert_eq!(p.allocated("ep-9", "ehc_needs_assessment"), "an educational psychologist");
        assert_eq!(p.allocated("at-9", "advisory_teacher:sensory_hearing"), "an advisory teacher");
        let me = People { me: "ep-1".into(), my_name: Some("Eve".into()), ..People::default() };
        assert_eq!(me.professional("ep-1"), Some("Eve"));
        assert_eq!(me.recorder("ep-1"), "Eve (you)");
        assert_eq!(me.recorder("manager-886"), "a colleague", "a professional does not know who else");
        assert_eq!(p.recorder("ep-1"), "Dr Eve Example");
        assert_eq!(p.recorder("manager-9"), "a SEN manager");
    }
}
