//! Managed resources, one module per Terraform resource type.

pub mod image_share;
