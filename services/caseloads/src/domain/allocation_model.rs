//! The time-allocation model: how a term's EP sessions (half-days) are shared
//! among the authority's open schools (a closed school has no share, so the
//! caller leaves it out). Councils give each school a core allocation
//! by size and level of need; statutory advice is funded separately and does
//! not use it (see [`super::counts_against_school_allocation`]).
//!
//! # The formula
//!
//! Every school gets `base_per_school` sessions. What remains,
//!
//! ```text
//! R = sessions_available − base_per_school × number of schools
//! ```
//!
//! is shared in proportion to three weights, one per figure (number on roll,
//! pupils on SEN support, pupils with an EHC plan). Each figure's share of R is
//!
//! ```text
//! share_k = R × w_k / (w_roll + w_support + w_ehcp)
//! ```
//!
//! and a school gets of `share_k` its fraction of the authority's total for that
//! figure: `share_k × figure_k(school) / Σ figure_k(all schools)`. A figure that
//! totals 0 over all schools cannot share anything, so its weight counts as 0
//! and the other figures share all of R. The parts are kept unrounded (over all
//! schools they add up to `sessions_available`); only a school's `sessions` is
//! rounded to one decimal, so the rounded figures may differ from the total by
//! a few tenths.
//!
//! # Worked example
//!
//! 100 sessions, base 10, weights 20/40/40, three schools:
//!
//! | school | on roll | SEN support | EHC plans |
//! |--------|---------|-------------|-----------|
//! | A      | 200     | 20          | 5         |
//! | B      | 300     | 30          | 10        |
//! | C      | 500     | 50          | 5         |
//! | total  | 1000    | 100         | 20        |
//!
//! R = 100 − 10 × 3 = 70; the shares are 70 × 20/100 = 14 by roll, and
//! 70 × 40/100 = 28 each by SEN support and by EHC plans. School A gets
//! 14 × 200/1000 = 2.8 by roll, 28 × 20/100 = 5.6 by SEN support and
//! 28 × 5/20 = 7.0 by EHC plans: 10 + 2.8 + 5.6 + 7.0 = 25.4 sessions. Likewise
//! B gets 10 + 4.2 + 8.4 + 14.0 = 36.6 and C 10 + 7.0 + 14.0 + 7.0 = 38.0;
//! 25.4 + 36.6 + 38.0 = 100.
//!
//! The model is set per academic term ([`AcademicTerm`]), and each term's
//! use is set against its allocation ([`balance`]).

use chrono::{Datelike, NaiveDate};

/// A term of the school year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    /// 1 September to 31 December.
    Autumn,
    /// 1 January to 31 March.
    Spring,
    /// 1 April to 31 August.
    Summer,
}

impl Term {
    /// Every term, in the order of the school year.
    pub const ALL: [Term; 3] = [Self::Autumn, Self::Spring, Self::Summer];

    /// `autumn`, `spring` or `summer`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Autumn => "autumn",
            Self::Spring => "spring",
            Self::Summer => "summer",
        }
    }

    /// For people, e.g. "autumn term".
    pub fn name(self) -> &'static str {
        match self {
            Self::Autumn => "autumn term",
            Self::Spring => "spring term",
            Self::Summer => "summer term",
        }
    }

    /// From the code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        Self::ALL
            .into_iter()
            .find(|term| term.code() == code)
            .ok_or_else(|| format!("'{code}' is not a term (autumn, spring or summer)"))
    }
}

/// A term of one academic year: the period a time allocation covers. The three
/// terms cover every day of the year, holidays included, so any date has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AcademicTerm {
    /// The calendar year the academic year starts in: 2026 for 2026/27.
    pub year: i32,
    /// The term.
    pub term: Term,
}

impl AcademicTerm {
    /// Stable code: the academic year's start and the term, e.g. `2026-autumn`;
    /// the spring term of 2026/27 (January 2027) is `2026-spring`.
    pub fn code(self) -> String {
        format!("{}-{}", self.year, self.term.code())
    }

    /// From the stable code; the year has four digits.
    pub fn parse(s: &str) -> Result<Self, String> {
        let code = s.trim();
        let refuse = || {
            format!("'{code}' is not an academic term: give the academic year's start and the term, e.g. 2026-autumn")
        };
        let (year, term) = code.split_once('-').ok_or_else(refuse)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        let year = year.parse().map_err(|_| refuse())?;
        let term = Term::parse(term).map_err(|_| refuse())?;
        Ok(AcademicTerm { year, term })
    }

    /// For people, e.g. "spring term 2026/27".
    pub fn name(self) -> String {
        let next = self.year.saturating_add(1).rem_euclid(100);
        format!("{} {}/{next:02}", self.term.name(), self.year)
    }

    /// The term's first day: 1 September, 1 January or 1 April.
    pub fn starts_on(self) -> NaiveDate {
        match self.term {
            Term::Autumn => date(self.year, 9, 1),
            Term::Spring => date(self.year.saturating_add(1), 1, 1),
            Term::Summer => date(self.year.saturating_add(1), 4, 1),
        }
    }

    /// The term's last day: 31 December, 31 March or 31 August.
    pub fn ends_on(self) -> NaiveDate {
        match self.term {
            Term::Autumn => date(self.year, 12, 31),
            Term::Spring => date(self.year.saturating_add(1), 3, 31),
            Term::Summer => date(self.year.saturating_add(1), 8, 31),
        }
    }

    /// The term `date` falls in.
    pub fn containing(date: NaiveDate) -> AcademicTerm {
        let year = date.year();
        match date.month() {
            9..=12 => AcademicTerm { year, term: Term::Autumn },
            1..=3 => AcademicTerm { year: year - 1, term: Term::Spring },
            _ => AcademicTerm { year: year - 1, term: Term::Summer },
        }
    }

    /// Whether `date` falls in this term (first and last days included).
    pub fn contains(self, date: NaiveDate) -> bool {
        (self.starts_on()..=self.ends_on()).contains(&date)
    }
}

/// A date, saturating at the ends of chrono's calendar for absurd years.
fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
}

/// Relative weights of the three figures the remainder is shared by, e.g.
/// 20/40/40; only their proportions matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Weights {
    /// Weight of the number on roll (the school's size).
    pub number_on_roll: u32,
    /// Weight of the pupils on SEN support (census code K).
    pub sen_support: u32,
    /// Weight of the pupils with an EHC plan (census code E).
    pub ehc_plans: u32,
}

impl Weights {
    /// The three weights added up.
    pub fn total(self) -> u64 {
        u64::from(self.number_on_roll) + u64::from(self.sen_support) + u64::from(self.ehc_plans)
    }
}

/// Most sessions a term's model may share out.
pub const MAX_SESSIONS_AVAILABLE: u32 = 100_000;

/// A term's model: the sessions to share, each school's base, and the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelSettings {
    /// Sessions (half-days) of EP time the service has for schools this term.
    pub sessions_available: u32,
    /// Sessions every school gets before the weighted share.
    pub base_per_school: u32,
    /// How the remainder is shared.
    pub weights: Weights,
}

impl ModelSettings {
    /// Checks the settings: 1 to 100,000 sessions available; a base no larger
    /// than all of them; at least one weight above 0. On failure, the field at
    /// fault (`sessions_available`, `base_per_school` or `weights`) and what is wrong.
    pub fn new(
        sessions_available: u32,
        base_per_school: u32,
        weights: Weights,
    ) -> Result<Self, (&'static str, String)> {
        if !(1..=MAX_SESSIONS_AVAILABLE).contains(&sessions_available) {
            let message = format!("{sessions_available} sessions: give between 1 and {MAX_SESSIONS_AVAILABLE}");
            return Err(("sessions_available", message));
        }
        if base_per_school > sessions_available {
            let message =
                format!("a base of {base_per_school} is more than the {sessions_available} sessions available");
            return Err(("base_per_school", message));
        }
        if weights.total() == 0 {
            return Err(("weights", WEIGHTS_ALL_ZERO.into()));
        }
        Ok(ModelSettings { sessions_available, base_per_school, weights })
    }
}

/// What is wrong with weights that are all 0.
const WEIGHTS_ALL_ZERO: &str = "are all 0: give at least one weight above 0";

/// One school's figures from the latest census.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SchoolFigures {
    /// The school's URN.
    pub urn: u32,
    /// Pupils on roll.
    pub number_on_roll: u32,
    /// Pupils on SEN support (K).
    pub sen_support: u32,
    /// Pupils with an EHC plan (E).
    pub ehc_plans: u32,
}

/// One school's allocation for the term, part by part.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SchoolAllocation {
    /// The school's URN.
    pub urn: u32,
    /// The base every school gets.
    pub base: f64,
    /// The part shared by number on roll, unrounded.
    pub by_roll: f64,
    /// The part shared by pupils on SEN support, unrounded.
    pub by_sen_support: f64,
    /// The part shared by pupils with an EHC plan, unrounded.
    pub by_ehc_plans: f64,
    /// The school's sessions for the term: base plus the three parts, rounded to one decimal.
    pub sessions: f64,
}

/// Each school's allocation, in the order given, by the formula in the module
/// doc; or why the sessions cannot be shared: the base alone needs more than
/// is available, the weights are all 0, or every weighted figure totals 0.
/// No schools share nothing.
pub fn allocate(settings: &ModelSettings, schools: &[SchoolFigures]) -> Result<Vec<SchoolAllocation>, String> {
    if settings.weights.total() == 0 {
        return Err(format!("the weights {WEIGHTS_ALL_ZERO}"));
    }
    if schools.is_empty() {
        return Ok(Vec::new());
    }
    let available = u64::from(settings.sessions_available);
    let base_total = u64::from(settings.base_per_school).saturating_mul(schools.len() as u64);
    let Some(remainder) = available.checked_sub(base_total) else {
        return Err(format!("the base alone needs {base_total} sessions; only {available} are available"));
    };
    let total = |figure: fn(&SchoolFigures) -> u32| schools.iter().map(|s| u64::from(figure(s))).sum::<u64>();
    let totals = [total(|s| s.number_on_roll), total(|s| s.sen_support), total(|s| s.ehc_plans)];
    let weights = [settings.weights.number_on_roll, settings.weights.sen_support, settings.weights.ehc_plans];
    // A figure nobody has cannot share anything: its weight passes to the others.
    let effective = |k: usize| if totals[k] == 0 { 0.0 } else { f64::from(weights[k]) };
    let weight_total: f64 = (0..3).map(effective).sum();
    if weight_total == 0.0 && remainder > 0 {
        return Err(format!(
            "no school has pupils counted in a weighted figure, so the remaining {remainder} sessions cannot be shared"
        ));
    }
    let shares: [f64; 3] =
        std::array::from_fn(|k| if effective(k) == 0.0 { 0.0 } else { remainder as f64 * effective(k) / weight_total });
    let part =
        |k: usize, figure: u32| if totals[k] == 0 { 0.0 } else { shares[k] * f64::from(figure) / totals[k] as f64 };
    let base = f64::from(settings.base_per_school);
    Ok(schools
        .iter()
        .map(|school| {
            let by_roll = part(0, school.number_on_roll);
            let by_sen_support = part(1, school.sen_support);
            let by_ehc_plans = part(2, school.ehc_plans);
            let sessions = round_to_tenth(base + by_roll + by_sen_support + by_ehc_plans);
            SchoolAllocation { urn: school.urn, base, by_roll, by_sen_support, by_ehc_plans, sessions }
        })
        .collect())
}

/// Sessions left of an allocation after `used`, to one decimal; negative when overspent.
pub fn balance(allocated: f64, used: u32) -> f64 {
    round_to_tenth(allocated - f64::from(used))
}

/// `x` rounded to one decimal place, halves away from zero.
fn round_to_tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests;
