//! The Terraform side of the wire: generated protocol code, values, schemas,
//! diagnostics and attribute paths.

/// Generated tfplugin6 messages and the `Provider` service.
pub mod proto {
    tonic::include_proto!("tfplugin6");
}

/// Generated go-plugin services (controller, stdio, broker).
pub mod goplugin {
    tonic::include_proto!("plugin");
}

pub mod cty;
pub mod diagnostics;
pub mod schema;
pub mod value;

pub use cty::CtyType;
pub use diagnostics::{AttrPath, Diagnostics};
pub use value::{Number, Value};
