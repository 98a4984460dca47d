//! The council overview, composed: the gateway asks the four services at once,
//! with the caller's own identity, and answers with whatever came back. A part
//! whose service is down, slow or closed to the caller is named as unavailable;
//! the rest still answers.

use std::future::Future;
use std::time::Duration;

use sen_proto::v1 as pb;
use sen_proto::v1::caseloads_service_client::CaseloadsServiceClient;
use sen_proto::v1::gateway_service_server::{GatewayService, GatewayServiceServer};
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use tonic::{Code, Request, Response, Status};

use crate::caller::Caller;
use crate::upstream::{GrpcService, Upstreams};

/// How long each part may take before it is reported unavailable.
const PART_TIMEOUT: Duration = Duration::from_secs(5);

/// The gateway's own gRPC service.
#[derive(Clone, Debug)]
pub struct OverviewApi {
    upstreams: Upstreams,
}

impl OverviewApi {
    /// Composes from the services in `upstreams`.
    pub fn new(upstreams: Upstreams) -> Self {
        Self { upstreams }
    }

    /// As a tonic service, to be served in-process behind the proxy.
    pub fn into_service(self) -> GatewayServiceServer<Self> {
        GatewayServiceServer::new(self)
    }

    fn channel(&self, service: &str) -> Result<GrpcService, Status> {
        self.upstreams.route(service).ok_or_else(|| Status::unavailable(format!("{service} is not configured")))
    }
}

/// A request for a service, carrying the caller's internal identity and trace.
fn call<T>(caller: &Caller, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(PART_TIMEOUT);
    if let Ok(token) = caller.internal_token.parse() {
        request.metadata_mut().insert(sen_platform::identity::IDENTITY_METADATA_KEY, token);
    }
    sen_platform::telemetry::inject_trace_context(request.metadata_mut());
    request
}

/// Runs one part, turning its failure into an [`pb::UnavailablePart`].
async fn part<T>(
    name: &str,
    call: impl Future<Output = Result<Response<T>, Status>>,
) -> Result<T, pb::UnavailablePart> {
    let reason = match tokio::time::timeout(PART_TIMEOUT, call).await {
        Ok(Ok(response)) => return Ok(response.into_inner()),
        Ok(Err(status)) => match status.code() {
            Code::PermissionDenied => "not available to your role".to_owned(),
            Code::Unavailable => "the service is unavailable".to_owned(),
            Code::DeadlineExceeded | Code::Cancelled => "the service did not answer in time".to_owned(),
            code => format!("the service answered {code:?}"),
        },
        Err(_) => "the service did not answer in time".to_owned(),
    };
    tracing::warn!(part = name, %reason, "overview part unavailable");
    Err(pb::UnavailablePart { part: name.to_owned(), reason })
}

#[tonic::async_trait]
impl GatewayService for OverviewApi {
    async fn get_sen2_return(
        &self,
        request: Request<pb::GetSen2ReturnRequest>,
    ) -> Result<Response<pb::Sen2Return>, Status> {
        crate::sen2::get_sen2_return(&self.upstreams, request).await
    }

    async fn get_overview(&self, request: Request<pb::GetOverviewRequest>) -> Result<Response<pb::Overview>, Status> {
        let caller = request
            .extensions()
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("the overview is served through the gateway only"))?;
        let as_of = request.into_inner().as_of;
        let mut errors = sen_platform::error::FieldViolations::new();
        let judged_on = errors
            .check("as_of", sen_platform::dates::from_proto_opt(as_of.as_ref()))
            .flatten()
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        if !errors.is_empty() {
            return Err(sen_platform::error::invalid_argument(&errors));
        }
        let judged_on = Some(sen_platform::dates::to_proto(judged_on));
        let tenant = caller
            .grant
            .tenant
            .ok_or_else(|| Status::permission_denied("the overview is of one authority"))?
            .to_string();

        let mut schools = SchoolsServiceClient::new(self.channel("sen.v1.SchoolsService")?);
        let mut pupils = PupilsServiceClient::new(self.channel("sen.v1.PupilsService")?);
        let mut pupils_transitions = pupils.clone();
        let mut pupils_appeals = pupils.clone();
        let mut referrals = ReferralsServiceClient::new(self.channel("sen.v1.ReferralsService")?);
        let mut referrals_clock = referrals.clone();
        let mut caseloads = CaseloadsServiceClient::new(self.channel("sen.v1.CaseloadsService")?);

        let (register, compliance, stats, clock, balance, transitions, appeals) = tokio::join!(
            part(
                "register",
                // The figures only: no breakdown by need or year group, which no page of the overview shows.
                pupils.get_register_stats(call(&caller, pb::GetRegisterStatsRequest { as_of, figures_only: true }))
            ),
            part(
                "senco_compliance",
                schools
                    .list_senco_compliance(call(&caller, pb::ListSencoComplianceRequest { as_of, due_within_days: 0 }))
            ),
            part(
                "referrals",
                referrals.get_referral_stats(call(&caller, pb::GetReferralStatsRequest { as_of, months: 12 }))
            ),
            part(
                "statutory_clock",
                // The figures only, from the service's tallies: no request read or judged.
                referrals_clock.get_statutory_clock_report(call(
                    &caller,
                    pb::GetStatutoryClockReportRequest { as_of, year: 0, figures_only: true }
                ))
            ),
            part(
                "caseload_balance",
                caseloads.get_caseload_balance(call(&caller, pb::GetCaseloadBalanceRequest { as_of }))
            ),
            part(
                "transitions_due",
                pupils_transitions.list_transitions_due(call(
                    &caller,
                    // The figures only: counted by the service, no pupil's record read.
                    pb::ListTransitionsDueRequest { as_of, count_only: true, ..Default::default() }
                ))
            ),
            part(
                "appeals",
                pupils_appeals.get_appeal_stats(call(&caller, pb::GetAppealStatsRequest { as_of, years: 0 }))
            ),
        );
        let mut unavailable = Vec::new();
        let register = keep(register, &mut unavailable);
        let senco_compliance = keep(compliance, &mut unavailable);
        let referrals = keep(stats, &mut unavailable);
        let statutory_clock = keep(clock, &mut unavailable);
        let caseload_balance = keep(balance, &mut unavailable);
        let transitions_due = keep(transitions, &mut unavailable);
        let appeals = keep(appeals, &mut unavailable);
        Ok(Response::new(pb::Overview {
            tenant,
            as_of: judged_on,
            register,
            senco_compliance,
            referrals,
            statutory_clock,
            caseload_balance,
            transitions_due,
            appeals,
            unavailable,
        }))
    }
}

/// The part's value, or `None` with the reason noted.
fn keep<T>(result: Result<T, pb::UnavailablePart>, unavailable: &mut Vec<pb::UnavailablePart>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(missing) => {
            unavailable.push(missing);
            None
        }
    }
}
