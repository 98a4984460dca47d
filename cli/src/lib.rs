//! What the `sen` binary shares with the cross-service tests: the one table of
//! the platform's services ([`services`]).

pub mod services;
