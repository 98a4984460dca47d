//! `sen.v1.SchoolsService`: decode, authorise, call the store, encode.
//!
//! Who may call what (the roles of docs/ARCHITECTURE.md). Row-level scope comes from the caller's
//! identity in the store; this table is the role check in front of it.
//!
//! | method | roles |
//! | --- | --- |
//! | CreateAuthority | platform_operator |
//! | ListAuthorities | everyone: all for platform_operator, own for the rest |
//! | GetSchool, ListSchools, ListSencoAppointments | la_manager, case_officer, senco (own school) |
//! | CreateSchool, UpdateSchool, ImportSchools, AppointSenco, UpdateSencoAppointment, EndSencoAppointment | la_manager |
//! | ListSencoCompliance | la_manager, case_officer |
//!
//! Educational psychologists and advisory teachers read the schools they serve;
//! which those are is caseload data, so until the caseloads service records link
//! schools they are refused here rather than shown every school.

mod wire;

use sen_platform::dates::{Clock, checked_as_of, date, not_future_saying, system_clock};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, MOST_DAYS, days, field, version};
use sen_platform::identity::{Identity, Role};
use sen_platform::ids::LaCode;
use sen_platform::paging::Page;
use sen_platform::upload;
use sen_proto::v1 as pb;
use sen_proto::v1::schools_service_server::SchoolsService;
use tonic::{Request, Response, Status, Streaming};

use crate::error::Error;
use crate::gias;
use crate::store::{NewAppointment, OpenFilter, SchoolFilter, Store};

const READERS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::Senco];
/// Who may read the schools themselves: as [`READERS`], and the platform's
/// services (the caseloads service naming the schools of a professional's cases).
const SCHOOL_READERS: &[Role] = &[Role::LaManager, Role::CaseOfficer, Role::Senco, Role::Service];
const MANAGERS: &[Role] = &[Role::LaManager];
const COMPLIANCE_READERS: &[Role] = &[Role::LaManager, Role::CaseOfficer];
/// Largest GIAS extract accepted: real ones are about 60 MB.
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;
/// "Due soon" window of the compliance report when the caller gives none.
const DEFAULT_DUE_WITHIN_DAYS: u32 = 90;

/// The gRPC service.
#[derive(Clone)]
pub struct SchoolsApi {
    store: Store,
    today: Clock,
}

impl SchoolsApi {
    /// A service over `store`, judging dates against the system clock.
    pub fn new(store: Store) -> Self {
        Self::with_clock(store, system_clock())
    }

    /// A service with its own notion of today.
    pub fn with_clock(store: Store, today: Clock) -> Self {
        Self { store, today }
    }
}

fn tenant_of(who: &Identity) -> Result<LaCode, Status> {
    Ok(who.tenant_scope()?.la_code())
}

#[tonic::async_trait]
impl SchoolsService for SchoolsApi {
    #[tracing::instrument(skip_all, fields(la_code = %request.get_ref().la_code))]
    async fn create_authority(
        &self,
        request: Request<pb::CreateAuthorityRequest>,
    ) -> Result<Response<pb::Authority>, Status> {
        Identity::caller(&request, &[Role::PlatformOperator])?;
        let req = request.get_ref();
        let (la_code, name) =
            (field("la_code", LaCode::parse(&req.la_code)), field("name", crate::domain::clean_text(&req.name, 120)))
                .all()?;
        let authority = self.store.create_authority(la_code, &name).await?;
        Ok(Response::new(wire::authority_to_proto(&authority)))
    }

    async fn list_authorities(
        &self,
        request: Request<pb::ListAuthoritiesRequest>,
    ) -> Result<Response<pb::ListAuthoritiesResponse>, Status> {
        let who = Identity::of(&request)?;
        let authorities = if who.role() == Role::PlatformOperator {
            self.store.list_authorities().await?
        } else {
            self.store.own_authority(who.scope()?.tenant()).await?.into_iter().collect()
        };
        Ok(Response::new(pb::ListAuthoritiesResponse {
            authorities: authorities.iter().map(wire::authority_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(urn = %request.get_ref().urn))]
    async fn create_school(&self, request: Request<pb::CreateSchoolRequest>) -> Result<Response<pb::School>, Status> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let (urn, fields) =
            (wire::urn(&req.urn, "urn"), wire::school_fields(req.school.as_ref(), tenant.la_code(), "school")).all()?;
        let school = self.store.create_school(&tenant, urn, &fields).await?;
        Ok(Response::new(wire::school_to_proto(&school)))
    }

    #[tracing::instrument(skip_all, fields(urn = %request.get_ref().urn))]
    async fn get_school(&self, request: Request<pb::GetSchoolRequest>) -> Result<Response<pb::School>, Status> {
        let who = Identity::caller(&request, SCHOOL_READERS)?;
        let urn = wire::urn(&request.get_ref().urn, "urn")?;
        let school = self.store.get_school(&who.scope()?, urn).await?;
        Ok(Response::new(wire::school_to_proto(&school)))
    }

    #[tracing::instrument(skip_all, fields(urn = %request.get_ref().urn))]
    async fn update_school(&self, request: Request<pb::UpdateSchoolRequest>) -> Result<Response<pb::School>, Status> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let (urn, version, fields) = (
            wire::urn(&req.urn, "urn"),
            version(req.version, "version"),
            wire::school_fields(req.school.as_ref(), tenant.la_code(), "school"),
        )
            .all()?;
        let school = self.store.update_school(&tenant, urn, version, &fields).await?;
        Ok(Response::new(wire::school_to_proto(&school)))
    }

    async fn list_schools(
        &self,
        request: Request<pb::ListSchoolsRequest>,
    ) -> Result<Response<pb::ListSchoolsResponse>, Status> {
        let who = Identity::caller(&request, SCHOOL_READERS)?;
        let req = request.get_ref();
        let type_code = req
            .establishment_type_code
            .map(|code| u16::try_from(code).map_err(|_| "is not a type code".to_owned()))
            .transpose();
        let open = match pb::OpenFilter::try_from(req.open) {
            Ok(pb::OpenFilter::Any) => Ok(OpenFilter::Any),
            Ok(pb::OpenFilter::Open) => Ok(OpenFilter::Open),
            Ok(pb::OpenFilter::Closed) => Ok(OpenFilter::Closed),
            Err(_) => Err(format!("{} is not an open filter", req.open)),
        };
        let (page, phase, type_code, open, today, _) = (
            Page::checked(req.page.as_ref(), "page"),
            field("phase", wire::phase(req.phase)),
            field("establishment_type_code", type_code),
            field("open", open),
            checked_as_of(req.as_of.as_ref(), (self.today)()),
            days(req.senco_award_due_within_days.unwrap_or_default(), "senco_award_due_within_days", MOST_DAYS),
        )
            .all()?;
        let filter = SchoolFilter {
            phase,
            type_code,
            open,
            has_current_senco: req.has_current_senco,
            award_overdue: req.senco_award_overdue,
            award_due_within_days: req.senco_award_due_within_days,
            today,
        };
        let (schools, next_page_token) = self.store.list_schools(&who.scope()?, &filter, &page).await?;
        Ok(Response::new(pb::ListSchoolsResponse {
            schools: schools.iter().map(wire::school_to_proto).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn import_schools(
        &self,
        request: Request<Streaming<pb::ImportSchoolsRequest>>,
    ) -> Result<Response<pb::ImportSchoolsResponse>, Status> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let (bytes, dry_run) = upload::gather(request.into_inner(), MAX_IMPORT_BYTES, |m| (m.dry_run, m.chunk)).await?;
        let la_code = tenant_of(&who)?;
        // Decoding and validating ~50,000 rows is CPU work: keep it off the async threads.
        let extract = tokio::task::spawn_blocking(move || gias::read_extract(&bytes, la_code))
            .await
            .map_err(|e| sen_platform::error::internal("import task failed", &e))?
            .map_err(|e| match e {
                gias::ExtractError::TooManyRows => Status::resource_exhausted(e.to_string()),
                e => Error::invalid("chunk", e.to_string()).into(),
            })?;
        let counts = self.store.import_schools(&tenant, &extract.rows, dry_run).await?;
        let placed_elsewhere = self.store.placed_elsewhere(&tenant, &extract.elsewhere).await?;
        let other_authority_rows = extract.other_authority_rows.saturating_sub(placed_elsewhere.len() as u64);
        let mut skipped = extract.skipped;
        skipped.extend(counts.refused);
        skipped.extend(placed_elsewhere);
        skipped.sort_by_key(|row| row.line);
        tracing::info!(
            created = counts.created,
            updated = counts.updated,
            unchanged = counts.unchanged,
            skipped = skipped.len(),
            dry_run,
            "GIAS import"
        );
        Ok(Response::new(pb::ImportSchoolsResponse {
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            skipped: skipped
                .into_iter()
                .map(|s| pb::SkippedRow { line: s.line, urn: s.urn, reason: s.reason })
                .collect(),
            other_authority_rows,
            dry_run,
        }))
    }

    #[tracing::instrument(skip_all, fields(urn = %request.get_ref().urn))]
    async fn appoint_senco(
        &self,
        request: Request<pb::AppointSencoRequest>,
    ) -> Result<Response<pb::SencoAppointment>, Status> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let appointed_on = date(req.appointed_on.as_ref(), "appointed_on").and_then(|d| {
            if d > today + chrono::Duration::days(366) {
                Err(FieldViolations::one("appointed_on", format!("{d} is more than a year ahead")))
            } else {
                Ok(d)
            }
        });
        let (urn, details, appointed_on) =
            (wire::urn(&req.urn, "urn"), wire::senco_details(req.senco.as_ref(), "senco", today), appointed_on)
                .all()?;
        let new = NewAppointment {
            details,
            appointed_on,
            prior_experience_over_12_months: req.prior_senco_experience_over_12_months,
        };
        let appointment = self.store.appoint_senco(&tenant, urn, &new, who.person()).await?;
        Ok(Response::new(wire::appointment_to_proto(&appointment)))
    }

    #[tracing::instrument(skip_all, fields(id = request.get_ref().id))]
    async fn update_senco_appointment(
        &self,
        request: Request<pb::UpdateSencoAppointmentRequest>,
    ) -> Result<Response<pb::SencoAppointment>, Status> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let (version, details) =
            (version(req.version, "version"), wire::senco_details(req.senco.as_ref(), "senco", (self.today)()))
                .all()?;
        let appointment = self.store.update_senco(&tenant, req.id, version, &details).await?;
        Ok(Response::new(wire::appointment_to_proto(&appointment)))
    }

    #[tracing::instrument(skip_all, fields(id = request.get_ref().id))]
    async fn end_senco_appointment(
        &self,
        request: Request<pb::EndSencoAppointmentRequest>,
    ) -> Result<Response<pb::SencoAppointment>, Status> {
        let who = Identity::caller(&request, MANAGERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let today = (self.today)();
        let ended_on = date(req.ended_on.as_ref(), "ended_on").and_then(|d| {
            not_future_saying(d, today, "ended_on", |d| format!("{d} is in the future; record the end when it happens"))
        });
        let reason = req.reason.trim();
        let reason = field(
            "reason",
            match reason.chars().count() {
                0 => Err("is required".to_owned()),
                n if n > 500 => Err("is longer than 500 characters".to_owned()),
                _ => Ok(reason),
            },
        );
        let (ended_on, reason) = (ended_on, reason).all()?;
        let appointment = self.store.end_senco(&tenant, req.id, ended_on, reason).await?;
        Ok(Response::new(wire::appointment_to_proto(&appointment)))
    }

    #[tracing::instrument(skip_all, fields(urn = %request.get_ref().urn))]
    async fn list_senco_appointments(
        &self,
        request: Request<pb::ListSencoAppointmentsRequest>,
    ) -> Result<Response<pb::ListSencoAppointmentsResponse>, Status> {
        let who = Identity::caller(&request, READERS)?;
        let urn = wire::urn(&request.get_ref().urn, "urn")?;
        let history = self.store.senco_history(&who.scope()?, urn).await?;
        Ok(Response::new(pb::ListSencoAppointmentsResponse {
            appointments: history.iter().map(wire::appointment_to_proto).collect(),
        }))
    }

    async fn list_senco_compliance(
        &self,
        request: Request<pb::ListSencoComplianceRequest>,
    ) -> Result<Response<pb::SencoComplianceReport>, Status> {
        let who = Identity::caller(&request, COMPLIANCE_READERS)?;
        let tenant = who.tenant_scope()?;
        let req = request.get_ref();
        let within = match req.due_within_days {
            0 => Ok(DEFAULT_DUE_WITHIN_DAYS),
            days if days > 3 * 366 => Err("is more than three years".to_owned()),
            days => Ok(days),
        };
        let (today, within) =
            (checked_as_of(req.as_of.as_ref(), (self.today)()), field("due_within_days", within)).all()?;
        let report = self.store.compliance(&tenant, today, within).await?;
        Ok(Response::new(pb::SencoComplianceReport {
            as_of: Some(sen_platform::dates::to_proto(today)),
            due_within_days: within,
            without_senco: report.without_senco.iter().map(wire::summary_to_proto).collect(),
            awards_overdue: report.awards_overdue.iter().map(wire::compliance_item_to_proto).collect(),
            awards_due_soon: report.awards_due_soon.iter().map(wire::compliance_item_to_proto).collect(),
            not_qualified_teacher: report.not_qualified_teacher.iter().map(wire::compliance_item_to_proto).collect(),
        }))
    }
}
