//! The `sen.v1` contracts, generated from `proto/sen/v1/*.proto` at build time.
//!
//! Every service and client speaks these types; the descriptor set lets the servers
//! answer gRPC reflection so standard tools (grpcurl, Postman) can discover the API.

pub mod codec;

/// Messages, clients and servers of package `sen.v1`.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("sen.v1");
    include!(concat!(env!("OUT_DIR"), "/clients/sen.v1.rs"));
}

/// The encoded `FileDescriptorSet` of every `sen.v1` file, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sen_descriptor.bin"));

/// The response metadata of `WatchReferrals` that says the position the watch
/// begins after: the one to resume with when no change has arrived yet.
pub const WATCH_POSITION_METADATA: &str = "sen-watch-position";
