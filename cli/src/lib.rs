//! What the `sen` binary shares with the cross-service tests: the one table of
//! the platform's services ([`services`]) and the national-scale dataset
//! generator ([`generate`]).

pub mod generate;
pub mod services;
