//! The route a request is counted and named under: the gRPC method, the JSON
//! route's template, or one of a few fixed paths, so that ids (pupil numbers,
//! referral ids) never become metric labels or span names. Only methods the
//! gateway serves are labels (every `sen.v1` method in the policy table, health
//! and reflection): any other gRPC path, however it was made up, is `unknown`,
//! so a caller cannot add a metric series by inventing paths.

use std::collections::HashSet;
use std::sync::LazyLock;

use axum::extract::Request;

use crate::policy::RULES;
use crate::proxy::is_grpc;

/// A request's route, worked out once at the front of the stack ([`label`]) and
/// read by the span and the metrics after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The route's label ([`route_label`]).
    pub label: String,
    /// Whether the request is a gRPC call.
    pub grpc: bool,
}

impl Route {
    /// The route of `request`: the one [`label`] recorded, or worked out now.
    pub fn of(request: &Request) -> Route {
        request.extensions().get::<Route>().cloned().unwrap_or_else(|| Route::work_out(request))
    }

    fn work_out(request: &Request) -> Route {
        let grpc = is_grpc(request.headers());
        Route { label: route_label(request.uri().path(), grpc), grpc }
    }
}

/// Records the request's [`Route`] in its extensions, once.
pub fn label(mut request: Request) -> Request {
    let route = Route::work_out(&request);
    request.extensions_mut().insert(route);
    request
}

/// The label of every gRPC call not to a method the gateway serves.
pub const UNKNOWN_GRPC: &str = "unknown";

/// The gRPC methods the gateway serves besides the policy table's.
const OWN_METHODS: &[&str] = &[
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// Every gRPC path that is a label of its own.
static KNOWN_METHODS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    RULES.iter().map(|rule| rule.grpc_path()).chain(OWN_METHODS.iter().map(|&m| m.to_owned())).collect()
});

/// The route a request is counted under: the gRPC method, the JSON route's
/// template, or one of a few fixed labels, so that neither ids nor made-up
/// paths become labels.
pub fn route_label(path: &str, grpc: bool) -> String {
    if grpc {
        return if KNOWN_METHODS.contains(path) { path.to_owned() } else { UNKNOWN_GRPC.to_owned() };
    }
    // Literal segments win over placeholders: `/referrals/watch` is not `/referrals/{id}`.
    let best = RULES
        .iter()
        .filter_map(|r| r.http)
        .map(|(_, t)| t)
        .filter(|t| template_matches(t, path))
        .min_by_key(|t| t.matches('{').count());
    if let Some(template) = best {
        return template.to_owned();
    }
    match path {
        "/healthz" | "/readyz" | "/readyz/upstreams" | "/metrics" | "/api/v1/openapi.json" => path.to_owned(),
        _ if path.starts_with("/api/") => "/api/other".into(),
        _ => "other".into(),
    }
}

fn template_matches(template: &str, path: &str) -> bool {
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') || ts == ps => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_never_become_metric_labels() {
        assert_eq!(route_label("/api/v1/pupils/123", false), "/api/v1/pupils/{id}");
        assert_eq!(route_label("/api/v1/pupils/123/history", false), "/api/v1/pupils/{pupil_id}/history");
        assert_eq!(route_label("/api/v1/referrals/watch", false), "/api/v1/referrals/watch");
        assert_eq!(route_label("/api/v1/nothing/here/at/all", false), "/api/other");
        assert_eq!(route_label("/wp-admin", false), "other");
        assert_eq!(route_label("/sen.v1.PupilsService/GetPupil", true), "/sen.v1.PupilsService/GetPupil");
        assert_eq!(route_label("/evil/path", true), "unknown");
    }

    #[test]
    fn only_methods_the_gateway_serves_are_labels() {
        for rule in RULES {
            assert_eq!(route_label(&rule.grpc_path(), true), rule.grpc_path());
        }
        assert_eq!(route_label("/grpc.health.v1.Health/Check", true), "/grpc.health.v1.Health/Check");
        assert_eq!(route_label("/sen.v1.PupilsService/NoSuchMethod", true), "unknown");
        assert_eq!(route_label("/sen.v1.X7f3/Y9", true), "unknown");
        assert_eq!(route_label("/grpc.anything/At/All", true), "unknown");
    }
}
