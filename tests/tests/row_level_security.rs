//! The second wall between councils, in PostgreSQL itself: every table that
//! holds a council's data has row-level security, forced on the service's own
//! role and keyed on the council the session says it works for. A query that
//! forgot its scope, run by the service's role, returns nothing outside a
//! council, only that council's rows within one, and cannot write another's.
//!
//! The platform here runs as it does in production: each service's database is
//! owned by, and used as, a role that is neither superuser nor BYPASSRLS (every
//! other PostgreSQL test through the platform runs so too, so a call that lost
//! its council's wall would fail them).

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use sen_platform::config::PoolConfig;
use sen_platform::identity::Role;
use sen_platform::testing::Engine;
use sen_platform::walls::{self, ACROSS_TENANTS, POLICY};
use sen_proto::v1 as pb;
use sen_tests::platform::TestPlatform;

const PARTS: [&str; 4] = ["schools", "pupils", "referrals", "caseloads"];

async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    let rows =
        db.query_all(Statement::from_string(DbBackend::Postgres, sql)).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter().map(|row| row.try_get_by_index::<String>(0).expect("a text column")).collect()
}

/// A platform with a school, a pupil on SEN support and (in 886) an accepted
/// referral in each of councils 886 and 887, all made through the services.
async fn two_councils() -> TestPlatform {
    let platform = TestPlatform::start(Engine::Postgres).await.expect("platform");
    platform.school_886(100001, "2001", pb::Phase::Primary, (4, 11), 300).await;
    platform.school_of("887", 100002, "2001", pb::Phase::Primary, (4, 11), 200).await;
    let pupil = platform.pupil_on_support("886", 1, 100001, ("Ada", "Kent")).await;
    platform.pupil_on_support("887", 1, 100002, ("Bo", "Medway")).await;
    platform.accepted_referral_886(pupil, "educational_psychology", "wall-1").await;
    platform
}

#[tokio::test]
async fn a_query_that_forgot_its_council_sees_nothing_outside_a_council_and_only_its_own_within_one() {
    let platform = two_councils().await;
    let urls = platform.database_urls();
    // Through the very pool the services use, as the service's own role.
    let db = sen_platform::db::connect(&urls[1], &PoolConfig::default()).await.expect("the pupils database");
    let forgetful = "SELECT la_code FROM pupils ORDER BY la_code";
    assert!(strings(&db, forgetful).await.is_empty(), "outside any council, an unscoped query sees no pupil");
    let within_886 = walls::within_tenant("886", strings(&db, forgetful)).await;
    assert_eq!(within_886, ["886"], "within 886 it sees 886's pupil and not 887's");
    let within_887 = walls::within_tenant("887", strings(&db, forgetful)).await;
    assert_eq!(within_887, ["887"]);
    let everyone = walls::across_tenants(strings(&db, forgetful)).await;
    assert_eq!(everyone, ["886", "887"], "work across councils says so, and sees both");
    // The same holds for every walled table, the referrals' and audit trails' too.
    let referrals = sen_platform::db::connect(&urls[2], &PoolConfig::default()).await.expect("the referrals database");
    let unscoped = "SELECT DISTINCT la_code FROM referrals";
    assert!(strings(&referrals, unscoped).await.is_empty());
    assert!(walls::within_tenant("887", strings(&referrals, unscoped)).await.is_empty(), "887 sees none of 886's");
    assert_eq!(walls::within_tenant("886", strings(&referrals, unscoped)).await, ["886"]);
    let audits = "SELECT DISTINCT la_code FROM audit_events";
    assert!(strings(&referrals, audits).await.is_empty(), "nor another council's audit trail");
}

#[tokio::test]
async fn a_session_cannot_write_a_row_for_another_council_nor_move_one_there() {
    let platform = two_councils().await;
    let db = sen_platform::db::connect(&platform.database_urls()[1], &PoolConfig::default()).await.expect("pupils");
    let moved = walls::within_tenant("886", db.execute_unprepared("UPDATE pupils SET la_code = '887'")).await;
    let error = moved.expect_err("a row cannot be moved to another council").to_string();
    assert!(error.contains("row-level security"), "refused by the policy: {error}");
    let outside = db.execute_unprepared("UPDATE pupils SET legal_surname = 'X'").await.expect("runs");
    assert_eq!(outside.rows_affected(), 0, "outside any council nothing is changed");
    let deleted = walls::within_tenant("887", db.execute_unprepared("DELETE FROM pupil_history WHERE la_code = '886'"))
        .await
        .expect("runs");
    assert_eq!(deleted.rows_affected(), 0, "887 cannot delete 886's history");
    let left = walls::across_tenants(strings(&db, "SELECT la_code FROM pupils ORDER BY la_code")).await;
    assert_eq!(left, ["886", "887"], "nothing was moved");
    // And the services still answer each council its own, as before the wall.
    let mut pupils = platform.pupils(Role::CaseOfficer, Some("887"), None).await;
    let listed = pupils.list_pupils(pb::ListPupilsRequest::default()).await.expect("887's list").into_inner();
    assert_eq!(listed.pupils.len(), 1, "887 lists its one pupil");
}

#[tokio::test]
async fn every_table_with_a_council_column_is_walled_and_forced_on_the_services_own_role() {
    let platform = two_councils().await;
    let exempt: Vec<&str> = ACROSS_TENANTS.iter().map(|(table, _)| *table).collect();
    for (part, url) in PARTS.iter().zip(platform.database_urls()) {
        let db = Database::connect(&url).await.expect("the database");
        let role = strings(&db, "SELECT current_user::text").await;
        assert_eq!(role, [sen_platform::testing::SERVICE_ROLE], "{part} runs as a role of its own");
        let bypasses =
            strings(&db, "SELECT (rolsuper OR rolbypassrls)::text FROM pg_roles WHERE rolname = current_user").await;
        assert_eq!(bypasses, ["false"], "{part}'s role is bound by row-level security");
        let tables = strings(
            &db,
            &format!(
                "SELECT c.relname::text || ' ' || c.relrowsecurity::text || ' ' || c.relforcerowsecurity::text || ' ' \
                 || EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = '{POLICY}')::text \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'la_code' AND NOT a.attisdropped \
                 WHERE c.relkind = 'r' ORDER BY 1"
            ),
        )
        .await;
        assert!(!tables.is_empty(), "{part} has tables of council data");
        for line in tables {
            let (table, flags) = line.split_once(' ').expect("name and flags");
            if exempt.contains(&table) {
                continue;
            }
            assert_eq!(flags, "true true true", "{part}.{table}: row-level security enabled, forced, with {POLICY}");
        }
    }
}
