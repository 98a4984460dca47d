//! sea-orm entities of the referrals service's own tables.

pub mod audit_event;
pub mod referral;
pub mod referral_attachment;
pub mod referral_change;
pub mod referral_change_horizon;
pub mod referral_event;
pub mod register_change;
