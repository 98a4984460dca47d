//! The services as the web pages call them: typed clients over the same
//! endpoints the proxy uses, each request carrying the signed-in person's
//! internal identity and the trace.

use sen_gateway::caller::Caller;
use sen_gateway::upstream::{GrpcService, Upstreams};
use sen_proto::v1::caseloads_service_client::CaseloadsServiceClient;
use sen_proto::v1::gateway_service_client::GatewayServiceClient;
use sen_proto::v1::pupils_service_client::PupilsServiceClient;
use sen_proto::v1::referrals_service_client::ReferralsServiceClient;
use sen_proto::v1::schools_service_client::SchoolsServiceClient;
use tonic::Status;

/// Clients of the services for one signed-in person.
#[derive(Clone, Debug)]
pub struct Backend {
    upstreams: Upstreams,
    caller: Caller,
}

impl Backend {
    /// Calls made as `caller`.
    pub fn new(upstreams: Upstreams, caller: Caller) -> Self {
        Self { upstreams, caller }
    }

    /// The grant the calls are made under.
    pub fn grant(&self) -> &sen_platform::identity::Grant {
        &self.caller.grant
    }

    /// The authority's schools kept in the gateway (see [`sen_gateway::schools_cache`]).
    pub fn schools_cache(&self) -> &sen_gateway::schools_cache::SchoolsCache {
        self.upstreams.schools_cache()
    }

    fn endpoint(&self, service: &str) -> Result<GrpcService, Status> {
        self.upstreams.route(service).ok_or_else(|| Status::unavailable(format!("{service} is not configured")))
    }

    /// A request carrying the caller's identity (and, for the gateway's own
    /// in-process service, the caller itself).
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(std::time::Duration::from_secs(15));
        if let Ok(token) = self.caller.internal_token.parse() {
            request.metadata_mut().insert(sen_platform::identity::IDENTITY_METADATA_KEY, token);
        }
        sen_platform::telemetry::inject_trace_context(request.metadata_mut());
        request.extensions_mut().insert(self.caller.clone());
        request
    }

    /// The schools service.
    pub fn schools(&self) -> Result<SchoolsServiceClient<GrpcService>, Status> {
        Ok(SchoolsServiceClient::new(self.endpoint("sen.v1.SchoolsService")?))
    }

    /// The pupils service.
    pub fn pupils(&self) -> Result<PupilsServiceClient<GrpcService>, Status> {
        Ok(PupilsServiceClient::new(self.endpoint("sen.v1.PupilsService")?))
    }

    /// The referrals service.
    pub fn referrals(&self) -> Result<ReferralsServiceClient<GrpcService>, Status> {
        // A referral's document (at most 10 MiB) is one answer; tonic's default is 4 MiB.
        Ok(ReferralsServiceClient::new(self.endpoint("sen.v1.ReferralsService")?)
            .max_decoding_message_size(16 * 1024 * 1024))
    }

    /// The caseloads service.
    pub fn caseloads(&self) -> Result<CaseloadsServiceClient<GrpcService>, Status> {
        Ok(CaseloadsServiceClient::new(self.endpoint("sen.v1.CaseloadsService")?))
    }

    /// The gateway's own composed views.
    pub fn gateway(&self) -> Result<GatewayServiceClient<GrpcService>, Status> {
        Ok(GatewayServiceClient::new(self.endpoint("sen.v1.GatewayService")?))
    }
}
