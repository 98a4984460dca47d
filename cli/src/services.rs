//! The services of the platform: the one list that `sen serve`, `sen migrate`,
//! the configuration's `SEN_<PART>_URL` variables, the embedded platform with its
//! demo data, and the gateway's upstreams and readiness loop over. A new service
//! is one entry here: its crate's [`PlatformService`] description.

use sen_platform::config::ServiceAddress;
use sen_platform::service::PlatformService;

/// Every service, in the order they start (each after the services it calls).
pub const SERVICES: [&dyn PlatformService; 4] =
    [&sen_schools::Description, &sen_pupils::Description, &sen_referrals::Description, &sen_caseloads::Description];

/// The service whose part name is `part`.
pub fn by_part(part: &str) -> Option<&'static dyn PlatformService> {
    SERVICES.into_iter().find(|service| service.info().part == part)
}

/// Each service's gRPC name and part, as the gateway routes calls.
pub fn routing() -> Vec<sen_gateway::Fronted> {
    SERVICES.iter().map(|service| (service.info().grpc_name, service.info().part)).collect()
}

/// Each service's part and `SEN_<PART>_URL` variable, as the configuration reads them.
pub fn addresses() -> Vec<ServiceAddress> {
    sen_platform::service::addresses(&SERVICES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_starts_after_the_services_it_calls() {
        for (position, service) in SERVICES.iter().enumerate() {
            for peer in service.info().peers {
                let at = SERVICES.iter().position(|s| s.info().part == *peer);
                assert!(
                    at.is_some_and(|at| at < position),
                    "{} calls {peer}, which starts after it",
                    service.info().part
                );
            }
        }
    }

    #[test]
    fn part_names_and_grpc_names_are_unique() {
        let mut parts: Vec<&str> = SERVICES.iter().map(|s| s.info().part).collect();
        let mut names: Vec<&str> = SERVICES.iter().map(|s| s.info().grpc_name).collect();
        parts.sort();
        parts.dedup();
        names.sort();
        names.dedup();
        assert_eq!((parts.len(), names.len()), (SERVICES.len(), SERVICES.len()));
        assert!(by_part("gateway").is_none(), "the gateway is not one of the services");
    }
}
