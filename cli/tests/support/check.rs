//! What the fault suite checks after the load, straight from each service's
//! database: every acknowledged write stored exactly once, nothing stored that
//! no caller asked for, and the four services agreeing with each other (every
//! case has its referral marked and its access grant open, and nothing points
//! at a case that does not exist). Also the figures the runbook reports.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use sea_orm::QueryResult;

use super::cluster::query;
use super::load::{Call, Ledger, TENANT};

/// Each service's database, by part: where the checks read.
pub type Databases = BTreeMap<&'static str, String>;

/// What the checks found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Every disagreement, in words.
    pub problems: Vec<String>,
    /// Acknowledged writes missing.
    pub lost: usize,
    /// Writes stored more than once.
    pub duplicated: usize,
    /// Cases left pending (an allocation neither finished nor undone).
    pub pending: usize,
    /// Referrals and access grants naming a case that is not theirs or not open.
    pub orphans: Vec<String>,
}

fn int(row: &QueryResult, column: &str) -> i64 {
    row.try_get::<i64>("", column).unwrap_or_else(|e| panic!("{column}: {e}"))
}

fn string(row: &QueryResult, column: &str) -> String {
    row.try_get::<Option<String>>("", column).unwrap_or_else(|e| panic!("{column}: {e}")).unwrap_or_default()
}

/// The rows of the services as the checks read them.
struct Stored {
    /// idempotency key -> (referral id, status, case ref, allocated to)
    referrals: BTreeMap<String, Vec<(i64, String, String, String)>>,
    /// case id -> (referral id, pupil id, professional id, status, key)
    cases: BTreeMap<i64, (i64, i64, i64, String, String)>,
    /// professional id -> (person, open cases counted)
    professionals: BTreeMap<i64, (String, i64)>,
    /// open grants: (pupil id, person, case ref)
    grants: Vec<(i64, String, String)>,
    /// note -> how many times stored
    notes: BTreeMap<String, usize>,
}

async fn read(databases: &Databases) -> Stored {
    let tenant = format!("la_code = '{TENANT}'");
    let mut referrals: BTreeMap<String, Vec<_>> = BTreeMap::new();
    let sql = format!(
        "SELECT CAST(id AS BIGINT) AS id, idempotency_key, status, case_ref, allocated_to FROM referrals WHERE {tenant}"
    );
    for row in query(&databases["referrals"], &sql).await {
        let stored = (int(&row, "id"), string(&row, "status"), string(&row, "case_ref"), string(&row, "allocated_to"));
        referrals.entry(string(&row, "idempotency_key")).or_default().push(stored);
    }
    let sql = format!(
        "SELECT CAST(id AS BIGINT) AS id, CAST(referral_id AS BIGINT) AS referral_id, CAST(pupil_id AS BIGINT) AS pupil_id, \
         CAST(professional_id AS BIGINT) AS professional_id, status, idempotency_key FROM cases WHERE {tenant}"
    );
    let cases = query(&databases["caseloads"], &sql)
        .await
        .iter()
        .map(|row| {
            let case = (
                int(row, "referral_id"),
                int(row, "pupil_id"),
                int(row, "professional_id"),
                string(row, "status"),
                string(row, "idempotency_key"),
            );
            (int(row, "id"), case)
        })
        .collect();
    let sql = format!(
        "SELECT CAST(id AS BIGINT) AS id, person, CAST(open_cases AS BIGINT) AS open_cases FROM professionals WHERE {tenant}"
    );
    let professionals = query(&databases["caseloads"], &sql)
        .await
        .iter()
        .map(|row| (int(row, "id"), (string(row, "person"), int(row, "open_cases"))))
        .collect();
    let sql = format!(
        "SELECT CAST(pupil_id AS BIGINT) AS pupil_id, person, case_ref FROM case_access WHERE {tenant} AND revoked_at IS NULL"
    );
    let grants = query(&databases["pupils"], &sql)
        .await
        .iter()
        .map(|row| (int(row, "pupil_id"), string(row, "person"), string(row, "case_ref")))
        .collect();
    let mut notes = BTreeMap::new();
    for row in query(&databases["caseloads"], &format!("SELECT note FROM case_activities WHERE {tenant}")).await {
        *notes.entry(string(&row, "note")).or_insert(0) += 1;
    }
    Stored { referrals, cases, professionals, grants, notes }
}

/// What the stores must hold.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// Exactly what the callers were told, nothing more (after a fault).
    Everything,
    /// Every write acknowledged before this moment; later ones at most once (a backup).
    UpTo(Instant),
}

/// Checks the databases against what the callers were told, and the services
/// against each other.
pub async fn consistency(databases: &Databases, ledger: &Ledger, expect: Expect) -> Findings {
    let stored = read(databases).await;
    let mut found = Findings::default();
    let pipelines = ledger.pipelines.lock().expect("ledger").clone();
    let everything = matches!(expect, Expect::Everything);
    let mut problem = |lost: bool, duplicated: bool, text: String| {
        found.lost += usize::from(lost);
        found.duplicated += usize::from(duplicated);
        found.problems.push(text);
    };
    let mut keys = BTreeSet::new();
    let mut notes = BTreeSet::new();
    for single in ledger.single_writes.lock().expect("ledger").iter() {
        keys.insert(single.clone());
        notes.insert(single.clone());
        let stored = stored.referrals.get(single).map_or(0, Vec::len) + stored.notes.get(single).copied().unwrap_or(0);
        if stored > 1 || (everything && stored == 0) {
            problem(stored == 0, stored > 1, format!("acknowledged write {single:?} is stored {stored} times"));
        }
    }
    for p in &pipelines {
        keys.insert(p.key.clone());
        notes.insert(p.note.clone());
        let required = match expect {
            Expect::Everything => true,
            Expect::UpTo(point) => p.finished < point,
        };
        let alloc_key = format!("alloc-{}", p.key);
        let referrals = stored.referrals.get(&p.key).map_or(0, Vec::len);
        let cases = stored.cases.values().filter(|c| c.4 == alloc_key).count();
        let visits = stored.notes.get(&p.note).copied().unwrap_or(0);
        for (what, n) in [("referral", referrals), ("case", cases), ("visit", visits)] {
            if n > 1 || (required && n == 0) {
                problem(n == 0, n > 1, format!("the acknowledged {what} of {} is stored {n} times", p.key));
            }
        }
        if stored.referrals.get(&p.key).is_some_and(|r| r.iter().any(|r| r.0 != p.referral)) {
            problem(false, false, format!("referral {} is stored under another id than {}", p.key, p.referral));
        }
        if let Some((id, c)) = stored.cases.iter().find(|(_, c)| c.4 == alloc_key)
            && (*id != p.case || c.0 != p.referral)
        {
            problem(false, false, format!("case {alloc_key} is stored as {id} for referral {}", c.0));
        }
    }
    // Nothing stored that no caller was told about (a pipeline still under way is
    // ruled out by `Load::finish`). A backup may hold writes acknowledged after it.
    if everything {
        for (key, rows) in &stored.referrals {
            if !keys.contains(key) {
                problem(
                    false,
                    false,
                    format!("referral {key} ({} rows) was stored but never acknowledged", rows.len()),
                );
            }
        }
        for (note, n) in &stored.notes {
            if !notes.contains(note) {
                problem(false, false, format!("visit {note:?} ({n} rows) was stored but never acknowledged"));
            }
        }
    }
    for duplicate in stored.referrals.iter().filter(|(_, rows)| rows.len() > 1).map(|(key, _)| key) {
        if !keys.contains(duplicate) {
            problem(false, true, format!("referral {duplicate} is stored more than once"));
        }
    }
    found.problems.extend(agreement(&stored, &mut found.pending, &mut found.orphans));
    found
}

/// The services agree: each active case has its referral marked allocated to it
/// and its professional's access to the pupil open, each professional's count is
/// right, and no referral or grant names a case that is not an open case of that
/// referral and pupil (those go to `orphans`).
fn agreement(stored: &Stored, pending: &mut usize, orphans: &mut Vec<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let by_id: BTreeMap<i64, &(i64, String, String, String)> =
        stored.referrals.values().flatten().map(|r| (r.0, r)).collect();
    let person_of =
        |professional: &i64| stored.professionals.get(professional).map(|p| p.0.clone()).unwrap_or_default();
    let mut open_per_professional: BTreeMap<i64, i64> = BTreeMap::new();
    for (id, (referral, pupil, professional, status, _)) in &stored.cases {
        let reference = format!("CASE-{id}");
        let person = person_of(professional);
        if status == "pending" {
            *pending += 1;
            problems.push(format!("case {id} is still pending"));
        }
        if status != "closed" {
            *open_per_professional.entry(*professional).or_default() += 1;
        }
        if status == "active" {
            match by_id.get(referral) {
                Some((_, s, r, to)) if (s == "allocated" || s == "in_progress") && *r == reference && *to == person => {
                }
                other => problems.push(format!("case {id}: its referral {referral} says {other:?}")),
            }
            let grants = stored.grants.iter().filter(|g| g.0 == *pupil && g.1 == person && g.2 == reference).count();
            if grants != 1 {
                problems.push(format!("case {id}: {grants} open access grants for {person} to pupil {pupil}"));
            }
        }
    }
    let open_case = |reference: &str| {
        reference
            .strip_prefix("CASE-")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| stored.cases.get(&id))
            .filter(|case| case.3 == "active")
    };
    for (id, status, reference, _) in by_id.values() {
        let allocated = status == "allocated" || status == "in_progress";
        if allocated && open_case(reference).is_none_or(|case| case.0 != *id) {
            orphans.push(format!("referral {id} is {status} to {reference}, which is no open case of it"));
        }
    }
    for (pupil, person, reference) in &stored.grants {
        let matches = open_case(reference).is_some_and(|case| case.1 == *pupil && person_of(&case.2) == *person);
        if !matches {
            orphans.push(format!("pupil {pupil} is open to {person} for {reference}, which is no open case of theirs"));
        }
    }
    for (id, (person, counted)) in &stored.professionals {
        let open = open_per_professional.get(id).copied().unwrap_or(0);
        if open != *counted {
            problems.push(format!("{person} is counted with {counted} open cases but has {open}"));
        }
    }
    problems
}

/// How long after `fault` every caller was acknowledged again: for each caller,
/// from the fault to its first acknowledged call begun after its last failed one
/// (a call in flight at the fault included) before `until`; the longest of them.
pub fn recovered_within(calls: &[Call], fault: Instant, until: Instant) -> Duration {
    let workers: BTreeSet<usize> = calls.iter().map(|c| c.worker).collect();
    let mut longest = Duration::ZERO;
    for worker in workers {
        let own = calls.iter().filter(|c| c.worker == worker);
        let window = own.clone().filter(|c| c.ended >= fault && c.started < until);
        let Some(last_failure) = window.filter(|c| !c.acknowledged).map(|c| c.ended).max() else {
            continue;
        };
        let back = own.filter(|c| c.acknowledged && c.started >= last_failure).map(|c| c.ended).min();
        longest = longest.max(back.unwrap_or(until).saturating_duration_since(fault));
    }
    longest
}

/// The failed calls, by what they were and the status they got (0: no answer).
pub fn failures(ledger: &Ledger) -> String {
    let mut by: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for call in ledger.calls.lock().expect("ledger").iter().filter(|c| !c.acknowledged) {
        *by.entry((call.what, call.status)).or_default() += 1;
    }
    by.iter().map(|((what, status), n)| format!("{what} {status}: {n}")).collect::<Vec<_>>().join(", ")
}

/// One row of the runbook's table of figures.
pub struct Figures {
    pub fault: String,
    pub calls: usize,
    pub acknowledged: usize,
    pub failed: usize,
    /// Calls without an idempotency key (a visit, a status change) that failed
    /// although they were done: the caller could not know without looking.
    pub failed_but_stored: u32,
    pub lost: usize,
    pub duplicated: usize,
    pub recovered_within: Duration,
}

impl Figures {
    /// The figures of a finished load with its findings.
    pub fn of(fault: &str, ledger: &Ledger, found: &Findings, recovered_within: Duration) -> Self {
        let calls = ledger.calls.lock().expect("ledger");
        Self {
            fault: fault.to_owned(),
            calls: calls.len(),
            acknowledged: calls.iter().filter(|c| c.acknowledged).count(),
            failed: calls.iter().filter(|c| !c.acknowledged).count(),
            failed_but_stored: *ledger.failed_but_stored.lock().expect("ledger")
                + *ledger.failed_but_applied.lock().expect("ledger"),
            lost: found.lost,
            duplicated: found.duplicated,
            recovered_within,
        }
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} s |",
            self.fault,
            self.calls,
            self.acknowledged,
            self.failed,
            self.failed_but_stored,
            self.lost,
            self.duplicated,
            self.recovered_within.as_secs_f64()
        )
    }
}
