//! Mediation and appeals to the First-tier Tribunal (SEND), as the council
//! records them (Children and Families Act 2014, ss. 51–55; SEN and Disability
//! Regulations 2014, regs. 32–42, "Mediation"; the HESC Rules 2008, see
//! [`super::tribunal_days`]).
//!
//! A family may appeal a refusal to assess (s. 51(2)(a)), a refusal to issue a
//! plan (s. 51(2)(b)), the contents of a final or amended plan: the needs in
//! section B, the provision in section F, the placement in section I, in any
//! combination (s. 51(2)(c)), or a decision to cease the plan (s. 51(2)(f)).
//! Before appealing they must contact a mediation adviser within 2 months of the
//! decision (s. 55; reg. 33) and hold a mediation certificate, unless the appeal
//! is only about the placement in section I (s. 55(3)). A family that chooses to
//! mediate tells the council, and the mediation takes place within 30 days
//! (regs. 35–36); the adviser issues a certificate within 3 working days of a
//! choice not to mediate or of the mediation (regs. 34, 38).
//!
//! An appeal moves through stages judged from its dates, never stored:
//! mediation → awaiting registration → awaiting the council's response →
//! awaiting the hearing → awaiting the decision → decided; or it ends in
//! mediation. Each rule is a function of dates; "today" is passed in.

use chrono::{NaiveDate, TimeDelta};
use sen_platform::error::FieldViolations;

use super::tribunal_days::{appeal_deadline, response_due};

/// Days from the council being told the family wishes to mediate to the
/// mediation (SEN and Disability Regulations 2014, regs. 35–36).
pub const MEDIATION_DAYS: i64 = 30;

/// What the family appeals (Children and Families Act 2014, s. 51(2)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppealGround {
    /// A decision not to carry out an EHC needs assessment (s. 51(2)(a)).
    RefusalToAssess,
    /// A decision, after assessing, not to issue a plan (s. 51(2)(b)).
    RefusalToIssue,
    /// The contents of a final plan as first issued (s. 51(2)(c)).
    FinalPlan,
    /// The contents of a plan as amended (s. 51(2)(c)).
    AmendedPlan,
    /// A decision to cease to maintain the plan (s. 51(2)(f); s. 45).
    Cessation,
}

impl AppealGround {
    /// Every ground, in the order the Act lists them.
    pub const ALL: [AppealGround; 5] = [
        AppealGround::RefusalToAssess,
        AppealGround::RefusalToIssue,
        AppealGround::FinalPlan,
        AppealGround::AmendedPlan,
        AppealGround::Cessation,
    ];

    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            AppealGround::RefusalToAssess => "refusal_to_assess",
            AppealGround::RefusalToIssue => "refusal_to_issue",
            AppealGround::FinalPlan => "final_plan",
            AppealGround::AmendedPlan => "amended_plan",
            AppealGround::Cessation => "cessation",
        }
    }

    /// The ground with this stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == code)
    }

    /// In words, for pages.
    pub fn name(self) -> &'static str {
        match self {
            AppealGround::RefusalToAssess => "refusal to assess",
            AppealGround::RefusalToIssue => "refusal to issue a plan",
            AppealGround::FinalPlan => "contents of the final plan",
            AppealGround::AmendedPlan => "contents of the amended plan",
            AppealGround::Cessation => "ceasing the plan",
        }
    }

    /// Whether the appeal is against a plan's contents, and so names its sections.
    pub fn is_about_contents(self) -> bool {
        matches!(self, AppealGround::FinalPlan | AppealGround::AmendedPlan)
    }
}

/// The sections of a plan an appeal against its contents disputes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PlanSections {
    /// Section B: the special educational needs (s. 51(2)(c)(i)).
    pub needs_b: bool,
    /// Section F: the special educational provision (s. 51(2)(c)(ii)).
    pub provision_f: bool,
    /// Section I: the school or institution named, or its type (s. 51(2)(c)(iii)–(iv)).
    pub placement_i: bool,
}

impl PlanSections {
    /// Stored form: the letters, e.g. `BF`, `I`, `BFI`; empty for none.
    pub fn code(self) -> String {
        [(self.needs_b, 'B'), (self.provision_f, 'F'), (self.placement_i, 'I')]
            .into_iter()
            .filter_map(|(on, letter)| on.then_some(letter))
            .collect()
    }

    /// The sections of a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        let mut sections = Self::default();
        for letter in code.chars() {
            match letter {
                'B' => sections.needs_b = true,
                'F' => sections.provision_f = true,
                'I' => sections.placement_i = true,
                _ => return None,
            }
        }
        Some(sections)
    }

    /// No section named.
    pub fn is_empty(self) -> bool {
        !(self.needs_b || self.provision_f || self.placement_i)
    }

    /// Only the placement is disputed: no mediation certificate is needed (s. 55(3)).
    pub fn only_placement(self) -> bool {
        self.placement_i && !self.needs_b && !self.provision_f
    }
}

/// How a mediation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediationOutcome {
    /// Every issue agreed: no appeal follows (reg. 42: the council acts on the agreement).
    Resolved,
    /// Some issues agreed; the rest may go to the Tribunal.
    PartlyResolved,
    /// Nothing agreed.
    NotResolved,
}

/// How an appeal ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppealOutcome {
    /// The Tribunal found for the family.
    Upheld,
    /// The Tribunal found for the family in part.
    PartlyUpheld,
    /// The Tribunal found for the council.
    Dismissed,
    /// The family withdrew the appeal.
    Withdrawn,
    /// The council conceded before a decision (the Tribunal closes the appeal).
    Conceded,
}

macro_rules! coded {
    ($ty:ty, $($variant:ident => $code:literal, $name:literal),+ $(,)?) => {
        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];
            /// Stored code.
            pub fn code(self) -> &'static str { match self { $(<$ty>::$variant => $code),+ } }
            /// In words, for pages.
            pub fn name(self) -> &'static str { match self { $(<$ty>::$variant => $name),+ } }
            /// The value with this stored code.
            pub fn from_code(code: &str) -> Option<Self> { Self::ALL.iter().copied().find(|v| v.code() == code) }
        }
    };
}

coded!(MediationOutcome,
    Resolved => "resolved", "resolved",
    PartlyResolved => "partly_resolved", "partly resolved",
    NotResolved => "not_resolved", "not resolved",
);
coded!(AppealOutcome,
    Upheld => "upheld", "upheld",
    PartlyUpheld => "partly_upheld", "partly upheld",
    Dismissed => "dismissed", "dismissed",
    Withdrawn => "withdrawn", "withdrawn",
    Conceded => "conceded", "conceded by the council",
);

impl AppealOutcome {
    /// Whether the Tribunal decided it (rather than either side ending it).
    pub fn is_decision(self) -> bool {
        matches!(self, AppealOutcome::Upheld | AppealOutcome::PartlyUpheld | AppealOutcome::Dismissed)
    }
}

/// The facts of one appeal (and the mediation before it) as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppealFacts {
    /// What is appealed.
    pub ground: AppealGround,
    /// The disputed sections, for an appeal against a plan's contents.
    pub sections: PlanSections,
    /// The date of the written notice of the council's decision.
    pub decision_on: NaiveDate,
    /// The day the council was told the family wishes to mediate.
    pub mediation_requested_on: Option<NaiveDate>,
    /// The day the mediation took place.
    pub mediation_on: Option<NaiveDate>,
    /// How it ended.
    pub mediation_outcome: Option<MediationOutcome>,
    /// The day the mediation certificate was issued.
    pub certificate_issued_on: Option<NaiveDate>,
    /// The day the Tribunal registered the appeal and sent it to the council.
    pub registered_on: Option<NaiveDate>,
    /// The response date the Tribunal's directions set, when they set one (HESC Rules r. 12(4)).
    pub response_due_given: Option<NaiveDate>,
    /// The day the council sent its response.
    pub response_sent_on: Option<NaiveDate>,
    /// The hearing day (may be ahead).
    pub hearing_on: Option<NaiveDate>,
    /// The day the appeal ended: the decision, the withdrawal or the concession.
    pub decided_on: Option<NaiveDate>,
    /// How it ended.
    pub outcome: Option<AppealOutcome>,
}

/// Where an appeal stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppealStage {
    /// The family is mediating with the council.
    Mediation,
    /// Mediation is over or was not wanted; the appeal is not registered yet.
    AwaitingRegistration,
    /// Registered; the council's response is not sent.
    AwaitingResponse,
    /// Response sent; the hearing is ahead or not yet listed.
    AwaitingHearing,
    /// Heard; the decision has not come.
    AwaitingDecision,
    /// Every issue was agreed in mediation: no appeal.
    ResolvedInMediation,
    /// Ended with an outcome.
    Closed,
}

coded!(AppealStage,
    Mediation => "mediation", "in mediation",
    AwaitingRegistration => "awaiting_registration", "awaiting registration",
    AwaitingResponse => "awaiting_response", "awaiting the council's response",
    AwaitingHearing => "awaiting_hearing", "awaiting the hearing",
    AwaitingDecision => "awaiting_decision", "awaiting the decision",
    ResolvedInMediation => "resolved_in_mediation", "resolved in mediation",
    Closed => "closed", "closed",
);

impl AppealStage {
    /// Whether the dispute is still live.
    pub fn is_open(self) -> bool {
        !matches!(self, AppealStage::ResolvedInMediation | AppealStage::Closed)
    }
}

impl AppealFacts {
    /// The council's response date: the one the Tribunal set, else 30 counted
    /// working days after registration (HESC Rules rr. 12(3)(b), 21(1)).
    pub fn response_due(&self) -> Option<NaiveDate> {
        self.response_due_given.or_else(|| self.registered_on.map(response_due))
    }

    /// The day the mediation must take place by (regs. 35–36), while it is asked for.
    pub fn mediation_due(&self) -> Option<NaiveDate> {
        self.mediation_requested_on.map(|asked| asked + TimeDelta::days(MEDIATION_DAYS))
    }

    /// The last day the family may appeal (HESC Rules r. 20(1)(c)).
    pub fn appeal_deadline(&self) -> NaiveDate {
        appeal_deadline(self.decision_on, self.certificate_issued_on)
    }

    /// Whether the response went, or is still going, later than due on `today`.
    pub fn response_late(&self, today: NaiveDate) -> bool {
        match (self.response_due(), self.response_sent_on) {
            (Some(due), Some(sent)) => sent > due,
            (Some(due), None) => self.outcome.is_none() && today > due,
            _ => false,
        }
    }

    /// Where the appeal stands on `today`.
    pub fn stage(&self, today: NaiveDate) -> AppealStage {
        if self.outcome.is_some() {
            return AppealStage::Closed;
        }
        if self.registered_on.is_none() {
            return match (self.mediation_requested_on, self.mediation_outcome) {
                (_, Some(MediationOutcome::Resolved)) => AppealStage::ResolvedInMediation,
                (Some(_), None) if self.certificate_issued_on.is_none() => AppealStage::Mediation,
                _ => AppealStage::AwaitingRegistration,
            };
        }
        if self.response_sent_on.is_none() {
            return AppealStage::AwaitingResponse;
        }
        match self.hearing_on {
            Some(hearing) if hearing <= today => AppealStage::AwaitingDecision,
            _ => AppealStage::AwaitingHearing,
        }
    }

    /// The next date the council works to on `today`, and what it is: the
    /// mediation, the response, the hearing, or (unregistered) the last day to appeal.
    pub fn next_date(&self, today: NaiveDate) -> Option<(NaiveDate, &'static str)> {
        match self.stage(today) {
            AppealStage::Mediation => self.mediation_on.or(self.mediation_due()).map(|d| (d, "mediation")),
            AppealStage::AwaitingRegistration => Some((self.appeal_deadline(), "last day to appeal")),
            AppealStage::AwaitingResponse => self.response_due().map(|d| (d, "response due")),
            AppealStage::AwaitingHearing => self.hearing_on.map(|d| (d, "hearing")),
            AppealStage::AwaitingDecision | AppealStage::ResolvedInMediation | AppealStage::Closed => None,
        }
    }

    /// Every impossible date or order, each named by its field (`prefix` + name):
    /// nothing recorded may be after `today` but the hearing, and each step comes
    /// after the one it follows.
    pub fn violations(&self, today: NaiveDate, prefix: &str) -> FieldViolations {
        let mut v = FieldViolations::new();
        let name = |field: &str| format!("{prefix}{field}");
        if self.ground.is_about_contents() && self.sections.is_empty() {
            v.add(name("sections"), "name the disputed sections (B, F, I) of an appeal against a plan's contents");
        }
        if !self.ground.is_about_contents() && !self.sections.is_empty() {
            v.add(
                name("sections"),
                format!("are only for an appeal against a plan's contents, not {}", self.ground.name()),
            );
        }
        let past = [
            ("decision_on", Some(self.decision_on)),
            ("mediation_requested_on", self.mediation_requested_on),
            ("mediation_on", self.mediation_on),
            ("certificate_issued_on", self.certificate_issued_on),
            ("registered_on", self.registered_on),
            ("response_sent_on", self.response_sent_on),
            ("decided_on", self.decided_on),
        ];
        for (field, day) in past {
            if let Some(day) = day.filter(|d| *d > today) {
                v.add(name(field), format!("{day} is after today ({today})"));
            }
        }
        let after =
            |v: &mut FieldViolations, field: &str, day: Option<NaiveDate>, earlier: &str, than: Option<NaiveDate>| {
                if let (Some(day), Some(than)) = (day, than)
                    && day < than
                {
                    v.add(name(field), format!("{day} is before the {earlier} on {than}"));
                }
            };
        let decision = Some(self.decision_on);
        after(&mut v, "mediation_requested_on", self.mediation_requested_on, "decision", decision);
        after(&mut v, "mediation_on", self.mediation_on, "request to mediate", self.mediation_requested_on);
        after(&mut v, "mediation_on", self.mediation_on, "decision", decision);
        after(&mut v, "certificate_issued_on", self.certificate_issued_on, "decision", decision);
        after(&mut v, "registered_on", self.registered_on, "decision", decision);
        after(&mut v, "registered_on", self.registered_on, "mediation", self.mediation_on);
        after(&mut v, "response_due_on", self.response_due_given, "registration", self.registered_on);
        after(&mut v, "response_sent_on", self.response_sent_on, "registration", self.registered_on);
        after(&mut v, "hearing_on", self.hearing_on, "registration", self.registered_on);
        after(&mut v, "decided_on", self.decided_on, "registration", self.registered_on);
        if self.outcome.is_some_and(AppealOutcome::is_decision) {
            after(&mut v, "decided_on", self.decided_on, "hearing", self.hearing_on);
        }
        if self.mediation_on.is_some() && self.mediation_requested_on.is_none() {
            v.add(name("mediation_requested_on"), "is required with a mediation date");
        }
        match (self.mediation_on, self.mediation_outcome) {
            (Some(_), None) => v.add(name("mediation_outcome"), "is required with a mediation date"),
            (None, Some(_)) => v.add(name("mediation_on"), "is required with a mediation outcome"),
            _ => {}
        }
        let needs_registration = [
            ("response_due_on", self.response_due_given.is_some()),
            ("response_sent_on", self.response_sent_on.is_some()),
            ("hearing_on", self.hearing_on.is_some()),
            ("outcome", self.outcome.is_some()),
        ];
        if self.registered_on.is_none() {
            for (field, given) in needs_registration {
                if given {
                    v.add(name(field), "is for a registered appeal: give registered_on");
                }
            }
        }
        if self.registered_on.is_some() && self.mediation_outcome == Some(MediationOutcome::Resolved) {
            v.add(name("mediation_outcome"), "resolved leaves nothing to appeal: the appeal is registered");
        }
        match (self.outcome, self.decided_on) {
            (Some(_), None) => v.add(name("decided_on"), "is required with an outcome"),
            (None, Some(_)) => v.add(name("outcome"), "is required with the day the appeal ended"),
            _ => {}
        }
        v
    }
}

#[cfg(test)]
mod tests;
