//! Forms that carry files (a referral's documents): reading a
//! `multipart/form-data` body into the form's values and its files, within
//! limits, without trusting anything the browser says about a file but its
//! name. A file's kind is judged later, by its content
//! (`sen_vocabulary::check_document`), here and again by the service.
//!
//! The CSRF token must come before any file (forms put it first): a file part
//! met before a valid token stops the reading with the 403 page, so a form
//! sent from another site is refused before its files are read. A file input
//! left empty (a part with no name and no bytes) is no file. A file larger than
//! the limit is read no further than one byte past it, and reported; reading
//! stops at the count limit too.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;

use crate::fields::Posted;
use crate::refusals::Refused;
use crate::session::Session;

/// A file as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentFile {
    /// The form input it came from.
    pub input: String,
    /// Its name as the browser gave it.
    pub name: String,
    /// Its content, at most `Limits::file_bytes` + 1 bytes.
    pub content: Vec<u8>,
    /// More than `Limits::file_bytes` was sent.
    pub too_large: bool,
}

/// How much one form may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest file.
    pub file_bytes: usize,
    /// The most files.
    pub files: usize,
}

/// A form with files, as read.
#[derive(Clone, Debug, Default)]
pub struct SentForm {
    /// Every value that is not a file, in order.
    pub values: Posted,
    /// Every file chosen, in order (at most `Limits::files`).
    pub files: Vec<SentFile>,
    /// More files were sent than `Limits::files` (the rest were not read).
    pub too_many: bool,
    /// The body broke off or was larger than the route takes: what was read
    /// before stays, and the files are not to be trusted whole.
    pub broken: bool,
}

/// Reads `multipart` within `limits`, checking the CSRF token against
/// `session` before any file is read.
pub async fn read(session: &Session, mut multipart: Multipart, limits: Limits) -> Result<SentForm, Refused> {
    let mut form = SentForm::default();
    let mut csrf_checked = false;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                broken(&mut form, &error);
                break;
            }
        };
        let input = field.name().unwrap_or_default().to_owned();
        let Some(name) = field.file_name().map(str::to_owned) else {
            match field.text().await {
                Ok(value) => form.values.0.push((input, value)),
                Err(error) => {
                    broken(&mut form, &error);
                    break;
                }
            }
            continue;
        };
        if !csrf_checked {
            session.check_csrf(form.values.csrf())?;
            csrf_checked = true;
        }
        if form.files.len() == limits.files {
            form.too_many = true;
            break;
        }
        let mut file = SentFile { input, name, content: Vec::new(), too_large: false };
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    let room = (limits.file_bytes + 1).saturating_sub(file.content.len());
                    file.content.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    file.too_large = file.content.len() > limits.file_bytes;
                }
                Ok(None) => break,
                Err(error) => {
                    broken(&mut form, &error);
                    break;
                }
            }
        }
        if form.broken {
            break;
        }
        // An input left empty sends a part with no name and no bytes.
        if !(file.name.is_empty() && file.content.is_empty()) {
            form.files.push(file);
        }
    }
    // A form with no file at all still needs its token checked.
    if !csrf_checked {
        session.check_csrf(form.values.csrf())?;
    }
    Ok(form)
}

fn broken(form: &mut SentForm, error: &MultipartError) {
    tracing::info!(status = %error.status(), "a form with files broke off or was too large");
    form.broken = true;
}
