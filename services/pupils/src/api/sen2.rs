//! `ListSen2Persons`: the persons of the SEN2 return, for the gateway's
//! `GetSen2Return` (which asks as the caller). The council SEN team only
//! (la_manager, case_officer): the return is the council's, and it carries
//! appeals, which no school or professional sees.

use chrono::NaiveDate;
use sen_platform::dates::{date, to_proto, to_proto_opt};
use sen_platform::error::FieldViolations;
use sen_platform::fields::{AllChecked, Checked};
use sen_platform::identity::Identity;
use sen_platform::paging::Page;
use sen_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::PupilsApi;
use super::appeals::APPEAL_TEAM;
use crate::store::{MOST_NAMED, Sen2Row, Sen2Selection};

/// The longest period a return may describe: a calendar year.
const MOST_DAYS: i64 = 400;

/// The pupils a request names: none (the pupils with plans, paged) or at most [`MOST_NAMED`].
fn named(ids: &[i64]) -> Checked<Vec<i32>> {
    if ids.len() > MOST_NAMED {
        return Err(FieldViolations::one("pupil_ids", format!("names more than {MOST_NAMED} pupils")));
    }
    ids.iter()
        .map(|&id| i32::try_from(id).ok().filter(|id| *id > 0))
        .collect::<Option<Vec<i32>>>()
        .ok_or_else(|| FieldViolations::one("pupil_ids", "holds an id that is not a pupil's"))
}

/// The period: its first day no later than the census day, and less than 400 days before it.
fn period(start: Checked<NaiveDate>, reference: Checked<NaiveDate>) -> Checked<(NaiveDate, NaiveDate)> {
    let (start, reference) = (start, reference).all()?;
    let days = (reference - start).num_days();
    if !(0..=MOST_DAYS).contains(&days) {
        return Err(FieldViolations::one(
            "period_start",
            format!("is not within {MOST_DAYS} days before the reference_date"),
        ));
    }
    Ok((start, reference))
}

/// The SEN2 ReviewOutcome code of a stored annual review decision.
fn review_outcome(decision: Option<&str>) -> &'static str {
    match decision {
        Some("maintain") => "M",
        Some("amend") => "A",
        Some("cease") => "C",
        _ => "",
    }
}

fn person_to_proto(row: &Sen2Row) -> pb::Sen2Person {
    let pupil = &row.pupil;
    pb::Sen2Person {
        pupil_id: i64::from(pupil.id),
        upn: pupil.upn.clone(),
        upn_temporary: pupil.upn.chars().last().is_some_and(|c| c.is_ascii_alphabetic()),
        legal_forename: pupil.legal_forename.clone(),
        legal_surname: pupil.legal_surname.clone(),
        date_of_birth: Some(to_proto(pupil.date_of_birth)),
        school_urn: pupil.school_urn.to_string(),
        school_entry_on: to_proto_opt(row.school_entry_on),
        primary_need: pupil.primary_need.clone().unwrap_or_default(),
        secondary_need: pupil.secondary_need.clone().unwrap_or_default(),
        plan: row.plan.as_ref().map(|plan| pb::Sen2Plan {
            issued_on: Some(to_proto(plan.issued_on)),
            named_setting: plan.named_setting.clone(),
            ceased_on: to_proto_opt(plan.ceased_on),
            cease_reason: row.cease_reason.and_then(|r| u32::try_from(r).ok()).unwrap_or(0),
            last_review_on: to_proto_opt(row.last_review.as_ref().map(|r| r.meeting_on)),
            last_review_outcome: review_outcome(row.last_review.as_ref().and_then(|r| r.decision.as_deref()))
                .to_owned(),
        }),
        appeals: row
            .appeals
            .iter()
            .map(|appeal| pb::Sen2Appeal {
                ground: appeal.ground.clone(),
                decision_on: Some(to_proto(appeal.decision_on)),
                mediation: appeal.mediation_requested_on.is_some() || appeal.mediation_on.is_some(),
                tribunal: appeal.registered_on.is_some(),
                mediation_requested_on: to_proto_opt(appeal.mediation_requested_on.or(appeal.mediation_on)),
                registered_on: to_proto_opt(appeal.registered_on),
            })
            .collect(),
    }
}

impl PupilsApi {
    pub(super) async fn list_sen2_persons_for(
        &self,
        request: Request<pb::ListSen2PersonsRequest>,
    ) -> Result<Response<pb::ListSen2PersonsResponse>, Status> {
        let who = Identity::caller(&request, APPEAL_TEAM)?;
        let req = request.get_ref();
        let ((start, reference), ids, page) = (
            period(
                date(req.period_start.as_ref(), "period_start"),
                date(req.reference_date.as_ref(), "reference_date"),
            ),
            named(&req.pupil_ids),
            Page::checked(req.page.as_ref(), "page"),
        )
            .all()?;
        let scope = who.scope()?;
        let (rows, next_page_token) = if ids.is_empty() {
            let after = match page.after.as_deref() {
                None => None,
                Some(key) => Some(key.parse::<i32>().map_err(|_| {
                    sen_platform::error::invalid_argument(&FieldViolations::one(
                        "page.page_token",
                        "is not a token this list gave",
                    ))
                })?),
            };
            let selection = Sen2Selection::WithPlans { from: start, to: reference, after, limit: page.fetch_limit() };
            let rows = self.store.sen2_persons(&scope, selection, reference).await?;
            page.finish(rows, |row| row.pupil.id.to_string())
        } else {
            (self.store.sen2_persons(&scope, Sen2Selection::Named(&ids), reference).await?, String::new())
        };
        let read: Vec<i64> = rows.iter().map(|row| i64::from(row.pupil.id)).collect();
        self.store.audit_reads(&scope, &who.actor(), &read, "sen2.persons").await?;
        let persons = rows.iter().map(person_to_proto).collect();
        Ok(Response::new(pb::ListSen2PersonsResponse { persons, next_page_token }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_period_longer_than_a_year_or_after_the_census_day_is_refused_by_name() {
        assert!(period(Ok(d(2026, 1, 1)), Ok(d(2027, 1, 21))).is_ok());
        for start in [d(2025, 1, 1), d(2027, 2, 1)] {
            let refused = period(Ok(start), Ok(d(2027, 1, 21))).unwrap_err();
            assert!(format!("{refused:?}").contains("period_start"), "{refused:?}");
        }
    }

    #[test]
    fn more_pupils_than_a_call_may_name_or_a_bad_id_is_refused() {
        assert_eq!(named(&[3, 7]).unwrap(), vec![3, 7]);
        assert!(named(&vec![1; MOST_NAMED + 1]).is_err());
        assert!(named(&[0]).is_err());
        assert!(named(&[i64::MAX]).is_err());
    }

    #[test]
    fn review_decisions_become_sen2_outcome_codes() {
        assert_eq!(review_outcome(Some("maintain")), "M");
        assert_eq!(review_outcome(Some("amend")), "A");
        assert_eq!(review_outcome(Some("cease")), "C");
        assert_eq!(review_outcome(None), "");
    }
}
