//! The statutory steps of an EHC needs assessment request, beside its clock on
//! the request's page: what has been recorded and when (everyone who may read
//! the request sees it), and for the council team the form of the one step the
//! clock's stage is waiting for: the decision whether to assess, then whether
//! to issue a plan, then the draft plan sent for consultation (reg. 13(1)) and
//! the final plan; and the exception, with its date and note, that leaves the
//! case out of the timeliness figures (reg. 10(4)), while the request is open or
//! its plan issued. Each form carries the request's version, so a step someone else
//! recorded meanwhile is shown rather than written over. What the forms send
//! is handled in [`super::step_changes`].

use maud::{Markup, html};
use sen_platform::identity::Role;
use sen_proto::v1 as pb;

use super::actions::Extra;
use crate::layout::{Tone, csrf_field, error_for, input_of, radios, select, summary_card, tag, textarea};
use crate::session::Session;
use crate::wording::long_date;

/// Who records the steps (as `RecordAssessmentDecision` and the rest).
pub const RECORDERS: &[Role] = &[Role::LaManager, Role::CaseOfficer];

/// One statutory step a form records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The decision whether to assess (reg. 5: within 6 weeks).
    Assessment,
    /// After assessing, the decision whether to issue a plan (reg. 10: notice of
    /// not issuing within 16 weeks).
    Plan,
    /// The final plan issued (reg. 13: within 20 weeks).
    FinalPlan,
    /// The draft plan sent, with the last day for comments and the naming of a
    /// school (reg. 13(1): at least 15 days).
    DraftPlan,
    /// An exception to the time limits (regs. 5(4), 10(4), 13(3)), or none.
    Exception,
}

impl Step {
    /// The form's address under `/referrals/{id}/`.
    pub fn path(self) -> &'static str {
        match self {
            Self::Assessment => "assessment-decision",
            Self::Plan => "plan-decision",
            Self::FinalPlan => "final-plan",
            Self::DraftPlan => "draft-plan",
            Self::Exception => "clock-exception",
        }
    }

    /// The id (and name) of the form's choice: a radio group, or the exception's select.
    pub fn choice_id(self) -> &'static str {
        match self {
            Self::Assessment => "assessment-decision",
            Self::Plan => "plan-decision",
            Self::FinalPlan | Self::DraftPlan => "",
            Self::Exception => "clock-exception",
        }
    }

    /// The id (and name) of the form's date input.
    pub fn date_id(self) -> &'static str {
        match self {
            Self::Assessment => "assessment-decided_on",
            Self::Plan => "plan-decided_on",
            Self::FinalPlan => "final-plan-issued_on",
            Self::DraftPlan => "draft-plan-sent_on",
            Self::Exception => "clock-exception-on",
        }
    }

    /// The id (and name) of the form's second field: the consultation's last day,
    /// or the exception's note.
    pub fn second_id(self) -> &'static str {
        match self {
            Self::DraftPlan => "draft-plan-consultation_ends_on",
            Self::Exception => "clock-exception-note",
            _ => "",
        }
    }

    /// The step a stage waits for (none once the request is closed).
    pub fn awaited_at(stage: &str) -> Option<Self> {
        match stage {
            "awaiting_assessment_decision" => Some(Self::Assessment),
            "assessing" => Some(Self::Plan),
            "awaiting_final_plan" => Some(Self::FinalPlan),
            _ => None,
        }
    }

    /// Whether an exception may be recorded at `stage`: while the request is
    /// open, and once its plan is issued (the figures it leaves out count
    /// issued plans).
    pub fn exception_allowed_at(stage: &str) -> bool {
        Self::awaited_at(stage).is_some() || stage == "plan_issued"
    }
}

/// The banner shown after a step is recorded, by the `done` code the page is
/// sent back with (see [`super::step_changes`]).
pub fn banner(done: &str) -> Option<&'static str> {
    match done {
        "assessment" => Some("Decision whether to assess recorded"),
        "plan" => Some("Decision whether to issue a plan recorded"),
        "final_plan" => Some("Final plan recorded as issued"),
        "draft_plan" => Some("Draft plan recorded as sent"),
        "request_recorded" => Some("Request recorded: its clock runs from the day it was received"),
        "exception" => Some("Exception recorded"),
        "exception_cleared" => Some("Exception cleared"),
        _ => None,
    }
}

/// The choices of the decision whether to assess: `(code, words)`.
pub const ASSESSMENT_CHOICES: [(&str, &str); 2] =
    [("assess", "Assess: carry out an EHC needs assessment"), ("not_assess", "Do not assess")];
/// The choices of the decision whether to issue a plan.
pub const PLAN_CHOICES: [(&str, &str); 2] =
    [("issue", "Issue an EHC plan (send the draft plan)"), ("not_issue", "Do not issue a plan")];
/// The exceptions to the time limits, as the regulations name them (codes as the service has them).
pub const EXCEPTIONS: [(&str, &str); 4] = [
    ("school_holiday", "The school was closed for the holidays when its advice was asked for"),
    ("personal_circumstances", "Exceptional personal circumstances of the child or parent"),
    ("absent_from_area", "The child or parent was away from the area for 4 weeks or more"),
    ("missed_appointment", "The child or young person did not keep an appointment for an assessment"),
];

fn options(choices: &[(&str, &str)]) -> Vec<(String, String)> {
    choices.iter().map(|(code, words)| ((*code).to_owned(), (*words).to_owned())).collect()
}

/// "None", then each exception.
fn exception_options() -> Vec<(String, String)> {
    std::iter::once((String::new(), "None".to_owned())).chain(options(&EXCEPTIONS)).collect()
}

fn words_of(choices: &[(&str, &str)], code: &str) -> String {
    choices.iter().find(|(c, _)| *c == code).map_or_else(|| code.replace('_', " "), |(_, words)| (*words).to_owned())
}

/// Whether `on` is after `due` (false when either is unknown).
fn is_after(on: Option<&pb::Date>, due: Option<&pb::Date>) -> bool {
    let day = |d: Option<&pb::Date>| d.and_then(|d| sen_platform::dates::from_proto(d).ok());
    matches!((day(on), day(due)), (Some(on), Some(due)) if on > due)
}

/// Whether the final plan was issued within 20 weeks of the request.
fn within_20_weeks(clock: &pb::StatutoryClock) -> Option<bool> {
    clock.final_plan_issued_on.as_ref()?;
    clock.final_plan_due.as_ref()?;
    Some(!is_after(clock.final_plan_issued_on.as_ref(), clock.final_plan_due.as_ref()))
}

/// The steps recorded so far, and the form of the next one for the council team.
pub fn steps(session: &Session, referral: &pb::Referral, extra: &Extra) -> Markup {
    let Some(clock) = &referral.clock else { return html! {} };
    let records = RECORDERS.contains(&session.role());
    let next = Step::awaited_at(&clock.stage).filter(|_| records);
    let exception = records && Step::exception_allowed_at(&clock.stage);
    // While the final plan is awaited, the draft plan is sent (and may be sent anew).
    let draft = next == Some(Step::FinalPlan);
    html! {
        (recorded_steps(referral))
        @if draft { (form(session, referral, clock, Step::DraftPlan, extra)) }
        @if let Some(step) = next { (form(session, referral, clock, step, extra)) }
        @if exception { (form(session, referral, clock, Step::Exception, extra)) }
    }
}

/// The steps recorded so far, as a summary card (nothing without a clock).
fn recorded_steps(referral: &pb::Referral) -> Markup {
    let Some(clock) = &referral.clock else { return html! {} };
    // A decision after its statutory limit says so: whether to assess (6 weeks),
    // and not to issue a plan (notice within 16 weeks).
    let recorded =
        |decision: &str, on: Option<&pb::Date>, choices: &[(&str, &str)], limit: Option<(&pb::Date, &str)>| {
            let late = limit.and_then(|(due, words)| is_after(on, Some(due)).then_some(words));
            if decision.is_empty() {
                html! { "Not yet recorded" }
            } else {
                html! {
                    (words_of(choices, decision)) ", " (long_date(on))
                    @if let Some(words) = late { " " (tag(words, Tone::Red)) }
                }
            }
        };
    let not_issuing = clock.no_plan_notice_due.as_ref().filter(|_| clock.plan_decision == "not_issue");
    let final_plan = match (clock.final_plan_issued_on.as_ref(), within_20_weeks(clock)) {
        (Some(on), Some(true)) => html! { (long_date(Some(on))) " " (tag("Within 20 weeks", Tone::Green)) },
        (Some(on), _) => html! { (long_date(Some(on))) " " (tag("After 20 weeks", Tone::Red)) },
        (None, _) => html! { "Not yet issued" },
    };
    let draft = match (clock.draft_plan_sent_on.as_ref(), clock.consultation_ends_on.as_ref()) {
        (Some(sent), ends) => {
            html! { "Sent " (long_date(Some(sent))) "; comments and the naming of a school until " (long_date(ends)) }
        }
        (None, _) => html! { "Not yet sent" },
    };
    let rows = [
        ("Request received", html! { (long_date(clock.received_on.as_ref())) " " (requested_by(clock)) }),
        (
            "Decision whether to assess",
            recorded(
                &clock.assessment_decision,
                clock.assessment_decision_on.as_ref(),
                &ASSESSMENT_CHOICES,
                clock.decision_due.as_ref().map(|due| (due, "After 6 weeks")),
            ),
        ),
        (
            "Decision whether to issue a plan",
            recorded(
                &clock.plan_decision,
                clock.plan_decision_on.as_ref(),
                &PLAN_CHOICES,
                not_issuing.map(|due| (due, "After 16 weeks")),
            ),
        ),
        ("Draft plan", draft),
        ("Final plan issued", final_plan),
        (
            "Exception to the time limits",
            if clock.exception.is_empty() {
                html! { "None" }
            } else {
                html! {
                    (words_of(&EXCEPTIONS, &clock.exception))
                    @if clock.exception_on.is_some() { ", from " (long_date(clock.exception_on.as_ref())) }
                    @if !clock.exception_note.is_empty() { br; span class="secondary" { (clock.exception_note) } }
                }
            },
        ),
    ];
    summary_card("Statutory steps", &rows)
}

/// Who made the request and how it came, in words, e.g. "from the parent (Mother,
/// Sarah Khan) by letter, recorded 12 February 2027".
pub fn requested_by(clock: &pb::StatutoryClock) -> String {
    let who = REQUESTERS.iter().find(|(c, _)| *c == clock.requester).map_or("school", |(_, w)| *w);
    let via = ROUTES.iter().find(|(c, _)| *c == clock.received_via).map_or("the referral form", |(_, w)| *w);
    let mut words = format!("from the {who}");
    if !clock.requester_name.is_empty() {
        words.push_str(&format!(" ({})", clock.requester_name));
    }
    words.push_str(&format!(" by {via}"));
    if clock.recorded_on.is_some() && clock.recorded_on != clock.received_on {
        words.push_str(&format!(", recorded {}", long_date(clock.recorded_on.as_ref())));
    }
    words
}

/// Who may make a request (codes as the service has them), in words.
pub const REQUESTERS: [(&str, &str); 6] = [
    ("parent", "parent"),
    ("young_person", "young person"),
    ("school", "school or setting"),
    ("health", "health service"),
    ("social_care", "social care"),
    ("other", "other"),
];

/// How a request reaches the council, in words.
pub const ROUTES: [(&str, &str); 7] = [
    ("referral_form", "the referral form"),
    ("letter", "letter"),
    ("email", "email"),
    ("online_form", "online form"),
    ("phone", "telephone"),
    ("in_person", "in person"),
    ("migrated", "migration from an earlier system"),
];

/// The form of `step`, filled with what was typed when it came back refused.
fn form(session: &Session, referral: &pb::Referral, clock: &pb::StatutoryClock, step: Step, extra: &Extra) -> Markup {
    let typed = |id: &str| extra.typed.iter().find(|(n, _)| n == id).map_or("", |(_, v)| v.as_str()).to_owned();
    let (choice, date) = (step.choice_id(), step.date_id());
    let error = |id: &str| error_for(&extra.errors, id);
    let received = long_date(clock.received_on.as_ref());
    let (heading, button) = match step {
        Step::Assessment => ("Record the decision whether to assess", "Record the decision"),
        Step::Plan => ("Record the decision whether to issue a plan", "Record the decision"),
        Step::FinalPlan => ("Record the final plan", "Record the final plan"),
        Step::DraftPlan if clock.draft_plan_sent_on.is_none() => {
            ("Record the draft plan sent", "Record the draft plan")
        }
        Step::DraftPlan => ("Record a draft plan sent again", "Record the draft plan"),
        Step::Exception if clock.exception.is_empty() => {
            ("Record an exception to the time limits", "Record the exception")
        }
        Step::Exception => ("Change the exception to the time limits", "Save the exception"),
    };
    let due = |d: Option<&pb::Date>| format!("Due by {}; the request was received on {received}.", long_date(d));
    html! {
        section class="step-form" aria-labelledby={ (step.path()) "-heading" } {
            h2 class="heading-m" id={ (step.path()) "-heading" } { (heading) }
            form method="post" action={ "/referrals/" (referral.id) "/" (step.path()) } novalidate {
                (csrf_field(session))
                input type="hidden" name="version" value=(referral.version);
                @match step {
                    Step::Assessment => {
                        p class="body" { (due(clock.decision_due.as_ref())) }
                        (radios(choice, choice, "Will the council carry out an EHC needs assessment?", &options(&ASSESSMENT_CHOICES), &typed(choice), error(choice)))
                        (input_of("date", date, "Date of the decision", Some("Not before the request was received"), &typed(date), error(date)))
                    }
                    Step::Plan => {
                        p class="body" { "A decision not to issue a plan is due by " (long_date(clock.no_plan_notice_due.as_ref())) " (16 weeks); the final plan by " (long_date(clock.final_plan_due.as_ref())) " (20 weeks)." }
                        (radios(choice, choice, "Will the council issue an EHC plan?", &options(&PLAN_CHOICES), &typed(choice), error(choice)))
                        (input_of("date", date, "Date of the decision", Some("Not before the decision to assess"), &typed(date), error(date)))
                    }
                    Step::FinalPlan => {
                        p class="body" { (due(clock.final_plan_due.as_ref())) }
                        (input_of("date", date, "Date the final plan was issued", Some("Not before the decision to issue it"), &typed(date), error(date)))
                    }
                    Step::DraftPlan => {
                        p class="body" { "The parent or young person has at least 15 days to comment on the draft and ask for a school to be named; the final plan is still due by " (long_date(clock.final_plan_due.as_ref())) "." }
                        (input_of("date", date, "Date the draft plan was sent", Some("Not before the decision to issue a plan"), &typed(date), error(date)))
                        @let second = step.second_id();
                        (input_of("date", second, "Last day for comments", Some("Leave blank for 15 days after it was sent; not earlier"), &typed(second), error(second)))
                    }
                    Step::Exception => {
                        p class="body" { "The clock keeps running; a case with an exception is left out of the 20-week figure excluding exceptions, and counted in the figure including them." }
                        @let chosen = extra.typed.iter().find(|(n, _)| n == choice).map_or(clock.exception.clone(), |(_, v)| v.clone());
                        (select(choice, "Exception", &exception_options(), &chosen, error(choice)))
                        (input_of("date", date, "Date it arose", Some("Leave blank for today; not before the request was received"), &typed(date), error(date)))
                        @let second = step.second_id();
                        @let note = extra.typed.iter().find(|(n, _)| n == second).map_or(clock.exception_note.clone(), |(_, v)| v.clone());
                        (textarea(second, "Note", Some("What happened, e.g. the dates the family was away"), &note, error(second)))
                    }
                }
                button type="submit" class={ "button" @if step == Step::Exception { " button--secondary" } } { (button) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_open_stage_offers_the_one_step_it_waits_for() {
        assert_eq!(Step::awaited_at("awaiting_assessment_decision"), Some(Step::Assessment));
        assert_eq!(Step::awaited_at("assessing"), Some(Step::Plan));
        assert_eq!(Step::awaited_at("awaiting_final_plan"), Some(Step::FinalPlan));
        for closed in ["not_assessing", "not_issuing", "plan_issued", "request_withdrawn", "request_declined", ""] {
            assert_eq!(Step::awaited_at(closed), None, "{closed}");
        }
        assert!(Step::exception_allowed_at("plan_issued") && Step::exception_allowed_at("assessing"));
        assert!(!Step::exception_allowed_at("not_assessing") && !Step::exception_allowed_at("request_declined"));
    }

    #[test]
    fn a_plan_issued_on_its_due_day_is_within_20_weeks() {
        let day = |d| Some(pb::Date { year: 2027, month: 4, day: d });
        let clock =
            |issued| pb::StatutoryClock { final_plan_due: day(13), final_plan_issued_on: issued, ..Default::default() };
        assert_eq!(within_20_weeks(&clock(day(13))), Some(true));
        assert_eq!(within_20_weeks(&clock(day(14))), Some(false));
        assert_eq!(within_20_weeks(&clock(None)), None);
    }

    #[test]
    fn a_decision_after_its_limit_says_so() {
        let steps_on = |decided: i32| {
            let referral = pb::Referral {
                clock: Some(pb::StatutoryClock {
                    stage: "assessing".into(),
                    decision_due: Some(pb::Date { year: 2026, month: 11, day: 28 }),
                    assessment_decision: "assess".into(),
                    assessment_decision_on: Some(pb::Date { year: 2026, month: 11, day: decided }),
                    ..Default::default()
                }),
                ..Default::default()
            };
            recorded_steps(&referral).into_string()
        };
        assert!(!steps_on(28).contains("After 6 weeks"), "the due day is in time");
        assert!(steps_on(29).contains("After 6 weeks"));
    }
}
