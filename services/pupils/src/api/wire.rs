//! Wire ↔ domain for the pupils service: the wire enums read into the domain's
//! (unspecified is absent, an unknown number an error to name against the field)
//! and every reply built from the domain and the stored rows. Checking whole
//! requests is [`super::requests`].

use chrono::{NaiveDate, SecondsFormat};
use sen_platform::dates::{to_proto, to_proto_opt};
use sen_proto::v1 as pb;

use crate::domain::{
    BroadArea, NcYear, NeedCode, NeedType, PhaseTransfer, Pupil, Rag, ReviewDecision, SenStatus, SupportOutcome,
    TransferStatus, decision_due, parse_need, report_due, step,
};
use crate::entity::{annual_review, audit_event, case_access, provision, pupil_history, support_cycle};

/// SEN provision status: unspecified is absent.
pub fn sen_status(value: i32) -> Result<Option<SenStatus>, String> {
    match pb::SenProvision::try_from(value) {
        Ok(pb::SenProvision::Unspecified) => Ok(None),
        Ok(pb::SenProvision::NoSen) => Ok(Some(SenStatus::NoSen)),
        Ok(pb::SenProvision::SenSupport) => Ok(Some(SenStatus::SenSupport)),
        Ok(pb::SenProvision::EhcPlan) => Ok(Some(SenStatus::EhcPlan)),
        Err(_) => Err(format!("{value} is not an SEN provision status")),
    }
}

fn sen_status_to_proto(status: SenStatus) -> i32 {
    match status {
        SenStatus::NoSen => pb::SenProvision::NoSen as i32,
        SenStatus::SenSupport => pb::SenProvision::SenSupport as i32,
        SenStatus::EhcPlan => pb::SenProvision::EhcPlan as i32,
    }
}

/// A type-of-need code: empty is absent; otherwise one of the authority's
/// `codes` (any case), or what is wrong with it.
pub fn need<'a>(code: &str, codes: &'a [NeedType]) -> Result<Option<&'a NeedType>, String> {
    if code.trim().is_empty() {
        return Ok(None);
    }
    parse_need(code, codes).map(Some)
}

fn need_to_proto(need: Option<NeedCode>) -> String {
    need.map(|n| n.as_str().to_owned()).unwrap_or_default()
}

/// Wire form of a type-of-need code of the authority.
pub fn need_type_to_proto(need: &NeedType) -> pb::NeedType {
    pb::NeedType {
        code: need.code().to_owned(),
        name: need.name.clone(),
        broad_area: need.area.map_or(0, broad_area_to_proto),
        sen_support_only: need.sen_support_only,
        added_on: Some(to_proto(need.added_on)),
        national: need.national,
    }
}

/// A broad area of need: unspecified is absent.
pub fn broad_area(value: i32) -> Result<Option<BroadArea>, String> {
    match pb::BroadArea::try_from(value) {
        Ok(pb::BroadArea::Unspecified) => Ok(None),
        Ok(pb::BroadArea::CommunicationAndInteraction) => Ok(Some(BroadArea::CommunicationAndInteraction)),
        Ok(pb::BroadArea::CognitionAndLearning) => Ok(Some(BroadArea::CognitionAndLearning)),
        Ok(pb::BroadArea::SocialEmotionalAndMentalHealth) => Ok(Some(BroadArea::SocialEmotionalMentalHealth)),
        Ok(pb::BroadArea::SensoryAndPhysical) => Ok(Some(BroadArea::SensoryPhysical)),
        Err(_) => Err(format!("{value} is not a broad area of need")),
    }
}

fn broad_area_to_proto(area: BroadArea) -> i32 {
    let wire = match area {
        BroadArea::CommunicationAndInteraction => pb::BroadArea::CommunicationAndInteraction,
        BroadArea::CognitionAndLearning => pb::BroadArea::CognitionAndLearning,
        BroadArea::SocialEmotionalMentalHealth => pb::BroadArea::SocialEmotionalAndMentalHealth,
        BroadArea::SensoryPhysical => pb::BroadArea::SensoryAndPhysical,
    };
    wire as i32
}

/// A support outcome: required.
pub fn outcome(value: i32) -> Result<SupportOutcome, String> {
    match pb::SupportOutcome::try_from(value) {
        Ok(pb::SupportOutcome::Met) => Ok(SupportOutcome::Met),
        Ok(pb::SupportOutcome::PartlyMet) => Ok(SupportOutcome::PartlyMet),
        Ok(pb::SupportOutcome::NotMet) => Ok(SupportOutcome::NotMet),
        Ok(pb::SupportOutcome::Unspecified) => Err("is required".into()),
        Err(_) => Err(format!("{value} is not a support outcome")),
    }
}

fn outcome_to_proto(code: Option<&str>) -> i32 {
    match code.and_then(|c| SupportOutcome::parse(c).ok()) {
        Some(SupportOutcome::Met) => pb::SupportOutcome::Met as i32,
        Some(SupportOutcome::PartlyMet) => pb::SupportOutcome::PartlyMet as i32,
        Some(SupportOutcome::NotMet) => pb::SupportOutcome::NotMet as i32,
        None => pb::SupportOutcome::Unspecified as i32,
    }
}

/// A review decision: unspecified is none yet.
pub fn decision(value: i32) -> Result<Option<ReviewDecision>, String> {
    match pb::ReviewDecision::try_from(value) {
        Ok(pb::ReviewDecision::Unspecified) => Ok(None),
        Ok(pb::ReviewDecision::Maintain) => Ok(Some(ReviewDecision::Maintain)),
        Ok(pb::ReviewDecision::Amend) => Ok(Some(ReviewDecision::Amend)),
        Ok(pb::ReviewDecision::Cease) => Ok(Some(ReviewDecision::Cease)),
        Err(_) => Err(format!("{value} is not a review decision")),
    }
}

fn decision_to_proto(code: Option<&str>) -> i32 {
    match code.and_then(|c| ReviewDecision::parse(c).ok()) {
        Some(ReviewDecision::Maintain) => pb::ReviewDecision::Maintain as i32,
        Some(ReviewDecision::Amend) => pb::ReviewDecision::Amend as i32,
        Some(ReviewDecision::Cease) => pb::ReviewDecision::Cease as i32,
        None => pb::ReviewDecision::Unspecified as i32,
    }
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn nc_year_code(pupil: &Pupil, today: NaiveDate) -> String {
    pupil.details.nc_year(today).map(NcYear::code).unwrap_or_default()
}

/// Wire form of a pupil.
pub fn pupil_to_proto(pupil: &Pupil, today: NaiveDate) -> pb::Pupil {
    let d = &pupil.details;
    pb::Pupil {
        id: pupil.id,
        upn: d.upn.as_str().to_owned(),
        upn_temporary: d.upn.is_temporary(),
        legal_forename: d.legal_forename.clone(),
        legal_surname: d.legal_surname.clone(),
        preferred_forename: d.preferred_forename.clone().unwrap_or_default(),
        preferred_surname: d.preferred_surname.clone().unwrap_or_default(),
        date_of_birth: Some(to_proto(d.date_of_birth)),
        school_urn: d.school_urn.to_string(),
        nc_year: nc_year_code(pupil, today),
        nc_year_out_of_cohort: d.nc_year_override.is_some(),
        sen_status: sen_status_to_proto(pupil.sen.status),
        primary_need_code: need_to_proto(pupil.sen.primary),
        secondary_need_code: need_to_proto(pupil.sen.secondary),
        looked_after: d.looked_after,
        version: pupil.version,
    }
}

/// The short form lists show.
pub fn summary(pupil: &Pupil, today: NaiveDate) -> pb::PupilSummary {
    pb::PupilSummary {
        id: pupil.id,
        upn: pupil.details.upn.as_str().to_owned(),
        display_name: pupil.details.display_name(),
        school_urn: pupil.details.school_urn.to_string(),
        nc_year: nc_year_code(pupil, today),
        sen_status: sen_status_to_proto(pupil.sen.status),
    }
}

/// Wire form of a history entry.
pub fn history_to_proto(entry: &pupil_history::Model) -> pb::HistoryEntry {
    let kind = match entry.kind.as_str() {
        "added" => pb::HistoryKind::Added,
        "sen_status" => pb::HistoryKind::SenStatus,
        "school_move" => pb::HistoryKind::SchoolMove,
        _ => pb::HistoryKind::Unspecified,
    };
    pb::HistoryEntry {
        id: i64::from(entry.id),
        kind: kind as i32,
        effective_on: Some(to_proto(entry.effective_on)),
        sen_status: SenStatus::from_code(&entry.sen_status).map(sen_status_to_proto).unwrap_or(0),
        primary_need_code: entry.primary_need.clone().unwrap_or_default(),
        secondary_need_code: entry.secondary_need.clone().unwrap_or_default(),
        school_urn: entry.school_urn.to_string(),
        reason: entry.reason.clone(),
        changed_by: entry.changed_by.clone(),
        changed_by_role: entry.changed_by_role.clone(),
        recorded_at: timestamp(entry.recorded_at),
    }
}

/// Wire form of a support cycle, judged on `today`.
pub fn cycle_to_proto(cycle: &support_cycle::Model, today: NaiveDate) -> pb::SupportCycle {
    pb::SupportCycle {
        id: i64::from(cycle.id),
        pupil_id: i64::from(cycle.pupil_id),
        started_on: Some(to_proto(cycle.started_on)),
        outcomes_sought: cycle.outcomes_sought.clone(),
        planned_provision: cycle.planned_provision.clone(),
        review_due: Some(to_proto(cycle.review_due)),
        reviewed_on: to_proto_opt(cycle.reviewed_on),
        outcome: outcome_to_proto(cycle.outcome.as_deref()),
        review_notes: cycle.review_notes.clone().unwrap_or_default(),
        review_overdue: cycle.reviewed_on.is_none() && today > cycle.review_due,
    }
}

/// Wire form of a provision.
pub fn provision_to_proto(p: &provision::Model) -> pb::Provision {
    pb::Provision {
        id: i64::from(p.id),
        pupil_id: i64::from(p.pupil_id),
        provision_type: p.provision_type.clone(),
        provider: p.provider.clone(),
        hours_per_week: f64::from(p.minutes_per_week) / 60.0,
        start_on: Some(to_proto(p.start_on)),
        end_on: to_proto_opt(p.end_on),
    }
}

/// Wire form of an annual review with its steps judged on `today`.
pub fn review_to_proto(r: &annual_review::Model, today: NaiveDate) -> pb::AnnualReview {
    let report = step(report_due(r.meeting_on), r.report_sent_on, today);
    let decision = step(decision_due(r.meeting_on), r.decision_on, today);
    let mut review = pb::AnnualReview {
        id: i64::from(r.id),
        pupil_id: i64::from(r.pupil_id),
        meeting_on: Some(to_proto(r.meeting_on)),
        report_due: Some(to_proto(report.due)),
        report_sent_on: to_proto_opt(r.report_sent_on),
        report_late: report.late,
        decision: decision_to_proto(r.decision.as_deref()),
        decision_due: Some(to_proto(decision.due)),
        decision_on: to_proto_opt(r.decision_on),
        decision_late: decision.late,
        ..Default::default()
    };
    super::review_outcome::outcome_to_proto(r, today, &mut review);
    review
}

/// Wire form of a RAG rating.
pub fn rag_to_proto(rag: Rag) -> i32 {
    match rag {
        Rag::Red => pb::Rag::Red as i32,
        Rag::Amber => pb::Rag::Amber as i32,
        Rag::Green => pb::Rag::Green as i32,
    }
}

/// Wire form of a transfer with the decision recorded for it, judged on `today`.
pub fn transfer_to_proto(
    transfer: &PhaseTransfer,
    next_setting: Option<&str>,
    issued_on: Option<NaiveDate>,
    today: NaiveDate,
) -> pb::PhaseTransfer {
    pb::PhaseTransfer {
        kind: transfer.kind.code().to_owned(),
        transfer_on: Some(to_proto(transfer.transfer_on)),
        deadline: Some(to_proto(transfer.deadline)),
        days_left: i32::try_from(crate::domain::days_left(transfer.deadline, today)).unwrap_or(i32::MIN),
        rag: rag_to_proto(crate::domain::transfer_rag(transfer.deadline, today, issued_on)),
        next_setting: next_setting.unwrap_or_default().to_owned(),
        amended_plan_issued_on: to_proto_opt(issued_on),
        status: transfer_status_to_proto(crate::domain::transfer_status(transfer.deadline, today, issued_on)),
    }
}

/// Wire form of where a transfer stands.
pub fn transfer_status_to_proto(status: TransferStatus) -> i32 {
    match status {
        TransferStatus::Due => pb::TransferStatus::Due as i32,
        TransferStatus::Overdue => pb::TransferStatus::Overdue as i32,
        TransferStatus::IssuedOnTime => pb::TransferStatus::IssuedOnTime as i32,
        TransferStatus::IssuedLate => pb::TransferStatus::IssuedLate as i32,
    }
}

/// Wire form of a case access grant.
pub fn access_to_proto(a: &case_access::Model) -> pb::CaseAccess {
    pb::CaseAccess {
        id: i64::from(a.id),
        pupil_id: i64::from(a.pupil_id),
        person: a.person.clone(),
        case_ref: a.case_ref.clone(),
        granted_at: timestamp(a.granted_at),
        revoked_at: a.revoked_at.map(timestamp).unwrap_or_default(),
    }
}

/// Wire form of an audit event.
pub fn audit_to_proto(e: &audit_event::Model) -> pb::AuditEvent {
    pb::AuditEvent {
        id: i64::from(e.id),
        person: e.person.clone(),
        role: e.role.clone(),
        pupil_id: e.pupil_id.map(i64::from).unwrap_or_default(),
        action: e.action.clone(),
        at: timestamp(e.at),
        trace_id: e.trace_id.clone().unwrap_or_default(),
    }
}
