//! Reading requests: each field is checked on its own and the checks are joined
//! ([`AllChecked::all`]), so the caller learns every bad field, named by its path
//! in the request, at once, and a handler gets every parsed value or none: nothing
//! is written when any field is bad. Rules across fields (a review date after the
//! start, a decision with its date) are judged on the fields that parsed.

use chrono::NaiveDate;
use sen_platform::dates::{checked_as_of, date, not_future, optional_date, past_date};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, Checked, field, none_of, path, version};
use sen_platform::ids::Urn;
use sen_platform::paging::Page;
use sen_proto::v1 as pb;

use super::wire;
use crate::domain::{
    NcYear, NeedType, PupilDetails, PupilSearch, ReviewDecision, SenRecord, SenStatus, SupportOutcome, Upn,
    check_date_of_birth, clean_line, clean_text, minutes_per_week, optional_line, optional_text,
};
use crate::store::{
    AnnualReviewInput, NewCycle, NewEhcp, NewNeedType, NewProvision, PupilFilter, PupilOrder, SenChange,
};

const NAME_MAX: usize = 100;
/// Longest free-text field (outcomes, provision plans, notes).
const TEXT_MAX: usize = 4000;

/// A new pupil: their details, status and needs (codes of the authority's
/// `codes`), and the plan when the status is E.
pub fn new_pupil(
    req: &pb::CreatePupilRequest,
    codes: &[NeedType],
    today: NaiveDate,
) -> Checked<(PupilDetails, SenRecord, Option<NewEhcp>)> {
    let sen = sen_record(req.sen_status, &req.primary_need_code, &req.secondary_need_code, codes);
    let plan = match &sen {
        Ok(sen) if sen.status == SenStatus::EhcPlan => new_ehcp(req.ehcp.as_ref(), "ehcp", today).map(Some),
        _ => Ok(None),
    };
    (pupil_details(req.pupil.as_ref(), "pupil", today), sen, plan).all()
}

/// A pupil's new details, with the version the caller read.
pub fn pupil_update(req: &pb::UpdatePupilRequest, today: NaiveDate) -> Checked<(i64, PupilDetails)> {
    (version(req.version, "version"), pupil_details(req.pupil.as_ref(), "pupil", today)).all()
}

/// The page and filter of a register list; a primary need is one of the
/// authority's `codes`.
pub fn pupil_filter(req: &pb::ListPupilsRequest, codes: &[NeedType]) -> Checked<(Page, PupilFilter)> {
    let (page, school, status, primary_need, nc_year, upn, ids, order, search) = (
        Page::checked(req.page.as_ref(), "page"),
        filter(&req.school_urn, "school_urn", Urn::parse),
        field("sen_status", wire::sen_status(req.sen_status)),
        field(PRIMARY_NEED, wire::need(&req.primary_need_code, codes).map(|n| n.map(|n| n.code))),
        filter(&req.nc_year, "nc_year", NcYear::parse),
        filter(&req.upn, "upn", Upn::parse),
        field("ids", pupil_ids(&req.ids)),
        field("order", pupil_order(req.order)),
        field("search", PupilSearch::parse(&req.search)),
    )
        .all()?;
    let on_register = req.on_sen_register;
    let looked_after = req.looked_after;
    let filter =
        PupilFilter { school, status, primary_need, nc_year, looked_after, upn, ids, on_register, order, search };
    Ok((page, filter))
}

/// The order a list asks for.
fn pupil_order(value: i32) -> Result<PupilOrder, String> {
    match pb::PupilOrder::try_from(value) {
        Ok(pb::PupilOrder::Unspecified) => Ok(PupilOrder::Id),
        Ok(pb::PupilOrder::Name) => Ok(PupilOrder::Name),
        Err(_) => Err(format!("{value} is not an order of pupils")),
    }
}

/// The most pupils one list asks for by id.
const IDS_MAX: usize = 500;

/// The pupils a list is narrowed to by id (none: any pupil).
fn pupil_ids(ids: &[i64]) -> Result<Vec<i32>, String> {
    if ids.len() > IDS_MAX {
        return Err(format!("at most {IDS_MAX} pupils at once, not {}", ids.len()));
    }
    ids.iter()
        .map(|&id| i32::try_from(id).ok().filter(|id| *id > 0).ok_or_else(|| format!("{id} is not a pupil id")))
        .collect()
}

/// A change of SEN status, with the version the caller read.
pub fn sen_change(req: &pb::ChangeSenStatusRequest, codes: &[NeedType], today: NaiveDate) -> Checked<(i64, SenChange)> {
    let sen = sen_record(req.sen_status, &req.primary_need_code, &req.secondary_need_code, codes);
    // A plan is optional here: moving to E may keep the plan already on record.
    let plan = match (&sen, req.ehcp.as_ref()) {
        (Ok(sen), Some(_)) if sen.status == SenStatus::EhcPlan => new_ehcp(req.ehcp.as_ref(), "ehcp", today).map(Some),
        _ => Ok(None),
    };
    let (version, sen, effective_on, reason, ehcp) = (
        version(req.version, "version"),
        sen,
        past_date(req.effective_on.as_ref(), "effective_on", today),
        text(&req.reason, "reason"),
        plan,
    )
        .all()?;
    Ok((version, SenChange { sen, effective_on, reason, ehcp }))
}

/// A new cycle of SEN support, its review after its start.
pub fn new_cycle(req: &pb::AddSupportCycleRequest) -> Checked<NewCycle> {
    let dates = (date(req.started_on.as_ref(), "started_on"), date(req.review_due.as_ref(), "review_due"))
        .all()
        .and_then(|(start, due)| match due <= start {
            true => Err(FieldViolations::one("review_due", format!("{due} is not after the start on {start}"))),
            false => Ok((start, due)),
        });
    let ((started_on, review_due), outcomes_sought, planned_provision) =
        (dates, text(&req.outcomes_sought, "outcomes_sought"), text(&req.planned_provision, "planned_provision"))
            .all()?;
    Ok(NewCycle { started_on, outcomes_sought, planned_provision, review_due })
}

/// A support cycle's review: when (by `today`), its outcome and notes.
pub fn support_review(
    req: &pb::RecordSupportReviewRequest,
    today: NaiveDate,
) -> Checked<(NaiveDate, SupportOutcome, Option<String>)> {
    (
        past_date(req.reviewed_on.as_ref(), "reviewed_on", today),
        field("outcome", wire::outcome(req.outcome)),
        field("review_notes", optional_text(&req.review_notes, TEXT_MAX)),
    )
        .all()
}

/// New provision, ending (if it does) after its start.
pub fn new_provision(req: &pb::AddProvisionRequest) -> Checked<NewProvision> {
    let dates = (date(req.start_on.as_ref(), "start_on"), optional_date(req.end_on.as_ref(), "end_on")).all().and_then(
        |(start, end)| match end {
            Some(end) if end < start => {
                Err(FieldViolations::one("end_on", format!("{end} is before the start on {start}")))
            }
            _ => Ok((start, end)),
        },
    );
    let (provision_type, provider, minutes_per_week, (start_on, end_on)) = (
        field("provision_type", clean_text(&req.provision_type, 200)),
        field("provider", clean_text(&req.provider, 200)),
        field("hours_per_week", minutes_per_week(req.hours_per_week)),
        dates,
    )
        .all()?;
    Ok(NewProvision { provision_type, provider, minutes_per_week, start_on, end_on })
}

/// An annual review's meeting, report and decision, judged on `today`.
pub fn annual_review(req: &pb::RecordAnnualReviewRequest, today: NaiveDate) -> Checked<AnnualReviewInput> {
    let meeting_on = date(req.meeting_on.as_ref(), "meeting_on");
    let report_sent_on = optional_date(req.report_sent_on.as_ref(), "report_sent_on");
    let decision = field("decision", wire::decision(req.decision));
    let decision_on = optional_date(req.decision_on.as_ref(), "decision_on");
    // Judged on what parsed, so a bad date and a decision without one are both named.
    let timing = review_timing(
        meeting_on.as_ref().ok().copied(),
        report_sent_on.as_ref().ok().copied().flatten(),
        decision.as_ref().ok().copied().flatten(),
        decision_on.as_ref().ok().copied().flatten(),
        today,
    );
    let outcome = super::review_outcome::outcome(
        req,
        meeting_on.as_ref().ok().copied(),
        decision.as_ref().ok().copied().flatten(),
        today,
    );
    let (meeting_on, report_sent_on, decision, decision_on, (), outcome) =
        (meeting_on, report_sent_on, decision, decision_on, none_of(timing), outcome).all()?;
    Ok(AnnualReviewInput {
        meeting_on,
        report_sent_on,
        decision,
        decision_on,
        amendments_proposed_on: outcome.amendments_proposed_on,
        amended_plan_issued_on: outcome.amended_plan_issued_on,
        cease_reason: outcome.cease_reason,
        cessation: outcome.cessation,
    })
}

/// A phase-transfer decision as asked for, before it is matched to the pupil's
/// transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferDecisionRequest {
    /// The setting named; none only for a pupil staying in their own sixth form.
    pub next_setting: Option<String>,
    /// When the amended plan was issued.
    pub amended_plan_issued_on: Option<NaiveDate>,
    /// The pupil stays in their school's own sixth form.
    pub staying_in_own_sixth_form: bool,
    /// The day of a move between post-16 institutions.
    pub post16_move_on: Option<NaiveDate>,
}

/// Longest name of a setting.
const SETTING_MAX: usize = 200;

/// A phase-transfer decision: the next setting and the day the amended plan was
/// issued (required for a phase transfer; optional for a post-16 move, whose
/// date is required instead), or that the pupil stays in their own sixth form.
pub fn transfer_decision(
    req: &pb::RecordTransferDecisionRequest,
    today: NaiveDate,
) -> Checked<TransferDecisionRequest> {
    let staying = req.staying_in_own_sixth_form;
    let moving_on = optional_date(req.post16_move_on.as_ref(), "post16_move_on");
    let moving = matches!(moving_on, Ok(Some(_)));
    let next_setting = if staying {
        field("next_setting", optional_text(&req.next_setting, SETTING_MAX))
    } else {
        field("next_setting", clean_text(&req.next_setting, SETTING_MAX)).map(Some)
    };
    let issued_on = match &req.amended_plan_issued_on {
        None if staying || moving => Ok(None),
        given => past_date(given.as_ref(), "amended_plan_issued_on", today).map(Some),
    };
    let mut rules = FieldViolations::new();
    if staying && moving {
        rules.add("post16_move_on", "a pupil staying in their own sixth form has no post-16 move");
    }
    let (next_setting, amended_plan_issued_on, post16_move_on, ()) =
        (next_setting, issued_on, moving_on, none_of(rules)).all()?;
    Ok(TransferDecisionRequest {
        next_setting,
        amended_plan_issued_on,
        staying_in_own_sixth_form: staying,
        post16_move_on,
    })
}

/// The day a report is judged on, its page, and its window (`default_days` when unset).
pub fn window_report(
    as_of: Option<&pb::Date>,
    page_request: Option<&pb::PageRequest>,
    days: u32,
    default_days: u32,
    today: NaiveDate,
) -> Checked<(NaiveDate, Page, u32)> {
    (checked_as_of(as_of, today), Page::checked(page_request, "page"), window_days(days, default_days)).all()
}

/// The day a list is judged on and its page.
pub fn dated_page(
    as_of: Option<&pb::Date>,
    page_request: Option<&pb::PageRequest>,
    today: NaiveDate,
) -> Checked<(NaiveDate, Page)> {
    (checked_as_of(as_of, today), Page::checked(page_request, "page")).all()
}

/// A filter's value: empty is no filter.
fn filter<T>(value: &str, name: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Checked<Option<T>> {
    if value.is_empty() { Ok(None) } else { field(name, parse(value).map(Some)) }
}

/// Required free text (outcomes, plans, reasons) of at most [`TEXT_MAX`] characters.
fn text(value: &str, name: &str) -> Checked<String> {
    field(name, clean_text(value, TEXT_MAX))
}

/// The wire fields of a pupil's needs.
const PRIMARY_NEED: &str = "primary_need_code";
const SECONDARY_NEED: &str = "secondary_need_code";

/// Status and needs together (codes of the authority's `codes`), each field
/// named on failure.
fn sen_record(status: i32, primary: &str, secondary: &str, codes: &[NeedType]) -> Checked<SenRecord> {
    let (status, primary, secondary) = (
        field("sen_status", wire::sen_status(status).and_then(|s| s.ok_or_else(|| "is required".into()))),
        field(PRIMARY_NEED, wire::need(primary, codes)),
        field(SECONDARY_NEED, wire::need(secondary, codes)),
    )
        .all()?;
    SenRecord::new(status, primary, secondary).map_err(|(name, message)| {
        let name = if name == "secondary_need" { SECONDARY_NEED } else { PRIMARY_NEED };
        FieldViolations::one(name, message)
    })
}

/// A type-of-need code a council adds.
pub fn new_need_type(req: &pb::AddNeedTypeRequest, today: NaiveDate) -> Checked<NewNeedType> {
    let (area, added_on) = (
        field("broad_area", wire::broad_area(req.broad_area)),
        optional_date(req.added_on.as_ref(), "added_on").and_then(|d| match d {
            Some(day) => not_future(day, today, "added_on").map(Some),
            None => Ok(None),
        }),
    )
        .all()?;
    Ok(NewNeedType {
        code: req.code.clone(),
        name: req.name.clone(),
        area,
        sen_support_only: req.sen_support_only,
        added_on,
    })
}

/// The pupil's details under `prefix`.
fn pupil_details(input: Option<&pb::PupilFields>, prefix: &str, today: NaiveDate) -> Checked<PupilDetails> {
    let input = input.ok_or_else(|| FieldViolations::one(prefix, "is required"))?;
    let f = |name| path(prefix, name);
    let date_of_birth = date(input.date_of_birth.as_ref(), &f("date_of_birth"))
        .and_then(|dob| field(&f("date_of_birth"), check_date_of_birth(dob, today)));
    let nc_year_override = if input.nc_year_override.trim().is_empty() {
        Ok(None)
    } else {
        field(&f("nc_year_override"), NcYear::parse(&input.nc_year_override).map(Some))
    };
    let (
        upn,
        legal_forename,
        legal_surname,
        preferred_forename,
        preferred_surname,
        date_of_birth,
        school_urn,
        nc_year_override,
    ) = (
        field(&f("upn"), Upn::parse(&input.upn)),
        field(&f("legal_forename"), clean_line(&input.legal_forename, NAME_MAX)),
        field(&f("legal_surname"), clean_line(&input.legal_surname, NAME_MAX)),
        field(&f("preferred_forename"), optional_line(&input.preferred_forename, NAME_MAX)),
        field(&f("preferred_surname"), optional_line(&input.preferred_surname, NAME_MAX)),
        date_of_birth,
        field(&f("school_urn"), Urn::parse(&input.school_urn)),
        nc_year_override,
    )
        .all()?;
    Ok(PupilDetails {
        upn,
        legal_forename,
        legal_surname,
        preferred_forename,
        preferred_surname,
        date_of_birth,
        school_urn,
        nc_year_override,
        looked_after: input.looked_after,
    })
}

/// The plan a pupil moving to E starts with, under `prefix`.
fn new_ehcp(input: Option<&pb::EhcpFields>, prefix: &str, today: NaiveDate) -> Checked<NewEhcp> {
    let input = input.ok_or_else(|| FieldViolations::one(prefix, "is required when the status is E"))?;
    let (issued_on, named_setting) = (
        past_date(input.issued_on.as_ref(), &path(prefix, "issued_on"), today),
        field(&path(prefix, "named_setting"), clean_text(&input.named_setting, 200)),
    )
        .all()?;
    Ok(NewEhcp { issued_on, named_setting })
}

/// What is wrong with an annual review's dates and decision taken together, judged
/// on `today`: nothing in the future, nothing before the meeting, and a decision
/// only with its date.
fn review_timing(
    meeting_on: Option<NaiveDate>,
    report_sent_on: Option<NaiveDate>,
    decision: Option<ReviewDecision>,
    decision_on: Option<NaiveDate>,
    today: NaiveDate,
) -> FieldViolations {
    let mut violations = FieldViolations::new();
    for (name, when) in [("meeting_on", meeting_on), ("report_sent_on", report_sent_on), ("decision_on", decision_on)] {
        if let Some(Err(ahead)) = when.map(|day| not_future(day, today, name)) {
            violations.extend(ahead);
        }
    }
    if let Some(meeting) = meeting_on {
        for (name, when) in [("report_sent_on", report_sent_on), ("decision_on", decision_on)] {
            if when.is_some_and(|d| d < meeting) {
                violations.add(name, format!("is before the meeting on {meeting}"));
            }
        }
    }
    match (decision, decision_on) {
        (Some(_), None) => violations.add("decision_on", "is required with a decision"),
        (None, Some(_)) => violations.add("decision", "is required with a decision date"),
        _ => {}
    }
    violations
}

/// A report's window in days: `default` when unset, at most ten years.
fn window_days(days: u32, default: u32) -> Checked<u32> {
    match days {
        0 => Ok(default),
        days if days > 3660 => Err(FieldViolations::one("window_days", "is more than ten years")),
        days => Ok(days),
    }
}

/// The person and case a case access grant is for.
pub fn case_access(person: &str, case_ref: &str) -> Checked<(String, String)> {
    (field("person", clean_text(person, 200)), field("case_ref", clean_text(case_ref, 100))).all()
}
