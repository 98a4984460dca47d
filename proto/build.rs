//! Compiles `sen/v1/*.proto` with protox (pure Rust, no system `protoc`), writes the
//! file descriptor set for gRPC reflection, and generates tonic clients and servers.
//!
//! The servers and the clients are generated in two passes because they decode
//! differently: a server that cannot decode a request blames the caller
//! (`INVALID_ARGUMENT`, through `crate::codec::RequestCodec`), while a client that
//! cannot decode an answer keeps tonic's `INTERNAL`, since the fault is the server's.
//! The second pass takes the messages from the first (`extern_path`), so each
//! message is generated once.

use std::path::PathBuf;

use prost::Message;

const PROTOS: &[&str] = &[
    "sen/v1/common.proto",
    "sen/v1/schools.proto",
    "sen/v1/pupils.proto",
    "sen/v1/referrals.proto",
    "sen/v1/caseloads.proto",
    "sen/v1/gateway.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("sen_descriptor.bin"), descriptors.encode_to_vec())?;

    // Messages and servers; the messages know their protobuf names, which the
    // request codec quotes when a request is not one.
    let mut messages = tonic_prost_build::Config::new();
    messages.enable_type_names();
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .codec_path("crate::codec::RequestCodec")
        .compile_fds_with_config(descriptors.clone(), messages)?;

    // Clients only, over the messages generated above.
    let clients = out_dir.join("clients");
    std::fs::create_dir_all(&clients)?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(false)
        .extern_path(".sen.v1", "crate::v1")
        .out_dir(&clients)
        .compile_fds(descriptors)?;
    Ok(())
}
