//! The authenticated caller of one request, as the authentication layer leaves it
//! in the request's extensions for everything after it.

use sen_platform::identity::Grant;

/// Who is calling, proven by their bearer token, and the internal identity token
/// minted for them that the services verify.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Person, role, tenant and school as the token proved them.
    pub grant: Grant,
    /// Short-lived internal token to send as `x-sen-identity` to the services.
    pub internal_token: String,
}
