//! A document attached to a referral, as checked before it is stored: its name
//! (the last part of what the sender called it), its kind told from its content
//! (PDF, Word, JPEG or PNG: a file named `report.pdf` that is a web page or a
//! program is refused, whatever the sender's browser declared), its size within
//! 10 MiB, and its SHA-256, by which a retried upload is known. How many a
//! referral may carry, and that it must be open, the store checks where it
//! writes.

use ring::digest::{SHA256, digest};
use sen_platform::error::FieldViolations;
use sen_vocabulary::{DocumentKind, check_document, document_name};

/// A document ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttachment {
    /// Its name, e.g. "EP report 2026.pdf".
    pub file_name: String,
    /// What its content is.
    pub kind: DocumentKind,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// The file.
    pub content: Vec<u8>,
}

impl NewAttachment {
    /// The document `content` sent as `file_name`, or every problem with it,
    /// named by the request fields `name_field` and `content_field`.
    pub fn check(
        file_name: &str,
        content: Vec<u8>,
        name_field: &str,
        content_field: &str,
    ) -> Result<Self, FieldViolations> {
        let mut violations = FieldViolations::new();
        let file_name = violations.check(name_field, document_name(file_name));
        let kind = violations.check(content_field, check_document(&content));
        violations.into_result()?;
        match (file_name, kind) {
            (Some(file_name), Some(kind)) => Ok(Self { file_name, kind, sha256: sha256_hex(&content), content }),
            // Both are `Some` when there were no violations.
            _ => Err(FieldViolations::one(content_field, "could not be read")),
        }
    }

    /// The size in bytes, as stored.
    pub fn size_bytes(&self) -> i64 {
        i64::try_from(self.content.len()).unwrap_or(i64::MAX)
    }
}

/// SHA-256 of `content`, in lower-case hex.
pub fn sha256_hex(content: &[u8]) -> String {
    digest(&SHA256, content).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_kept_under_the_last_part_of_its_name_with_its_digest() {
        let new = NewAttachment::check("C:\\scans\\consent.pdf", b"%PDF-1.7 x".to_vec(), "file_name", "chunk").unwrap();
        assert_eq!(new.file_name, "consent.pdf");
        assert_eq!(new.kind, DocumentKind::Pdf);
        assert_eq!(new.sha256.len(), 64);
        assert_eq!(new.size_bytes(), 10);
    }

    #[test]
    fn a_bad_name_and_a_bad_content_are_both_named() {
        let bad = NewAttachment::check(" ", b"<html>".to_vec(), "file_name", "chunk").unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["file_name", "chunk"]);
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
