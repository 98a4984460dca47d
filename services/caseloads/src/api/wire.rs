//! Wire ↔ domain for the caseloads service; every bad field is named.

use sen_platform::dates::{from_proto, to_proto};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, Checked, field, path, text};
use sen_proto::v1 as pb;

use crate::domain::{
    Capacity, OfferedReferral, ProfessionalRole, ReferralKind, ReferralState, SuggestionOrder, check_fte,
};
use crate::entity::{case, case_activity, professional};
use crate::error::{Error, Result};
use crate::store::NewProfessional;

/// A professional's details under `prefix`.
pub fn professional(input: Option<&pb::ProfessionalFields>, prefix: &str) -> Checked<NewProfessional> {
    let Some(input) = input else { return Err(FieldViolations::one(prefix, "is required")) };
    let f = |name| path(prefix, name);
    let (person, name, role, fte, capacity) = (
        text(&input.person, &f("person"), 200),
        text(&input.name, &f("name"), 120),
        field(&f("role"), ProfessionalRole::parse(&input.role)),
        field(&f("fte"), check_fte(input.fte)),
        field(&f("capacity"), Capacity::new(&input.capacity_kind, input.capacity)),
    )
        .all()?;
    Ok(NewProfessional { person, name, role, fte, capacity, active: input.active })
}

/// The order of the suggestions a manager asked for: unspecified is room first.
pub fn suggestion_order(value: i32) -> std::result::Result<SuggestionOrder, String> {
    match pb::SuggestionOrder::try_from(value) {
        Ok(pb::SuggestionOrder::Unspecified | pb::SuggestionOrder::RoomFirst) => Ok(SuggestionOrder::RoomFirst),
        Ok(pb::SuggestionOrder::LinkFirst) => Ok(SuggestionOrder::LinkFirst),
        Err(_) => Err(format!("{value} is not an order of suggestions (room first or link first)")),
    }
}

/// The wire value of an order of suggestions.
pub fn suggestion_order_value(order: SuggestionOrder) -> i32 {
    match order {
        SuggestionOrder::RoomFirst => pb::SuggestionOrder::RoomFirst as i32,
        SuggestionOrder::LinkFirst => pb::SuggestionOrder::LinkFirst as i32,
    }
}

/// The referral as the referrals service answered, in the terms allocation
/// judges it by. A kind it does not know means its data is not valid.
pub fn offered_referral(referral: &pb::Referral) -> Result<OfferedReferral> {
    let body = referral.body.clone().unwrap_or_default();
    let state = if referral.status == pb::ReferralStatus::Accepted as i32 {
        ReferralState::Accepted
    } else {
        let name = pb::ReferralStatus::try_from(referral.status).map(|s| s.as_str_name()).unwrap_or("unknown");
        ReferralState::Other(name.to_owned())
    };
    // An EHC needs assessment request is received when its statutory clock starts.
    let received_on = referral
        .clock
        .as_ref()
        .and_then(|c| c.received_on.as_ref())
        .or(referral.submitted_on.as_ref())
        .and_then(|d| from_proto(d).ok());
    Ok(OfferedReferral {
        id: referral.id,
        state,
        kind: ReferralKind::parse(&body.kind).map_err(Error::Corrupt)?,
        received_on,
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
        // The advice's own date and state are read by GetCase and GetMyCaseload.
        advice_due: None,
        outcome: c.outcome.clone().unwrap_or_default(),
        sessions_used,
        override_reason: c.override_reason.clone().unwrap_or_default(),
        pupil_name: String::new(),
        school_name: String::new(),
        advice_state: String::new(),
    }
}

/// Wire form of an activity, with the name of whoever recorded it when known.
pub fn activity_to_proto(a: &case_activity::Model, recorded_by_name: Option<String>) -> pb::CaseActivity {
    pb::CaseActivity {
        id: i64::from(a.id),
        case_id: i64::from(a.case_id),
        on: Some(to_proto(a.on)),
        kind: a.kind.clone(),
        sessions: u32::try_from(a.sessions).unwrap_or(0),
        note: a.note.clone(),
        recorded_by: a.recorded_by.clone(),
        recorded_by_name: recorded_by_name.unwrap_or_default(),
    }
}
