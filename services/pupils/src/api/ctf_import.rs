//! `ImportCtf`: a school's Common Transfer File, streamed in chunks, read and
//! checked (`crate::ctf`), then imported in one transaction
//! (`store::ctf_import`).
//!
//! Who: la_manager and case_officer for any school of their authority, a
//! SENCO for their own school only; every other role is refused. The file's
//! school is its header's `SourceSchool/URN`; its `LEA`, when given, must be
//! the caller's authority.

use sen_platform::identity::{Identity, Scope};
use sen_platform::upload;
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status, Streaming};

use super::{EDITORS, PupilsApi};
use crate::ctf::{self, CtfError, ReadError};
use crate::error::Error;
use crate::store::{ChangeKind, CtfImport};

/// The largest file accepted: a CTF of a 4,000-pupil school with full
/// histories is a few MiB; the gateway accepts no larger upload either.
pub const MAX_CTF_BYTES: usize = 64 * 1024 * 1024;

impl PupilsApi {
    /// The file, read chunk by chunk (at most [`MAX_CTF_BYTES`]), checked and imported.
    pub(super) async fn import_ctf_file(
        &self,
        request: Request<Streaming<pb::ImportCtfRequest>>,
    ) -> Result<Response<pb::ImportCtfResponse>, Status> {
        let who = Identity::caller(&request, EDITORS)?;
        let scope = who.scope()?;
        let (bytes, dry_run) = upload::gather(request.into_inner(), MAX_CTF_BYTES, |m| (m.dry_run, m.chunk)).await?;
        let today = (self.today)();
        let codes = self.store.need_types(scope.tenant()).await?;
        // Reading and checking thousands of pupils is CPU work: off the async threads.
        let file = tokio::task::spawn_blocking(move || ctf::read_file(&bytes, &codes, today))
            .await
            .map_err(|e| sen_platform::error::internal("import task failed", &e))?
            .map_err(|e| match e {
                CtfError::Read(ReadError::TooManyPupils) => Status::resource_exhausted(e.to_string()),
                e => Error::invalid("chunk", e.to_string()).into(),
            })?;
        self.check_file_school(&who, &scope, &file.school).await?;
        let actor = who.actor();
        let report = self.store.import_ctf(&scope, &actor, &file, dry_run, today).await?;
        tracing::info!(
            school = %file.school.urn,
            created = report.created,
            updated = report.updated,
            unchanged = report.unchanged,
            refused = report.refused.len(),
            dry_run,
            written = report.written,
            "CTF import"
        );
        Ok(Response::new(response(&file.school, report, dry_run)))
    }

    /// The file's school must be the caller's: a SENCO's own; for the council
    /// team, a school of their authority (asked of the schools service).
    async fn check_file_school(&self, who: &Identity, scope: &Scope, school: &ctf::CtfSchool) -> Result<(), Status> {
        let tenant = scope.tenant().la_code();
        if let Some(la) = school.la.filter(|la| *la != tenant) {
            return Err(Error::invalid(
                "Header/SourceSchool/LEA",
                format!("the file's school is in authority {la}, not yours ({tenant})"),
            )
            .into());
        }
        match scope {
            Scope::School(own) if own.urn() != school.urn => Err(Status::permission_denied(format!(
                "this file is school {}'s; a SENCO imports only their own school's file ({})",
                school.urn,
                own.urn()
            ))),
            Scope::School(_) => Ok(()),
            Scope::Tenant(_) => match self.schools.get(who.token(), school.urn).await? {
                Some(_) => Ok(()),
                None => Err(Error::invalid(
                    "Header/SourceSchool/URN",
                    format!("{} is not a school of your authority", school.urn),
                )
                .into()),
            },
            Scope::Caseload(_) => Err(Status::permission_denied("a caseload imports no school's file")),
        }
    }
}

fn response(school: &ctf::CtfSchool, report: CtfImport, dry_run: bool) -> pb::ImportCtfResponse {
    pb::ImportCtfResponse {
        school_urn: school.urn.to_string(),
        ctf_version: school.version.clone(),
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        refused: report
            .refused
            .into_iter()
            .map(|r| pb::RefusedCtfRecord { line: r.line, element: r.element, upn: r.upn, reason: r.reason })
            .collect(),
        changes: report
            .changes
            .into_iter()
            .map(|c| {
                let (kind, moved_from_urn) = match c.kind {
                    ChangeKind::Created => (pb::CtfChangeKind::Created, String::new()),
                    ChangeKind::Updated => (pb::CtfChangeKind::Updated, String::new()),
                    ChangeKind::Moved { from } => (pb::CtfChangeKind::Moved, from.to_string()),
                };
                pb::CtfChange { line: c.line, upn: c.upn, kind: kind as i32, moved_from_urn, what: c.what }
            })
            .collect(),
        dry_run,
        written: report.written,
    }
}
