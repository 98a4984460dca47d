//! Calls to any gRPC method by its path with any bytes as the request, for the
//! tests that go over every method the descriptor set lists (an empty body is
//! a valid request to each), or send a body that is not protobuf at all.

use bytes::{Buf, BufMut};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{Body, Bytes, StdError};

/// Sends and receives protobuf bytes as they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct Raw;

impl Codec for Raw {
    type Encode = Bytes;
    type Decode = Bytes;
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
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Bytes;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Sends `body` as the one message of a unary call to `path` (a streaming
/// method gets a stream of that one message), with `metadata` added: the
/// answer's status, or `Ok` with the first message.
pub async fn call<T>(
    channel: T,
    path: &str,
    body: &[u8],
    metadata: &[(&'static str, &str)],
) -> Result<Bytes, tonic::Status>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.into().to_string()))?;
    let path: http::uri::PathAndQuery =
        path.parse().map_err(|_| tonic::Status::invalid_argument(format!("'{path}' is not a method path")))?;
    let mut request = tonic::Request::new(Bytes::copy_from_slice(body));
    for (key, value) in metadata {
        let value = value.parse().map_err(|_| tonic::Status::invalid_argument(format!("{key}: not sendable")))?;
        request.metadata_mut().insert(*key, value);
    }
    grpc.unary(request, path, Raw).await.map(tonic::Response::into_inner)
}
