//! The idempotency fingerprint: what a submission is stored with so that a later
//! submission under the same key can be told apart as a retry (the same body:
//! answer with the first referral) or another referral (ALREADY_EXISTS). Telling
//! them apart wrongly loses a referral, so two different bodies must never share
//! a fingerprint.
//!
//! The fingerprint (version 2, stored as `v2:` and 64 hex digits) is the SHA-256
//! of every field of the body in a fixed order (pupil, school, kind, broad areas,
//! concern, what was tried with its support cycles and provision, consent's who,
//! when and how, priority), each written as its length and then its bytes, and
//! each list as its length and then its items. No field's text can run into the
//! next, whatever characters it holds.
//!
//! Referrals stored before version 2 keep the fingerprint they were stored with:
//! the fields joined with `|` (no prefix; it starts with the pupil's id), which two
//! bodies share when moving a `|` between the free-text fields (the concern, what
//! was tried, who gave consent) turns one into the other. A retry of such a
//! submission after the upgrade is still recognised: the old text must match, and
//! if the body's free text holds a `|`, its free text must also be what the row
//! holds. So a retry with another body is ALREADY_EXISTS under either version. One
//! true retry is then refused: of a submission made before the upgrade, with a
//! `|` in its free text, that has since been returned and resubmitted with new
//! text. A resubmission follows the council's return, days after the submission,
//! so no client is still retrying it; and the refusal names the referral and
//! writes nothing.

use ring::digest::{SHA256, digest};

use super::{areas, ids};
use crate::domain::NewReferral;
use crate::entity::referral;

/// The prefix of a version 2 fingerprint.
const V2: &str = "v2:";

/// The fingerprint a submission is stored with (bulk loaders store the same).
pub fn fingerprint(new: &NewReferral) -> String {
    let mut body = Canonical::default();
    body.text(&new.pupil_id.to_string());
    body.text(&new.school.to_string());
    body.text(&new.kind.code());
    body.list(new.broad_areas.iter().map(|area| area.code().to_owned()));
    body.text(&new.concern);
    body.text(&new.tried.summary);
    body.list(new.tried.cycles.iter().map(i64::to_string));
    body.list(new.tried.provisions.iter().map(i64::to_string));
    body.text(&new.consent.given_by);
    body.text(&new.consent.given_on.to_string());
    body.text(new.consent.method.code());
    body.text(new.priority.code());
    let hash = digest(&SHA256, &body.0);
    let hex: String = hash.as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{V2}{hex}")
}

/// Whether `new` is the body `first` was submitted with (see the module doc).
pub(super) fn is_same_body(first: &referral::Model, new: &NewReferral) -> bool {
    if first.fingerprint.starts_with(V2) {
        return first.fingerprint == fingerprint(new);
    }
    let free_text = [&new.concern, &new.tried.summary, &new.consent.given_by];
    first.fingerprint == fingerprint_before_v2(new)
        && (free_text.iter().all(|text| !text.contains('|'))
            || free_text == [&first.concern, &first.tried_summary, &first.consent_given_by])
}

/// The fingerprint of referrals stored before version 2: the fields joined with `|`.
fn fingerprint_before_v2(new: &NewReferral) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        new.pupil_id,
        new.school,
        new.kind.code(),
        areas(&new.broad_areas),
        new.concern,
        new.tried.summary,
        ids(&new.tried.cycles),
        ids(&new.tried.provisions),
        new.consent.given_by,
        new.consent.given_on,
        new.consent.method.code(),
        new.priority.code()
    )
}

/// Fields written one after another so that none can run into the next.
#[derive(Default)]
struct Canonical(Vec<u8>);

impl Canonical {
    fn length(&mut self, n: usize) {
        self.0.extend_from_slice(&(n as u64).to_be_bytes());
    }

    fn text(&mut self, s: &str) {
        self.length(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn list(&mut self, items: impl ExactSizeIterator<Item = String>) {
        self.length(items.len());
        for item in items {
            self.text(&item);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use sen_platform::ids::Urn;

    use super::*;
    use crate::domain::{BroadArea, Consent, ConsentMethod, Priority, ReferralKind, Tried};

    fn body(concern: &str, summary: &str, given_by: &str) -> NewReferral {
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        NewReferral {
            pupil_id: 7,
            school: Urn::parse("100001").unwrap(),
            kind: ReferralKind::EducationalPsychology,
            broad_areas: vec![BroadArea::CognitionAndLearning],
            concern: concern.into(),
            tried: Tried { summary: summary.into(), cycles: vec![3], provisions: vec![] },
            consent: Consent::new(given_by, day, ConsentMethod::Email, day).unwrap(),
            priority: Priority::Routine,
        }
    }

    #[test]
    fn bodies_the_old_fingerprint_joined_alike_differ() {
        let (a, b) = (body("a|b", "c", "Mother"), body("a", "b|c", "Mother"));
        assert_eq!(fingerprint_before_v2(&a), fingerprint_before_v2(&b), "the old scheme's collision");
        assert_ne!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&body("x", "y", "M|other")), fingerprint(&body("x", "y|M", "other")));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()), "the same body, the same fingerprint");
        assert!(fingerprint(&a).starts_with(V2) && fingerprint(&a).len() == V2.len() + 64);
    }

    #[test]
    fn lists_cannot_borrow_from_their_neighbours() {
        let mut cited = body("x", "y", "Mother");
        let mut moved = cited.clone();
        (cited.tried.cycles, cited.tried.provisions) = (vec![3, 4], vec![]);
        (moved.tried.cycles, moved.tried.provisions) = (vec![3], vec![4]);
        assert_ne!(fingerprint(&cited), fingerprint(&moved));
    }
}
