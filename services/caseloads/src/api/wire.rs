//! Wire ↔ domain for the caseloads service; every bad field is named.

use sen_platform::dates::{to_proto, to_proto_opt};
use sen_platform::error::FieldViolations;
use sen_proto::v1 as pb;

use crate::domain::{Capacity, ProfessionalRole, check_fte};
use crate::entity::{case, case_activity, professional};
use crate::store::NewProfessional;
pub use sen_platform::dates::{as_of, required as date};

/// Trimmed, non-blank, bounded text.
pub fn text(value: &str, field: &str, max: usize, errors: &mut FieldViolations) -> Option<String> {
    let value = value.trim();
    let checked = match value.chars().count() {
        0 => Err("is required".to_owned()),
        n if n > max => Err(format!("is {n} characters; at most {max}")),
        _ => Ok(value.to_owned()),
    };
    errors.check(field, checked)
}

/// A professional's details under `prefix`.
pub fn professional(
    input: Option<&pb::ProfessionalFields>,
    prefix: &str,
    errors: &mut FieldViolations,
) -> Option<NewProfessional> {
    let Some(input) = input else {
        errors.add(prefix, "is required");
        return None;
    };
    let f = |name: &str| format!("{prefix}.{name}");
    let person = text(&input.person, &f("person"), 200, errors);
    let name = text(&input.name, &f("name"), 120, errors);
    let role = errors.check(&f("role"), ProfessionalRole::parse(&input.role));
    let fte = errors.check(&f("fte"), check_fte(input.fte));
    let capacity = errors.check(&f("capacity"), Capacity::new(&input.capacity_kind, input.capacity));
    Some(NewProfessional {
        person: person?,
        name: name?,
        role: role?,
        fte: fte?,
        capacity: capacity?,
        active: input.active,
    })
}

/// Wire form of a professional.
pub fn professional_to_proto(p: &professional::Model, links: &[i32]) -> pb::Professional {
    pb::Professional {
        id: i64::from(p.id),
        professional: Some(pb::ProfessionalFields {
            person: p.person.clone(),
            name: p.name.clone(),
            role: p.role.clone(),
            fte: p.fte,
            capacity_kind: p.capacity_kind.clone(),
            capacity: u32::try_from(p.capacity).unwrap_or(0),
            active: p.active,
        }),
        link_schools: links.iter().map(i32::to_string).collect(),
        open_cases: u32::try_from(p.open_cases).unwrap_or(0),
        version: p.version,
    }
}

/// Wire form of a case.
pub fn case_to_proto(c: &case::Model, professional_name: &str, sessions_used: u32) -> pb::Case {
    pb::Case {
        id: i64::from(c.id),
        referral_id: c.referral_id,
        pupil_id: c.pupil_id,
        school_urn: c.school_urn.to_string(),
        kind: c.kind.clone(),
        professional_id: i64::from(c.professional_id),
        professional_name: professional_name.to_owned(),
        status: c.status.clone(),
        allocated_on: Some(to_proto(c.allocated_on)),
        advice_due: to_proto_opt(c.advice_due),
        outcome: c.outcome.clone().unwrap_or_default(),
        sessions_used,
        override_reason: c.override_reason.clone().unwrap_or_default(),
    }
}

/// Wire form of an activity.
pub fn activity_to_proto(a: &case_activity::Model) -> pb::CaseActivity {
    pb::CaseActivity {
        id: i64::from(a.id),
        case_id: i64::from(a.case_id),
        on: Some(to_proto(a.on)),
        kind: a.kind.clone(),
        sessions: u32::try_from(a.sessions).unwrap_or(0),
        note: a.note.clone(),
        recorded_by: a.recorded_by.clone(),
    }
}
