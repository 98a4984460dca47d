//! The council overview's referral figures kept as the referrals change, rather
//! than worked out from every referral of the authority on each request (at
//! national scale, Kent's 20,089 referrals grouped and its 10,822 EHC needs
//! assessment requests read and judged, on every view of the dashboard):
//!
//! - `referral_tallies`: how many referrals of an authority share a status, a
//!   kind and the month they were submitted in (the overview's counts by status
//!   and its monthly series by kind);
//! - `clock_open_tallies`: the open EHC needs assessment requests (awaiting the
//!   decision whether to assess, assessing, awaiting the final plan, their clock
//!   not stopped by the referral's status: `domain::ended_by`) by the day each
//!   becomes at risk and the day it becomes breached, so how many are at risk or
//!   breached on a day is a sum over the authority's few hundred tally rows
//!   rather than every request judged. The days follow `domain::health`:
//!   awaiting the decision, at risk 28 days after the request (14 before its
//!   6-week date) and breached from day 43; assessing, at risk from day 98 (14
//!   days before the 16-week date, and at risk from then on) and breached from
//!   day 141 (after the 20-week date); awaiting the final plan, at risk from day
//!   126 and breached from day 141;
//! - `plan_issue_tallies`: the final plans issued, by month of issue, whether
//!   within 20 weeks of the request and whether an exception was recorded (the
//!   20-week timeliness figures of the clock report and of the monthly series).
//!
//! Triggers keep them in the same transaction as every insert, change and
//! deletion of a referral, whatever writes it (the API, the demo and bulk loads,
//! `sen generate`'s `COPY`, the erasure of a pupil), so they are never stale; a
//! tally falling to 0 is deleted, so the open requests' tallies hold only days
//! still to come or open requests behind them. On PostgreSQL the triggers run
//! once per statement over its transition tables, applying net changes in key
//! order (as the pupils' register tallies do); SQLite runs them per row. The
//! migration counts the referrals already stored. The store's reads and the
//! equivalence with the judged figures: `store::clock`, `store::stats` and
//! `tests/tallied_figures.rs`.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE_TABLES: [&str; 3] = [
    "CREATE TABLE referral_tallies (
        la_code VARCHAR(3) NOT NULL,
        submitted_month DATE NOT NULL,
        kind VARCHAR(64) NOT NULL,
        status VARCHAR(16) NOT NULL,
        referrals BIGINT NOT NULL,
        PRIMARY KEY (la_code, submitted_month, kind, status)
    )",
    "CREATE TABLE clock_open_tallies (
        la_code VARCHAR(3) NOT NULL,
        at_risk_on DATE NOT NULL,
        breached_on DATE NOT NULL,
        requests BIGINT NOT NULL,
        PRIMARY KEY (la_code, at_risk_on, breached_on)
    )",
    "CREATE TABLE plan_issue_tallies (
        la_code VARCHAR(3) NOT NULL,
        issued_month DATE NOT NULL,
        within_20_weeks SMALLINT NOT NULL,
        exception SMALLINT NOT NULL,
        plans BIGINT NOT NULL,
        PRIMARY KEY (la_code, issued_month, within_20_weeks, exception)
    )",
];

/// The SQL of one engine for the few date sums the keys need.
#[derive(Clone, Copy)]
enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The first day of the month of `date`.
    fn month(self, date: &str) -> String {
        match self {
            Self::Sqlite => format!("strftime('%Y-%m-01', {date})"),
            Self::Postgres => format!("CAST(date_trunc('month', {date}) AS DATE)"),
        }
    }

    /// `days` days after `date`.
    fn plus(self, date: &str, days: i64) -> String {
        match self {
            Self::Sqlite => format!("date({date}, '+{days} days')"),
            Self::Postgres => format!("({date} + {days})"),
        }
    }
}

/// One tally: its table, key columns, count column, and for a referral row
/// named `r` the key expressions and the condition for being counted at all.
struct Tally {
    table: &'static str,
    columns: &'static str,
    count: &'static str,
    key: fn(Engine, &str) -> String,
    counted: fn(&str) -> String,
}

/// An EHC needs assessment request (`domain::ReferralKind::is_statutory`, with
/// its clock's dates stored: the clock report's rows).
fn statutory(r: &str) -> String {
    format!("{r}.kind = 'ehc_needs_assessment' AND {r}.decision_due IS NOT NULL")
}

/// The open stage of request `r` (`domain::stage`): 1 awaiting the decision
/// whether to assess, 2 assessing, 3 awaiting the final plan; NULL when closed
/// by its outcome or by its referral's status (`domain::ended_by`). A decision
/// counts only with its day (`store::clock_dates`).
fn open_stage(r: &str) -> String {
    let no_assessment = format!("({r}.assessment_decision IS NULL OR {r}.assessment_decision_on IS NULL)");
    let no_plan = format!("({r}.plan_decision IS NULL OR {r}.plan_decision_on IS NULL)");
    format!(
        "CASE WHEN {no_assessment} THEN \
              CASE WHEN {r}.status IN ('declined', 'withdrawn', 'closed') THEN NULL ELSE 1 END \
         WHEN {r}.assessment_decision <> 'assess' THEN NULL \
         WHEN {r}.status IN ('declined', 'withdrawn') THEN NULL \
         WHEN {no_plan} THEN 2 \
         WHEN {r}.plan_decision = 'issue' AND {r}.final_plan_issued_on IS NULL THEN 3 \
         ELSE NULL END"
    )
}

fn open_key(engine: Engine, r: &str) -> String {
    let stage = open_stage(r);
    let received = format!("{r}.submitted_on");
    format!(
        "{r}.la_code, \
         CASE {stage} WHEN 1 THEN {} WHEN 2 THEN {} ELSE {} END, \
         CASE {stage} WHEN 1 THEN {} ELSE {} END",
        engine.plus(&received, 28),
        engine.plus(&received, 98),
        engine.plus(&received, 126),
        engine.plus(&received, 43),
        engine.plus(&received, 141),
    )
}

const TALLIES: [Tally; 3] = [
    Tally {
        table: "referral_tallies",
        columns: "la_code, submitted_month, kind, status",
        count: "referrals",
        key: |engine, r| format!("{r}.la_code, {}, {r}.kind, {r}.status", engine.month(&format!("{r}.submitted_on"))),
        counted: |_| "1 = 1".to_owned(),
    },
    Tally {
        table: "clock_open_tallies",
        columns: "la_code, at_risk_on, breached_on",
        count: "requests",
        key: open_key,
        counted: |r| format!("{} AND ({}) IS NOT NULL", statutory(r), open_stage(r)),
    },
    Tally {
        table: "plan_issue_tallies",
        columns: "la_code, issued_month, within_20_weeks, exception",
        count: "plans",
        key: |engine, r| {
            format!(
                "{r}.la_code, {}, \
                 CASE WHEN {r}.final_plan_issued_on <= {} THEN 1 ELSE 0 END, \
                 CASE WHEN {r}.clock_exception IS NULL THEN 0 ELSE 1 END",
                engine.month(&format!("{r}.final_plan_issued_on")),
                engine.plus(&format!("{r}.submitted_on"), 140),
            )
        },
        counted: |r| format!("{} AND {r}.final_plan_issued_on IS NOT NULL", statutory(r)),
    },
];

/// The key columns of `tally` compared with the row `r` (`NEW`, `OLD`) in SQLite.
fn sqlite_key_matches(tally: &Tally, r: &str) -> String {
    let values = (tally.key)(Engine::Sqlite, r);
    format!("({}) = ({values})", tally.columns)
}

/// Adds `delta` to `tally` for the referral row `r` if it is counted, and drops
/// a tally left at 0 (SQLite, in a row trigger).
fn sqlite_add(tally: &Tally, r: &str, delta: i32) -> String {
    let (table, columns, count) = (tally.table, tally.columns, tally.count);
    format!(
        "INSERT INTO {table} ({columns}, {count}) SELECT {}, {delta} WHERE {} \
         ON CONFLICT ({columns}) DO UPDATE SET {count} = {count} + ({delta}); \
         DELETE FROM {table} WHERE {count} = 0 AND {};",
        (tally.key)(Engine::Sqlite, r),
        (tally.counted)(r),
        sqlite_key_matches(tally, r),
    )
}

fn sqlite_triggers() -> Vec<String> {
    let each = |r: &str, delta: i32| TALLIES.iter().map(|t| sqlite_add(t, r, delta)).collect::<Vec<_>>().join(" ");
    vec![
        format!("CREATE TRIGGER tr_referrals_tally_insert AFTER INSERT ON referrals BEGIN {} END", each("NEW", 1)),
        format!("CREATE TRIGGER tr_referrals_tally_delete AFTER DELETE ON referrals BEGIN {} END", each("OLD", -1)),
        format!(
            "CREATE TRIGGER tr_referrals_tally_update AFTER UPDATE ON referrals BEGIN {} {} END",
            each("OLD", -1),
            each("NEW", 1)
        ),
    ]
}

/// The net change to `tally` of the rows added and removed by a statement
/// (PostgreSQL, over its transition tables), applied in key order, and the
/// tallies it left at 0 dropped.
fn postgres_apply(tally: &Tally, added: bool, removed: bool) -> String {
    let (table, columns, count) = (tally.table, tally.columns, tally.count);
    let mut parts = Vec::new();
    if added {
        parts.push(format!(
            "SELECT {}, 1 FROM added_rows AS n WHERE {}",
            (tally.key)(Engine::Postgres, "n"),
            (tally.counted)("n")
        ));
    }
    if removed {
        parts.push(format!(
            "SELECT {}, -1 FROM removed_rows AS o WHERE {}",
            (tally.key)(Engine::Postgres, "o"),
            (tally.counted)("o")
        ));
    }
    let changes = parts.join(" UNION ALL ");
    let keys = columns.split(", ").map(|c| format!("t.{c} = c.{c}")).collect::<Vec<_>>().join(" AND ");
    format!(
        "WITH net AS (
        SELECT {columns}, SUM(delta) AS delta FROM ({changes}) AS changes ({columns}, delta)
        GROUP BY {columns} HAVING SUM(delta) <> 0
    )
    INSERT INTO {table} ({columns}, {count})
    SELECT {columns}, delta FROM net ORDER BY {columns}
    ON CONFLICT ({columns}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count};
    DELETE FROM {table} AS t USING ({changes}) AS c ({columns}, delta) WHERE {keys} AND t.{count} = 0;"
    )
}

fn postgres_function(name: &str, added: bool, removed: bool) -> String {
    let body = TALLIES.iter().map(|t| postgres_apply(t, added, removed)).collect::<Vec<_>>().join("\n    ");
    format!(
        "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {body}
    RETURN NULL;
END $$"
    )
}

fn postgres_triggers() -> Vec<String> {
    vec![
        postgres_function("referrals_tally_insert", true, false),
        postgres_function("referrals_tally_delete", false, true),
        postgres_function("referrals_tally_update", true, true),
        "CREATE TRIGGER tr_referrals_tally_insert AFTER INSERT ON referrals REFERENCING NEW TABLE AS added_rows \
         FOR EACH STATEMENT EXECUTE FUNCTION referrals_tally_insert()"
            .into(),
        "CREATE TRIGGER tr_referrals_tally_delete AFTER DELETE ON referrals REFERENCING OLD TABLE AS removed_rows \
         FOR EACH STATEMENT EXECUTE FUNCTION referrals_tally_delete()"
            .into(),
        "CREATE TRIGGER tr_referrals_tally_update AFTER UPDATE ON referrals \
         REFERENCING OLD TABLE AS removed_rows NEW TABLE AS added_rows \
         FOR EACH STATEMENT EXECUTE FUNCTION referrals_tally_update()"
            .into(),
    ]
}

const TRIGGERS: [&str; 3] = ["tr_referrals_tally_insert", "tr_referrals_tally_delete", "tr_referrals_tally_update"];
const FUNCTIONS: [&str; 3] = ["referrals_tally_insert", "referrals_tally_delete", "referrals_tally_update"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let engine = match manager.get_database_backend() {
            DatabaseBackend::Postgres => Engine::Postgres,
            _ => Engine::Sqlite,
        };
        for table in CREATE_TABLES {
            db.execute_unprepared(table).await?;
        }
        for tally in &TALLIES {
            let (table, columns, count) = (tally.table, tally.columns, tally.count);
            let key = (tally.key)(engine, "r");
            db.execute_unprepared(&format!(
                "INSERT INTO {table} ({columns}, {count}) \
                 SELECT {key}, COUNT(*) FROM referrals AS r WHERE {} GROUP BY {key}",
                (tally.counted)("r"),
            ))
            .await?;
        }
        let triggers = match engine {
            Engine::Postgres => postgres_triggers(),
            Engine::Sqlite => sqlite_triggers(),
        };
        for statement in triggers {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DatabaseBackend::Postgres;
        for trigger in TRIGGERS {
            let on = if postgres { " ON referrals" } else { "" };
            db.execute_unprepared(&format!("DROP TRIGGER {trigger}{on}")).await?;
        }
        if postgres {
            for function in FUNCTIONS {
                db.execute_unprepared(&format!("DROP FUNCTION {function}()")).await?;
            }
        }
        for table in ["plan_issue_tallies", "clock_open_tallies", "referral_tallies"] {
            db.execute_unprepared(&format!("DROP TABLE {table}")).await?;
        }
        Ok(())
    }
}
