//! Signing in to the platform from the `sen` client, without a browser of its
//! own: `sen login` gets tokens from the council's OpenID Connect provider with
//! the device authorization grant, keeps them per gateway in the user's
//! configuration folder, and every client command uses them (renewing them
//! shortly before they expire) when no `--token` / `SEN_TOKEN` is given;
//! `sen logout` revokes and deletes them.
//!
//! - [`provider`]: the provider's discovery document and endpoints.
//! - [`device`]: waiting for the person to sign in with the code.
//! - [`store`]: the private token files.
//! - [`session`]: the stored sign-in as the commands use it, renewed when needed.
//! - [`commands`]: `sen login` and `sen logout`.

pub mod commands;
pub mod device;
pub mod provider;
pub mod session;
pub mod store;
