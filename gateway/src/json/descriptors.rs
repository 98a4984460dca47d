//! The `sen.v1` descriptors the JSON API transcodes by, and the proto comments
//! they carry (the descriptor set is built with source info, so the OpenAPI
//! document can say what the proto files say).

use std::collections::HashMap;
use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, MessageDescriptor, MethodDescriptor};

use crate::policy::Rule;

/// The message every `sen.v1` date travels as; on JSON it is `"YYYY-MM-DD"`.
pub const DATE: &str = "sen.v1.Date";

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    // Built into the binary by sen-proto's build script: failing here means the
    // crate was built wrongly, not that anything at run time is amiss.
    DescriptorPool::decode(sen_proto::FILE_DESCRIPTOR_SET)
        .expect("sen_proto::FILE_DESCRIPTOR_SET is not a valid descriptor set; rebuild sen-proto")
});

static COMMENTS: LazyLock<HashMap<(String, Vec<i32>), String>> = LazyLock::new(|| {
    let mut comments = HashMap::new();
    for file in POOL.file_descriptor_protos() {
        let Some(info) = &file.source_code_info else { continue };
        for location in &info.location {
            let text = location.leading_comments.as_deref().or(location.trailing_comments.as_deref());
            if let Some(text) = text.map(tidy).filter(|t| !t.is_empty()) {
                comments.insert((file.name().to_owned(), location.path.clone()), text);
            }
        }
    }
    comments
});

/// The descriptor pool of every `sen.v1` file.
pub fn pool() -> &'static DescriptorPool {
    &POOL
}

/// The method a rule governs, if the descriptors know it (the policy tests make
/// sure they all do).
pub fn method(rule: &Rule) -> Option<MethodDescriptor> {
    let service = pool().get_service_by_name(rule.service)?;
    service.methods().find(|m| m.name() == rule.method)
}

/// Whether `message` is the calendar date that travels as an ISO string.
pub fn is_date(message: &MessageDescriptor) -> bool {
    message.full_name() == DATE
}

/// Whether `message` is a protobuf well-known type, which has its own JSON form
/// (RFC 3339 timestamps, durations, wrappers) that prost-reflect implements.
pub fn is_well_known(message: &MessageDescriptor) -> bool {
    message.package_name() == "google.protobuf"
}

/// The proto comment on the element at `path` of `file`, as one paragraph.
pub fn comment(file: &str, path: &[i32]) -> Option<&'static str> {
    COMMENTS.get(&(file.to_owned(), path.to_vec())).map(String::as_str)
}

/// Comment lines joined into prose: the proto files wrap sentences at 90 columns.
fn tidy(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_descriptor_set_carries_the_proto_comments() {
        let service = pool().get_service_by_name("sen.v1.ReferralsService").unwrap();
        let submit = service.methods().find(|m| m.name() == "SubmitReferral").unwrap();
        let text = comment(submit.parent_file().name(), submit.path()).unwrap();
        assert!(text.starts_with("Submits a referral"), "{text}");
        assert!(!text.contains('\n'));
    }
}
