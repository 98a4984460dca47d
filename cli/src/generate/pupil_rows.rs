//! The pupils service's rows, written from an authority's plan as its store
//! writes them: the pupil (version counting each status change after the one
//! that added them; the birth cohort by the domain's rule), the history of
//! each addition and change, support cycles and provision, the EHC plan with
//! its next review date worked out by the domain's rule, annual reviews, the
//! professionals' case access grants, and the audit entries the store writes
//! beside grants, reviews and transfer decisions.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use sen_pupils::demo::PROVISION;
use sen_pupils::domain::{NeedCode, SenStatus, SupportOutcome, birth_cohort, next_review_due};

use super::copy::{Copy, Sink, Table};
use super::plan::{Authority, Pupil, Run, at};

const PUPILS: Table = Table {
    name: "pupils",
    columns: &[
        "id",
        "la_code",
        "upn",
        "legal_forename",
        "legal_surname",
        "preferred_forename",
        "preferred_surname",
        "date_of_birth",
        "birth_cohort",
        "nc_year_override",
        "school_urn",
        "sen_status",
        "primary_need",
        "secondary_need",
        "looked_after",
        "version",
        "created_at",
        "updated_at",
    ],
};
const HISTORY: Table = Table {
    name: "pupil_history",
    columns: &[
        "la_code",
        "pupil_id",
        "kind",
        "effective_on",
        "sen_status",
        "primary_need",
        "secondary_need",
        "school_urn",
        "reason",
        "changed_by",
        "changed_by_role",
        "recorded_at",
    ],
};
const CYCLES: Table = Table {
    name: "support_cycles",
    columns: &[
        "id",
        "la_code",
        "pupil_id",
        "started_on",
        "outcomes_sought",
        "planned_provision",
        "review_due",
        "reviewed_on",
        "outcome",
        "review_notes",
        "recorded_by",
        "created_at",
    ],
};
const PROVISIONS: Table = Table {
    name: "provisions",
    columns: &[
        "id",
        "la_code",
        "pupil_id",
        "provision_type",
        "provider",
        "minutes_per_week",
        "start_on",
        "end_on",
        "recorded_by",
        "created_at",
    ],
};
const EHCPS: Table = Table {
    name: "ehcps",
    columns: &[
        "la_code",
        "pupil_id",
        "issued_on",
        "named_setting",
        "status",
        "ceased_on",
        "ceased_reason",
        "last_review_on",
        "next_review_due",
        "transfer_year",
        "next_setting",
        "amended_plan_issued_on",
        "version",
        "created_at",
        "updated_at",
    ],
};
const REVIEWS: Table = Table {
    name: "annual_reviews",
    columns: &[
        "la_code",
        "pupil_id",
        "meeting_on",
        "report_sent_on",
        "decision",
        "decision_on",
        "amended_plan_due",
        "recorded_by",
        "created_at",
    ],
};
const ACCESS: Table =
    Table { name: "case_access", columns: &["la_code", "pupil_id", "person", "case_ref", "granted_at", "revoked_at"] };
const AUDIT: Table =
    Table { name: "audit_events", columns: &["la_code", "person", "role", "pupil_id", "action", "at", "trace_id"] };

const OUTCOMES: &[&str] = &[
    "Reads and retells a short text independently",
    "Manages transitions between lessons with a visual timetable",
    "Uses a word bank to write three connected sentences",
    "Asks an adult for help using an agreed signal",
    "Joins in a small-group game for ten minutes",
];
const PLANNED: &[&str] = &[
    "Small-group phonics three times a week",
    "Daily check-in with a key adult; visual timetable",
    "Precision teaching of number bonds, ten minutes a day",
    "Social skills group once a week",
    "Pre-teaching of topic vocabulary",
];

/// Loads the pupils, then (once they are committed) everything that refers to them.
pub async fn load(sink: &Sink, run: &Run, authority: &Authority) -> anyhow::Result<()> {
    let la = authority.la.to_string();
    let mut copy = sink.copy(&PUPILS).await?;
    for pupil in &authority.pupils {
        let school = &authority.schools[pupil.school as usize];
        let changes = history(pupil);
        let first = changes.first().map_or(at(run.today, 0), |c| c.0);
        let last = changes.last().map_or(first, |c| c.0);
        drop(
            copy.line()
                .int(pupil.id)
                .text(&la)
                .text(pupil.upn.as_str())
                .text(pupil.name.0)
                .text(pupil.name.1)
                .opt_text(pupil.preferred.as_deref())
                .null()
                .date(pupil.dob)
                .int(birth_cohort(pupil.dob))
                .opt_text(pupil.year_override.map(|y| y.code()).as_deref())
                .int(school.urn)
                .text(pupil.status.code())
                .opt_text(pupil.primary.as_ref().map(NeedCode::as_str))
                .opt_text(pupil.secondary.as_ref().map(NeedCode::as_str))
                .bool(pupil.looked_after)
                .int(changes.len())
                .at(first)
                .at(last),
        );
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    tokio::try_join!(
        histories(sink, authority),
        cycles(sink, run, authority),
        provisions(sink, run, authority),
        plans(sink, run, authority),
        grants(sink, authority),
    )?;
    Ok(())
}

/// A pupil's history: (recorded at, kind, status, effective on, reason, by an officer).
fn history(pupil: &Pupil) -> Vec<(NaiveDateTime, &'static str, SenStatus, NaiveDate, &'static str, bool)> {
    let (added_on, joined) = pupil.added;
    let mut entries = vec![(at(added_on, 0), "added", joined, added_on, "added to the register", false)];
    if let Some(on) = pupil.identified_on {
        entries.push((at(on, 60), "sen_status", SenStatus::SenSupport, on, "identified as needing SEN support", false));
    }
    if let Some(plan) = &pupil.plan {
        if joined != SenStatus::EhcPlan {
            let on = plan.issued_on;
            entries.push((at(on, 90), "sen_status", SenStatus::EhcPlan, on, "EHC plan issued", true));
        }
        if let Some(on) = plan.ceased_on {
            let reason = "EHC plan ceased: needs met through SEN support";
            entries.push((at(on, 90), "sen_status", SenStatus::SenSupport, on, reason, true));
        }
    }
    entries
}

async fn histories(sink: &Sink, authority: &Authority) -> anyhow::Result<()> {
    let la = authority.la.to_string();
    let officer = authority.officer(1);
    let mut copy = sink.copy(&HISTORY).await?;
    for pupil in &authority.pupils {
        let school = &authority.schools[pupil.school as usize];
        for (recorded, kind, status, on, reason, by_officer) in history(pupil) {
            let needs = status != SenStatus::NoSen;
            let (by, role) = if by_officer { (officer.clone(), "case_officer") } else { (school.senco(), "senco") };
            drop(
                copy.line()
                    .text(&la)
                    .int(pupil.id)
                    .text(kind)
                    .date(on)
                    .text(status.code())
                    .opt_text(pupil.primary.filter(|_| needs).as_ref().map(NeedCode::as_str))
                    .opt_text(pupil.secondary.filter(|_| needs).as_ref().map(NeedCode::as_str))
                    .int(school.urn)
                    .text(reason)
                    .text(&by)
                    .text(role)
                    .at(recorded),
            );
        }
        copy.flush_if_full().await?;
    }
    copy.finish().await.map(drop)
}

/// The day SEN support began, as far as the register knows.
fn support_from(pupil: &Pupil) -> NaiveDate {
    pupil.identified_on.or(pupil.plan.as_ref().and_then(|p| p.ceased_on)).unwrap_or(pupil.added.0)
}

async fn cycles(sink: &Sink, run: &Run, authority: &Authority) -> anyhow::Result<()> {
    let la = authority.la.to_string();
    let today = run.today;
    let mut copy = sink.copy(&CYCLES).await?;
    for pupil in authority.pupils.iter().filter(|p| p.cycles.1 > 0) {
        let mut dice = pupil.dice(1);
        let senco = authority.schools[pupil.school as usize].senco();
        // The current cycle: most within their 12 weeks, some past review unreviewed.
        let ago = if dice.chance(0.2) { dice.between(85, 200) } else { dice.between(14, 80) };
        let mut started = (today - Duration::days(ago)).max(support_from(pupil)).min(today);
        let ids: Vec<i32> = pupil.cycle_ids().collect();
        for (n, id) in ids.iter().rev().enumerate() {
            let review_due = started + Duration::days(84);
            let review = (n > 0).then(|| {
                let on = (review_due + Duration::days(dice.between(-7, 10))).clamp(started, today);
                (on, [SupportOutcome::Met, SupportOutcome::PartlyMet, SupportOutcome::NotMet][dice.below(3) as usize])
            });
            drop(
                copy.line()
                    .int(*id)
                    .text(&la)
                    .int(pupil.id)
                    .date(started)
                    .text(dice.pick::<&str>(OUTCOMES))
                    .text(dice.pick::<&str>(PLANNED))
                    .date(review_due)
                    .opt_date(review.map(|r| r.0))
                    .opt_text(review.map(|r| r.1.code()))
                    .opt_text(review.map(|_| "Reviewed with the pupil and parents"))
                    .text(&senco)
                    .at(at(started, 120)),
            );
            started -= Duration::days(dice.between(90, 130));
        }
        copy.flush_if_full().await?;
    }
    copy.finish().await.map(drop)
}

async fn provisions(sink: &Sink, run: &Run, authority: &Authority) -> anyhow::Result<()> {
    let la = authority.la.to_string();
    let mut copy = sink.copy(&PROVISIONS).await?;
    for pupil in authority.pupils.iter().filter(|p| p.provisions.1 > 0) {
        let mut dice = pupil.dice(2);
        let senco = authority.schools[pupil.school as usize].senco();
        let from = support_from(pupil).min(pupil.plan.as_ref().map_or(run.today, |p| p.issued_on).max(pupil.added.0));
        for id in pupil.provision_ids() {
            let (kind, provider, hours) = dice.pick(PROVISION);
            let start = dice.day_between(from, run.today);
            let end = dice.chance(0.25).then(|| start + Duration::days(dice.between(84, 365)));
            drop(
                copy.line()
                    .int(id)
                    .text(&la)
                    .int(pupil.id)
                    .text(kind)
                    .text(provider)
                    .int((hours * 60.0).round() as i32)
                    .date(start)
                    .opt_date(end)
                    .text(&senco)
                    .at(at(start, 150)),
            );
        }
        copy.flush_if_full().await?;
    }
    copy.finish().await.map(drop)
}

/// Plans, their annual reviews, and the audit entries recording them.
async fn plans(sink: &Sink, run: &Run, authority: &Authority) -> anyhow::Result<()> {
    let la = authority.la.to_string();
    let officer = authority.officer(1);
    let (mut plans, mut reviews, mut audit) =
        tokio::try_join!(sink.copy(&EHCPS), sink.copy(&REVIEWS), sink.copy(&AUDIT))?;
    for pupil in &authority.pupils {
        let Some(plan) = &pupil.plan else { continue };
        let mut dice = pupil.dice(3);
        let school = &authority.schools[pupil.school as usize];
        let mut updated = at(plan.issued_on, 90);
        for &meeting in &plan.reviews {
            let report = (meeting + Duration::days(dice.between(3, 21))).min(run.today);
            let decided = (meeting + Duration::days(dice.between(7, 40))).min(run.today);
            let report = dice.chance(0.92).then_some(report);
            let decision = dice.chance(0.9).then_some(if dice.chance(0.65) { "maintain" } else { "amend" });
            let last_step = report.into_iter().chain(decision.map(|_| decided)).max().unwrap_or(meeting);
            drop(
                reviews
                    .line()
                    .text(&la)
                    .int(pupil.id)
                    .date(meeting)
                    .opt_date(report)
                    .opt_text(decision)
                    .opt_date(decision.map(|_| decided))
                    // No proposal recorded: due 12 weeks after the meeting (regs. 20(10) and 22(3)).
                    .opt_date((decision == Some("amend")).then(|| meeting + Duration::weeks(12)))
                    .text(&officer)
                    .at(at(meeting, 420)),
            );
            updated = at(last_step, 420);
            audit_line(&mut audit, &la, (&officer, "case_officer"), pupil.id, "ehcp.annual_review", updated);
        }
        if let Some((_, _, decided)) = &plan.transfer {
            updated = at(*decided, 480);
            audit_line(&mut audit, &la, (&officer, "case_officer"), pupil.id, "ehcp.transfer_decision", updated);
        }
        if let Some(ceased) = plan.ceased_on {
            updated = at(ceased, 90);
        }
        let last_review = plan.reviews.last().copied();
        let version =
            1 + plan.reviews.len() + usize::from(plan.transfer.is_some()) + usize::from(plan.ceased_on.is_some());
        drop(
            plans
                .line()
                .text(&la)
                .int(pupil.id)
                .date(plan.issued_on)
                .text(&school.name)
                .text(if plan.ceased_on.is_some() { "ceased" } else { "active" })
                .opt_date(plan.ceased_on)
                .opt_text(plan.ceased_on.map(|_| "needs can be met through SEN support"))
                .opt_date(last_review)
                .date(next_review_due(last_review.unwrap_or(plan.issued_on)))
                .opt_int(plan.transfer.as_ref().map(|t| t.0))
                .opt_text(plan.transfer.as_ref().map(|t| t.1.as_str()))
                .opt_date(plan.transfer.as_ref().map(|t| t.2))
                .int(version)
                .at(at(plan.issued_on, 90))
                .at(updated),
        );
        plans.flush_if_full().await?;
        reviews.flush_if_full().await?;
        audit.flush_if_full().await?;
    }
    tokio::try_join!(plans.finish(), reviews.finish(), audit.finish())?;
    Ok(())
}

fn audit_line(copy: &mut Copy, la: &str, (person, role): (&str, &str), pupil: i32, action: &str, when: NaiveDateTime) {
    drop(copy.line().text(la).text(person).text(role).int(pupil).text(action).at(when).null());
}

/// Each case's access grant to its professional, closed with the case, and the audit of both.
async fn grants(sink: &Sink, authority: &Authority) -> anyhow::Result<()> {
    let la = authority.la.to_string();
    let (mut access, mut audit) = tokio::try_join!(sink.copy(&ACCESS), sink.copy(&AUDIT))?;
    for referral in &authority.referrals {
        let Some(case) = &referral.case else { continue };
        let pupil = authority.pupils[referral.pupil as usize].id;
        let person = &authority.staff[case.professional].person;
        let granted = at(case.allocated_on, 100);
        let revoked = case.closed.as_ref().map(|(on, _)| at(*on, 400));
        drop(access.line().text(&la).int(pupil).text(person).text(&case.reference()).at(granted).opt_at(revoked));
        audit_line(&mut audit, &la, ("caseloads", "service"), pupil, "access.grant", granted);
        if let Some(revoked) = revoked {
            audit_line(&mut audit, &la, ("caseloads", "service"), pupil, "access.revoke", revoked);
        }
        access.flush_if_full().await?;
        audit.flush_if_full().await?;
    }
    tokio::try_join!(access.finish(), audit.finish())?;
    Ok(())
}
