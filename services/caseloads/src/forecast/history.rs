//! What the forecast learns from and forecasts: each EHC needs assessment
//! request's statutory dates (referrals service) with the advice asked for in
//! it (this service), as plain values; and the same history as it stood on an
//! earlier day, for the backtest.

use chrono::{NaiveDate, TimeDelta};

use crate::domain::AdviceKind;

/// Weeks from the request to the decision whether to assess (reg. 4(1)).
pub const DECISION_WEEKS: i64 = 6;
/// Weeks from the request to a notice not to issue a plan (reg. 10(1)).
pub const NO_PLAN_NOTICE_WEEKS: i64 = 16;
/// Weeks from the request to the final plan (reg. 13(2)).
pub const FINAL_PLAN_WEEKS: i64 = 20;

/// `weeks` after `from`.
pub fn weeks_after(from: NaiveDate, weeks: i64) -> NaiveDate {
    from.checked_add_signed(TimeDelta::weeks(weeks)).unwrap_or(NaiveDate::MAX)
}

/// The council's decision whether to assess.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// To assess, on this day.
    Assess(NaiveDate),
    /// Not to assess, on this day: the request ends.
    NotAssess(NaiveDate),
}

impl Decision {
    /// The day it was made.
    pub fn on(self) -> NaiveDate {
        match self {
            Self::Assess(on) | Self::NotAssess(on) => on,
        }
    }
}

/// One request for advice in the assessment.
#[derive(Clone, Debug, PartialEq)]
pub struct AdviceRecord {
    /// Which advice.
    pub kind: AdviceKind,
    /// The service's professional asked, when it was one.
    pub professional_id: Option<i32>,
    /// When it was asked for.
    pub asked_on: NaiveDate,
    /// When it came in.
    pub received_on: Option<NaiveDate>,
    /// The professional's load (open cases ÷ capacity) on the day it was asked, when known.
    pub load_when_asked: Option<f64>,
}

/// How a request ended, if it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Decision not to assess (due 6 weeks after the request).
    NotAssessed(NaiveDate),
    /// Notice not to issue a plan after assessing (due 16 weeks after).
    NotIssued(NaiveDate),
    /// Final plan issued (due 20 weeks after).
    Issued(NaiveDate),
}

impl Outcome {
    /// The day it happened.
    pub fn on(self) -> NaiveDate {
        match self {
            Self::NotAssessed(on) | Self::NotIssued(on) | Self::Issued(on) => on,
        }
    }

    /// Its statutory date for a request received on `received`.
    pub fn due(self, received: NaiveDate) -> NaiveDate {
        match self {
            Self::NotAssessed(_) => weeks_after(received, DECISION_WEEKS),
            Self::NotIssued(_) => weeks_after(received, NO_PLAN_NOTICE_WEEKS),
            Self::Issued(_) => weeks_after(received, FINAL_PLAN_WEEKS),
        }
    }

    /// Whether it came after its statutory date.
    pub fn late(self, received: NaiveDate) -> bool {
        self.on() > self.due(received)
    }
}

/// One EHC needs assessment request with what is known of its steps.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRecord {
    /// The referral's id.
    pub referral_id: i64,
    /// When the council received it: every statutory date runs from here.
    pub received_on: NaiveDate,
    /// The decision whether to assess.
    pub decision: Option<Decision>,
    /// The advice asked for.
    pub advice: Vec<AdviceRecord>,
    /// When the draft plan was sent.
    pub draft_sent_on: Option<NaiveDate>,
    /// When a notice not to issue was given.
    pub not_issued_on: Option<NaiveDate>,
    /// When the final plan was issued.
    pub final_issued_on: Option<NaiveDate>,
    /// Whether a reg. 10(4) exception applies: such requests are outside the
    /// 20-week figure and are neither learnt from for the totals nor forecast.
    pub exception: bool,
    /// Withdrawn or closed without an outcome: its steps are learnt while it ran
    /// (censored at the last one), but it is never forecast.
    pub withdrawn: bool,
    /// The professional the request is allocated to (their psychological advice).
    pub allocated_to: Option<i32>,
}

impl RequestRecord {
    /// A request received on `received`, nothing else known yet.
    pub fn received(referral_id: i64, received_on: NaiveDate) -> RequestRecord {
        RequestRecord {
            referral_id,
            received_on,
            decision: None,
            advice: Vec::new(),
            draft_sent_on: None,
            not_issued_on: None,
            final_issued_on: None,
            exception: false,
            withdrawn: false,
            allocated_to: None,
        }
    }

    /// How it ended, if it has.
    pub fn outcome(&self) -> Option<Outcome> {
        if let Some(Decision::NotAssess(on)) = self.decision {
            return Some(Outcome::NotAssessed(on));
        }
        if let Some(on) = self.not_issued_on {
            return Some(Outcome::NotIssued(on));
        }
        self.final_issued_on.map(Outcome::Issued)
    }

    /// The day its final plan is due (20 weeks).
    pub fn final_plan_due(&self) -> NaiveDate {
        weeks_after(self.received_on, FINAL_PLAN_WEEKS)
    }

    /// Whether it is still to be forecast: no outcome, no exception, not withdrawn.
    pub fn is_open(&self) -> bool {
        self.outcome().is_none() && !self.exception && !self.withdrawn
    }

    /// The last day anything was recorded on it (for censoring a withdrawn request).
    pub fn last_seen(&self) -> NaiveDate {
        let mut last = self.received_on;
        let dates = [self.decision.map(Decision::on), self.draft_sent_on, self.not_issued_on, self.final_issued_on];
        for on in dates.into_iter().flatten() {
            last = last.max(on);
        }
        for advice in &self.advice {
            last = last.max(advice.received_on.unwrap_or(advice.asked_on));
        }
        last
    }

    /// The request as it stood at the end of `day`: anything later is unknown
    /// (`None` when it had not yet been received). An exception recorded later
    /// is not known then either, so the backtest forecasts it like any other.
    pub fn as_known_on(&self, day: NaiveDate) -> Option<RequestRecord> {
        if self.received_on > day {
            return None;
        }
        let known = |on: Option<NaiveDate>| on.filter(|on| *on <= day);
        Some(RequestRecord {
            referral_id: self.referral_id,
            received_on: self.received_on,
            decision: self.decision.filter(|d| d.on() <= day),
            advice: self
                .advice
                .iter()
                .filter(|a| a.asked_on <= day)
                .map(|a| AdviceRecord { received_on: known(a.received_on), ..a.clone() })
                .collect(),
            draft_sent_on: known(self.draft_sent_on),
            not_issued_on: known(self.not_issued_on),
            final_issued_on: known(self.final_issued_on),
            exception: false,
            // The day of a withdrawal is not recorded: not known then.
            withdrawn: false,
            allocated_to: self.allocated_to,
        })
    }
}

/// Whether the request breached as far as `today` tells: with an outcome,
/// whether it came after its date; without one, a breach once its final-plan
/// date has passed (certain by then); otherwise not yet known.
pub fn breached(request: &RequestRecord, today: NaiveDate) -> Option<bool> {
    match request.outcome() {
        Some(outcome) => Some(outcome.late(request.received_on)),
        None if request.exception || request.withdrawn => None,
        None if today > request.final_plan_due() => Some(true),
        None => None,
    }
}

/// The request's advice of `kind` asked for first, if any.
pub fn first_asked(request: &RequestRecord, kind: AdviceKind) -> Option<&AdviceRecord> {
    request.advice.iter().filter(|a| a.kind == kind).min_by_key(|a| a.asked_on)
}
