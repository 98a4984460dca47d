//! Keyset paging for every List call: results in a stable order, and an opaque
//! token naming the last key returned, so inserts between pages never repeat or
//! skip a row the way offsets would.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sen_proto::v1::PageRequest;

use crate::error::FieldViolations;
use crate::fields::Checked;

/// Page size when the caller gives none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u64 = 500;
const TOKEN_PREFIX: &str = "k1:";

/// A validated page request: how many rows, and the key to continue after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Rows to return.
    pub size: u64,
    /// The last key of the previous page, if any.
    pub after: Option<String>,
}

impl Page {
    /// Reads the wire page request: the page, or its problems named under `field` (e.g. `page.page_size`).
    pub fn checked(req: Option<&PageRequest>, field: &str) -> Checked<Page> {
        let mut violations = FieldViolations::new();
        let page = Self::parse(req, field, &mut violations);
        violations.into_result().map(|()| page)
    }

    /// Reads the wire page request, recording problems under `field` (e.g. `page`)
    /// and answering a usable page regardless; [`Page::checked`] is the form for handlers.
    pub fn parse(req: Option<&PageRequest>, field: &str, errors: &mut FieldViolations) -> Page {
        let Some(req) = req else {
            return Page { size: DEFAULT_PAGE_SIZE, after: None };
        };
        let size = match u64::from(req.page_size) {
            0 => DEFAULT_PAGE_SIZE,
            n if n > MAX_PAGE_SIZE => {
                errors.add(format!("{field}.page_size"), format!("at most {MAX_PAGE_SIZE} rows per page"));
                MAX_PAGE_SIZE
            }
            n => n,
        };
        let after = if req.page_token.is_empty() {
            None
        } else {
            let decoded = decode_token(&req.page_token);
            if decoded.is_none() {
                errors.add(format!("{field}.page_token"), "not a token this service issued; start again without one");
            }
            decoded
        };
        Page { size, after }
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }

    /// Trims a fetched batch to the page and returns the token for the next one.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, String) {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() <= size {
            return (rows, String::new());
        }
        rows.truncate(size);
        let token = rows.last().map(|last| encode_token(&key(last))).unwrap_or_default();
        (rows, token)
    }
}

/// The token that continues after `key`, for a list that pages itself (as
/// [`Page::finish`] makes for the last row of a full page).
pub fn token_after(key: &str) -> String {
    encode_token(key)
}

fn encode_token(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}{key}"))
}

fn decode_token(token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(TOKEN_PREFIX).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(size: u32, token: &str) -> (Page, FieldViolations) {
        let mut errors = FieldViolations::new();
        let req = PageRequest { page_size: size, page_token: token.into() };
        (Page::parse(Some(&req), "page", &mut errors), errors)
    }

    #[test]
    fn a_full_batch_yields_a_token_that_continues_after_its_last_row() {
        let (p, _) = page(2, "");
        let (rows, token) = p.finish(vec![1, 2, 3], |n| n.to_string());
        assert_eq!(rows, [1, 2]);
        let (next, errors) = page(2, &token);
        assert!(errors.is_empty());
        assert_eq!(next.after.as_deref(), Some("2"));
        let (rows, token) = next.finish(vec![3], |n| n.to_string());
        assert_eq!((rows, token), (vec![3], String::new()));
    }

    #[test]
    fn a_checked_page_is_the_page_or_every_problem() {
        assert_eq!(Page::checked(None, "page"), Ok(Page { size: DEFAULT_PAGE_SIZE, after: None }));
        let req = PageRequest { page_size: 501, page_token: "not-a-token".into() };
        let problems = Page::checked(Some(&req), "page").unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["page.page_size", "page.page_token"]);
    }

    #[test]
    fn oversized_pages_and_forged_tokens_are_named() {
        let (_, errors) = page(501, "not-a-token");
        let fields: Vec<&str> = errors.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["page.page_size", "page.page_token"]);
    }
}
