//! At most one open EHC needs assessment request per pupil in an authority: the
//! SEN2 return counts requests, so a second open one counts the pupil twice. A
//! partial unique index over the open statuses holds the rule under concurrency on
//! both engines: of two requests submitted at once, one commits and the other's
//! insert fails, which the store answers as FAILED_PRECONDITION naming the open one.
//!
//! "Open" is `ReferralStatus::is_open` (sen-vocabulary): submitted, accepted,
//! returned, allocated, in progress; not declined, closed or withdrawn. The index
//! writes those statuses down as they were when this migration was written, and a
//! test fails if `is_open` ever disagrees: a change there needs a new migration
//! that rebuilds the index.
//!
//! A database from before the rule may already hold two open requests for one
//! pupil. The migration then refuses, changes nothing, and names every such pupil
//! with their open requests (authority, pupil id, each referral's id, status and
//! day received): which one stands is the council's decision (one may carry
//! decisions on the statutory clock), not the migration's, and withdrawing one
//! unasked would change the SEN2 count with no one having decided it. The team
//! declines or withdraws the others with the version before this upgrade, on each
//! referral's page or with ChangeReferralStatus, so each timeline records why; then
//! runs `sen migrate referrals` again (the embedded platform migrates at start).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sea_orm_migration::SchemaManagerConnection;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The statuses of an open request (`ReferralStatus::is_open`), as SQL literals.
const OPEN_STATUSES: [&str; 5] = ["submitted", "accepted", "returned", "allocated", "in_progress"];

/// The kind code of an EHC needs assessment request.
const EHC_REQUEST: &str = "ehc_needs_assessment";

fn open_requests() -> String {
    let statuses = OPEN_STATUSES.map(|s| format!("'{s}'")).join(", ");
    format!("kind = '{EHC_REQUEST}' AND status IN ({statuses})")
}

/// Every pupil with more than one open request: (authority, pupil) and their
/// requests as the refusal names them, oldest first.
async fn pupils_with_more_than_one(
    db: &SchemaManagerConnection<'_>,
) -> Result<BTreeMap<(String, i64), Vec<String>>, DbErr> {
    let sql = format!(
        "SELECT id, la_code, pupil_id, status, submitted_on FROM referrals WHERE {} ORDER BY la_code, pupil_id, id",
        open_requests()
    );
    let rows = db.query_all(Statement::from_string(db.get_database_backend(), sql)).await?;
    let mut by_pupil: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
    for row in rows {
        let id: i32 = row.try_get("", "id")?;
        let status: String = row.try_get("", "status")?;
        let received: chrono::NaiveDate = row.try_get("", "submitted_on")?;
        let pupil = (row.try_get("", "la_code")?, row.try_get("", "pupil_id")?);
        by_pupil.entry(pupil).or_default().push(format!("{id} ({status}, received {received})"));
    }
    by_pupil.retain(|_, requests| requests.len() > 1);
    Ok(by_pupil)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let refuse = |by_pupil: BTreeMap<_, _>| DbErr::Migration(refusal(&by_pupil));
        let found = pupils_with_more_than_one(db).await?;
        if !found.is_empty() {
            return Err(refuse(found));
        }
        let create = format!(
            "CREATE UNIQUE INDEX ux_referrals_open_ehc_request ON referrals (la_code, pupil_id) WHERE {}",
            open_requests()
        );
        if let Err(e) = db.execute_unprepared(&create).await {
            // A replica of the version before may have let a second request in
            // since the check: name it rather than the database's own words.
            let found = pupils_with_more_than_one(db).await?;
            return Err(if found.is_empty() { e } else { refuse(found) });
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ux_referrals_open_ehc_request").table(Alias::new("referrals")).to_owned())
            .await
    }
}

/// What the operator reads: every pupil with more than one open request, and what to do.
fn refusal(by_pupil: &BTreeMap<(String, i64), Vec<String>>) -> String {
    let mut message = String::from(
        "the referrals service now allows one open EHC needs assessment request per pupil, and this database has \
         more than one open EHC needs assessment request for these pupils:",
    );
    for ((la_code, pupil), requests) in by_pupil {
        let _ = write!(message, " authority {la_code}, pupil {pupil}: referrals {};", requests.join(", "));
    }
    message.push_str(
        " nothing was changed. Keep one request per pupil open and decline or withdraw the others with the version \
         before this upgrade (on each referral's page or with ChangeReferralStatus, giving the reason, so the \
         timeline records it), then run `sen migrate referrals` again (the embedded platform runs it at start)",
    );
    message
}

#[cfg(test)]
mod tests {
    use sen_vocabulary::{ReferralKind, ReferralStatus};

    use super::*;

    #[test]
    fn the_index_covers_exactly_the_open_statuses_of_an_ehc_request() {
        let open: Vec<&str> =
            ReferralStatus::ALL.into_iter().filter(|s| s.is_open()).map(ReferralStatus::code).collect();
        assert_eq!(open, OPEN_STATUSES, "is_open changed: add a migration that rebuilds ux_referrals_open_ehc_request");
        assert_eq!(ReferralKind::EhcNeedsAssessment.code(), EHC_REQUEST);
    }
}
