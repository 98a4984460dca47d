//! Compiles `sen/v1/*.proto` with protox (pure Rust, no system `protoc`), writes the
//! file descriptor set for gRPC reflection, and generates tonic clients and servers.

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
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
