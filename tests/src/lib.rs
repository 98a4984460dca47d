//! Shared support for the cross-service tests: fixtures and servers.

pub mod gateway;
pub mod gias;
pub mod platform;
pub mod raw;
pub mod referral_steps;
