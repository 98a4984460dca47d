//! Lists and figures assembled from several sources: phase transfers (pupils'
//! plans with their schools' phases), and register statistics (one grouped count
//! with the schools' rolls).

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use sen_platform::ids::Urn;
use sen_proto::v1 as pb;

use crate::domain::{
    NATIONAL_EHC_PLAN, NATIONAL_SEN_SUPPORT, NcYear, PhaseTransfer, Pupil, SchoolStage, TransferKind,
    academic_year_start, listed_transfer_years, nc_year_of_cohort, next_transfer, post16_move,
};
use crate::schools::SchoolInfo;
use crate::store::{RegisterCount, TransferCandidate};

/// What is known of a school whose details the caller may not read: the
/// standard structure (Year 6 → secondary, Year 11 → post-16).
const UNKNOWN_STAGE: SchoolStage = SchoolStage { phase_code: 0, low_age: None, high_age: None };

/// The year group a pupil is in during the academic year starting in
/// `academic_year`: the one they are in on `today`, moved on by the years
/// between (a pupil taught out of cohort moves on with their year group; X stays X).
fn year_in(pupil: &Pupil, academic_year: i32, today: NaiveDate) -> Option<NcYear> {
    let year = pupil.details.nc_year(today)?;
    let Some(ordinal) = year.ordinal() else { return Some(year) };
    let ahead = i8::try_from(academic_year - academic_year_start(today)).ok()?;
    NcYear::from_ordinal(ordinal.checked_add(ahead)?)
}

/// The transfer a pupil at their school makes at the end of the academic year
/// starting in `academic_year`.
fn transfer_in(
    pupil: &Pupil,
    school: Option<&SchoolInfo>,
    academic_year: i32,
    today: NaiveDate,
) -> Option<PhaseTransfer> {
    let year = year_in(pupil, academic_year, today)?;
    let stage = school.map_or(UNKNOWN_STAGE, |s| s.stage);
    next_transfer(year, &stage, academic_year)
}

/// The phase transfer ahead of a pupil at their school on `today`: this academic
/// year's, else (from 1 April) next academic year's.
pub fn transfer_of(pupil: &Pupil, school: Option<&SchoolInfo>, today: NaiveDate) -> Option<PhaseTransfer> {
    listed_transfer_years(today).into_iter().find_map(|year| transfer_in(pupil, school, year, today))
}

/// What is recorded for one transfer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decided {
    /// Next setting named.
    pub next_setting: Option<String>,
    /// When the amended plan was issued.
    pub issued_on: Option<NaiveDate>,
    /// The pupil stays in their own sixth form: no transfer.
    pub staying: bool,
}

/// A transfer that is due, with the decision recorded for it.
pub struct Due {
    /// The pupil.
    pub pupil: Pupil,
    /// The transfer.
    pub transfer: PhaseTransfer,
    /// Next setting named for this transfer.
    pub next_setting: Option<String>,
    /// When the amended plan was issued for this transfer.
    pub issued_on: Option<NaiveDate>,
}

/// The decision recorded on a plan, if it is for `transfer`: a post-16 move
/// on its recorded day, or the 1 September transfer of its year.
pub fn decision_for(candidate: &TransferCandidate, transfer: &PhaseTransfer) -> Decided {
    use chrono::Datelike;
    let plan = &candidate.ehcp;
    let for_this = match transfer.kind {
        TransferKind::Post16Move => plan.post16_move_on == Some(transfer.transfer_on),
        _ => plan.post16_move_on.is_none() && plan.transfer_year == Some(transfer.transfer_on.year()),
    };
    if !for_this {
        return Decided::default();
    }
    Decided {
        next_setting: plan.next_setting.clone(),
        issued_on: plan.amended_plan_issued_on,
        staying: plan.staying_in_sixth_form,
    }
}

/// The recorded post-16 move of a plan, if it has one.
pub fn post16_move_of(candidate: &TransferCandidate) -> Option<PhaseTransfer> {
    candidate.ehcp.post16_move_on.map(post16_move)
}

/// Transfers whose deadline falls by `today + window_days`, soonest first: each
/// pupil's transfers of the academic years listed on `today` (this year's, and
/// from 1 April next year's), but for a pupil staying in their own sixth form,
/// and recorded post-16 moves until the day of the move.
pub fn transfers_due(
    candidates: Vec<(Pupil, TransferCandidate)>,
    schools: &HashMap<Urn, SchoolInfo>,
    today: NaiveDate,
    window_days: u32,
) -> Vec<Due> {
    let until = today + Duration::days(i64::from(window_days));
    let years = listed_transfer_years(today);
    let mut due: Vec<Due> = Vec::new();
    for (pupil, candidate) in candidates {
        let school = schools.get(&pupil.details.school_urn);
        let moving = post16_move_of(&candidate).filter(|t| t.transfer_on >= today);
        let by_year = years.iter().filter_map(|year| transfer_in(&pupil, school, *year, today));
        let transfers: Vec<PhaseTransfer> = moving.into_iter().chain(by_year).collect();
        for transfer in transfers {
            let decided = decision_for(&candidate, &transfer);
            if decided.staying || transfer.deadline > until {
                continue;
            }
            due.push(Due {
                pupil: pupil.clone(),
                transfer,
                next_setting: decided.next_setting,
                issued_on: decided.issued_on,
            });
        }
    }
    due.sort_by_key(|d| (d.transfer.deadline, d.pupil.id));
    due
}

#[derive(Default)]
struct Tally {
    pupils: u32,
    sen_support: u32,
    ehc_plan: u32,
    by_need: BTreeMap<String, u32>,
    by_year: BTreeMap<(i8, String), u32>,
}

impl Tally {
    /// Adds `count`, also to the breakdowns by need and year group when
    /// `year` is given (`None`: the figures only).
    fn add(&mut self, count: &RegisterCount, year: Option<Option<NcYear>>) {
        let n = u32::try_from(count.pupils).unwrap_or(u32::MAX);
        self.pupils += n;
        let on_register = match count.sen_status.as_str() {
            "K" => {
                self.sen_support += n;
                true
            }
            "E" => {
                self.ehc_plan += n;
                true
            }
            _ => false,
        };
        if let (true, Some(year)) = (on_register, year) {
            let need = count.primary_need.clone().unwrap_or_else(|| "unknown".into());
            *self.by_need.entry(need).or_default() += n;
            let key = year.map_or((i8::MAX, "unknown".into()), |y| (y.ordinal().unwrap_or(i8::MAX - 1), y.code()));
            *self.by_year.entry(key).or_default() += n;
        }
    }

    fn into_proto(self, urn: String, name: String, roll: u32) -> pb::SchoolRegisterStats {
        let percent = |n: u32| if roll == 0 { 0.0 } else { (f64::from(n) * 1000.0 / f64::from(roll)).round() / 10.0 };
        pb::SchoolRegisterStats {
            school_urn: urn,
            school_name: name,
            number_on_roll: roll,
            pupils_recorded: self.pupils,
            sen_support: self.sen_support,
            ehc_plan: self.ehc_plan,
            sen_support_percent: percent(self.sen_support),
            ehc_plan_percent: percent(self.ehc_plan),
            by_primary_need: self.by_need.into_iter().map(|(key, count)| pb::CountByKey { key, count }).collect(),
            by_nc_year: self.by_year.into_iter().map(|((_, key), count)| pb::CountByKey { key, count }).collect(),
        }
    }
}

/// Per-school and authority figures from the grouped counts and the schools' rolls,
/// with their breakdowns by primary need and year group.
pub fn register_stats(counts: &[RegisterCount], schools: &[SchoolInfo], today: NaiveDate) -> pb::RegisterStats {
    let academic_year = academic_year_start(today);
    register_rows(counts, schools, |count| {
        Some(match &count.nc_year_override {
            Some(code) => NcYear::parse(code).ok(),
            None => nc_year_of_cohort(count.birth_cohort, academic_year),
        })
    })
}

/// Per-school and authority figures alone (counts and rates, no breakdowns),
/// from counts by school and status ([`crate::store::Store::register_totals`]).
pub fn register_figures(totals: &[RegisterCount], schools: &[SchoolInfo]) -> pb::RegisterStats {
    register_rows(totals, schools, |_| None)
}

/// The statistics of `counts`, each broken down by the year group `year`
/// gives it, or not at all where it gives `None`.
fn register_rows(
    counts: &[RegisterCount],
    schools: &[SchoolInfo],
    year: impl Fn(&RegisterCount) -> Option<Option<NcYear>>,
) -> pb::RegisterStats {
    let mut per_school: BTreeMap<i32, Tally> = schools.iter().map(|s| (s.urn.as_i32(), Tally::default())).collect();
    let mut authority = Tally::default();
    for count in counts {
        let year = year(count);
        per_school.entry(count.school_urn).or_default().add(count, year);
        authority.add(count, year);
    }
    let info: HashMap<i32, &SchoolInfo> = schools.iter().map(|s| (s.urn.as_i32(), s)).collect();
    let mut total_roll = 0u32;
    let rows = per_school
        .into_iter()
        .map(|(urn, tally)| {
            let school = info.get(&urn);
            let roll = school.and_then(|s| s.number_on_roll).unwrap_or(0);
            total_roll = total_roll.saturating_add(roll);
            tally.into_proto(urn.to_string(), school.map(|s| s.name.clone()).unwrap_or_default(), roll)
        })
        .collect();
    pb::RegisterStats {
        schools: rows,
        authority: Some(authority.into_proto(String::new(), String::new(), total_roll)),
        national: Some(pb::NationalFigures {
            sen_support_percent: NATIONAL_SEN_SUPPORT.percent,
            ehc_plan_percent: NATIONAL_EHC_PLAN.percent,
            as_at: NATIONAL_SEN_SUPPORT.as_at.to_owned(),
        }),
    }
}
