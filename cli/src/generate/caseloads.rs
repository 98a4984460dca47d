//! The caseloads service's people and rows: each authority's educational
//! psychology service (one EP for every 2,000 pupils, two at least: a
//! principal, seniors, main-grade and trainee EPs; England's average is one for
//! every 3,900, but with it every EP would hold about twice their caseload
//! limit and no case could move without an override)
//! and advisory teachers of every specialism, with caseload limits in open
//! cases or sessions a term; a link EP and a link advisory teacher for every
//! open school; and, written from the referrals' plan, each allocation's case
//! (open cases counted on the professional as the store keeps them), the
//! activity recorded on it, the psychological advice asked of the EP on each
//! statutory case (due 6 weeks from asking, reg. 8(1)), and the term's
//! time-allocation model.

use sen_caseloads::domain::{
    AcademicTerm, ActivityKind, AdviceKind, Capacity, EpGrade, ProfessionalRole, ReferralKind, Specialism, advice_due,
    can_take,
};
use sen_platform::ids::LaCode;

use super::copy::{Sink, Table};
use super::dice::Dice;
use super::plan::{Authority, Ids, Professional, Run, School, at};

const PROFESSIONALS: Table = Table {
    name: "professionals",
    columns: &[
        "id",
        "la_code",
        "person",
        "name",
        "role",
        "fte",
        "capacity_kind",
        "capacity",
        "active",
        "open_cases",
        "version",
        "created_at",
        "updated_at",
    ],
};
const LINKS: Table = Table { name: "school_links", columns: &["la_code", "professional_id", "urn"] };
const CASES: Table = Table {
    name: "cases",
    columns: &[
        "id",
        "la_code",
        "referral_id",
        "pupil_id",
        "school_urn",
        "kind",
        "received_on",
        "advice_due",
        "professional_id",
        "status",
        "allocated_on",
        "outcome",
        "override_reason",
        "idempotency_key",
        "created_at",
        "updated_at",
    ],
};
const ACTIVITIES: Table = Table {
    name: "case_activities",
    columns: &["la_code", "case_id", "school_urn", "on", "kind", "sessions", "note", "recorded_by", "created_at"],
};
const ADVICE: Table = Table {
    name: "advice_requests",
    columns: &[
        "la_code",
        "referral_id",
        "pupil_id",
        "school_urn",
        "kind",
        "from_whom",
        "professional_id",
        "asked_on",
        "due_on",
        "received_on",
        "recorded_by",
        "created_at",
        "updated_at",
    ],
};
const MODELS: Table = Table {
    name: "allocation_models",
    columns: &[
        "la_code",
        "term",
        "sessions_available",
        "base_per_school",
        "weight_roll",
        "weight_support",
        "weight_ehcp",
        "updated_at",
    ],
};

/// Pupils per educational psychologist: about twice England's provision (2,300
/// EPs over 9.0 million pupils, one per 3,900; authorities range from one per
/// 480 to one per 9,400), so that two years of referrals leave most EPs near
/// their caseload limit, a few over it and a few with room.
const PUPILS_PER_EP: usize = 2_000;
/// Pupils per advisory teacher.
const PUPILS_PER_ADVISORY_TEACHER: usize = 5_000;

/// Plans the authority's professionals and their link schools.
pub fn plan_staff(
    la: LaCode,
    schools: &[School],
    pupils: usize,
    dice: &mut Dice,
    ids: &mut Ids,
) -> (Vec<Professional>, Vec<(usize, u32)>) {
    let eps = (pupils / PUPILS_PER_EP).max(2);
    let teachers = (pupils / PUPILS_PER_ADVISORY_TEACHER).max(Specialism::ALL.len());
    let mut staff = Vec::with_capacity(eps + teachers);
    for n in 0..eps {
        let grade = match n {
            0 => EpGrade::Principal,
            _ if n % 7 == 1 => EpGrade::Senior,
            _ if n % 10 == 9 => EpGrade::Trainee,
            _ => EpGrade::MainGrade,
        };
        let cases = if grade == EpGrade::Trainee { dice.between(8, 12) } else { dice.between(15, 30) } as u32;
        let name = format!("Dr {} {}", dice.pick(sen_pupils::demo::FORENAMES), dice.pick(sen_pupils::demo::SURNAMES));
        staff.push(professional(la, "ep", n, name, ProfessionalRole::EducationalPsychologist(grade), cases, dice, ids));
    }
    for n in 0..teachers {
        // Every specialism once, then in proportion to the needs they serve.
        let specialism = if n < Specialism::ALL.len() {
            Specialism::ALL[n]
        } else {
            Specialism::ALL[dice.weighted([30, 35, 12, 8, 15])]
        };
        let name = format!("{} {}", dice.pick(sen_pupils::demo::FORENAMES), dice.pick(sen_pupils::demo::SURNAMES));
        let cases = dice.between(20, 40) as u32;
        staff.push(professional(la, "at", n, name, ProfessionalRole::AdvisoryTeacher(specialism), cases, dice, ids));
    }
    let link_eps: Vec<usize> = (0..eps).filter(|&i| staff[i].active).collect();
    let link_teachers: Vec<usize> = (eps..staff.len())
        .filter(|&i| {
            staff[i].active
                && staff[i].role == ProfessionalRole::AdvisoryTeacher(Specialism::CommunicationAndInteraction)
        })
        .collect();
    let mut links = Vec::new();
    for (n, index) in (0..schools.len()).filter(|&i| schools[i].is_open()).enumerate() {
        for team in [&link_eps, &link_teachers] {
            if !team.is_empty() {
                links.push((team[n % team.len()], index as u32));
            }
        }
    }
    (staff, links)
}

#[allow(clippy::too_many_arguments)]
fn professional(
    la: LaCode,
    prefix: &str,
    n: usize,
    name: String,
    role: ProfessionalRole,
    cases: u32,
    dice: &mut Dice,
    ids: &mut Ids,
) -> Professional {
    let capacity = if prefix == "at" && dice.chance(0.2) {
        Capacity::SessionsPerTerm(dice.between(200, 300) as u32)
    } else {
        Capacity::OpenCases(cases)
    };
    Professional {
        id: Ids::take(&mut ids.professional),
        person: format!("{prefix}-{la}-{:03}", n + 1),
        name,
        role,
        fte: *dice.pick(&[1.0, 1.0, 1.0, 1.0, 0.8, 0.6, 0.5]),
        capacity,
        active: n == 0 || !dice.chance(0.03),
        open_cases: 0,
    }
}

/// The professional a referral of `kind` at school `school` is allocated to: the
/// least loaded who may take it (the link professional first among equals), or,
/// one time in five, whoever the manager picked; `None` when nobody may.
pub fn allocate(authority: &mut Authority, kind: ReferralKind, school: u32, dice: &mut Dice) -> Option<(usize, bool)> {
    let candidates: Vec<usize> = (0..authority.staff.len())
        .filter(|&i| authority.staff[i].active && can_take(authority.staff[i].role, kind))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let linked = |i: usize| authority.links.contains(&(i, school));
    let chosen = if dice.chance(0.2) {
        *dice.pick(&candidates)
    } else {
        *candidates.iter().min_by_key(|&&i| (authority.staff[i].open_cases, !linked(i)))?
    };
    let p = &authority.staff[chosen];
    let full = matches!(p.capacity, Capacity::OpenCases(limit) if p.open_cases >= limit);
    Some((chosen, full))
}

/// Loads the professionals and links, then the cases and their activity, and the term's model.
pub async fn load(sink: &Sink, run: &Run, authority: &Authority) -> anyhow::Result<()> {
    let la = authority.la.to_string();
    let created = at(run.today - chrono::Months::new(18), 0);
    let mut copy = sink.copy(&PROFESSIONALS).await?;
    for p in &authority.staff {
        drop(
            copy.line()
                .int(p.id)
                .text(&la)
                .text(&p.person)
                .text(&p.name)
                .text(&p.role.code())
                .int(p.fte)
                .text(p.capacity.kind())
                .int(p.capacity.amount())
                .bool(p.active)
                .int(p.open_cases)
                .int(1)
                .at(created)
                .at(created),
        );
    }
    copy.finish().await?;
    let mut copy = sink.copy(&LINKS).await?;
    for &(professional, school) in &authority.links {
        drop(copy.line().text(&la).int(authority.staff[professional].id).int(authority.schools[school as usize].urn));
    }
    copy.finish().await?;
    let mut cases = sink.copy(&CASES).await?;
    for referral in &authority.referrals {
        let Some(case) = &referral.case else { continue };
        let pupil = &authority.pupils[referral.pupil as usize];
        let school = &authority.schools[pupil.school as usize];
        let professional = &authority.staff[case.professional];
        let updated = case.closed.as_ref().map_or(case.allocated_on, |c| c.0);
        drop(
            cases
                .line()
                .int(case.id)
                .text(&la)
                .int(referral.id)
                .int(pupil.id)
                .int(school.urn)
                .text(&referral.kind.code())
                .date(referral.submitted_on)
                // Advice is dated from its own request, in `advice_requests`.
                .opt_date(None)
                .int(professional.id)
                .text(if case.closed.is_some() { "closed" } else { "active" })
                .date(case.allocated_on)
                .opt_text(case.closed.as_ref().map(|c| c.1.as_str()))
                .opt_text(case.override_reason)
                .text(&format!("allocate-{}", referral.id))
                .at(at(case.allocated_on, 90))
                .at(at(updated, 400)),
        );
        cases.flush_if_full().await?;
    }
    cases.finish().await?;
    // The EP on a statutory case is asked for the psychological advice within
    // ten days of the case being allocated (so the newest cases are allocated
    // with the advice not yet asked for: work that could still move to another
    // EP); a closed case's advice is in, mostly on time.
    let mut copy = sink.copy(&ADVICE).await?;
    for referral in &authority.referrals {
        let Some(case) = referral.case.as_ref().filter(|_| referral.kind == ReferralKind::EhcNeedsAssessment) else {
            continue;
        };
        let pupil = &authority.pupils[referral.pupil as usize];
        let professional = &authority.staff[case.professional];
        let mut dice = Dice::new(u64::from(case.id.unsigned_abs()), 0xAD7);
        let asked = case.allocated_on + chrono::Duration::days(dice.between(0, 10));
        let asked = case.closed.as_ref().map_or(asked, |c| asked.min(c.0));
        if asked > run.today {
            continue;
        }
        let due = advice_due(asked);
        let received = case.closed.as_ref().map(|c| c.0.min(due + chrono::Duration::days(dice.between(-20, 10))));
        let received = received.map(|on| on.max(asked));
        drop(
            copy.line()
                .text(&la)
                .int(referral.id)
                .int(pupil.id)
                .int(authority.schools[pupil.school as usize].urn)
                .text(AdviceKind::Psychological.code())
                .text(&professional.name)
                .int(professional.id)
                .date(asked)
                .date(due)
                .opt_date(received)
                .text("generated")
                .at(at(asked, 95))
                .at(at(received.unwrap_or(asked), 500)),
        );
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    let mut copy = sink.copy(&ACTIVITIES).await?;
    for referral in &authority.referrals {
        let Some(case) = &referral.case else { continue };
        let mut dice = Dice::new(u64::from(case.id.unsigned_abs()), 0xAC7);
        let school = &authority.schools[authority.pupils[referral.pupil as usize].school as usize];
        let until = case.closed.as_ref().map_or(run.today, |c| c.0);
        let kinds: &[ActivityKind] = match referral.kind {
            ReferralKind::EhcNeedsAssessment => {
                &[ActivityKind::StatutoryAdvice, ActivityKind::Assessment, ActivityKind::Report]
            }
            ReferralKind::EducationalPsychology => {
                &[ActivityKind::Consultation, ActivityKind::Observation, ActivityKind::Assessment]
            }
            ReferralKind::AdvisoryTeacher(_) => {
                &[ActivityKind::Observation, ActivityKind::Consultation, ActivityKind::Training]
            }
        };
        let visits = dice.between(1, 3) as usize;
        for kind in kinds.iter().take(visits) {
            let on = dice.day_between(case.allocated_on, until);
            drop(
                copy.line()
                    .text(&la)
                    .int(case.id)
                    .int(school.urn)
                    .date(on)
                    .text(kind.code())
                    .int(dice.between(1, 3))
                    .text("Met the SENCO and class teacher; next steps agreed")
                    .text(&authority.staff[case.professional].person)
                    .at(at(on, 480)),
            );
        }
        copy.flush_if_full().await?;
    }
    copy.finish().await?;
    let eps = authority.staff.iter().filter(|p| matches!(p.role, ProfessionalRole::EducationalPsychologist(_)));
    let sessions: f64 = eps.map(|p| p.fte * 60.0).sum();
    let mut copy = sink.copy(&MODELS).await?;
    drop(
        copy.line()
            .text(&la)
            .text(&AcademicTerm::containing(run.today).code())
            .int((sessions.round() as i64).clamp(1, 100_000))
            .int(2)
            .int(20)
            .int(40)
            .int(40)
            .at(at(AcademicTerm::containing(run.today).starts_on(), 0)),
    );
    copy.finish().await?;
    Ok(())
}
