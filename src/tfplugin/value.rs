//! Terraform values and their two wire encodings: msgpack (every request and
//! response) and JSON (raw state handed to UpgradeResourceState).
//!
//! Decoding is guided by the cty type because msgpack cannot tell a list from a
//! set or a map from an object. Encoding writes every object attribute (null
//! when unset) and unknowns as msgpack extension type 0, which is what
//! Terraform expects.

use std::collections::{BTreeMap, BTreeSet};

use rmpv::Value as Mp;

use super::cty::CtyType;
use super::diagnostics::AttrPath;
use super::proto;

/// msgpack extension type Terraform uses for an unknown value.
const EXT_UNKNOWN: i8 = 0;
/// msgpack extension type for an unknown value with refinements (not null,
/// string prefix, ...). The refinements are advisory; we treat it as unknown.
const EXT_REFINED_UNKNOWN: i8 = 12;
/// Limit of rmpv's recursion depth, which counts each array or map level
/// twice: about 127 levels of nesting. Decoding recurses per level and runs on
/// tokio worker threads (2 MiB stacks), where rmpv's default (1024) overflows
/// the stack (found while writing the fuzz targets; see tests/fuzz_regressions.rs). Real values
/// are a few levels deep.
const MAX_MSGPACK_DEPTH: usize = 256;

/// A cty number. Integers that fit in 64 bits stay exact; larger or
/// non-integral decimals that arrive as strings are kept as their text.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// A decimal that fits neither an `i64` nor exactly an `f64` (e.g. a
    /// 30-digit integer); sent as a msgpack string, as cty does.
    Big(String),
}

impl Number {
    /// Parses decimal text the way cty's msgpack decoder accepts number strings.
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        let f: f64 = text.parse().ok()?;
        if !f.is_finite() {
            return None;
        }
        // Keep the text when f64 would round it (big integers, long decimals).
        if f.to_string() == text {
            Some(Number::Float(f))
        } else {
            Some(Number::Big(text.to_owned()))
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        Number::Int(i)
    }
}

/// A Terraform value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    /// Lists and tuples.
    List(Vec<Value>),
    /// Set elements in wire order.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

/// A value did not match its type or could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", if path.steps().is_empty() { "value".to_string() } else { path.to_string() })]
pub struct ValueError {
    pub path: AttrPath,
    pub message: String,
}

fn err(path: &AttrPath, message: impl Into<String>) -> ValueError {
    ValueError {
        path: path.clone(),
        message: message.into(),
    }
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A set of strings, in sorted order.
    pub fn string_set<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
        let sorted: BTreeSet<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
        Value::Set(sorted.into_iter().map(Value::String).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) | Value::Set(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// An object attribute; `None` when this is not an object or lacks it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(attrs) => attrs.get(name),
            _ => None,
        }
    }

    /// An object attribute, `Null` when absent (also when `self` is null).
    pub fn attr(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(name).unwrap_or(&NULL)
    }

    pub fn set_attr(&mut self, name: &str, value: Value) {
        if let Value::Object(attrs) = self {
            attrs.insert(name.to_owned(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// Elements of a list or set.
    pub fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }

    /// A known collection of known strings as a sorted set; `None` otherwise
    /// (null, unknown, or any unknown / non-string element).
    pub fn as_string_set(&self) -> Option<BTreeSet<String>> {
        self.elements()?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect()
    }

    // ----- msgpack -----

    /// Decodes msgpack bytes guided by `ty`.
    pub fn from_msgpack(bytes: &[u8], ty: &CtyType) -> Result<Value, ValueError> {
        let mut reader = bytes;
        let mp = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_MSGPACK_DEPTH)
            .map_err(|e| err(&AttrPath::root(), format!("invalid msgpack: {e}")))?;
        if !reader.is_empty() {
            return Err(err(&AttrPath::root(), "trailing bytes after msgpack value"));
        }
        from_mp(&mp, ty, &AttrPath::root())
    }

    /// Encodes as msgpack, guided by `ty`.
    pub fn to_msgpack(&self, ty: &CtyType) -> Result<Vec<u8>, ValueError> {
        let mp = to_mp(self, ty, &AttrPath::root())?;
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &mp).expect("writing to a Vec cannot fail");
        Ok(out)
    }

    // ----- JSON -----

    /// Decodes Terraform's JSON encoding (raw state), guided by `ty`.
    pub fn from_json(bytes: &[u8], ty: &CtyType) -> Result<Value, ValueError> {
        let json: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| err(&AttrPath::root(), format!("invalid JSON: {e}")))?;
        from_json_value(&json, ty, &AttrPath::root())
    }

    // ----- DynamicValue -----

    /// Decodes a request's `DynamicValue` (msgpack, else JSON); absent = null.
    pub fn from_dynamic(
        dv: Option<&proto::DynamicValue>,
        ty: &CtyType,
    ) -> Result<Value, ValueError> {
        match dv {
            Some(dv) if !dv.msgpack.is_empty() => Value::from_msgpack(&dv.msgpack, ty),
            Some(dv) if !dv.json.is_empty() => Value::from_json(&dv.json, ty),
            _ => Ok(Value::Null),
        }
    }

    pub fn to_dynamic(&self, ty: &CtyType) -> Result<proto::DynamicValue, ValueError> {
        Ok(proto::DynamicValue {
            msgpack: self.to_msgpack(ty)?,
            json: Vec::new(),
        })
    }
}

fn from_mp(mp: &Mp, ty: &CtyType, path: &AttrPath) -> Result<Value, ValueError> {
    match mp {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(EXT_UNKNOWN | EXT_REFINED_UNKNOWN, _) => return Ok(Value::Unknown),
        Mp::Ext(kind, _) => return Err(err(path, format!("unexpected msgpack extension {kind}"))),
        _ => {}
    }
    match ty {
        CtyType::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(*b)),
            other => Err(err(path, format!("expected bool, got {other}"))),
        },
        CtyType::Number => match mp {
            Mp::Integer(i) => match i.as_i64() {
                Some(i) => Ok(Value::Number(Number::Int(i))),
                None => Ok(Value::Number(Number::Big(i.to_string()))),
            },
            Mp::F32(f) => Ok(Value::Number(Number::Float(f64::from(*f)))),
            Mp::F64(f) => Ok(Value::Number(Number::Float(*f))),
            Mp::String(s) => s
                .as_str()
                .and_then(Number::parse)
                .map(Value::Number)
                .ok_or_else(|| err(path, format!("invalid number {s}"))),
            other => Err(err(path, format!("expected number, got {other}"))),
        },
        CtyType::String => match mp {
            Mp::String(s) => s
                .as_str()
                .map(Value::string)
                .ok_or_else(|| err(path, "string is not valid UTF-8")),
            other => Err(err(path, format!("expected string, got {other}"))),
        },
        CtyType::List(elem) | CtyType::Set(elem) => {
            let items = mp
                .as_array()
                .ok_or_else(|| err(path, "expected an array"))?;
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| from_mp(item, elem, &path.clone().then_index(i as i64)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, CtyType::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        CtyType::Tuple(elems) => {
            let items = mp
                .as_array()
                .ok_or_else(|| err(path, "expected an array"))?;
            if items.len() != elems.len() {
                return Err(err(
                    path,
                    format!("expected {} tuple elements", elems.len()),
                ));
            }
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, ety))| from_mp(item, ety, &path.clone().then_index(i as i64)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List)
        }
        CtyType::Map(elem) => {
            let entries = mp.as_map().ok_or_else(|| err(path, "expected a map"))?;
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = k
                    .as_str()
                    .ok_or_else(|| err(path, "map key is not a string"))?;
                out.insert(
                    key.to_owned(),
                    from_mp(v, elem, &path.clone().then_key(key))?,
                );
            }
            Ok(Value::Map(out))
        }
        CtyType::Object(attr_types) => {
            let entries = mp.as_map().ok_or_else(|| err(path, "expected an object"))?;
            let mut out: BTreeMap<String, Value> = attr_types
                .keys()
                .map(|k| (k.clone(), Value::Null))
                .collect();
            for (k, v) in entries {
                let key = k
                    .as_str()
                    .ok_or_else(|| err(path, "attribute name is not a string"))?;
                let aty = attr_types
                    .get(key)
                    .ok_or_else(|| err(path, format!("unsupported attribute {key:?}")))?;
                out.insert(
                    key.to_owned(),
                    from_mp(v, aty, &path.clone().then_attr(key))?,
                );
            }
            Ok(Value::Object(out))
        }
        CtyType::Dynamic => {
            // A dynamic value travels as [type JSON, value].
            let pair = mp
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or_else(|| err(path, "dynamic value must be a [type, value] pair"))?;
            let ty_bytes: &[u8] = match &pair[0] {
                Mp::Binary(b) => b,
                Mp::String(s) => s.as_bytes(),
                _ => return Err(err(path, "dynamic value type must be bytes")),
            };
            let concrete =
                CtyType::from_json_bytes(ty_bytes).map_err(|e| err(path, e.to_string()))?;
            from_mp(&pair[1], &concrete, path)
        }
    }
}

fn to_mp(value: &Value, ty: &CtyType, path: &AttrPath) -> Result<Mp, ValueError> {
    match value {
        Value::Null => return Ok(Mp::Nil),
        Value::Unknown => return Ok(Mp::Ext(EXT_UNKNOWN, vec![0])),
        _ => {}
    }
    match (ty, value) {
        (CtyType::Bool, Value::Bool(b)) => Ok(Mp::Boolean(*b)),
        (CtyType::Number, Value::Number(n)) => Ok(match n {
            Number::Int(i) => Mp::from(*i),
            Number::Float(f) => Mp::F64(*f),
            Number::Big(s) => Mp::from(s.as_str()),
        }),
        (CtyType::String, Value::String(s)) => Ok(Mp::from(s.as_str())),
        (CtyType::List(elem), Value::List(items)) | (CtyType::Set(elem), Value::Set(items)) => {
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_mp(item, elem, &path.clone().then_index(i as i64)))
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Array)
        }
        (CtyType::Tuple(elems), Value::List(items)) if elems.len() == items.len() => items
            .iter()
            .zip(elems)
            .enumerate()
            .map(|(i, (item, ety))| to_mp(item, ety, &path.clone().then_index(i as i64)))
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Array),
        (CtyType::Map(elem), Value::Map(entries)) => entries
            .iter()
            .map(|(k, v)| {
                Ok((
                    Mp::from(k.as_str()),
                    to_mp(v, elem, &path.clone().then_key(k))?,
                ))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Map),
        (CtyType::Object(attr_types), Value::Object(attrs)) => {
            if let Some(extra) = attrs.keys().find(|k| !attr_types.contains_key(*k)) {
                return Err(err(path, format!("unsupported attribute {extra:?}")));
            }
            attr_types
                .iter()
                .map(|(name, aty)| {
                    let v = attrs.get(name).unwrap_or(&Value::Null);
                    Ok((
                        Mp::from(name.as_str()),
                        to_mp(v, aty, &path.clone().then_attr(name))?,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Map)
        }
        (CtyType::Dynamic, v) => {
            let concrete = infer_type(v)
                .ok_or_else(|| err(path, "cannot infer the type of a dynamic collection value"))?;
            Ok(Mp::Array(vec![
                Mp::Binary(concrete.to_json_bytes()),
                to_mp(v, &concrete, path)?,
            ]))
        }
        (ty, v) => Err(err(path, format!("value {v:?} does not match type {ty}"))),
    }
}

/// The type of a primitive value (for encoding values of dynamic type).
fn infer_type(value: &Value) -> Option<CtyType> {
    match value {
        Value::Bool(_) => Some(CtyType::Bool),
        Value::Number(_) => Some(CtyType::Number),
        Value::String(_) => Some(CtyType::String),
        _ => None,
    }
}

fn from_json_value(
    json: &serde_json::Value,
    ty: &CtyType,
    path: &AttrPath,
) -> Result<Value, ValueError> {
    use serde_json::Value as J;
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        CtyType::Bool => match json {
            J::Bool(b) => Ok(Value::Bool(*b)),
            // Terraform's JSON state converts primitives loosely.
            J::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            other => Err(err(path, format!("expected bool, got {other}"))),
        },
        CtyType::Number => match json {
            J::Number(n) => Ok(Value::Number(if let Some(i) = n.as_i64() {
                Number::Int(i)
            } else if let Some(u) = n.as_u64() {
                Number::Big(u.to_string())
            } else {
                Number::Float(n.as_f64().unwrap_or_default())
            })),
            J::String(s) => Number::parse(s)
                .map(Value::Number)
                .ok_or_else(|| err(path, format!("invalid number {s:?}"))),
            other => Err(err(path, format!("expected number, got {other}"))),
        },
        CtyType::String => match json {
            J::String(s) => Ok(Value::string(s.clone())),
            J::Number(n) => Ok(Value::string(n.to_string())),
            J::Bool(b) => Ok(Value::string(b.to_string())),
            other => Err(err(path, format!("expected string, got {other}"))),
        },
        CtyType::List(elem) | CtyType::Set(elem) => {
            let items = json
                .as_array()
                .ok_or_else(|| err(path, "expected an array"))?;
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| from_json_value(item, elem, &path.clone().then_index(i as i64)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, CtyType::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        CtyType::Tuple(elems) => {
            let items = json
                .as_array()
                .filter(|a| a.len() == elems.len())
                .ok_or_else(|| {
                    err(
                        path,
                        format!("expected an array of {} elements", elems.len()),
                    )
                })?;
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, ety))| {
                    from_json_value(item, ety, &path.clone().then_index(i as i64))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List)
        }
        CtyType::Map(elem) => {
            let entries = json
                .as_object()
                .ok_or_else(|| err(path, "expected a map"))?;
            entries
                .iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        from_json_value(v, elem, &path.clone().then_key(k))?,
                    ))
                })
                .collect::<Result<BTreeMap<_, _>, _>>()
                .map(Value::Map)
        }
        CtyType::Object(attr_types) => {
            let entries = json
                .as_object()
                .ok_or_else(|| err(path, "expected an object"))?;
            if let Some(extra) = entries.keys().find(|k| !attr_types.contains_key(*k)) {
                return Err(err(path, format!("unsupported attribute {extra:?}")));
            }
            attr_types
                .iter()
                .map(|(name, aty)| {
                    let v = match entries.get(name) {
                        Some(j) => from_json_value(j, aty, &path.clone().then_attr(name))?,
                        None => Value::Null,
                    };
                    Ok((name.clone(), v))
                })
                .collect::<Result<BTreeMap<_, _>, _>>()
                .map(Value::Object)
        }
        CtyType::Dynamic => {
            // Dynamic values in JSON: {"value": ..., "type": ...}.
            let ty_json = json
                .get("type")
                .ok_or_else(|| err(path, "dynamic value lacks a type"))?;
            let concrete = CtyType::from_json(ty_json).map_err(|e| err(path, e.to_string()))?;
            from_json_value(json.get("value").unwrap_or(&J::Null), &concrete, path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn share_type() -> CtyType {
        CtyType::object([
            ("id", CtyType::String),
            ("image_id", CtyType::String),
            ("account_ids", CtyType::set(CtyType::String)),
            (
                "timeouts",
                CtyType::object([("create", CtyType::String), ("delete", CtyType::String)]),
            ),
        ])
    }

    #[test]
    fn missing_attributes_decode_as_null_and_encode_present() {
        // {"image_id": "image-abc"} written by hand.
        let mut bytes = Vec::new();
        rmpv::encode::write_value(
            &mut bytes,
            &Mp::Map(vec![(Mp::from("image_id"), Mp::from("image-abc"))]),
        )
        .unwrap();
        let v = Value::from_msgpack(&bytes, &share_type()).unwrap();
        assert_eq!(v.attr("image_id").as_str(), Some("image-abc"));
        assert!(v.attr("account_ids").is_null());
        let encoded = v.to_msgpack(&share_type()).unwrap();
        let mp = rmpv::decode::read_value(&mut &encoded[..]).unwrap();
        assert_eq!(mp.as_map().unwrap().len(), 4, "every attribute is written");
    }

    #[test]
    fn unknown_encodes_as_ext0_and_refined_decodes() {
        let encoded = Value::Unknown.to_msgpack(&CtyType::String).unwrap();
        assert_eq!(
            rmpv::decode::read_value(&mut &encoded[..]).unwrap(),
            Mp::Ext(0, vec![0])
        );
        let mut refined = Vec::new();
        rmpv::encode::write_value(&mut refined, &Mp::Ext(12, vec![0x81, 0x01, 0xc3])).unwrap();
        assert_eq!(
            Value::from_msgpack(&refined, &CtyType::String).unwrap(),
            Value::Unknown
        );
        let mut other = Vec::new();
        rmpv::encode::write_value(&mut other, &Mp::Ext(5, vec![])).unwrap();
        assert!(Value::from_msgpack(&other, &CtyType::String).is_err());
    }

    #[test]
    fn numbers_as_int_float_and_string() {
        let big = "123456789012345678901234567890";
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &Mp::from(big)).unwrap();
        assert_eq!(
            Value::from_msgpack(&bytes, &CtyType::Number).unwrap(),
            Value::Number(Number::Big(big.into()))
        );
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &Mp::from(u64::MAX)).unwrap();
        assert_eq!(
            Value::from_msgpack(&bytes, &CtyType::Number).unwrap(),
            Value::Number(Number::Big(u64::MAX.to_string()))
        );
        assert_eq!(Number::parse("3"), Some(Number::Int(3)));
        assert_eq!(Number::parse("1.5"), Some(Number::Float(1.5)));
        assert_eq!(Number::parse("x"), None);
    }

    #[test]
    fn type_mismatch_reports_path() {
        let v = Value::object([("account_ids", Value::Set(vec![Value::Bool(true)]))]);
        let e = v.to_msgpack(&share_type()).unwrap_err();
        assert_eq!(e.path.to_string(), "account_ids[0]");
        let extra = Value::object([("nope", Value::Null)]);
        assert!(extra.to_msgpack(&share_type()).is_err());
    }

    #[test]
    fn json_raw_state() {
        let raw =
            br#"{"id":"image-a","image_id":"image-a","account_ids":["2","1"],"timeouts":null}"#;
        let v = Value::from_json(raw, &share_type()).unwrap();
        assert_eq!(v.attr("account_ids").as_string_set().unwrap().len(), 2);
        assert!(v.attr("timeouts").is_null());
        assert!(Value::from_json(br#"{"bogus":1}"#, &share_type()).is_err());
        assert!(Value::from_json(b"not json", &share_type()).is_err());
    }

    #[test]
    fn dynamic_pair_decodes() {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(
            &mut bytes,
            &Mp::Array(vec![Mp::Binary(b"\"string\"".to_vec()), Mp::from("x")]),
        )
        .unwrap();
        assert_eq!(
            Value::from_msgpack(&bytes, &CtyType::Dynamic).unwrap(),
            Value::string("x")
        );
        let round = Value::string("x").to_msgpack(&CtyType::Dynamic).unwrap();
        assert_eq!(round, bytes);
    }

    // ----- property tests -----

    fn arb_type() -> impl Strategy<Value = CtyType> {
        let leaf = prop_oneof![
            Just(CtyType::Bool),
            Just(CtyType::Number),
            Just(CtyType::String)
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(CtyType::list),
                inner.clone().prop_map(CtyType::set),
                inner.clone().prop_map(CtyType::map),
                prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4)
                    .prop_map(CtyType::Object),
                prop::collection::vec(inner, 0..3).prop_map(CtyType::Tuple),
            ]
        })
    }

    fn arb_number() -> impl Strategy<Value = Number> {
        prop_oneof![
            any::<i64>().prop_map(Number::Int),
            (-1.0e12f64..1.0e12).prop_map(Number::Float),
            "[1-9][0-9]{20,30}".prop_map(Number::Big),
        ]
    }

    fn arb_value(ty: CtyType) -> BoxedStrategy<Value> {
        let known: BoxedStrategy<Value> = match ty {
            CtyType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            CtyType::Number => arb_number().prop_map(Value::Number).boxed(),
            CtyType::String => ".{0,8}".prop_map(Value::String).boxed(),
            CtyType::Dynamic => Just(Value::Null).boxed(),
            CtyType::List(e) => prop::collection::vec(arb_value(*e), 0..4)
                .prop_map(Value::List)
                .boxed(),
            CtyType::Set(e) => prop::collection::vec(arb_value(*e), 0..4)
                .prop_map(Value::Set)
                .boxed(),
            CtyType::Map(e) => prop::collection::btree_map("[a-z]{0,4}", arb_value(*e), 0..3)
                .prop_map(Value::Map)
                .boxed(),
            CtyType::Object(attrs) => {
                let parts: Vec<_> = attrs
                    .into_iter()
                    .map(|(k, t)| arb_value(t).prop_map(move |v| (k.clone(), v)))
                    .collect();
                parts
                    .prop_map(|kv| Value::Object(kv.into_iter().collect()))
                    .boxed()
            }
            CtyType::Tuple(elems) => {
                let parts: Vec<_> = elems.into_iter().map(arb_value).collect();
                parts.prop_map(Value::List).boxed()
            }
        };
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    }

    fn arb_typed_value() -> impl Strategy<Value = (CtyType, Value)> {
        arb_type().prop_flat_map(|ty| arb_value(ty.clone()).prop_map(move |v| (ty.clone(), v)))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn msgpack_round_trip((ty, value) in arb_typed_value()) {
            let bytes = value.to_msgpack(&ty).unwrap();
            prop_assert_eq!(Value::from_msgpack(&bytes, &ty).unwrap(), value);
        }

        #[test]
        fn dynamic_value_round_trip((ty, value) in arb_typed_value()) {
            let dv = value.to_dynamic(&ty).unwrap();
            prop_assert_eq!(Value::from_dynamic(Some(&dv), &ty).unwrap(), value);
        }

        #[test]
        fn string_sets_keep_membership(items in prop::collection::btree_set("[0-9]{1,12}", 0..120)) {
            let ty = CtyType::set(CtyType::String);
            let v = Value::string_set(&items);
            let back = Value::from_msgpack(&v.to_msgpack(&ty).unwrap(), &ty).unwrap();
            prop_assert_eq!(back.as_string_set().unwrap(), items);
        }

        #[test]
        fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), ty in arb_type()) {
            let _ = Value::from_msgpack(&bytes, &ty);
            let _ = Value::from_json(&bytes, &ty);
        }
    }
}
