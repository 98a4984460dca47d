//! The referrals service's rows, written from an authority's plan as its store
//! writes them: each referral with its body's idempotency fingerprint (the
//! store's own function), the statutory dates fixed on the day the request was
//! received (the domain's rules), the clock's decisions, the professional and
//! case it was allocated as, a version counting every change, and its timeline.

use sen_pupils::domain::SenStatus;
use sen_referrals::domain::{Consent, NewReferral, Status, Tried, decision_due, final_plan_due, no_plan_notice_due};
use sen_referrals::store::fingerprint;

use super::copy::{Sink, Table};
use super::plan::{Authority, Referral, Who, at};

const REFERRALS: Table = Table {
    name: "referrals",
    columns: &[
        "id",
        "la_code",
        "pupil_id",
        "school_urn",
        "kind",
        "broad_areas",
        "concern",
        "tried_summary",
        "support_cycle_ids",
        "provision_ids",
        "consent_given_by",
        "consent_given_on",
        "consent_method",
        "priority",
        "status",
        "submitted_on",
        "submitted_by",
        "allocated_to",
        "case_ref",
        "outcome",
        "idempotency_key",
        "fingerprint",
        "decision_due",
        "no_plan_notice_due",
        "final_plan_due",
        "assessment_decision",
        "assessment_decision_on",
        "plan_decision",
        "plan_decision_on",
        "final_plan_issued_on",
        "clock_exception",
        "version",
        "created_at",
        "updated_at",
    ],
};
const EVENTS: Table = Table {
    name: "referral_events",
    columns: &["la_code", "referral_id", "at", "by", "by_role", "from_status", "to_status", "note"],
};

/// The submission as the school made it, validated as the service validates it.
fn submission(authority: &Authority, referral: &Referral) -> anyhow::Result<NewReferral> {
    let pupil = &authority.pupils[referral.pupil as usize];
    let school = &authority.schools[pupil.school as usize];
    let (given_by, given_on, method) = referral.consent;
    let consent = Consent::new(given_by, given_on, method, referral.submitted_on)
        .map_err(|(field, e)| anyhow::anyhow!("generated consent's {field} {e}"))?;
    let cites = referral.cites_support;
    let tried = Tried {
        summary: referral.tried.to_owned(),
        cycles: if cites { pupil.cycle_ids().map(i64::from).collect() } else { Vec::new() },
        provisions: if pupil.status != SenStatus::NoSen {
            pupil.provision_ids().map(i64::from).collect()
        } else {
            Vec::new()
        },
    };
    Ok(NewReferral {
        pupil_id: i64::from(pupil.id),
        school: school.urn,
        kind: referral.kind,
        broad_areas: referral.areas.clone(),
        concern: referral.concern.to_owned(),
        tried,
        consent,
        priority: referral.priority,
    })
}

/// Who a timeline entry names: person id and role.
fn who(authority: &Authority, referral: &Referral, by: Who) -> (String, &'static str) {
    match by {
        Who::Senco => (authority.schools[authority.pupils[referral.pupil as usize].school as usize].senco(), "senco"),
        Who::Officer(n) => (authority.officer(n), "case_officer"),
        Who::Service => ("caseloads".to_owned(), "service"),
        Who::Professional(i) => {
            let p = &authority.staff[i];
            let role =
                if p.role.title() == "advisory teacher" { "advisory_teacher" } else { "educational_psychologist" };
            (p.person.clone(), role)
        }
    }
}

fn joined(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Loads the referrals, then their timelines.
pub async fn load(sink: &Sink, authority: &Authority) -> anyhow::Result<()> {
    let la = authority.la.to_string();
    let mut copy = sink.copy(&REFERRALS).await?;
    for referral in &authority.referrals {
        let new = submission(authority, referral)?;
        let statutory = referral.kind.is_statutory();
        let received = referral.submitted_on;
        let clock = referral.clock.as_ref();
        let status = referral.status();
        let closed = referral.entries.iter().rev().find(|e| e.to == Status::Closed && e.from != Some(Status::Closed));
        let last = referral.entries.len().saturating_sub(1) as u32;
        let case = referral.case.as_ref();
        drop(
            copy.line()
                .int(referral.id)
                .text(&la)
                .int(new.pupil_id)
                .int(new.school)
                .text(&new.kind.code())
                .text(&new.broad_areas.iter().map(|a| a.code()).collect::<Vec<_>>().join(","))
                .text(&new.concern)
                .text(&new.tried.summary)
                .text(&joined(&new.tried.cycles))
                .text(&joined(&new.tried.provisions))
                .text(&new.consent.given_by)
                .date(new.consent.given_on)
                .text(new.consent.method.code())
                .text(new.priority.code())
                .text(status.code())
                .date(received)
                .text(&who(authority, referral, Who::Senco).0)
                .opt_text(case.map(|c| authority.staff[c.professional].person.as_str()))
                .opt_text(case.map(|c| c.reference()).as_deref())
                .opt_text(closed.filter(|_| status == Status::Closed).map(|e| e.note.as_str()))
                .text(&format!("generated-{la}-{}", referral.id))
                .text(&fingerprint(&new))
                .opt_date(statutory.then(|| decision_due(received)))
                .opt_date(statutory.then(|| no_plan_notice_due(received)))
                .opt_date(statutory.then(|| final_plan_due(received)))
                .opt_text(clock.and_then(|c| c.assessment_decision).map(|d| d.0.code()))
                .opt_date(clock.and_then(|c| c.assessment_decision).map(|d| d.1))
                .opt_text(clock.and_then(|c| c.plan_decision).map(|d| d.0.code()))
                .opt_date(clock.and_then(|c| c.plan_decision).map(|d| d.1))
                .opt_date(clock.and_then(|c| c.final_plan_issued_on))
                .opt_text(clock.and_then(|c| c.exception).map(|e| e.code()))
                .int(referral.entries.len())
                .at(at(received, 0))
                .at(at(referral.entries.last().map_or(received, |e| e.on), last)),
        );
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    let mut copy = sink.copy(&EVENTS).await?;
    for referral in &authority.referrals {
        for (n, entry) in referral.entries.iter().enumerate() {
            let (by, role) = who(authority, referral, entry.by);
            drop(
                copy.line()
                    .text(&la)
                    .int(referral.id)
                    .at(at(entry.on, n as u32))
                    .text(&by)
                    .text(role)
                    .opt_text(entry.from.map(Status::code))
                    .text(entry.to.code())
                    .text(&entry.note),
            );
        }
        copy.flush_if_full().await?;
    }
    copy.finish().await.map(drop)
}
