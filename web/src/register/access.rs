//! Whose register and whose record: who may open a school's register and who
//! may change a pupil's record, the school whose register a reader is looking
//! at, and the school or pupil as the reader may see them (the 404 page when
//! outside their reach).

use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use crate::refusals::{self, Refused};
use crate::session::Session;
use crate::state::Web;

/// Who may open a school's register.
pub const REGISTER_ROLES: &[Role] = &[Role::Senco, Role::LaManager, Role::CaseOfficer];
/// Who may change a pupil's record.
pub const EDITORS: &[Role] = &[Role::Senco, Role::LaManager, Role::CaseOfficer];

/// The school whose register `session` is looking at: a SENCO's own, or the
/// team's choice (`None` when they have not chosen one).
pub fn school_of(session: &Session, chosen: &str) -> Option<String> {
    match session.role() {
        Role::Senco => session.caller.grant.school.map(|urn| urn.to_string()),
        _ => Some(chosen.trim().to_owned()).filter(|urn| !urn.is_empty()),
    }
}

/// The school's name, or a 404 page (outside the reader's reach).
pub async fn school_name(web: &Web, session: &Session, urn: &str) -> Result<String, Refused> {
    let backend = web.backend(session);
    let school =
        async { backend.schools()?.get_school(backend.request(pb::GetSchoolRequest { urn: urn.into() })).await }
            .await
            .map_err(|status| refusals::from_status(session, &status))?;
    Ok(school.into_inner().name)
}

/// The pupil, or the page for the service's refusal (404 outside the reader's reach).
pub async fn get_pupil(web: &Web, session: &Session, id: i64) -> Result<pb::Pupil, Refused> {
    let backend = web.backend(session);
    async { backend.pupils()?.get_pupil(backend.request(pb::GetPupilRequest { id })).await }
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| refusals::from_status(session, &status).into())
}
