//! A case's life, as a state machine, and the deadline it carries. Allocation
//! records the case as pending while the other services are told; it becomes
//! active once they have answered, and is closed with an outcome. A pending case
//! that cannot be completed is removed rather than moved on, as if nothing had
//! happened (see the api's allocation).
//!
//! Every status change goes through [`next_case_status`], so this table is the
//! whole of the rule:
//!
//! | from    | event           | to                            |
//! |---------|-----------------|-------------------------------|
//! | pending | confirm         | active                        |
//! | active  | confirm         | active (a retried allocation) |
//! | active  | reassign        | active                        |
//! | active  | record activity | active                        |
//! | active  | close           | closed                        |
//!
//! The stored codes (`pending`, `active`, `closed`) are the wire's too.

use std::fmt;

use chrono::NaiveDate;
use thiserror::Error;

/// Where a case is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    /// Allocation under way: capacity reserved, the other services being told.
    Pending,
    /// Allocated: the professional is working it.
    Active,
    /// Finished, with an outcome.
    Closed,
}

impl CaseStatus {
    /// Every status, in the order a case meets them.
    pub const ALL: [CaseStatus; 3] = [Self::Pending, Self::Active, Self::Closed];

    /// Stable snake_case code, for storage and the wire.
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Closed => "closed",
        }
    }

    /// From the stable code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|status| status.code() == code)
            .ok_or_else(|| format!("'{code}' is not a case status (pending, active or closed)"))
    }
}

/// The code, as messages about a case name its status ("case 12 is closed").
impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Something done to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseEvent {
    /// The other services have recorded the allocation.
    Confirm,
    /// Another professional takes it over.
    Reassign,
    /// The professional records work on it.
    RecordActivity,
    /// The professional closes it with an outcome.
    Close,
}

impl CaseEvent {
    /// Every event.
    pub const ALL: [CaseEvent; 4] = [Self::Confirm, Self::Reassign, Self::RecordActivity, Self::Close];

    /// The verb, for people; reads in "cannot … a case".
    pub fn name(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Reassign => "reassign",
            Self::RecordActivity => "record activity on",
            Self::Close => "close",
        }
    }
}

/// An event the case's current status does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
#[error("cannot {} a case that is {from}", .event.name())]
pub struct IllegalCaseMove {
    /// The status the case is in.
    pub from: CaseStatus,
    /// What was attempted.
    pub event: CaseEvent,
}

/// The status after `event`, or why it cannot happen (the table in the module doc).
pub fn next_case_status(from: CaseStatus, event: CaseEvent) -> Result<CaseStatus, IllegalCaseMove> {
    use CaseEvent as E;
    use CaseStatus as S;
    match (from, event) {
        // A retry of an allocation that was confirmed already confirms nothing new.
        (S::Pending | S::Active, E::Confirm) => Ok(S::Active),
        (S::Active, E::Reassign | E::RecordActivity) => Ok(S::Active),
        (S::Active, E::Close) => Ok(S::Closed),
        _ => Err(IllegalCaseMove { from, event }),
    }
}

/// What an open case's deadline is: the professional's advice for an EHC needs
/// assessment, the one statutory date a case carries, 6 weeks from the day the
/// council asked for it (reg. 8(1); see [`super::advice_due`]).
pub const ADVICE_DEADLINE: &str = "EHC needs assessment advice";

/// What a statutory case shows before the council has asked for the
/// psychological advice: its clock has not started, so there is no date yet.
pub const ADVICE_NOT_REQUESTED: &str = "advice not yet requested";

/// Days from `today` to `due`: 0 on the day, negative once it has passed.
pub fn days_left(due: NaiveDate, today: NaiveDate) -> i64 {
    (due - today).num_days()
}

/// Whether advice due on `advice_due` is overdue on `today`; the due day itself is not.
pub fn is_advice_overdue(advice_due: Option<NaiveDate>, today: NaiveDate) -> bool {
    advice_due.is_some_and(|due| due < today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseEvent as E;
    use CaseStatus as S;

    /// The legal moves, written out again independently of `next_case_status`.
    const LEGAL: [(CaseStatus, CaseEvent, CaseStatus); 5] = [
        (S::Pending, E::Confirm, S::Active),
        (S::Active, E::Confirm, S::Active),
        (S::Active, E::Reassign, S::Active),
        (S::Active, E::RecordActivity, S::Active),
        (S::Active, E::Close, S::Closed),
    ];

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_status_and_event_pair_follows_the_table() {
        for from in CaseStatus::ALL {
            for event in CaseEvent::ALL {
                let expected = LEGAL.iter().find(|(f, e, _)| (*f, *e) == (from, event)).map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(next_case_status(from, event), Ok(to), "{from:?} --{event:?}-->"),
                    None => assert_eq!(
                        next_case_status(from, event),
                        Err(IllegalCaseMove { from, event }),
                        "{from:?} --{event:?}--> should be refused"
                    ),
                }
            }
        }
    }

    #[test]
    fn a_pending_case_takes_no_work_until_confirmed() {
        for event in [E::Reassign, E::RecordActivity, E::Close] {
            assert_eq!(next_case_status(S::Pending, event).unwrap_err().from, S::Pending, "{event:?}");
        }
    }

    #[test]
    fn a_closed_case_allows_nothing_and_names_its_status() {
        for event in CaseEvent::ALL {
            let refused = next_case_status(S::Closed, event).unwrap_err();
            assert_eq!(refused.from.to_string(), "closed");
        }
        assert_eq!(
            next_case_status(S::Closed, E::RecordActivity).unwrap_err().to_string(),
            "cannot record activity on a case that is closed"
        );
    }

    #[test]
    fn codes_are_the_stored_strings_and_round_trip() {
        assert_eq!(CaseStatus::ALL.map(CaseStatus::code), ["pending", "active", "closed"]);
        for status in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(status.code()), Ok(status));
            assert_eq!(status.to_string(), status.code());
        }
        assert!(CaseStatus::parse("open").unwrap_err().contains("not a case status"));
    }

    #[test]
    fn advice_is_overdue_the_day_after_it_is_due() {
        let due = d(2027, 1, 5);
        assert_eq!(days_left(due, d(2026, 11, 24)), 42);
        assert_eq!(days_left(due, due), 0);
        assert_eq!(days_left(due, d(2027, 1, 6)), -1);
        assert!(!is_advice_overdue(Some(due), due));
        assert!(is_advice_overdue(Some(due), d(2027, 1, 6)));
        assert!(!is_advice_overdue(None, d(2030, 1, 1)), "non-statutory work has no advice date");
    }
}
