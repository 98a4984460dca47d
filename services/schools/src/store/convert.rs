//! Stored rows back into domain types. A row that no longer satisfies the domain
//! rules is reported as corrupt rather than served half-right.

use sen_platform::ids::{LaCode, Urn};

use super::Authority;
use crate::domain::{
    AgeRange, Email, EstablishmentStatus, EstablishmentType, Laestab, PersonName, Phase, Postcode, School,
    SchoolFields, SchoolName, SencoAppointment, SencoAward, SencoDetails,
};
use crate::entity::{authority, school, senco_appointment};
use crate::error::{Error, Result};

fn corrupt(what: &str, id: impl std::fmt::Display) -> impl Fn(String) -> Error {
    let label = format!("{what} {id}");
    move |e| Error::Corrupt(format!("{label}: {e}"))
}

pub(super) fn authority(row: authority::Model) -> Result<Authority> {
    let la_code = LaCode::parse(&row.la_code).map_err(corrupt("authority", &row.la_code))?;
    Ok(Authority { la_code, name: row.name })
}

pub(super) fn school(row: school::Model, current_senco: Option<SencoAppointment>) -> Result<School> {
    let bad = corrupt("school", row.urn);
    let tenant = LaCode::parse(&row.la_code).map_err(&bad)?;
    let ages = match (row.low_age, row.high_age) {
        (Some(low), Some(high)) => Some(
            AgeRange::new(u32::try_from(low).unwrap_or(u32::MAX), u32::try_from(high).unwrap_or(u32::MAX))
                .map_err(&bad)?,
        ),
        _ => None,
    };
    let code = |n: i16| u8::try_from(n).map_err(|_| format!("code {n} out of range"));
    Ok(School {
        urn: Urn::from_stored(row.urn).map_err(&bad)?,
        fields: SchoolFields {
            laestab: Laestab::parse(&row.laestab, tenant).map_err(&bad)?,
            name: SchoolName::parse(&row.name).map_err(&bad)?,
            establishment_type: EstablishmentType {
                code: u16::try_from(row.type_code).map_err(|_| bad("type code out of range".into()))?,
                name: row.type_name,
                group: row.type_group,
            },
            phase: code(row.phase_code).and_then(Phase::from_gias_code).map_err(&bad)?,
            ages,
            number_on_roll: row.number_on_roll.map(|n| u32::try_from(n).unwrap_or(0)),
            postcode: row.postcode.as_deref().map(Postcode::parse).transpose().map_err(&bad)?,
            status: code(row.status_code).and_then(EstablishmentStatus::from_gias_code).map_err(&bad)?,
            open_date: row.open_date,
            close_date: row.close_date,
        },
        version: row.version,
        current_senco,
    })
}

pub(super) fn appointment(row: senco_appointment::Model) -> Result<SencoAppointment> {
    let bad = corrupt("SENCO appointment", row.id);
    Ok(SencoAppointment {
        id: i64::from(row.id),
        urn: Urn::from_stored(row.urn).map_err(&bad)?,
        details: SencoDetails {
            person_name: PersonName::parse(&row.person_name).map_err(&bad)?,
            email: Email::parse(&row.email).map_err(&bad)?,
            qualified_teacher: row.qualified_teacher,
            award: SencoAward::parse(&row.award).map_err(&bad)?,
            award_achieved_on: row.award_achieved_on,
        },
        appointed_on: row.appointed_on,
        prior_experience_over_12_months: row.prior_experience_over_12_months,
        ended_on: row.ended_on,
        end_reason: row.end_reason,
        version: row.version,
    })
}
