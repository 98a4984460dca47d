//! What one call of each kind sends, byte for byte, and how its answer is judged.
//!
//! gRPC requests are framed by hand (a zero flag byte, a four-byte length, the
//! encoded message) so that nothing but the HTTP/2 exchange is timed: the same
//! for the bare echo server, a service called directly and the gateway.

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;
use sen_proto::v1 as pb;

/// Which call to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `/bench.Echo/Echo` with 100 bytes (the ceiling).
    Echo,
    /// `SchoolsService/GetSchool`.
    GetSchool,
    /// `PupilsService/GetPupil`.
    GetPupil,
    /// `GET /api/v1/schools/{urn}` (the JSON API).
    JsonSchool,
    /// `ReferralsService/SubmitReferral`, a new idempotency key every call.
    SubmitReferral,
    /// `GET` of any path (`--path`): a JSON route such as the overview, or a page.
    Get,
}

impl Kind {
    /// Reads a call name as the command line gives it.
    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "echo" => Kind::Echo,
            "get-school" => Kind::GetSchool,
            "get-pupil" => Kind::GetPupil,
            "json-school" => Kind::JsonSchool,
            "submit-referral" => Kind::SubmitReferral,
            "get" => Kind::Get,
            other => {
                return Err(format!(
                    "'{other}' is not a call (echo, get-school, get-pupil, json-school, submit-referral, get)"
                ));
            }
        })
    }

    /// Whether the answer is gRPC (judged by `grpc-status`) or plain HTTP (by the status).
    pub fn is_grpc(self) -> bool {
        !matches!(self, Kind::JsonSchool | Kind::Get)
    }
}

/// The records a call names, found by `discover`.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// A school's URN.
    pub urn: String,
    /// A pupil's id.
    pub pupil: i64,
    /// The pupil's school's URN.
    pub pupil_urn: String,
    /// The path of a `get` call, with its query.
    pub path: String,
}

/// The method and path of a call.
pub fn path(kind: Kind, targets: &Targets) -> (http::Method, String) {
    match kind {
        Kind::Echo => (http::Method::POST, "/bench.Echo/Echo".into()),
        Kind::GetSchool => (http::Method::POST, "/sen.v1.SchoolsService/GetSchool".into()),
        Kind::GetPupil => (http::Method::POST, "/sen.v1.PupilsService/GetPupil".into()),
        Kind::JsonSchool => (http::Method::GET, format!("/api/v1/schools/{}", targets.urn)),
        Kind::SubmitReferral => (http::Method::POST, "/sen.v1.ReferralsService/SubmitReferral".into()),
        Kind::Get => (http::Method::GET, targets.path.clone()),
    }
}

/// The body of call number `n` (only a submission differs from call to call).
pub fn body(kind: Kind, targets: &Targets, n: u64, run: &str) -> Bytes {
    match kind {
        Kind::Echo => frame(&vec![b'x'; 100]),
        Kind::GetSchool => frame(&pb::GetSchoolRequest { urn: targets.urn.clone() }),
        Kind::GetPupil => frame(&pb::GetPupilRequest { id: targets.pupil }),
        Kind::JsonSchool | Kind::Get => Bytes::new(),
        Kind::SubmitReferral => frame(&pb::SubmitReferralRequest {
            referral: Some(referral(targets)),
            idempotency_key: format!("bench-{run}-{n}"),
            // Every call is a new referral for the same pupil: sent as meant, not warned of.
            confirm_duplicate: true,
        }),
    }
}

/// A referral like one a SENCO writes: a few hundred bytes of text.
fn referral(targets: &Targets) -> pb::ReferralBody {
    let consent_day = chrono::Utc::now().date_naive() - chrono::Days::new(7);
    use chrono::Datelike;
    pb::ReferralBody {
        pupil_id: targets.pupil,
        school_urn: targets.pupil_urn.clone(),
        kind: "educational_psychology".into(),
        broad_areas: vec!["communication_and_interaction".into()],
        concern: "Speech is hard to understand; frustration in class is rising and friendships are strained".into(),
        graduated_approach: Some(pb::GraduatedApproach {
            summary: "Two cycles of small-group language work; visual supports; a quiet space at lunch".into(),
            ..Default::default()
        }),
        consent: Some(pb::ParentalConsent {
            given_by: "Parent".into(),
            given_on: Some(pb::Date {
                year: consent_day.year(),
                month: consent_day.month() as i32,
                day: consent_day.day() as i32,
            }),
            method: "signed_form".into(),
        }),
        priority: "routine".into(),
    }
}

/// A gRPC length-prefixed message.
fn frame(message: &impl Message) -> Bytes {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(5 + len);
    buf.put_u8(0);
    buf.put_u32(len as u32);
    // Encoding into a buffer with room enough cannot fail.
    let _ = message.encode(&mut buf);
    buf.freeze()
}

/// Why an answer is not a success, if it is not.
pub fn judge(
    kind: Kind,
    status: http::StatusCode,
    headers: &http::HeaderMap,
    trailers: Option<&http::HeaderMap>,
) -> Result<(), String> {
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    if !kind.is_grpc() {
        return Ok(());
    }
    let grpc_status = trailers.and_then(|t| t.get("grpc-status")).or_else(|| headers.get("grpc-status"));
    match grpc_status.and_then(|v| v.to_str().ok()) {
        Some("0") => Ok(()),
        Some(code) => {
            let message = trailers
                .and_then(|t| t.get("grpc-message"))
                .or_else(|| headers.get("grpc-message"))
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            Err(format!("grpc-status {code}: {message}"))
        }
        None => Err("no grpc-status".into()),
    }
}
