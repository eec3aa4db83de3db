//! Everything that talks to Volcengine: request signing, the HTTP client with
//! retries, typed ECS actions and API errors.

pub mod client;
pub mod ecs;
pub mod error;
pub mod retry;
pub mod secret;
pub mod signer;

pub use client::{CallContext, Client, ClientConfig, ClientOptions};
pub use error::{ApiError, Error};
pub use secret::Secret;
pub use signer::Credentials;
