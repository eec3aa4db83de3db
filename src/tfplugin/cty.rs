//! cty types, the type system Terraform uses for every value on the wire.
//!
//! Schemas carry types as JSON bytes (`"string"`, `["set","string"]`,
//! `["object",{"a":"number"}]`); value decoding is guided by them because
//! msgpack alone cannot tell a list from a set or a map from an object.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::json;

/// A cty type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CtyType {
    Bool,
    Number,
    String,
    /// `"dynamic"`: the concrete type travels with the value.
    Dynamic,
    List(Box<CtyType>),
    Set(Box<CtyType>),
    Map(Box<CtyType>),
    Object(BTreeMap<String, CtyType>),
    Tuple(Vec<CtyType>),
}

/// A type's JSON form could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cty type: {0}")]
pub struct TypeError(pub String);

impl CtyType {
    pub fn list(element: CtyType) -> Self {
        CtyType::List(Box::new(element))
    }

    pub fn set(element: CtyType) -> Self {
        CtyType::Set(Box::new(element))
    }

    pub fn map(element: CtyType) -> Self {
        CtyType::Map(Box::new(element))
    }

    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, CtyType)>) -> Self {
        CtyType::Object(attributes.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The JSON form used in schemas (`Schema.Attribute.type`).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            CtyType::Bool => json!("bool"),
            CtyType::Number => json!("number"),
            CtyType::String => json!("string"),
            CtyType::Dynamic => json!("dynamic"),
            CtyType::List(e) => json!(["list", e.to_json()]),
            CtyType::Set(e) => json!(["set", e.to_json()]),
            CtyType::Map(e) => json!(["map", e.to_json()]),
            CtyType::Object(attrs) => {
                let attrs: serde_json::Map<String, serde_json::Value> = attrs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect();
                json!(["object", attrs])
            }
            CtyType::Tuple(elems) => {
                json!([
                    "tuple",
                    elems.iter().map(CtyType::to_json).collect::<Vec<_>>()
                ])
            }
        }
    }

    /// JSON bytes, as stored in `Schema.Attribute.type`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).expect("serialising a JSON value cannot fail")
    }

    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, TypeError> {
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| TypeError(e.to_string()))?;
        Self::from_json(&json)
    }

    pub fn from_json(json: &serde_json::Value) -> Result<Self, TypeError> {
        use serde_json::Value as J;
        match json {
            J::String(s) => match s.as_str() {
                "bool" => Ok(CtyType::Bool),
                "number" => Ok(CtyType::Number),
                "string" => Ok(CtyType::String),
                "dynamic" => Ok(CtyType::Dynamic),
                other => Err(TypeError(format!("unknown primitive type {other:?}"))),
            },
            J::Array(parts) => {
                let kind = parts.first().and_then(J::as_str).unwrap_or_default();
                let arg = parts
                    .get(1)
                    .ok_or_else(|| TypeError(format!("{kind:?} needs an argument")))?;
                // Object types may carry a third element (optional attributes); it
                // only matters for type conversion, not for the wire encoding.
                match kind {
                    "list" => Ok(CtyType::list(Self::from_json(arg)?)),
                    "set" => Ok(CtyType::set(Self::from_json(arg)?)),
                    "map" => Ok(CtyType::map(Self::from_json(arg)?)),
                    "object" => {
                        let attrs = arg
                            .as_object()
                            .ok_or_else(|| TypeError("object attributes must be a map".into()))?;
                        attrs
                            .iter()
                            .map(|(k, v)| Ok((k.clone(), Self::from_json(v)?)))
                            .collect::<Result<_, _>>()
                            .map(CtyType::Object)
                    }
                    "tuple" => {
                        let elems = arg
                            .as_array()
                            .ok_or_else(|| TypeError("tuple elements must be a list".into()))?;
                        elems
                            .iter()
                            .map(Self::from_json)
                            .collect::<Result<_, _>>()
                            .map(CtyType::Tuple)
                    }
                    other => Err(TypeError(format!("unknown type constructor {other:?}"))),
                }
            }
            other => Err(TypeError(format!("unexpected JSON {other}"))),
        }
    }
}

impl fmt::Display for CtyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let ty = CtyType::object([
            ("id", CtyType::String),
            ("account_ids", CtyType::set(CtyType::String)),
            ("n", CtyType::Number),
            ("t", CtyType::Tuple(vec![CtyType::Bool, CtyType::Dynamic])),
            ("m", CtyType::map(CtyType::list(CtyType::Bool))),
        ]);
        let bytes = ty.to_json_bytes();
        assert_eq!(CtyType::from_json_bytes(&bytes).unwrap(), ty);
    }

    #[test]
    fn schema_forms() {
        assert_eq!(CtyType::String.to_json_bytes(), br#""string""#);
        assert_eq!(
            CtyType::set(CtyType::String).to_json_bytes(),
            br#"["set","string"]"#
        );
        assert!(CtyType::from_json_bytes(br#"["bag","string"]"#).is_err());
        assert!(CtyType::from_json_bytes(br#"["object",{"a":"string"},["a"]]"#).is_ok());
    }
}
