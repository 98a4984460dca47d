//! `sen referrals submit`: a referral from a school, with what the graduated
//! approach has tried and the parent's consent (SEND Code of Practice 6.44–6.45;
//! no referral without consent). Every field has a flag; the referrals service
//! judges the values and names each bad one.
//!
//! A submission carries an idempotency key so a retry after a dropped connection
//! cannot make a second referral: one is made up when not given, and shown both
//! on success and with any failure so that the retry can pass it back. Each
//! `--attach` document is judged (by its content) before anything is sent, and
//! uploaded once the referral is made under a key of its own made from the
//! referral's, so a retry attaches each once. A pupil's second open referral of
//! one kind is refused unless `--confirm-duplicate` says it is meant.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use rand_core::{OsRng, RngCore};
use sen_proto::v1 as pb;
use sen_vocabulary::{
    DocumentKind, MAX_DOCUMENT_BYTES, MAX_DOCUMENTS_PER_REFERRAL, Priority, check_document, document_name,
    size_in_words,
};
use tonic_types::StatusExt;

use super::choices::{self, status_name};
use super::connection::{ConnectionArgs, Gateway};
use super::failure::{Call, Exit, Failure};
use super::{dates, json, print};

/// `sen referrals submit`.
#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// The pupil's id on the SEN register.
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(i64).range(1..))]
    pupil: i64,
    /// The school's URN.
    #[arg(long, value_name = "URN")]
    school: String,
    // The kind and the areas go to the service as given: it names a bad one, with the rest.
    #[arg(long, help = choices::referral_kind_help())]
    kind: String,
    #[arg(long = "area", value_name = "AREA", required = true, value_delimiter = ',')]
    #[arg(help = choices::broad_area_help())]
    areas: Vec<String>,
    /// The concern, in your words.
    #[arg(long, value_name = "TEXT")]
    concern: String,
    /// What the graduated approach (assess, plan, do, review) has tried so far.
    #[arg(long, value_name = "TEXT")]
    tried: String,
    /// A support cycle on the pupil's record that the referral cites. Repeat for several.
    #[arg(long = "support-cycle", value_name = "ID")]
    support_cycles: Vec<i64>,
    /// Provision on the pupil's record that the referral cites. Repeat for several.
    #[arg(long = "provision", value_name = "ID")]
    provisions: Vec<i64>,
    /// Who gave parental consent, e.g. "Mother, Sarah Khan".
    #[arg(long, value_name = "WHO")]
    consent_given_by: String,
    /// The day consent was given.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = dates::parse)]
    consent_given_on: NaiveDate,
    #[arg(long, value_name = "HOW", help = choices::consent_method_help())]
    consent_method: String,
    #[arg(long, default_value = Priority::Routine.code(), help = choices::priority_help())]
    priority: String,
    /// Makes a retry safe: the same key returns the first referral instead of making a second.
    /// A new one is made up when not given, and printed.
    #[arg(long, value_name = "KEY")]
    idempotency_key: Option<String>,
    /// Send it although the pupil already has an open referral of the same kind
    /// (without it, such a referral is refused naming the open one).
    #[arg(long)]
    confirm_duplicate: bool,
    /// A document to attach once the referral is made: a PDF, Word document, JPEG
    /// or PNG image (judged by its content), up to 10 MB. Repeat for several (at most 10).
    #[arg(long = "attach", value_name = "FILE")]
    attachments: Vec<PathBuf>,
    /// Print the new referral as JSON (the JSON API's shape).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Request fields and the flags that set them, for naming rejected input.
const FLAGS: &[(&str, &str)] = &[
    ("referral.pupil_id", "--pupil"),
    ("referral.school_urn", "--school"),
    ("referral.kind", "--kind"),
    ("referral.broad_areas", "--area"),
    ("referral.concern", "--concern"),
    ("referral.graduated_approach", "--tried"),
    ("referral.graduated_approach.support_cycle_ids", "--support-cycle"),
    ("referral.graduated_approach.provision_ids", "--provision"),
    ("referral.consent", "--consent-given-by, --consent-given-on, --consent-method"),
    ("referral.consent.given_by", "--consent-given-by"),
    ("referral.consent.given_on", "--consent-given-on"),
    ("referral.consent.method", "--consent-method"),
    ("referral.priority", "--priority"),
    ("idempotency_key", "--idempotency-key"),
];

/// Submits the referral, attaches its documents, and prints its id and status.
pub async fn run(args: &SubmitArgs) -> Result<(), Failure> {
    // Every document is read and judged before anything is sent.
    let documents = read_documents(&args.attachments)?;
    let key = match &args.idempotency_key {
        Some(key) => key.clone(),
        None => new_idempotency_key()?,
    };
    let retry = format!("to retry without a duplicate, pass --idempotency-key {key}");
    let gateway = Gateway::connect(&args.connection).await.map_err(|f| with_retry_hint(f, &retry))?;
    let request = request(args, &key);
    let call = Call::to("submit referrals").with_flags(FLAGS);
    let referral = gateway
        .referrals()
        .submit_referral(request)
        .await
        .map_err(|s| duplicate_hint(&s, with_retry_hint(call.failed(&s, &gateway.url), &retry)))?
        .into_inner();
    let mut attached = Vec::new();
    for (n, (name, content)) in documents.into_iter().enumerate() {
        let document_key = format!("{key}-attachment-{n}");
        let made = upload(&gateway, referral.id, &name, content, &document_key).await.map_err(|s| {
            let call = Call::to("attach documents").about(format!("referral {}", referral.id));
            call.failed(&s, &gateway.url).with_hint(&format!(
                "referral {} was made, but ‘{name}’ was not attached; run the same command with --idempotency-key {key} \
                 to attach what is missing",
                referral.id
            ))
        })?;
        attached.push(made.into_inner());
    }
    if args.json {
        return print(&json::text(&json::to_json(&referral, "sen.v1.Referral")?));
    }
    let mut said = submitted_line(&referral, &key);
    for document in &attached {
        said.push_str(&attached_line(document));
    }
    print(&said)
}

/// A refusal naming an open referral of the same kind says how to send this one as well.
fn duplicate_hint(status: &tonic::Status, failure: Failure) -> Failure {
    let open = status
        .get_error_details()
        .precondition_failure()
        .is_some_and(|p| p.violations.iter().any(|v| v.r#type == "OPEN_REFERRAL"));
    if open { failure.with_hint("to send this one as well, add --confirm-duplicate") } else { failure }
}

/// Each `--attach` file read and judged by its content: (name, content).
fn read_documents(paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    if paths.len() > MAX_DOCUMENTS_PER_REFERRAL {
        return Err(Failure::new(
            Exit::Usage,
            format!("--attach: {} files; a referral carries at most {MAX_DOCUMENTS_PER_REFERRAL}", paths.len()),
        ));
    }
    let mut documents = Vec::new();
    for path in paths {
        let shown = path.display();
        let bad = |why: String| Failure::new(Exit::Usage, format!("--attach {shown}: {why}"));
        let size = std::fs::metadata(path).map_err(|e| bad(format!("cannot be read: {e}")))?.len();
        if size > MAX_DOCUMENT_BYTES as u64 {
            return Err(bad(format!(
                "is larger than {}, the most a document may be",
                size_in_words(MAX_DOCUMENT_BYTES)
            )));
        }
        let content = std::fs::read(path).map_err(|e| bad(format!("cannot be read: {e}")))?;
        check_document(&content).map_err(bad)?;
        let name = document_name(&path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
            .map_err(|why| bad(format!("its name {why}")))?;
        documents.push((name, content));
    }
    Ok(documents)
}

/// Sends one document to referral `id` in pieces of 1 MiB.
async fn upload(
    gateway: &Gateway,
    id: i64,
    name: &str,
    content: Vec<u8>,
    key: &str,
) -> Result<tonic::Response<pb::ReferralAttachment>, tonic::Status> {
    let mut pieces: Vec<pb::UploadReferralAttachmentRequest> = content
        .chunks(1024 * 1024)
        .map(|piece| pb::UploadReferralAttachmentRequest { chunk: piece.to_vec(), ..Default::default() })
        .collect();
    if pieces.is_empty() {
        pieces.push(pb::UploadReferralAttachmentRequest::default());
    }
    pieces[0].referral_id = id;
    pieces[0].file_name = name.to_owned();
    pieces[0].idempotency_key = key.to_owned();
    gateway.referrals().upload_referral_attachment(tokio_stream::iter(pieces)).await
}

/// What a person sees for each document attached.
pub fn attached_line(document: &pb::ReferralAttachment) -> String {
    let kind = DocumentKind::parse(&document.kind).map_or("document", DocumentKind::name);
    let size = size_in_words(usize::try_from(document.size_bytes).unwrap_or(0));
    format!("Attached {} ({kind}, {size}) as document {}.\n", document.file_name, document.id)
}

/// The request the flags describe.
fn request(args: &SubmitArgs, key: &str) -> pb::SubmitReferralRequest {
    pb::SubmitReferralRequest {
        referral: Some(pb::ReferralBody {
            pupil_id: args.pupil,
            school_urn: args.school.trim().to_owned(),
            kind: args.kind.trim().to_owned(),
            broad_areas: args.areas.iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect(),
            concern: args.concern.clone(),
            graduated_approach: Some(pb::GraduatedApproach {
                summary: args.tried.clone(),
                support_cycle_ids: args.support_cycles.clone(),
                provision_ids: args.provisions.clone(),
            }),
            consent: Some(pb::ParentalConsent {
                given_by: args.consent_given_by.clone(),
                given_on: dates::to_proto(Some(args.consent_given_on)),
                method: args.consent_method.trim().to_owned(),
            }),
            priority: args.priority.trim().to_owned(),
        }),
        idempotency_key: key.to_owned(),
        confirm_duplicate: args.confirm_duplicate,
    }
}

/// What a person sees after submitting.
pub fn submitted_line(referral: &pb::Referral, key: &str) -> String {
    format!("Referral {} submitted: status {} (idempotency key {key}).\n", referral.id, status_name(referral.status))
}

/// Only failures after which the referral may or may not exist need the key.
pub fn with_retry_hint(failure: Failure, hint: &str) -> Failure {
    match failure.exit {
        Exit::Unavailable | Exit::Unexpected => failure.with_hint(hint),
        _ => failure,
    }
}

/// A random key: 128 bits from the operating system, in hex.
pub fn new_idempotency_key() -> Result<String, Failure> {
    let mut bytes = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| Failure::new(Exit::Unexpected, format!("cannot make an idempotency key: {e}")))?;
    Ok(format!("sen-cli-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Submit {
        #[command(flatten)]
        args: SubmitArgs,
    }

    fn parse(extra: &[&str]) -> Result<SubmitArgs, clap::Error> {
        let mut argv = vec![
            "submit",
            "--pupil",
            "42",
            "--school",
            "100001",
            "--kind",
            "educational_psychology",
            "--area",
            "cognition_and_learning,sensory_physical",
            "--concern",
            "Reading age well below peers",
            "--tried",
            "Two cycles of phonics",
            "--support-cycle",
            "3",
            "--support-cycle",
            "4",
            "--consent-given-by",
            "Mother, Sarah Khan",
            "--consent-given-on",
            "2026-01-10",
            "--consent-method",
            "signed_form",
            "--token",
            "t",
        ];
        argv.extend_from_slice(extra);
        Submit::try_parse_from(argv).map(|s| s.args)
    }

    #[test]
    fn every_flag_lands_in_its_referral_field() {
        let args = parse(&["--priority", "urgent", "--idempotency-key", "k-1"]).unwrap();
        let request = request(&args, "k-1");
        let body = request.referral.unwrap();
        assert_eq!(body.pupil_id, 42);
        assert_eq!(body.school_urn, "100001");
        assert_eq!(body.broad_areas, ["cognition_and_learning", "sensory_physical"]);
        assert_eq!(body.priority, "urgent");
        let tried = body.graduated_approach.unwrap();
        assert_eq!((tried.summary.as_str(), tried.support_cycle_ids), ("Two cycles of phonics", vec![3, 4]));
        let consent = body.consent.unwrap();
        assert_eq!(consent.given_by, "Mother, Sarah Khan");
        assert_eq!(dates::show(consent.given_on.as_ref()).as_deref(), Some("2026-01-10"));
        assert_eq!(consent.method, "signed_form");
        assert_eq!(request.idempotency_key, "k-1");
    }

    #[test]
    fn consent_and_an_area_of_need_cannot_be_left_out() {
        let error = Submit::try_parse_from(["submit", "--pupil", "42", "--school", "100001"]).err().unwrap();
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        assert!(text.contains("--area") && text.contains("--consent-given-by"), "{text}");
    }

    #[test]
    fn made_up_keys_are_unique_and_shown_with_the_result() {
        let (a, b) = (new_idempotency_key().unwrap(), new_idempotency_key().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), "sen-cli-".len() + 32);
        let referral = pb::Referral { id: 77, status: pb::ReferralStatus::Submitted as i32, ..Default::default() };
        assert_eq!(
            submitted_line(&referral, &a),
            format!("Referral 77 submitted: status submitted (idempotency key {a}).\n")
        );
    }

    #[test]
    fn a_failure_that_may_have_written_tells_how_to_retry_safely() {
        let down = Failure::new(Exit::Unavailable, "cannot reach the gateway");
        assert!(with_retry_hint(down, "pass --idempotency-key k").message.ends_with("pass --idempotency-key k"));
        let rejected = Failure::new(Exit::Rejected, "input rejected: referral.kind: bad");
        assert_eq!(with_retry_hint(rejected.clone(), "pass --idempotency-key k"), rejected);
    }
}
