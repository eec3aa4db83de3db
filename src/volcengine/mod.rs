//! Everything that talks to Volcengine: request signing, the HTTP client with
//! retries, typed ECS actions and API errors.

pub mod secret;
pub mod signer;
