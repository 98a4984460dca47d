//! The referral the live-feed tests send, and the two steps they take with it:
//! a SENCO submits, a case officer accepts.

use sen_proto::v1 as pb;

use crate::platform::ReferralsClient;

/// An educational psychology referral for `pupil` of school `urn`, with consent.
pub fn speech_referral(pupil: i64, urn: &str) -> pb::ReferralBody {
    pb::ReferralBody {
        pupil_id: pupil,
        school_urn: urn.into(),
        kind: "educational_psychology".into(),
        broad_areas: vec!["communication_and_interaction".into()],
        concern: "Speech is hard to understand".into(),
        graduated_approach: Some(pb::GraduatedApproach {
            summary: "Small-group language work".into(),
            ..Default::default()
        }),
        consent: Some(pb::ParentalConsent {
            given_by: "Mother, Amina Ali".into(),
            given_on: Some(pb::Date { year: 2026, month: 11, day: 10 }),
            method: "signed_form".into(),
        }),
        priority: "routine".into(),
    }
}

/// Submits [`speech_referral`] under idempotency key `key` (as meant, although
/// the pupil may have one of its kind open already: the feed tests send several).
pub async fn submit(client: &mut ReferralsClient, pupil: i64, urn: &str, key: &str) -> pb::Referral {
    let request = pb::SubmitReferralRequest {
        referral: Some(speech_referral(pupil, urn)),
        idempotency_key: key.into(),
        confirm_duplicate: true,
    };
    client.submit_referral(request).await.expect("submitted").into_inner()
}

/// Accepts referral `r` at its current version.
pub async fn accept(client: &mut ReferralsClient, r: &pb::Referral) -> pb::Referral {
    let request = pb::ChangeReferralStatusRequest {
        id: r.id,
        version: r.version,
        event: pb::ReferralEvent::Accept as i32,
        note: String::new(),
    };
    client.change_referral_status(request).await.expect("accepted").into_inner()
}
