//! Wire ↔ domain. Each request field is checked on its own and the checks are
//! joined ([`AllChecked::all`]), so the caller learns every bad field, named by
//! its path in the request, at once, and a handler gets every parsed value or
//! none: nothing is written when any field is bad.

use chrono::NaiveDate;
use sen_platform::dates::{optional_date, to_proto, to_proto_opt};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, Checked, field, path};
use sen_platform::ids::{LaCode, Urn};
use sen_proto::v1 as pb;

use crate::domain::{
    AgeRange, Email, EstablishmentStatus, EstablishmentType, Laestab, PersonName, Phase, Postcode,
    QualificationStanding, RequiredQualification, School, SchoolFields, SchoolName, SencoAppointment, SencoAward,
    SencoDetails,
};
use crate::store::{Authority, ComplianceItem};

/// A required URN.
pub fn urn(value: &str, name: &str) -> Checked<Urn> {
    field(name, Urn::parse(value))
}

/// The phase enum: unspecified is absent.
pub fn phase(value: i32) -> Result<Option<Phase>, String> {
    match pb::Phase::try_from(value) {
        Ok(pb::Phase::Unspecified) => Ok(None),
        Ok(p) => Phase::from_gias_code((p as i32 - 1) as u8).map(Some),
        Err(_) => Err(format!("{value} is not a phase")),
    }
}

fn status(value: i32) -> Result<EstablishmentStatus, String> {
    match pb::EstablishmentStatus::try_from(value) {
        Ok(pb::EstablishmentStatus::Unspecified) => Err("is required".into()),
        Ok(s) => EstablishmentStatus::from_gias_code(s as i32 as u8),
        Err(_) => Err(format!("{value} is not an establishment status")),
    }
}

/// The editable school fields under `prefix`.
pub fn school_fields(input: Option<&pb::SchoolFields>, tenant: LaCode, prefix: &str) -> Checked<SchoolFields> {
    let input = input.ok_or_else(|| FieldViolations::one(prefix, "is required"))?;
    let f = |name| path(prefix, name);
    let establishment_type = field(
        &f("establishment_type_code"),
        u16::try_from(input.establishment_type_code)
            .map_err(|_| "is not a type code".to_owned())
            .and_then(EstablishmentType::known),
    );
    let ages = match (input.statutory_low_age, input.statutory_high_age) {
        (Some(low), Some(high)) => field(&f("statutory_high_age"), AgeRange::new(low, high).map(Some)),
        (None, None) => Ok(None),
        (Some(_), None) => field(&f("statutory_high_age"), Err("is required with statutory_low_age".into())),
        (None, Some(_)) => field(&f("statutory_low_age"), Err("is required with statutory_high_age".into())),
    };
    let number_on_roll = match input.number_on_roll {
        Some(n) if n > 10_000 => field(&f("number_on_roll"), Err(format!("{n} is more than any school's roll"))),
        n => Ok(n),
    };
    let postcode = if input.postcode.trim().is_empty() {
        Ok(None)
    } else {
        field(&f("postcode"), Postcode::parse(&input.postcode).map(Some))
    };
    let dates = (
        optional_date(input.open_date.as_ref(), &f("open_date")),
        optional_date(input.close_date.as_ref(), &f("close_date")),
    )
        .all()
        .and_then(|(open, close)| {
            field(&f("close_date"), SchoolFields::check_dates(open, close)).map(|()| (open, close))
        });
    let (laestab, name, establishment_type, phase, ages, number_on_roll, postcode, status, (open_date, close_date)) = (
        field(&f("laestab"), Laestab::parse(&input.laestab, tenant)),
        field(&f("name"), SchoolName::parse(&input.name)),
        establishment_type,
        field(&f("phase"), phase(input.phase).and_then(|p| p.ok_or_else(|| "is required".into()))),
        ages,
        number_on_roll,
        postcode,
        field(&f("status"), status(input.status)),
        dates,
    )
        .all()?;
    Ok(SchoolFields {
        laestab,
        name,
        establishment_type,
        phase,
        ages,
        number_on_roll,
        postcode,
        status,
        open_date,
        close_date,
    })
}

fn award(value: i32) -> Result<SencoAward, String> {
    match pb::SencoAward::try_from(value) {
        Ok(pb::SencoAward::Unspecified) => Err("is required".into()),
        Ok(pb::SencoAward::None) => Ok(SencoAward::None),
        Ok(pb::SencoAward::InProgress) => Ok(SencoAward::InProgress),
        Ok(pb::SencoAward::Nasenco) => Ok(SencoAward::Nasenco),
        Ok(pb::SencoAward::NpqSenco) => Ok(SencoAward::NpqSenco),
        Err(_) => Err(format!("{value} is not an award status")),
    }
}

fn award_to_proto(award: SencoAward) -> pb::SencoAward {
    match award {
        SencoAward::None => pb::SencoAward::None,
        SencoAward::InProgress => pb::SencoAward::InProgress,
        SencoAward::Nasenco => pb::SencoAward::Nasenco,
        SencoAward::NpqSenco => pb::SencoAward::NpqSenco,
    }
}

/// The SENCO's details under `prefix`, the award judged on `today`.
pub fn senco_details(input: Option<&pb::SencoFields>, prefix: &str, today: NaiveDate) -> Checked<SencoDetails> {
    let input = input.ok_or_else(|| FieldViolations::one(prefix, "is required"))?;
    let f = |name| path(prefix, name);
    let award = (
        field(&f("award"), award(input.award)),
        optional_date(input.award_achieved_on.as_ref(), &f("award_achieved_on")),
    )
        .all()
        .and_then(|(award, achieved)| {
            field(&f("award_achieved_on"), SencoDetails::check_award(award, achieved, today))
                .map(|()| (award, achieved))
        });
    let (person_name, email, (award, award_achieved_on)) = (
        field(&f("person_name"), PersonName::parse(&input.person_name)),
        field(&f("email"), Email::parse(&input.email)),
        award,
    )
        .all()?;
    Ok(SencoDetails { person_name, email, qualified_teacher: input.qualified_teacher, award, award_achieved_on })
}

/// Wire form of an authority.
pub fn authority_to_proto(a: &Authority) -> pb::Authority {
    pb::Authority { la_code: a.la_code.to_string(), name: a.name.clone() }
}

/// Wire form of a school.
pub fn school_to_proto(s: &School) -> pb::School {
    let f = &s.fields;
    let phase_value = i32::from(f.phase.gias_code()) + 1;
    pb::School {
        urn: s.urn.to_string(),
        laestab: f.laestab.to_string(),
        name: f.name.as_str().to_owned(),
        establishment_type: Some(pb::EstablishmentType {
            code: u32::from(f.establishment_type.code),
            name: f.establishment_type.name.clone(),
            group: f.establishment_type.group.clone(),
        }),
        phase: phase_value,
        statutory_low_age: f.ages.map(|a| u32::from(a.low())),
        statutory_high_age: f.ages.map(|a| u32::from(a.high())),
        number_on_roll: f.number_on_roll,
        postcode: f.postcode.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        status: i32::from(f.status.gias_code()),
        open_date: to_proto_opt(f.open_date),
        close_date: to_proto_opt(f.close_date),
        requires_senco: f.requires_senco(),
        current_senco: s.current_senco.as_ref().map(appointment_to_proto),
        version: s.version,
    }
}

/// Wire form of a school's summary.
pub fn summary_to_proto(s: &School) -> pb::SchoolSummary {
    pb::SchoolSummary {
        urn: s.urn.to_string(),
        name: s.fields.name.as_str().to_owned(),
        phase: i32::from(s.fields.phase.gias_code()) + 1,
    }
}

/// Wire form of an appointment.
pub fn appointment_to_proto(a: &SencoAppointment) -> pb::SencoAppointment {
    pb::SencoAppointment {
        id: a.id,
        urn: a.urn.to_string(),
        person_name: a.details.person_name.as_str().to_owned(),
        email: a.details.email.as_str().to_owned(),
        appointed_on: Some(to_proto(a.appointed_on)),
        ended_on: to_proto_opt(a.ended_on),
        end_reason: a.end_reason.clone().unwrap_or_default(),
        qualified_teacher: a.details.qualified_teacher,
        prior_senco_experience_over_12_months: a.prior_experience_over_12_months,
        award: award_to_proto(a.details.award) as i32,
        award_achieved_on: to_proto_opt(a.details.award_achieved_on),
        award_deadline: to_proto_opt(a.award_deadline()),
        version: a.version,
        qualification_status: standing_to_proto(a.qualification_standing()) as i32,
        required_qualification: match a.qualification_standing() {
            QualificationStanding::WorkingTowards(required) => required_to_proto(required),
            QualificationStanding::Qualified | QualificationStanding::Exempt => {
                pb::SencoRequiredQualification::Unspecified
            }
        } as i32,
    }
}

fn standing_to_proto(standing: QualificationStanding) -> pb::SencoQualificationStatus {
    match standing {
        QualificationStanding::Qualified => pb::SencoQualificationStatus::Qualified,
        QualificationStanding::Exempt => pb::SencoQualificationStatus::Exempt,
        QualificationStanding::WorkingTowards(_) => pb::SencoQualificationStatus::WorkingTowards,
    }
}

fn required_to_proto(required: RequiredQualification) -> pb::SencoRequiredQualification {
    match required {
        RequiredQualification::NasencoOrNpq => pb::SencoRequiredQualification::NasencoOrNpq,
        RequiredQualification::NpqSenco => pb::SencoRequiredQualification::NpqSenco,
    }
}

/// Wire form of a compliance line.
pub fn compliance_item_to_proto(item: &ComplianceItem) -> pb::SencoComplianceItem {
    pb::SencoComplianceItem {
        school: Some(summary_to_proto(&item.school)),
        senco: Some(appointment_to_proto(&item.senco)),
        days_to_deadline: i32::try_from(item.days_to_deadline).unwrap_or(i32::MIN),
    }
}
