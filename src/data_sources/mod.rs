//! Data sources, one module per Terraform data source type.

pub mod image_share;
