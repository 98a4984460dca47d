//! Every number a caller can send is bounded: each method of every service is
//! called with each numeric field of its request (and of the messages nested in
//! it: dates, paging, filters) set to the extremes of its type, for the roles
//! that may call it, and no call panics or answers INTERNAL or UNKNOWN: out-of-range
//! values are refused as INVALID_ARGUMENT naming the field, or simply find nothing.
//!
//! The gateway's own methods (`GetOverview` and the rest of `GatewayService`)
//! are tried the same way through a running gateway, with bearer tokens, as an
//! outside caller sends them.
//!
//! The requests are built from the services' own descriptors, so a method or
//! field added later is covered without touching this test.

use std::str::FromStr;
use std::time::Duration;

use bytes::{Buf, BufMut};
use http::uri::PathAndQuery;
use prost_reflect::prost::Message as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor, Value,
};
use sen_platform::identity::{IDENTITY_METADATA_KEY, Role};
use sen_platform::testing::Engine;
use sen_proto::v1 as pb;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::TestPlatform;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Status};

/// The services a platform process serves (the gateway's own: [`GATEWAY`]).
const SERVICES: [&str; 4] =
    ["sen.v1.SchoolsService", "sen.v1.PupilsService", "sen.v1.ReferralsService", "sen.v1.CaseloadsService"];

/// The gateway's own service, served by the gateway alone.
const GATEWAY: &str = "sen.v1.GatewayService";

/// Raw protobuf bytes in and out: the request is encoded here from its descriptor.
#[derive(Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        Ok(Some(bytes.to_vec()))
    }
}

/// The extremes of a numeric field's type.
fn extremes(kind: &Kind) -> Vec<Value> {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            vec![Value::I32(i32::MIN), Value::I32(-1), Value::I32(i32::MAX)]
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            vec![Value::I64(i64::MIN), Value::I64(-1), Value::I64(i64::MAX)]
        }
        Kind::Uint32 | Kind::Fixed32 => vec![Value::U32(u32::MAX), Value::U32(u32::MAX / 2 + 1)],
        Kind::Uint64 | Kind::Fixed64 => vec![Value::U64(u64::MAX), Value::U64(u64::MAX / 2 + 1)],
        Kind::Double => {
            vec![Value::F64(f64::MAX), Value::F64(f64::MIN), Value::F64(f64::NAN), Value::F64(f64::INFINITY)]
        }
        Kind::Float => {
            vec![Value::F32(f32::MAX), Value::F32(f32::MIN), Value::F32(f32::NAN), Value::F32(f32::INFINITY)]
        }
        Kind::Enum(_) => vec![Value::EnumNumber(i32::MIN), Value::EnumNumber(-1), Value::EnumNumber(i32::MAX)],
        _ => Vec::new(),
    }
}

/// One way of filling a request: the path of fields from the request down to a
/// numeric one, and the value put there.
struct Case {
    path: Vec<FieldDescriptor>,
    value: Value,
}

impl Case {
    fn name(&self) -> String {
        self.path.iter().map(|f| f.name().to_owned()).collect::<Vec<_>>().join(".")
    }

    fn message(&self, request: &MessageDescriptor) -> DynamicMessage {
        let mut message = DynamicMessage::new(request.clone());
        set(&mut message, &self.path, self.value.clone());
        message
    }
}

fn set(message: &mut DynamicMessage, path: &[FieldDescriptor], value: Value) {
    let Some((field, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        let value = if field.is_list() { Value::List(vec![value]) } else { value };
        message.set_field(field, value);
        return;
    }
    let Kind::Message(inner) = field.kind() else {
        return;
    };
    let mut child = DynamicMessage::new(inner);
    set(&mut child, rest, value);
    let child = Value::Message(child);
    message.set_field(field, if field.is_list() { Value::List(vec![child]) } else { child });
}

/// Every numeric field reachable from `message`, down to `depth` messages deep.
fn cases(message: &MessageDescriptor, prefix: &[FieldDescriptor], depth: usize, out: &mut Vec<Case>) {
    for field in message.fields() {
        let mut path = prefix.to_vec();
        path.push(field.clone());
        match field.kind() {
            Kind::Message(inner) => {
                if depth > 0 && !field.is_map() {
                    cases(&inner, &path, depth - 1, out);
                }
            }
            kind => {
                for value in extremes(&kind) {
                    out.push(Case { path: path.clone(), value });
                }
            }
        }
    }
}

/// Whether a service failed rather than answered: a panic in a handler resets
/// the stream, which the caller sees as CANCELLED; INTERNAL and UNKNOWN are
/// never the answer to a caller's input.
fn broke(status: &Status) -> bool {
    matches!(status.code(), Code::Internal | Code::Unknown | Code::Cancelled)
}

/// A request with every numeric field at once at the `end` (0: low, 1: high)
/// of its type, and every date at the same end of the dates the platform takes,
/// so that sums of a date and a count of days are tried at their largest.
fn everything_at(message: &MessageDescriptor, end: usize, depth: usize) -> DynamicMessage {
    let mut filled = DynamicMessage::new(message.clone());
    for field in message.fields() {
        let value = match field.kind() {
            Kind::Message(inner) if inner.full_name() == "sen.v1.Date" => {
                let (year, month, day) = if end == 0 { (1900, 1, 1) } else { (2200, 12, 31) };
                let mut date = DynamicMessage::new(inner.clone());
                for (name, number) in [("year", year), ("month", month), ("day", day)] {
                    date.set_field_by_name(name, Value::I32(number));
                }
                Some(Value::Message(date))
            }
            Kind::Message(inner) if depth > 0 && !field.is_map() => {
                Some(Value::Message(everything_at(&inner, end, depth - 1)))
            }
            Kind::Message(_) => None,
            kind => {
                let values = extremes(&kind);
                if values.is_empty() { None } else { Some(values[if end == 0 { 0 } else { values.len() - 1 }].clone()) }
            }
        };
        if let Some(value) = value {
            filled.set_field(&field, if field.is_list() { Value::List(vec![value]) } else { value });
        }
    }
    filled
}

/// Who calls: a name for the report, and the metadata that carries their token
/// (the internal identity to a service, `authorization: Bearer` to the gateway).
struct Caller {
    who: &'static str,
    header: &'static str,
    value: String,
}

/// Calls `method` with `body` as `caller` and answers its status (OK when it answered).
async fn call(channel: &Channel, caller: &Caller, method: &MethodDescriptor, body: Vec<u8>) -> Status {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    if let Err(e) = grpc.ready().await {
        return Status::unavailable(format!("not ready: {e}"));
    }
    let Ok(path) = PathAndQuery::from_str(&format!("/{}/{}", method.parent_service().full_name(), method.name()))
    else {
        return Status::internal("bad path");
    };
    let Ok(identity) = MetadataValue::try_from(caller.value.as_str()) else {
        return Status::internal("bad token");
    };
    let answered = if method.is_client_streaming() {
        let mut request = tonic::Request::new(tokio_stream::iter(vec![body]));
        request.metadata_mut().insert(caller.header, identity);
        if method.is_server_streaming() {
            return Status::ok("a bidirectional stream is not exercised");
        }
        grpc.client_streaming(request, path, Raw).await.map(|_| ())
    } else if method.is_server_streaming() {
        let mut request = tonic::Request::new(body);
        request.metadata_mut().insert(caller.header, identity);
        match grpc.server_streaming(request, path, Raw).await {
            // A live stream answers nothing until something changes: its first
            // message, its end or a short wait all show it did not fail.
            Ok(response) => {
                let mut stream = response.into_inner();
                match tokio::time::timeout(Duration::from_millis(200), stream.message()).await {
                    Ok(Err(status)) => Err(status),
                    _ => Ok(()),
                }
            }
            Err(status) => Err(status),
        }
    } else {
        let mut request = tonic::Request::new(body);
        request.metadata_mut().insert(caller.header, identity);
        grpc.unary(request, path, Raw).await.map(|_| ())
    };
    answered.err().unwrap_or_else(|| Status::ok(""))
}

/// Calls every method of `services` with each numeric field at each extreme, and
/// with all at once at each end, as each of `callers`; answers the number of calls
/// made and those that broke.
async fn try_every_method(
    pool: &DescriptorPool,
    channel: &Channel,
    services: &[&str],
    callers: &[Caller],
) -> (usize, Vec<String>) {
    let mut calls = 0;
    let mut broken = Vec::new();
    for service in services {
        let service = pool.get_service_by_name(service).expect("a service of the platform");
        for method in service.methods() {
            let request = method.input();
            let mut all = Vec::new();
            cases(&request, &[], 2, &mut all);
            let mut bodies: Vec<(String, Vec<u8>)> = all
                .iter()
                .map(|case| (format!("{} = {:?}", case.name(), case.value), case.message(&request).encode_to_vec()))
                .collect();
            for end in [0, 1] {
                let label = if end == 0 {
                    "every number and date at its lowest"
                } else {
                    "every number and date at its highest"
                };
                bodies.push((label.to_owned(), everything_at(&request, end, 2).encode_to_vec()));
            }
            for (case, body) in &bodies {
                for caller in callers {
                    calls += 1;
                    let status = call(channel, caller, &method, body.clone()).await;
                    if broke(&status) {
                        broken.push(format!(
                            "{}/{} as {} with {case}: {:?} {}",
                            service.name(),
                            method.name(),
                            caller.who,
                            status.code(),
                            status.message()
                        ));
                    }
                }
            }
        }
    }
    (calls, broken)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_at_the_extremes_of_their_type_never_break_a_service() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("the platform starts");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Ada", "Lovelace")).await;
    platform.accepted_referral_886(pupil, "educational_psychology", "numeric-inputs").await;
    let channel = platform.channel().await.expect("a channel");
    let internal = |who, value| Caller { who, header: IDENTITY_METADATA_KEY, value };
    let callers = [
        internal("SEN manager", platform.token(Role::LaManager, Some("886"), None)),
        internal("SENCO", platform.token(Role::Senco, Some("886"), Some(100001))),
        internal("EP", platform.token_for("ep-numeric", Role::EducationalPsychologist, "886")),
    ];
    let pool = DescriptorPool::decode(sen_proto::FILE_DESCRIPTOR_SET).expect("the descriptors");

    let (calls, broken) = try_every_method(&pool, &channel, &SERVICES, &callers).await;
    println!("{calls} calls with numbers at their extremes");
    assert!(calls > 1_000, "every method's numeric fields were tried ({calls} calls)");
    assert!(broken.is_empty(), "{} call(s) broke a service:\n{}", broken.len(), broken.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_at_the_extremes_of_their_type_never_break_the_gateways_own_methods() {
    let platform = TestPlatform::start(Engine::Sqlite).await.expect("the platform starts");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Ada", "Lovelace")).await;
    platform.accepted_referral_886(pupil, "ehc_needs_assessment", "numeric-inputs-gateway").await;
    let gateway = TestGateway::start(&platform, GatewayOptions::default()).await.expect("the gateway starts");
    let channel = gateway.channel().await.expect("a channel to the gateway");
    let bearer = |who, token: String| Caller { who, header: "authorization", value: format!("Bearer {token}") };
    let callers = [
        bearer("SEN manager", platform.token(Role::LaManager, Some("886"), None)),
        bearer("case officer", platform.token(Role::CaseOfficer, Some("886"), None)),
        bearer("SENCO", platform.token(Role::Senco, Some("886"), Some(100001))),
    ];
    let pool = DescriptorPool::decode(sen_proto::FILE_DESCRIPTOR_SET).expect("the descriptors");
    let methods: Vec<String> = pool
        .get_service_by_name(GATEWAY)
        .expect("the gateway's service")
        .methods()
        .map(|m| m.name().to_owned())
        .collect();
    assert!(methods.iter().any(|m| m == "GetOverview"), "{methods:?}");

    let (calls, broken) = try_every_method(&pool, &channel, &[GATEWAY], &callers).await;
    println!("{calls} calls to the gateway's {methods:?} with numbers at their extremes");
    // GetOverview alone: its date's three numbers at three extremes, and all at
    // each end, as three callers.
    assert!(calls >= 33, "every numeric field of the gateway's methods was tried ({calls} calls)");
    assert!(broken.is_empty(), "{} call(s) broke the gateway:\n{}", broken.len(), broken.join("\n"));
}
