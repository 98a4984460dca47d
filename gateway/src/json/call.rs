//! Calling a method upstream with dynamic messages: a tonic codec that encodes
//! and decodes by descriptor, and the metadata every call carries (the caller's
//! internal identity token and the W3C trace context).

use futures::Stream;
use http::uri::PathAndQuery;
use prost::Message as _;
use prost_reflect::{DynamicMessage, MessageDescriptor, MethodDescriptor};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataValue;
use tonic::{Status, Streaming};

use crate::caller::Caller;
use crate::upstream::Upstreams;

/// A message to send, or the reason to abandon the call. An `Err` makes the
/// request stream fail, which resets it upstream: a client-streaming call whose
/// input broke off must not be taken as complete.
pub type Outgoing = Result<DynamicMessage, Status>;

/// Encodes [`Outgoing`] messages and decodes answers of one message type.
#[derive(Clone, Debug)]
struct DynamicCodec {
    answer: MessageDescriptor,
}

#[derive(Debug)]
struct DynamicEncoder;

#[derive(Debug)]
struct DynamicDecoder {
    answer: MessageDescriptor,
}

impl Codec for DynamicCodec {
    type Encode = Outgoing;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder { answer: self.answer.clone() }
    }
}

impl Encoder for DynamicEncoder {
    type Item = Outgoing;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item?.encode(dst).map_err(|e| Status::internal(format!("encoding the request: {e}")))
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        DynamicMessage::decode(self.answer.clone(), src)
            .map(Some)
            .map_err(|e| Status::internal(format!("decoding {}: {e}", self.answer.full_name())))
    }
}

/// The largest answer read from a service: a referral's document (at most
/// 10 MiB) with room for its description; tonic's default is 4 MiB.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// One method of one upstream service, ready to call for one caller.
pub struct Call {
    grpc: tonic::client::Grpc<crate::upstream::GrpcService>,
    path: PathAndQuery,
    codec: DynamicCodec,
    identity: MetadataValue<tonic::metadata::Ascii>,
    caller: Caller,
    /// The longest the call may take, sent upstream as its `grpc-timeout`.
    deadline: Option<std::time::Duration>,
}

impl Call {
    /// Prepares a call of `method` for `caller`; UNAVAILABLE if no upstream serves it.
    pub fn new(upstreams: &Upstreams, method: &MethodDescriptor, caller: &Caller) -> Result<Self, Status> {
        let service = method.parent_service();
        let endpoint = upstreams
            .route(service.full_name())
            .ok_or_else(|| Status::unavailable(format!("no upstream serves {}", service.full_name())))?;
        let path = PathAndQuery::try_from(format!("/{}/{}", service.full_name(), method.name()))
            .map_err(|e| Status::internal(format!("gRPC path of {}: {e}", method.full_name())))?;
        let identity = MetadataValue::try_from(caller.internal_token.as_str())
            .map_err(|e| Status::internal(format!("internal token is not valid metadata: {e}")))?;
        Ok(Self {
            grpc: tonic::client::Grpc::new(endpoint).max_decoding_message_size(MAX_ANSWER_BYTES),
            path,
            codec: DynamicCodec { answer: method.output() },
            identity,
            caller: caller.clone(),
            deadline: None,
        })
    }

    /// The same call, given at most `deadline` to answer.
    pub fn within(mut self, deadline: std::time::Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert("x-sen-identity", self.identity.clone());
        sen_platform::telemetry::inject_trace_context(request.metadata_mut());
        // The gateway's own service, served in-process, reads the caller from here;
        // a network hop drops it.
        request.extensions_mut().insert(self.caller.clone());
        if let Some(deadline) = self.deadline {
            request.set_timeout(deadline);
        }
        request
    }

    async fn ready(&mut self) -> Result<(), Status> {
        self.grpc.ready().await.map_err(|e| {
            let error: tower::BoxError = e.into();
            Status::unavailable(format!("upstream not ready: {error}"))
        })
    }

    /// A unary call.
    pub async fn unary(mut self, message: DynamicMessage) -> Result<DynamicMessage, Status> {
        self.ready().await?;
        let request = self.request(Ok(message));
        let answer = self.grpc.unary(request, self.path.clone(), self.codec.clone()).await;
        Ok(answer.map_err(lost_connection_is_unavailable)?.into_inner())
    }

    /// A server-streaming call: the answers as they come.
    pub async fn server_streaming(mut self, message: DynamicMessage) -> Result<Streaming<DynamicMessage>, Status> {
        self.ready().await?;
        let request = self.request(Ok(message));
        let answer = self.grpc.server_streaming(request, self.path.clone(), self.codec.clone()).await;
        Ok(answer.map_err(lost_connection_is_unavailable)?.into_inner())
    }

    /// A client-streaming call: sends `messages` as they come, then reads the answer.
    pub async fn client_streaming<S>(mut self, messages: S) -> Result<DynamicMessage, Status>
    where
        S: Stream<Item = Outgoing> + Send + 'static,
    {
        self.ready().await?;
        let request = self.request(messages);
        let answer = self.grpc.client_streaming(request, self.path.clone(), self.codec.clone()).await;
        Ok(answer.map_err(lost_connection_is_unavailable)?.into_inner())
    }
}

/// A call whose connection failed under it (the service stopped or was killed
/// mid-call, or reset the stream) comes back from tonic as UNKNOWN or CANCELLED
/// carrying the transport error as its source, where a service's own answer never
/// has one. It is UNAVAILABLE, as the gRPC proxy answers the same failure: the
/// client may send the call again (a write with its idempotency key, so that it
/// is done once).
fn lost_connection_is_unavailable(status: Status) -> Status {
    let source = std::error::Error::source(&status);
    let mut cause = source;
    while let Some(error) = cause {
        if error.is::<tonic::TimeoutExpired>() {
            return Status::deadline_exceeded("the service did not answer in time");
        }
        cause = error.source();
    }
    let lost = matches!(status.code(), tonic::Code::Unknown | tonic::Code::Cancelled);
    if lost && source.is_some() {
        tracing::warn!(error = %status, "the connection to the service failed during the call");
        return Status::unavailable("the service stopped answering during the call");
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_lost_mid_call_is_unavailable_and_a_services_own_unknown_is_kept() {
        let lost = Status::from_error(Box::new(std::io::Error::other("connection reset")));
        assert_eq!(lost.code(), tonic::Code::Unknown, "as tonic reports it");
        assert_eq!(lost_connection_is_unavailable(lost).code(), tonic::Code::Unavailable);
        let answered = Status::unknown("the service said so");
        assert_eq!(lost_connection_is_unavailable(answered).code(), tonic::Code::Unknown);
        let refused = Status::not_found("referral 9 not found");
        assert_eq!(lost_connection_is_unavailable(refused).code(), tonic::Code::NotFound);
        let late = Status::from_error(Box::new(tonic::TimeoutExpired(())));
        assert_eq!(lost_connection_is_unavailable(late).code(), tonic::Code::DeadlineExceeded);
        #[derive(Debug)]
        struct Wrapped(tonic::TimeoutExpired);
        impl std::fmt::Display for Wrapped {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "transport: {}", self.0)
            }
        }
        impl std::error::Error for Wrapped {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped = Status::from_error(Box::new(Wrapped(tonic::TimeoutExpired(()))));
        assert_eq!(lost_connection_is_unavailable(wrapped).code(), tonic::Code::DeadlineExceeded);
    }
}
