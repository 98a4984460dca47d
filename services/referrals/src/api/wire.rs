//! Wire ↔ domain for the referrals service; every bad field is named.

use chrono::{NaiveDate, SecondsFormat};
use sen_platform::dates::{date, to_proto, to_proto_opt};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, Checked, field, path, text};
use sen_platform::ids::Urn;
use sen_proto::v1 as pb;

use crate::domain::{
    BroadArea, ClockDates, Consent, ConsentMethod, Event, NewReferral, Priority, ReceivedVia, RecordedRequest,
    ReferralKind, Refusal, Requester, Status, Tried, check_received_on, days_left, health, next_deadline, outcome_late,
    stage, weeks_elapsed,
};
use crate::entity::{referral, referral_event};
use crate::error::{Error, Result};
use crate::feed::{Position, RESUME_FIELD, Start};
use crate::store::{clock_dates, status_of};

/// Longest free text (concern, what was tried, notes).
pub const TEXT_MAX: usize = 4000;

/// What the school has tried, under `prefix`.
pub fn tried(input: Option<&pb::GraduatedApproach>, prefix: &str) -> Checked<Tried> {
    let Some(input) = input else {
        return Err(FieldViolations::one(prefix, "is required: say what the graduated approach has tried"));
    };
    let summary = text(&input.summary, &path(prefix, "summary"), TEXT_MAX)?;
    Ok(Tried { summary, cycles: input.support_cycle_ids.clone(), provisions: input.provision_ids.clone() })
}

/// Where a watch begins: after the position the watcher resumes from, or now.
pub fn watch_start(request: &pb::WatchReferralsRequest) -> Result<Start> {
    match request.after_position {
        None => Ok(Start::Now),
        Some(after) => Position::parse(after).map(Start::After).map_err(|e| Error::invalid(RESUME_FIELD, e)),
    }
}

/// The referral body under `prefix`, checked on `today`.
pub fn new_referral(input: Option<&pb::ReferralBody>, prefix: &str, today: NaiveDate) -> Checked<NewReferral> {
    let Some(input) = input else { return Err(FieldViolations::one(prefix, "is required")) };
    let f = |name| path(prefix, name);
    let pupil_id =
        field(&f("pupil_id"), if input.pupil_id < 1 { Err("is required".into()) } else { Ok(input.pupil_id) });
    let broad_areas = if input.broad_areas.is_empty() {
        Err("name at least one of the four broad areas of need".to_owned())
    } else {
        input.broad_areas.iter().map(|a| BroadArea::parse(a)).collect::<Result<Vec<_>, _>>()
    };
    let priority = if input.priority.is_empty() { Ok(Priority::Routine) } else { Priority::parse(&input.priority) };
    let (pupil_id, school, kind, broad_areas, concern, tried, consent, priority) = (
        pupil_id,
        field(&f("school_urn"), Urn::parse(&input.school_urn)),
        field(&f("kind"), ReferralKind::parse(&input.kind)),
        field(&f("broad_areas"), broad_areas),
        text(&input.concern, &f("concern"), TEXT_MAX),
        tried(input.graduated_approach.as_ref(), &f("graduated_approach")),
        consent(input.consent.as_ref(), &f("consent"), today),
        field(&f("priority"), priority),
    )
        .all()?;
    Ok(NewReferral { pupil_id, school, kind, broad_areas, concern, tried, consent, priority })
}

/// A request for an EHC needs assessment as a case officer records it, checked
/// on `today`: every bad field named at once. Consent is required for a request
/// made by anyone but the parent or young person, and refused for theirs (their
/// request is their agreement; CoP 9.8-9.9).
pub fn recorded_request(input: &pb::RecordEhcRequestRequest, today: NaiveDate) -> Checked<RecordedRequest> {
    let pupil_id = field("pupil_id", if input.pupil_id < 1 { Err("is required".into()) } else { Ok(input.pupil_id) });
    let received_on = date(input.received_on.as_ref(), "received_on")
        .and_then(|on| field("received_on", check_received_on(on, today).map(|()| on)));
    let broad_areas = if input.broad_areas.is_empty() {
        Err("name at least one of the four broad areas of need".to_owned())
    } else {
        input.broad_areas.iter().map(|a| BroadArea::parse(a)).collect::<Result<Vec<_>, _>>()
    };
    let requester = field("requester", Requester::parse(&input.requester));
    let consent = match (&requester, input.consent.as_ref()) {
        (Ok(who), None) if who.needs_consent() => Err(FieldViolations::one(
            "consent",
            format!(
                "is required for a request made by the {}: record the parent's or young person's agreement",
                who.name()
            ),
        )),
        (Ok(who), Some(_)) if !who.needs_consent() => Err(FieldViolations::one(
            "consent",
            format!("is not recorded for the {}'s own request: their request is their agreement", who.name()),
        )),
        (_, Some(given)) => self::consent(Some(given), "consent", today).map(Some),
        (_, None) => Ok(None),
    };
    let (pupil_id, school, received_on, requester, received_via, requester_name, broad_areas, concern, tried, consent) =
        (
            pupil_id,
            field("school_urn", Urn::parse(&input.school_urn)),
            received_on,
            requester,
            field("received_via", ReceivedVia::parse_recorded(&input.received_via)),
            text(&input.requester_name, "requester_name", 200),
            field("broad_areas", broad_areas),
            text(&input.concern, "concern", TEXT_MAX),
            optional_text(&input.graduated_approach, "graduated_approach"),
            consent,
        )
            .all()?;
    Ok(RecordedRequest {
        pupil_id,
        school,
        received_on,
        requester,
        received_via,
        requester_name,
        broad_areas,
        concern,
        tried,
        consent,
    })
}

/// Free text that may be empty, at most [`TEXT_MAX`] characters, trimmed.
pub fn optional_text(input: &str, name: &str) -> Checked<String> {
    if input.trim().is_empty() { Ok(String::new()) } else { text(input, name, TEXT_MAX) }
}

fn consent(input: Option<&pb::ParentalConsent>, prefix: &str, today: NaiveDate) -> Checked<Consent> {
    let Some(input) = input else {
        return Err(FieldViolations::one(
            prefix,
            "parental consent is required before a referral can be made: record who gave it, when and how",
        ));
    };
    let (given_on, method) = (
        date(input.given_on.as_ref(), &path(prefix, "given_on")),
        field(&path(prefix, "method"), ConsentMethod::parse(&input.method)),
    )
        .all()?;
    Consent::new(&input.given_by, given_on, method, today)
        .map_err(|(name, message)| FieldViolations::one(path(prefix, name), message))
}

/// The domain's refusals of fields of the message under `prefix`, as bad input.
pub fn refused(prefix: &str, refusals: impl IntoIterator<Item = Refusal>) -> Error {
    let mut violations = FieldViolations::new();
    for (name, message) in refusals {
        violations.add(path(prefix, name), message);
    }
    Error::Invalid(violations)
}

/// A lifecycle event from the wire.
pub fn event(value: i32) -> std::result::Result<Event, String> {
    match pb::ReferralEvent::try_from(value) {
        Ok(pb::ReferralEvent::Accept) => Ok(Event::Accept),
        Ok(pb::ReferralEvent::Return) => Ok(Event::Return),
        Ok(pb::ReferralEvent::Decline) => Ok(Event::Decline),
        Ok(pb::ReferralEvent::Withdraw) => Ok(Event::Withdraw),
        Ok(pb::ReferralEvent::Start) => Ok(Event::Start),
        Ok(pb::ReferralEvent::Close) => Ok(Event::Close),
        Ok(pb::ReferralEvent::Unspecified) => Err("is required".into()),
        Err(_) => Err(format!("{value} is not a referral event")),
    }
}

/// A status filter: unspecified is any.
pub fn status(value: i32) -> std::result::Result<Option<Status>, String> {
    match pb::ReferralStatus::try_from(value) {
        Ok(pb::ReferralStatus::Unspecified) => Ok(None),
        Ok(s) => Status::ALL
            .get((s as i32 - 1) as usize)
            .copied()
            .map(Some)
            .ok_or_else(|| format!("{value} is not a status")),
        Err(_) => Err(format!("{value} is not a referral status")),
    }
}

/// The wire value of a status (its place in [`Status::ALL`], counted from 1).
pub fn status_value(status: Status) -> i32 {
    Status::ALL.iter().position(|x| *x == status).map_or(0, |i| i as i32 + 1)
}

fn status_to_proto(code: &str) -> i32 {
    Status::parse(code).map_or(0, status_value)
}

fn split_ids(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|s| s.parse().ok()).collect()
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Wire form of the clock on `today` of a referral whose status is `status`.
pub fn clock_to_proto(
    row: &referral::Model,
    status: Status,
    dates: &ClockDates,
    today: NaiveDate,
) -> pb::StatutoryClock {
    let next = next_deadline(status, dates, today);
    pb::StatutoryClock {
        received_on: Some(to_proto(dates.received_on)),
        stage: stage(status, dates).code().to_owned(),
        decision_due: to_proto_opt(row.decision_due),
        no_plan_notice_due: to_proto_opt(row.no_plan_notice_due),
        final_plan_due: to_proto_opt(row.final_plan_due),
        assessment_decision: dates.assessment_decision.map(|d| d.0.code().to_owned()).unwrap_or_default(),
        assessment_decision_on: to_proto_opt(dates.assessment_decision.map(|d| d.1)),
        plan_decision: dates.plan_decision.map(|d| d.0.code().to_owned()).unwrap_or_default(),
        plan_decision_on: to_proto_opt(dates.plan_decision.map(|d| d.1)),
        final_plan_issued_on: to_proto_opt(dates.final_plan_issued_on),
        exception: dates.exception.map(|e| e.code().to_owned()).unwrap_or_default(),
        next_deadline: next.as_ref().map(|d| d.what.to_owned()).unwrap_or_default(),
        next_deadline_on: to_proto_opt(next.as_ref().map(|d| d.due)),
        weeks_elapsed: i32::try_from(weeks_elapsed(dates.received_on, today)).unwrap_or(i32::MAX),
        days_left: next.as_ref().map_or(0, |d| i32::try_from(days_left(d.due, today)).unwrap_or(i32::MIN)),
        health: health(status, dates, today).map(|h| h.code().to_owned()).unwrap_or_default(),
        // A SENCO's referral, and every request stored before requesters were, is a school's by the form.
        requester: row.requester.clone().unwrap_or_else(|| Requester::School.code().to_owned()),
        received_via: row.received_via.clone().unwrap_or_else(|| ReceivedVia::ReferralForm.code().to_owned()),
        requester_name: row.requester_name.clone().unwrap_or_default(),
        // A SENCO's referral is recorded as it is received; a request a case officer
        // records may have been received days before.
        recorded_on: Some(to_proto(if row.requester.is_some() {
            row.created_at.date_naive()
        } else {
            row.submitted_on
        })),
        draft_plan_sent_on: to_proto_opt(row.draft_plan_sent_on),
        consultation_ends_on: to_proto_opt(row.consultation_ends_on),
        exception_on: to_proto_opt(row.clock_exception_on.filter(|_| dates.exception.is_some())),
        exception_note: row.clock_exception_note.clone().filter(|_| dates.exception.is_some()).unwrap_or_default(),
        outcome_late: outcome_late(dates),
    }
}

/// Wire form of a referral on `today`.
pub fn referral_to_proto(row: &referral::Model, today: NaiveDate) -> Result<pb::Referral> {
    let status = status_of(row)?;
    let clock = clock_dates(row)?.map(|dates| clock_to_proto(row, status, &dates, today));
    Ok(pb::Referral {
        id: i64::from(row.id),
        body: Some(pb::ReferralBody {
            pupil_id: row.pupil_id,
            school_urn: row.school_urn.to_string(),
            kind: row.kind.clone(),
            broad_areas: row.broad_areas.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            concern: row.concern.clone(),
            graduated_approach: Some(pb::GraduatedApproach {
                summary: row.tried_summary.clone(),
                support_cycle_ids: split_ids(&row.support_cycle_ids),
                provision_ids: split_ids(&row.provision_ids),
            }),
            // None for a parent's or young person's own request (stored without consent).
            consent: (!row.consent_method.is_empty()).then(|| pb::ParentalConsent {
                given_by: row.consent_given_by.clone(),
                given_on: Some(to_proto(row.consent_given_on)),
                method: row.consent_method.clone(),
            }),
            priority: row.priority.clone(),
        }),
        status: status_to_proto(&row.status),
        submitted_on: Some(to_proto(row.submitted_on)),
        allocated_to: row.allocated_to.clone().unwrap_or_default(),
        outcome: row.outcome.clone().unwrap_or_default(),
        clock,
        version: row.version,
        // Filled in where the referral is answered on its own (`register`).
        register_change: None,
    })
}

/// Wire form of a timeline entry.
pub fn entry_to_proto(e: &referral_event::Model) -> pb::TimelineEntry {
    pb::TimelineEntry {
        at: timestamp(e.at),
        by: e.by.clone(),
        by_role: e.by_role.clone(),
        from: e.from_status.as_deref().map_or(0, status_to_proto),
        to: status_to_proto(&e.to_status),
        note: e.note.clone(),
    }
}
