//! Stored rows back into domain types. A row that no longer satisfies the domain
//! rules is reported as corrupt rather than served half-right.

use sen_platform::ids::Urn;

use crate::domain::{NcYear, NeedCode, Pupil, PupilDetails, SenRecord, SenStatus, Upn};
use crate::entity::pupil;
use crate::error::{Error, Result};

fn corrupt(id: i32) -> impl Fn(String) -> Error {
    move |e| Error::Corrupt(format!("pupil {id}: {e}"))
}

/// A need code as stored.
pub(super) fn need(code: Option<&str>) -> Result<Option<NeedCode>, String> {
    code.map(NeedCode::parse).transpose()
}

/// The SEN record of a stored pupil or history entry. Its codes were checked
/// against the authority's list when written (a council's codes are never
/// removed), so only their form is checked here.
pub(super) fn sen(status: &str, primary: Option<&str>, secondary: Option<&str>) -> Result<SenRecord, String> {
    let status = SenStatus::from_code(status)?;
    let (primary, secondary) = (need(primary)?, need(secondary)?);
    if status == SenStatus::NoSen && (primary.is_some() || secondary.is_some()) {
        return Err("needs recorded on N".into());
    }
    if status != SenStatus::NoSen && primary.is_none() {
        return Err(format!("no primary need on {}", status.code()));
    }
    Ok(SenRecord { status, primary, secondary })
}

pub(super) fn pupil(row: pupil::Model) -> Result<Pupil> {
    let bad = corrupt(row.id);
    Ok(Pupil {
        id: i64::from(row.id),
        details: PupilDetails {
            upn: Upn::parse(&row.upn).map_err(&bad)?,
            legal_forename: row.legal_forename,
            legal_surname: row.legal_surname,
            preferred_forename: row.preferred_forename,
            preferred_surname: row.preferred_surname,
            date_of_birth: row.date_of_birth,
            school_urn: Urn::from_stored(row.school_urn).map_err(&bad)?,
            nc_year_override: row.nc_year_override.as_deref().map(NcYear::parse).transpose().map_err(&bad)?,
            looked_after: row.looked_after,
        },
        sen: sen(&row.sen_status, row.primary_need.as_deref(), row.secondary_need.as_deref()).map_err(&bad)?,
        version: row.version,
    })
}
