//! Why a bearer token was refused: the reason for the logs, and the little a
//! caller may be told. Every step of checking a token (keys, claims) answers it.

/// Why a bearer token was refused. `Display` gives the reason, for the logs;
/// [`AuthError::client_message`] what the caller may be told.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The token has expired (UNAUTHENTICATED).
    #[error("the token has expired")]
    Expired,
    /// Bad signature, wrong issuer or audience, not yet valid, unknown key,
    /// refused algorithm, or malformed (UNAUTHENTICATED).
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// A valid token whose claims give no role, tenant or school here, an
    /// ambiguous role, or the service role (PERMISSION_DENIED).
    #[error("the token grants no role on this platform: {0}")]
    NotPermitted(String),
    /// The key needed is not cached and the provider's keys cannot be fetched
    /// (UNAVAILABLE).
    #[error("the identity provider cannot be reached: {0}")]
    ProviderUnavailable(String),
}

impl AuthError {
    /// A short message safe to show the caller; the reason stays in the logs.
    pub fn client_message(&self) -> &'static str {
        match self {
            AuthError::Expired => "the token has expired",
            AuthError::Invalid(_) => "the token is not valid",
            AuthError::NotPermitted(_) => "the token grants no role on this platform",
            AuthError::ProviderUnavailable(_) => "the identity provider cannot be reached",
        }
    }
}
