//! terraform-provider-volcengine: a Terraform provider (plugin protocol 6) that
//! manages which accounts a Volcengine ECS custom image is shared with.
//!
//! The crate is split the way the request flows:
//! - [`plugin`]: go-plugin serving (magic cookie, AutoMTLS, handshake, controller);
//! - [`tfplugin`]: generated protocol code plus values, schemas and diagnostics;
//! - [`provider`]: provider configuration and the tfplugin6 service routing;
//! - [`resources`], [`data_sources`]: one module per Terraform type;
//! - [`volcengine`]: signer, HTTP client with retries, typed ECS actions;
//! - [`emulator`]: the local ECS image-share emulator used by the demo and tests.
#![forbid(unsafe_code)]

pub mod data_sources;
pub mod emulator;
pub mod logging;
pub mod plugin;
pub mod provider;
pub mod resources;
pub mod tfplugin;
pub mod volcengine;
