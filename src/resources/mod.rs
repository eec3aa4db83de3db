//! Managed resources, one module per Terraform resource type, and the pieces
//! they share.

pub mod image_share;
pub mod share_sync;
pub mod timeouts;
pub mod validate;
