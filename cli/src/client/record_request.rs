//! `sen referrals record-request`: a request for an EHC needs assessment as the
//! council received it, by any route (s. 36(1) Children and Families Act 2014):
//! the day received (the clock runs from it, reg. 4(1); a past day for a letter
//! keyed in later or a migrated case, never a future one), who made it and how.
//! A request by anyone but the parent or young person carries their agreement
//! (`--consent-*`, CoP 9.8-9.9); theirs carries none. A retry with the same
//! idempotency key records one request; a second open request for the pupil is
//! refused naming the open one.

use chrono::NaiveDate;
use clap::Args;
use sen_proto::v1 as pb;

use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Exit, Failure};
use super::submit::{new_idempotency_key, with_retry_hint};
use super::{dates, json, print};

/// `sen referrals record-request`.
#[derive(Args, Debug)]
pub struct RecordRequestArgs {
    /// The pupil's id on the SEN register.
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(i64).range(1..))]
    pupil: i64,
    /// The URN of the school the pupil is on roll at.
    #[arg(long, value_name = "URN")]
    school: String,
    /// The day the council received the request (the clock starts on it).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = dates::parse)]
    received_on: NaiveDate,
    /// Who made it: parent, young_person, school, health, social_care or other.
    #[arg(long, value_name = "WHO")]
    requester: String,
    /// Who they are, e.g. "Mother, Sarah Khan".
    #[arg(long, value_name = "NAME")]
    requester_name: String,
    /// How it came: letter, email, online_form, phone, in_person or migrated.
    #[arg(long, value_name = "HOW")]
    received_via: String,
    /// A broad area of need concerned. Repeat, or separate with commas.
    #[arg(long = "area", value_name = "AREA", required = true, value_delimiter = ',')]
    areas: Vec<String>,
    /// What the request says, in brief.
    #[arg(long, value_name = "TEXT")]
    concern: String,
    /// What the school or setting has tried, where the request says.
    #[arg(long, value_name = "TEXT", default_value = "")]
    tried: String,
    /// Who agreed to a request made by someone else (not for a parent's or young person's own).
    #[arg(long, value_name = "WHO", requires_all = ["consent_given_on", "consent_method"])]
    consent_given_by: Option<String>,
    /// The day they agreed.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = dates::parse)]
    consent_given_on: Option<NaiveDate>,
    /// How they agreed: signed_form, email, verbal or letter.
    #[arg(long, value_name = "HOW")]
    consent_method: Option<String>,
    /// Makes a retry safe: the same key returns the first request. Made up and printed when not given.
    #[arg(long, value_name = "KEY")]
    idempotency_key: Option<String>,
    /// Print the request as JSON (the JSON API's shape).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Request fields and the flags that set them, for naming rejected input.
const FLAGS: &[(&str, &str)] = &[
    ("pupil_id", "--pupil"),
    ("school_urn", "--school"),
    ("received_on", "--received-on"),
    ("requester", "--requester"),
    ("requester_name", "--requester-name"),
    ("received_via", "--received-via"),
    ("broad_areas", "--area"),
    ("concern", "--concern"),
    ("graduated_approach", "--tried"),
    ("consent", "--consent-given-by, --consent-given-on, --consent-method"),
    ("consent.given_by", "--consent-given-by"),
    ("consent.given_on", "--consent-given-on"),
    ("consent.method", "--consent-method"),
    ("idempotency_key", "--idempotency-key"),
];

/// Records the request and prints its id and the day its clock runs from.
pub async fn run(args: &RecordRequestArgs) -> Result<(), Failure> {
    let key = match &args.idempotency_key {
        Some(key) => key.clone(),
        None => new_idempotency_key()?,
    };
    let retry = format!("to retry without a duplicate, pass --idempotency-key {key}");
    let gateway = Gateway::connect(&args.connection).await.map_err(|f| with_retry_hint(f, &retry))?;
    let call = Call::to("record EHC needs assessment requests").with_flags(FLAGS);
    let recorded = gateway
        .referrals()
        .record_ehc_request(request(args, &key)?)
        .await
        .map_err(|s| with_retry_hint(call.failed(&s, &gateway.url), &retry))?
        .into_inner();
    if args.json {
        return print(&json::text(&json::to_json(&recorded, "sen.v1.Referral")?));
    }
    print(&recorded_line(&recorded, &key))
}

fn request(args: &RecordRequestArgs, key: &str) -> Result<pb::RecordEhcRequestRequest, Failure> {
    let consent = match (&args.consent_given_by, args.consent_given_on, &args.consent_method) {
        (None, None, None) => None,
        (Some(by), Some(on), Some(method)) => Some(pb::ParentalConsent {
            given_by: by.clone(),
            given_on: dates::to_proto(Some(on)),
            method: method.trim().to_owned(),
        }),
        _ => {
            return Err(Failure::new(
                Exit::Usage,
                "--consent-given-by, --consent-given-on and --consent-method go together",
            ));
        }
    };
    Ok(pb::RecordEhcRequestRequest {
        pupil_id: args.pupil,
        school_urn: args.school.trim().to_owned(),
        received_on: dates::to_proto(Some(args.received_on)),
        requester: args.requester.trim().to_owned(),
        received_via: args.received_via.trim().to_owned(),
        requester_name: args.requester_name.clone(),
        broad_areas: args.areas.iter().map(|a| a.trim().to_owned()).collect(),
        concern: args.concern.clone(),
        consent,
        idempotency_key: key.to_owned(),
        graduated_approach: args.tried.clone(),
    })
}

/// What a person sees after recording.
fn recorded_line(referral: &pb::Referral, key: &str) -> String {
    let received = referral.clock.as_ref().and_then(|c| dates::show(c.received_on.as_ref())).unwrap_or_default();
    format!("Request {} recorded: its clock runs from {received} (idempotency key {key}).\n", referral.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Record {
        #[command(flatten)]
        args: RecordRequestArgs,
    }

    fn parse(extra: &[&str]) -> Result<RecordRequestArgs, clap::Error> {
        let mut argv = vec![
            "record-request",
            "--pupil",
            "42",
            "--school",
            "100001",
            "--received-on",
            "2026-11-10",
            "--requester",
            "parent",
            "--requester-name",
            "Mother, Sarah Khan",
            "--received-via",
            "letter",
            "--area",
            "cognition_and_learning",
            "--concern",
            "Asks for an assessment",
        ];
        argv.extend_from_slice(extra);
        Record::try_parse_from(argv).map(|r| r.args)
    }

    #[test]
    fn a_parents_letter_goes_without_consent_and_from_the_day_received() {
        let args = parse(&[]).unwrap();
        let sent = request(&args, "k").unwrap();
        assert_eq!(sent.consent, None);
        assert_eq!(sent.received_on, Some(pb::Date { year: 2026, month: 11, day: 10 }));
        assert_eq!((sent.requester.as_str(), sent.received_via.as_str()), ("parent", "letter"));
    }

    #[test]
    fn consent_flags_go_together() {
        assert!(parse(&["--consent-given-by", "Father"]).is_err());
        let args =
            parse(&["--consent-given-by", "Father", "--consent-given-on", "2026-11-01", "--consent-method", "email"])
                .unwrap();
        assert_eq!(request(&args, "k").unwrap().consent.map(|c| c.method), Some("email".to_owned()));
    }
}
