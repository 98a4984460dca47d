//! The documents a referral may carry (an educational psychologist's earlier
//! report, a speech and language therapy assessment, a scanned consent form):
//! which kinds are taken, how large and how many, and how a file's kind is told
//! from its first bytes rather than from its name or from what the sender's
//! browser declared, which either may have wrong.
//!
//! The referrals service refuses anything else; the pages and the `sen` client
//! check the same words first, so a bad file is named before anything is sent.
//!
//! ```
//! use sen_vocabulary::{DocumentKind, check_document};
//! assert_eq!(DocumentKind::of(b"%PDF-1.7\n..."), Some(DocumentKind::Pdf));
//! assert_eq!(DocumentKind::of(b"MZ\x90\x00"), None);
//! assert!(check_document(b"").is_err());
//! ```

use crate::either_of;

/// The largest document a referral takes: 10 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// The most documents one referral carries.
pub const MAX_DOCUMENTS_PER_REFERRAL: usize = 10;
/// The longest file name kept, in characters.
pub const MAX_DOCUMENT_NAME_CHARS: usize = 200;

/// A kind of document a referral may carry, as its content shows it to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A PDF file (reports, scanned letters and forms).
    Pdf,
    /// A PNG image.
    Png,
    /// A JPEG image (a photographed page).
    Jpeg,
    /// A Word document (Office Open XML).
    Docx,
}

impl DocumentKind {
    /// Every kind, as lists show them.
    pub const ALL: [DocumentKind; 4] = [Self::Pdf, Self::Docx, Self::Jpeg, Self::Png];

    /// Stable code, for storage and the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Docx => "docx",
        }
    }

    /// For people: "PDF", "Word document".
    pub fn name(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Png => "PNG image",
            Self::Jpeg => "JPEG image",
            Self::Docx => "Word document",
        }
    }

    /// The media type it is served as.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }

    /// A stored code read back.
    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|kind| kind.code() == code).ok_or_else(|| {
            format!("'{code}' is not a kind of document; expected {}", either_of(Self::ALL.map(Self::code)))
        })
    }

    /// The kind `content` is, by its first bytes (its "magic number"), or
    /// `None` when it is none of the kinds taken. A Word document is a ZIP
    /// archive whose directory lists `[Content_Types].xml` and
    /// `word/document.xml`; any other ZIP (a spreadsheet, a bundle of files) is
    /// not one.
    pub fn of(content: &[u8]) -> Option<Self> {
        if content.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if content.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if content.starts_with(b"\xFF\xD8\xFF") {
            Some(Self::Jpeg)
        } else if content.starts_with(b"PK\x03\x04") && is_word_archive(content) {
            Some(Self::Docx)
        } else {
            None
        }
    }
}

/// The names taken, for a hint or an error: "PDF, Word document, JPEG image or PNG image".
pub fn document_kinds_in_words() -> String {
    either_of(DocumentKind::ALL.map(DocumentKind::name))
}

/// A document's content checked against the size limit and the kinds taken:
/// its kind, or what is wrong, in words for the sender.
pub fn check_document(content: &[u8]) -> Result<DocumentKind, String> {
    if content.is_empty() {
        return Err("is empty: choose the file again".to_owned());
    }
    if content.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "is {}; a document may be at most {}",
            size_in_words(content.len()),
            size_in_words(MAX_DOCUMENT_BYTES)
        ));
    }
    DocumentKind::of(content).ok_or_else(|| {
        format!(
            "is not a {}, judging by its content; save it as one of those and attach it again",
            document_kinds_in_words()
        )
    })
}

/// A document's name as it is kept: the last part of the path a browser or
/// client sent, without characters that hide or reorder what a reader sees,
/// at most [`MAX_DOCUMENT_NAME_CHARS`]. Blank is an error.
pub fn document_name(sent: &str) -> Result<String, String> {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or(sent).trim();
    if last.is_empty() {
        return Err("is required: the file's name, e.g. report.pdf".to_owned());
    }
    if let Some(c) = last.chars().find(|c| c.is_control() || is_format_character(*c)) {
        return Err(format!("has a character that cannot be shown (U+{:04X}): rename the file", u32::from(c)));
    }
    let count = last.chars().count();
    if count > MAX_DOCUMENT_NAME_CHARS {
        return Err(format!("is {count} characters; at most {MAX_DOCUMENT_NAME_CHARS}"));
    }
    Ok(last.to_owned())
}

/// A size for people: "812 KB", "3.4 MB", "10 MB" (1 MB = 1 MiB here, as file
/// managers and browsers show sizes).
pub fn size_in_words(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let bytes_f = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes_f < KIB * KIB {
        format!("{:.0} KB", (bytes_f / KIB).ceil())
    } else {
        let mib = bytes_f / (KIB * KIB);
        if (mib - mib.round()).abs() < 0.05 { format!("{:.0} MB", mib.round()) } else { format!("{mib:.1} MB") }
    }
}

/// Zero-width and direction-changing characters (a name shown as another).
fn is_format_character(c: char) -> bool {
    matches!(u32::from(c), 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF)
}

/// Whether a ZIP archive's central directory names the parts of a Word
/// document. Reads the end-of-central-directory record (within the last
/// 64 KiB + 22 bytes) and walks the directory's entries, bounds-checked.
fn is_word_archive(content: &[u8]) -> bool {
    let names = zip_entry_names(content);
    names.iter().any(|n| n == b"[Content_Types].xml") && names.iter().any(|n| n == b"word/document.xml")
}

fn zip_entry_names(content: &[u8]) -> Vec<&[u8]> {
    const END: &[u8; 4] = b"PK\x05\x06";
    const ENTRY: &[u8; 4] = b"PK\x01\x02";
    let u16_at = |at: usize| content.get(at..at + 2).map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])));
    let u32_at = |at: usize| content.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let earliest = content.len().saturating_sub(22 + 65_535);
    let Some(end) = (earliest..content.len().saturating_sub(21)).rev().find(|&at| content[at..].starts_with(END))
    else {
        return Vec::new();
    };
    let (Some(count), Some(mut at)) = (u16_at(end + 10), u32_at(end + 16)) else { return Vec::new() };
    let mut names = Vec::new();
    for _ in 0..count {
        if !content.get(at..).is_some_and(|rest| rest.starts_with(ENTRY)) {
            break;
        }
        let (Some(name_len), Some(extra_len), Some(comment_len)) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32))
        else {
            break;
        };
        let Some(name) = content.get(at + 46..at + 46 + name_len) else { break };
        names.push(name);
        at += 46 + name_len + extra_len + comment_len;
    }
    names
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A ZIP archive holding empty files of these names (stored, no compression).
    pub(crate) fn zip_of(names: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut directory = Vec::new();
        for name in names {
            let offset = body.len() as u32;
            body.extend_from_slice(b"PK\x03\x04");
            body.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            body.extend_from_slice(&[0; 12]);
            body.extend_from_slice(&(name.len() as u16).to_le_bytes());
            body.extend_from_slice(&[0, 0]);
            body.extend_from_slice(name.as_bytes());
            directory.extend_from_slice(b"PK\x01\x02");
            directory.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            directory.extend_from_slice(&[0; 12]);
            directory.extend_from_slice(&(name.len() as u16).to_le_bytes());
            directory.extend_from_slice(&[0; 12]);
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(name.as_bytes());
        }
        let start = body.len() as u32;
        let mut zip = body;
        zip.extend_from_slice(&directory);
        zip.extend_from_slice(b"PK\x05\x06");
        zip.extend_from_slice(&[0, 0, 0, 0]);
        zip.extend_from_slice(&(names.len() as u16).to_le_bytes());
        zip.extend_from_slice(&(names.len() as u16).to_le_bytes());
        zip.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        zip.extend_from_slice(&start.to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip
    }

    #[test]
    fn a_file_is_known_by_its_content_not_its_name() {
        assert_eq!(DocumentKind::of(b"%PDF-1.4\n%\xE2\xE3"), Some(DocumentKind::Pdf));
        assert_eq!(DocumentKind::of(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(DocumentKind::Png));
        assert_eq!(DocumentKind::of(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some(DocumentKind::Jpeg));
        let word = zip_of(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        assert_eq!(DocumentKind::of(&word), Some(DocumentKind::Docx));
        assert_eq!(DocumentKind::of(b"<html><script>alert(1)</script>"), None, "HTML named report.pdf");
        assert_eq!(DocumentKind::of(b"MZ\x90\0\x03"), None, "a Windows program");
        assert_eq!(DocumentKind::of(b"GIF89a"), None);
    }

    #[test]
    fn a_zip_that_is_not_a_word_document_is_refused() {
        let spreadsheet = zip_of(&["[Content_Types].xml", "xl/workbook.xml"]);
        assert_eq!(DocumentKind::of(&spreadsheet), None);
        assert_eq!(DocumentKind::of(&zip_of(&["word/document.xml"])), None, "no content types");
        assert_eq!(DocumentKind::of(b"PK\x03\x04 truncated"), None);
        let mut cut = zip_of(&["[Content_Types].xml", "word/document.xml"]);
        let len = cut.len();
        cut[len - 6..len - 2].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(DocumentKind::of(&cut), None, "a directory offset past the end is read safely");
    }

    #[test]
    fn an_empty_oversized_or_unknown_file_says_what_is_wrong() {
        assert_eq!(check_document(b"%PDF-1.7"), Ok(DocumentKind::Pdf));
        assert!(check_document(b"").unwrap_err().contains("empty"));
        let big = [b"%PDF-".as_slice(), &vec![0u8; MAX_DOCUMENT_BYTES]].concat();
        let too_big = check_document(&big).unwrap_err();
        assert!(too_big.contains("at most 10 MB"), "{too_big}");
        let unknown = check_document(b"hello").unwrap_err();
        assert!(unknown.contains("PDF, Word document, JPEG image or PNG image"), "{unknown}");
    }

    #[test]
    fn a_name_keeps_its_last_part_and_refuses_what_hides_characters() {
        assert_eq!(document_name("C:\\Users\\senco\\EP report.pdf").as_deref(), Ok("EP report.pdf"));
        assert_eq!(document_name("/tmp/scan.jpg").as_deref(), Ok("scan.jpg"));
        assert!(document_name("  ").is_err());
        assert!(document_name("report\u{202E}fdp.exe").is_err());
        assert!(document_name(&"a".repeat(201)).is_err());
    }

    #[test]
    fn sizes_read_as_a_file_manager_shows_them() {
        assert_eq!(size_in_words(512), "512 bytes");
        assert_eq!(size_in_words(2048), "2 KB");
        assert_eq!(size_in_words(3 * 1024 * 1024 + 400 * 1024), "3.4 MB");
        assert_eq!(size_in_words(MAX_DOCUMENT_BYTES), "10 MB");
        assert_eq!(DocumentKind::parse("docx"), Ok(DocumentKind::Docx));
        assert!(DocumentKind::parse("exe").is_err());
    }
}
