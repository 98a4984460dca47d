//! Another open referral of the same kind for the same pupil: what a school is
//! warned of before sending a second one (the council would rather the school
//! added to the open referral, and two would be triaged twice). The warning is
//! a question, not a rule: the school may still send it by confirming, so no
//! index holds it and two sent at the same instant may both go in. An EHC needs
//! assessment request is different: a second while one is open is refused
//! outright where it is stored (`Store::submit`).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use sen_platform::identity::Scope;

use super::Store;
use crate::domain::{NewReferral, Status};
use crate::entity::referral;
use crate::error::Result;

impl Store {
    /// The pupil's oldest open referral of the kind of `new`, within `scope`;
    /// none when a referral was submitted under `key` already (this is a retry
    /// of it, which answers as the first, whatever else is open).
    pub async fn open_referral_like(
        &self,
        scope: &Scope,
        new: &NewReferral,
        key: &str,
    ) -> Result<Option<referral::Model>> {
        let retry = referral::Entity::find()
            .filter(referral::Column::LaCode.eq(scope.tenant().key()))
            .filter(referral::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await?;
        if retry.is_some() {
            return Ok(None);
        }
        Ok(referral::Entity::find()
            .filter(super::visible(scope))
            .filter(referral::Column::PupilId.eq(new.pupil_id))
            .filter(referral::Column::Kind.eq(new.kind.code()))
            .filter(referral::Column::Status.is_in(Status::ALL.into_iter().filter(|s| s.is_open()).map(Status::code)))
            .order_by_asc(referral::Column::Id)
            .one(&self.db)
            .await?)
    }
}
