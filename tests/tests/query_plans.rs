//! Every tenant-scoped list and count the dashboard and the pages use is served
//! from an index at national scale. On PostgreSQL, `sen generate`'s dataset for
//! all 153 authorities at a small scale (Kent, the largest, a few percent of
//! every table, as in England) is loaded and analysed; then the real services
//! and gateway run over it, and the council's manager, a SENCO and a busy
//! professional of Kent open every page (and the JSON overview and audit log)
//! while each service's connection records the statements it runs. Each
//! statement is then explained with its own values, and a sequential scan of a
//! large table fails the test, naming the statement, the table and the pages
//! that ran it. The statements are the ones the code runs, not a list kept by
//! hand, so a new page or filter is checked as soon as it is visited here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement};
use sen_cli::generate::{Spec, generate};
use sen_platform::identity::Role;
use sen_tests::gateway::{GatewayOptions, TestGateway};
use sen_tests::platform::{Options, Stores, TestPlatform, today};

/// A fiftieth of England: 450 schools and 150,000 pupils, Kent 12 schools.
/// `SEN_QUERY_PLANS_SCALE` runs it at another (1.0 is England, about 15 minutes).
const SCALE: f64 = 0.02;
/// Tables with at least this many rows must be read through an index.
const LARGE: f64 = 5_000.0;

/// Statements seen, by (service, SQL): one example with its values, and the pages that ran it.
type Seen = BTreeMap<(&'static str, String), (Statement, BTreeSet<String>)>;

/// A connection to `url` that records every statement it runs under the page being visited.
async fn watched(
    part: &'static str,
    url: &str,
    seen: &Arc<Mutex<Seen>>,
    page: &Arc<Mutex<String>>,
) -> DatabaseConnection {
    let mut db = sen_platform::db::connect(url, &Default::default()).await.expect("connect");
    let (seen, page) = (Arc::clone(seen), Arc::clone(page));
    db.set_metric_callback(move |info| {
        let visiting = page.lock().map(|p| p.clone()).unwrap_or_default();
        if let Ok(mut seen) = seen.lock() {
            let entry = seen
                .entry((part, info.statement.sql.clone()))
                .or_insert_with(|| (info.statement.clone(), BTreeSet::new()));
            entry.1.insert(visiting);
        }
    });
    db
}

async fn one_id(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one(Statement::from_string(DatabaseBackend::Postgres, sql)).await.expect("query");
    let id: Option<i32> = row.and_then(|r| r.try_get("", "id").ok());
    i64::from(id.unwrap_or_else(|| panic!("the generated data has no row for {sql}")))
}

/// Tables of a database with at least [`LARGE`] rows, as ANALYZE counted them.
async fn large_tables(db: &DatabaseConnection) -> BTreeMap<String, f64> {
    let sql = "SELECT relname::text AS name, reltuples::float8 AS rows FROM pg_class \
               WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace";
    let rows = db.query_all(Statement::from_string(DatabaseBackend::Postgres, sql)).await.expect("pg_class");
    rows.into_iter()
        .filter_map(|r| Some((r.try_get::<String>("", "name").ok()?, r.try_get::<f64>("", "rows").ok()?)))
        .filter(|(_, rows)| *rows >= LARGE)
        .collect()
}

/// Rows a scan may read and throw away for not being the caller's authority's.
const DISCARDED: f64 = 1_000.0;

/// One scan in a plan: the table, its sequential-ness, and what its filter threw away.
#[derive(Debug, PartialEq)]
struct Scan {
    table: String,
    sequential: bool,
    /// Rows removed by a filter on the tenant (`la_code`), all loops together.
    other_tenants_discarded: f64,
}

/// The scans of a plan in text form, as `EXPLAIN (ANALYZE)` prints it.
fn scans(plan: &str) -> Vec<Scan> {
    let mut scans: Vec<Scan> = Vec::new();
    let mut loops = 1.0;
    let mut tenant_filter = false;
    for line in plan.lines() {
        let line = line.trim_start().trim_start_matches("->").trim_start();
        if let Some((kind, rest)) =
            line.split_once(" on ").filter(|(kind, _)| kind.contains("Scan") && !kind.contains("Bitmap Index"))
        {
            let table = rest.split_whitespace().next().unwrap_or("").to_owned();
            loops = line.rsplit("loops=").next().and_then(|l| l.trim_end_matches(')').parse().ok()).unwrap_or(1.0);
            tenant_filter = false;
            scans.push(Scan { table, sequential: kind.contains("Seq Scan"), other_tenants_discarded: 0.0 });
        } else if let Some(filter) = line.strip_prefix("Filter: ") {
            tenant_filter = filter.contains("la_code");
        } else if let (Some(removed), Some(scan), true) =
            (line.strip_prefix("Rows Removed by Filter: "), scans.last_mut(), tenant_filter)
        {
            scan.other_tenants_discarded += removed.trim().parse::<f64>().unwrap_or(0.0) * loops;
        }
    }
    scans
}

#[tokio::test]
async fn every_page_list_and_count_is_served_from_an_index_at_scale() {
    // A page that fails says why in the test's output.
    let _ = tracing_subscriber::fmt().with_env_filter("warn").with_test_writer().try_init();
    let (databases, targets) = sen_tests::platform::generate_targets().await;
    let scale = std::env::var("SEN_QUERY_PLANS_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(SCALE);
    let spec = Spec { scale, seed: 2026, today: today(), authorities: None };
    let report = generate(&spec, &targets, |_| {}).await.expect("the dataset is generated");
    let kent = report.largest.clone();
    assert_eq!(kent.la_code, "886");

    let seen = Arc::new(Mutex::new(Seen::new()));
    let page = Arc::new(Mutex::new(String::from("start")));
    let stores = Stores {
        schools: sen_schools::Store::from_connection(watched("schools", &targets.schools, &seen, &page).await),
        pupils: sen_pupils::Store::from_connection(watched("pupils", &targets.pupils, &seen, &page).await),
        referrals: sen_referrals::Store::from_connection(watched("referrals", &targets.referrals, &seen, &page).await),
        caseloads: sen_caseloads::Store::from_connection(watched("caseloads", &targets.caseloads, &seen, &page).await),
    };
    let platform = TestPlatform::over(stores, databases, Options::default()).await.expect("platform");
    // Time enough for England's largest registers on a debug build: plans are checked here, not speed.
    let options = GatewayOptions { request_timeout: std::time::Duration::from_secs(60), ..GatewayOptions::default() };
    let gateway = TestGateway::start(&platform, options).await.expect("gateway");

    // Plain connections (not watched) to look up ids and explain with.
    let mut plain = BTreeMap::new();
    for (part, url) in targets.by_part() {
        plain.insert(part, Database::connect(url).await.expect("connect"));
    }
    let school = kent.largest_school;
    let professional = kent.busiest_professional.clone();
    let pupil = one_id(&plain["pupils"], &format!("SELECT id FROM pupils WHERE la_code = '886' AND school_urn = {school} AND sen_status = 'E' ORDER BY id LIMIT 1")).await;
    let request = one_id(&plain["referrals"], "SELECT id FROM referrals WHERE la_code = '886' AND kind = 'ehc_needs_assessment' AND case_ref IS NOT NULL ORDER BY id LIMIT 1").await;
    let case = one_id(&plain["caseloads"], &format!("SELECT c.id FROM cases c JOIN professionals p ON p.id = c.professional_id WHERE p.person = '{professional}' AND c.status = 'active' ORDER BY c.id LIMIT 1")).await;
    let case_pupil =
        one_id(&plain["caseloads"], &format!("SELECT pupil_id::int AS id FROM cases WHERE id = {case}")).await;

    // The second page of the authority's pupils with a plan, by name (its token
    // names the last pupil of the first page).
    let http = reqwest::Client::new();
    let manager = platform.token(Role::LaManager, Some("886"), None);
    let first_page = format!(
        "{}/api/v1/pupils?order=PUPIL_ORDER_NAME&sen_status=SEN_PROVISION_EHC_PLAN&page.page_size=50",
        gateway.url()
    );
    let first_page: serde_json::Value =
        http.get(first_page).bearer_auth(&manager).send().await.expect("a page").json().await.expect("JSON");
    let by_name_token = first_page["next_page_token"].as_str().unwrap_or_default().to_owned();
    assert!(!by_name_token.is_empty(), "Kent has more than a page of pupils with a plan");
    let year = today().format("%Y").to_string();
    let month = today().format("%Y-%m").to_string();
    let team = [
        "/dashboard".to_owned(),
        "/pupils".into(),
        "/pupils?status=all".into(),
        "/pupils?status=E".into(),
        format!("/pupils?status=E&page_token={by_name_token}&prev="),
        "/pupils?status=K&need=SLCN&year=6".into(),
        format!("/pupils?school={school}"),
        format!("/statutory-clock/plans?period={year}"),
        format!("/statutory-clock/plans?period={month}"),
        format!("/referrals?month={month}&kind=ehc_needs_assessment"),
        "/referrals".into(),
        "/referrals?status=open".into(),
        "/referrals?status=submitted&kind=ehc_needs_assessment".into(),
        "/referrals?overdue=yes".into(),
        format!("/referrals?school={school}"),
        format!("/referrals/{request}"),
        "/schools".into(),
        "/schools?senco=none".into(),
        format!("/schools/{school}"),
        format!("/register?school={school}"),
        format!("/register?school={school}&sen_status=K&need=SLCN"),
        format!("/pupils/{pupil}"),
        "/transitions".into(),
        "/transitions?sort=school&dir=desc&status=outstanding&setting=none".into(),
        "/annual-reviews-due".into(),
        "/annual-reviews-due?overdue=yes".into(),
        "/annual-reviews-due?sort=pupil".into(),
        format!("/annual-reviews-due?sort=school&dir=desc&school={school}"),
        "/late-amendments".into(),
        "/referrals?sort=pupil&dir=desc".into(),
        "/referrals?sort=status".into(),
        "/referrals?sort=submitted&status=open".into(),
        "/referrals?sort=school".into(),
        "/referrals?sort=deadline&kind=advisory_teacher".into(),
        "/statutory-clock".into(),
        "/statutory-clock?health=at_risk&sort=deadline&dir=desc".into(),
        "/senco-compliance".into(),
        "/professionals".into(),
    ];
    let senco = [
        format!("/schools/{school}"),
        "/register".into(),
        "/register?sen_status=E".into(),
        "/referrals".into(),
        "/referrals/new".into(),
        "/transitions".into(),
        "/annual-reviews-due".into(),
        "/late-amendments".into(),
        format!("/pupils/{pupil}"),
    ];
    let caseworker = ["/caseload".to_owned(), format!("/cases/{case}"), format!("/pupils/{case_pupil}")];
    let professional_role =
        if professional.starts_with("at-") { Role::AdvisoryTeacher } else { Role::EducationalPsychologist };
    let visits = [
        (gateway.web_client(Role::LaManager, Some("886"), None).await, "manager", &team[..]),
        // The professionals' page is the manager's alone.
        (gateway.web_client(Role::CaseOfficer, Some("886"), None).await, "case officer", &team[..team.len() - 1]),
        (gateway.web_client(Role::Senco, Some("886"), Some(school)).await, "SENCO", &senco[..]),
        (
            gateway.web_client_for(&professional, professional_role, Some("886"), None).await,
            "professional",
            &caseworker[..],
        ),
    ];
    let mut refused = Vec::new();
    for (client, who, paths) in &visits {
        for path in paths.iter() {
            if let Ok(mut visiting) = page.lock() {
                *visiting = format!("{path} ({who})");
            }
            let status = client.get(format!("{}{path}", gateway.url())).send().await.map(|r| r.status());
            if !status.as_ref().is_ok_and(|s| s.is_success()) {
                refused.push(format!("{path} as {who}: {status:?}"));
            }
        }
    }
    // The JSON API's lists, which school systems and scripts page through.
    let senco_token = platform.token(Role::Senco, Some("886"), Some(school));
    // The second page of the reviews due (by keyset), and of the referrals by kind (by position).
    let reviews = format!("{}/api/v1/annual-reviews-due?page.page_size=50", gateway.url());
    let reviews: serde_json::Value =
        http.get(reviews).bearer_auth(&manager).send().await.expect("a page").json().await.expect("JSON");
    let second_due = reviews["next_page_token"].as_str().unwrap_or_default().to_owned();
    assert!(!second_due.is_empty(), "Kent has more than a page of annual reviews due");
    let at_50 = sen_platform::paging::token_after("@50");
    let lists = [
        (&manager, "manager", "/api/v1/overview".to_owned()),
        (&manager, "manager", "/api/v1/register-stats".into()),
        (&manager, "manager", "/api/v1/audit-events".into()),
        (&manager, "manager", format!("/api/v1/audit-events?pupil_id={pupil}")),
        (&manager, "manager", "/api/v1/pupils".into()),
        (&manager, "manager", "/api/v1/pupils?sen_status=SEN_PROVISION_EHC_PLAN".into()),
        (&manager, "manager", "/api/v1/referrals".into()),
        (&manager, "manager", "/api/v1/referrals?status=REFERRAL_STATUS_IN_PROGRESS".into()),
        (
            &manager,
            "manager",
            format!(
                "/api/v1/referrals?final_plan_issued_from={year}-01-01&final_plan_issued_to={year}-12-31&issued_within_20_weeks=false"
            ),
        ),
        (&manager, "manager", format!("/api/v1/referrals?submitted_from={month}-01&kind=educational_psychology")),
        (&manager, "manager", "/api/v1/pupils?order=PUPIL_ORDER_NAME&on_sen_register=true&include_total=true".into()),
        (&manager, "manager", "/api/v1/support-reviews-overdue".into()),
        (&manager, "manager", "/api/v1/school-allocations".into()),
        (&manager, "manager", format!("/api/v1/referrals/{request}/suggestions")),
        (&manager, "manager", "/api/v1/annual-reviews-due?page.page_size=50".into()),
        (&manager, "manager", format!("/api/v1/annual-reviews-due?page.page_token={second_due}")),
        (&manager, "manager", "/api/v1/annual-reviews-due?overdue_only=true&count_only=true".into()),
        (&manager, "manager", "/api/v1/transitions-due?count_only=true".into()),
        (&manager, "manager", "/api/v1/referrals?open_only=true&count_only=true".into()),
        (&manager, "manager", format!("/api/v1/referrals?sort=kind&page.page_token={at_50}")),
        (&senco_token, "SENCO", "/api/v1/annual-reviews-due?overdue_only=true&count_only=true".into()),
        (&senco_token, "SENCO", "/api/v1/pupils".into()),
        (&senco_token, "SENCO", "/api/v1/support-reviews-overdue".into()),
    ];
    // The same lists for a small authority loaded just after Kent and one loaded
    // last: an index that is not led by the tenant shows as reading past the
    // other authorities' rows (and Kent's new audit entries) to find theirs.
    let others: Vec<(String, &str)> =
        ["201", "943"].into_iter().map(|la| (platform.token(Role::LaManager, Some(la), None), la)).collect();
    let small = [
        "/api/v1/overview",
        "/api/v1/audit-events",
        "/api/v1/pupils",
        "/api/v1/pupils?order=PUPIL_ORDER_NAME&on_sen_register=true&include_total=true",
        "/api/v1/referrals",
        "/api/v1/referrals?final_plan_issued_from=2026-01-01&final_plan_issued_to=2026-12-31",
        "/api/v1/support-reviews-overdue",
    ];
    let lists: Vec<(&String, String, String)> = lists
        .into_iter()
        .map(|(token, who, path)| (token, who.to_owned(), path))
        .chain(others.iter().flat_map(|(token, la)| {
            small.iter().map(move |path| (token, format!("manager of {la}"), (*path).to_owned()))
        }))
        .collect();
    for (token, who, path) in lists {
        if let Ok(mut visiting) = page.lock() {
            *visiting = format!("{path} ({who}, JSON)");
        }
        let status = http.get(format!("{}{path}", gateway.url())).bearer_auth(token).send().await.map(|r| r.status());
        if !status.as_ref().is_ok_and(|s| s.is_success()) {
            refused.push(format!("{path} as {who}: {status:?}"));
        }
    }
    assert!(refused.is_empty(), "pages that did not answer, so their queries went unchecked:\n{}", refused.join("\n"));

    let mut large = BTreeMap::new();
    for (part, db) in &plain {
        large.insert(*part, large_tables(db).await);
    }
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let mut explained = 0;
    let mut failures = Vec::new();
    let mut slowest: Vec<(f64, String)> = Vec::new();
    for ((part, sql), (statement, pages)) in &seen {
        let verb = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        if !matches!(verb.as_str(), "SELECT" | "WITH" | "UPDATE" | "DELETE") {
            continue;
        }
        // Reads are run to time them; changes are only planned.
        let analyse = if matches!(verb.as_str(), "SELECT" | "WITH") { "(ANALYZE) " } else { "" };
        let explain = Statement {
            sql: format!("EXPLAIN {analyse}{sql}"),
            values: statement.values.clone(),
            db_backend: DatabaseBackend::Postgres,
        };
        let rows = plain[part].query_all(explain).await.unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"));
        let plan: Vec<String> = rows.iter().filter_map(|r| r.try_get::<String>("", "QUERY PLAN").ok()).collect();
        let plan = plan.join("\n");
        explained += 1;
        let took =
            plan.lines().find_map(|l| l.trim().strip_prefix("Execution Time: ")?.split(' ').next()?.parse().ok());
        slowest.push((took.unwrap_or(0.0), format!("{part}: {sql}\n{plan}")));
        for scan in scans(&plan) {
            let Some(rows) = large[part].get(&scan.table) else { continue };
            let how = if scan.sequential {
                "with a sequential scan".to_owned()
            } else if scan.other_tenants_discarded >= DISCARDED {
                format!("through an index not led by the tenant, discarding {} rows", scan.other_tenants_discarded)
            } else {
                continue;
            };
            failures.push(format!(
                "the {part} service reads {} ({rows} rows) {how} in\n  {sql}\nrun by {}\nplan:\n{plan}\n",
                scan.table,
                pages.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, statement) in slowest.iter().take(5) {
        eprintln!("{ms:.1} ms: {statement}\n");
    }
    assert!(explained > 40, "only {explained} statements were seen; did the pages run?");
    // The reads that serve an authority's figures without reading its every row
    // are among those explained: the register's tallies (in full, and summed by
    // school and status for the overview and the schools page), the pupils who may
    // transfer this year (and those whose post-16 move is to come), each
    // professional's sessions this term and overdue advice counted, and the
    // referrals' tallies (the overview's statuses, months, plans and clock).
    for (part, read) in [
        ("pupils", "register_tallies"),
        ("pupils", "SUM(pupils)"),
        ("pupils", "\"nc_year_override\" IS NOT NULL"),
        ("pupils", "\"post16_move_on\" >="),
        ("caseloads", "SUM(\"case_activities\".\"sessions\")"),
        ("caseloads", "\"due_on\" <"),
        ("referrals", "\"referral_tallies\""),
        ("referrals", "\"plan_issue_tallies\""),
        ("referrals", "\"clock_open_tallies\""),
    ] {
        assert!(seen.keys().any(|(p, sql)| *p == part && sql.contains(read)), "no {part} statement reads {read}");
    }
    // The lists' totals and pages in an order other than the default are among them too.
    for (part, reads) in [
        ("pupils", ["COUNT(*)", "\"next_review_due\" <="]),
        ("referrals", ["COUNT(*)", "\"la_code\" ="]),
        ("referrals", ["ORDER BY \"referrals\".\"kind\"", "OFFSET"]),
        ("referrals", ["\"status\" NOT IN", "\"final_plan_issued_on\" IS NULL"]),
    ] {
        let found = seen.keys().any(|(p, sql)| *p == part && reads.iter().all(|read| sql.contains(read)));
        assert!(found, "no {part} statement reads {reads:?}");
    }
    assert!(failures.is_empty(), "{} statements scan a large table:\n\n{}", failures.len(), failures.join("\n"));
    gateway.stop().await.expect("gateway stops");
    platform.stop().await.expect("platform stops");
}

#[test]
fn scans_are_read_from_the_plan_text() {
    let plan = "Limit  (cost=0.29..8.31 rows=1 width=4) (actual time=1..2 rows=1 loops=1)
  ->  Seq Scan on pupils  (cost=0.00..1.00 rows=1) (actual time=1..2 rows=1 loops=1)
        Filter: ((la_code)::text = '886'::text)
  ->  Index Scan Backward using referrals_pkey on referrals  (cost=0.42..5.1 rows=9) (actual time=2..3 rows=51 loops=2)
        Filter: ((la_code)::text = '886'::text)
        Rows Removed by Filter: 579853
  ->  Bitmap Heap Scan on ehcps  (cost=1..2 rows=3) (actual time=1..2 rows=4 loops=1)
        Recheck Cond: ((la_code)::text = '886'::text)
        Filter: (status = 'active')
        Rows Removed by Filter: 3084
        ->  Bitmap Index Scan on ix_ehcps_review_due  (cost=0.00..1 rows=1)
  ->  Index Scan using pupils_pkey on pupils p  (cost=0.4..8 rows=1) (actual time=1..2 rows=1 loops=1)";
    let found = scans(plan);
    let summary: Vec<(&str, bool, f64)> =
        found.iter().map(|s| (s.table.as_str(), s.sequential, s.other_tenants_discarded)).collect();
    assert_eq!(
        summary,
        [("pupils", true, 0.0), ("referrals", false, 1_159_706.0), ("ehcps", false, 0.0), ("pupils", false, 0.0)]
    );
}
