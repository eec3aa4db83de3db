//! Target `tfplugin_value`: the Terraform value decoders (`Value::from_msgpack`,
//! `Value::from_json`) and the msgpack encoder, on arbitrary bytes.
//!
//! Input: byte 0 picks the cty type from [`types`] (modulo its length), byte 1
//! picks the encoding (even: msgpack, odd: JSON), the rest is the payload.
//!
//! Properties: decoding never panics; a decoded value that encodes at all
//! re-decodes to a value with the same encoding (encode ∘ decode is
//! idempotent on what the decoder accepts), so what the provider reads from
//! Terraform is what it writes back.

use std::sync::OnceLock;

use terraform_provider_volcengine::tfplugin::cty::CtyType;
use terraform_provider_volcengine::tfplugin::schema::implied_type;
use terraform_provider_volcengine::tfplugin::value::Value;
use terraform_provider_volcengine::{data_sources, provider, resources};

/// The types values are decoded with: the provider's real schema types first,
/// then small types that reach every decoder branch.
pub fn types() -> &'static [CtyType] {
    static TYPES: OnceLock<Vec<CtyType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let block_type = |schema: terraform_provider_volcengine::tfplugin::proto::Schema| {
            implied_type(&schema.block.expect("schemas have a block")).expect("schema type")
        };
        vec![
            block_type(resources::image_share::schema()),
            block_type(data_sources::image_share::schema()),
            block_type(provider::provider_schema()),
            CtyType::String,
            CtyType::Number,
            CtyType::Bool,
            CtyType::Dynamic,
            CtyType::set(CtyType::String),
            CtyType::list(CtyType::Number),
            CtyType::map(CtyType::Bool),
            CtyType::Tuple(vec![CtyType::String, CtyType::Dynamic]),
            CtyType::list(CtyType::object([
                ("name", CtyType::String),
                ("tags", CtyType::map(CtyType::String)),
                ("any", CtyType::Dynamic),
            ])),
        ]
    })
}

pub fn check(data: &[u8]) {
    let [type_byte, encoding, payload @ ..] = data else {
        return;
    };
    let ty = &types()[usize::from(*type_byte) % types().len()];
    let decoded = if encoding % 2 == 0 {
        Value::from_msgpack(payload, ty)
    } else {
        Value::from_json(payload, ty)
    };
    let Ok(value) = decoded else {
        return;
    };
    // Dynamic collections cannot be encoded (their type is not inferred);
    // that is a refusal, not a bug.
    let Ok(encoded) = value.to_msgpack(ty) else {
        return;
    };
    let again = Value::from_msgpack(&encoded, ty).unwrap_or_else(|e| {
        panic!("the encoder's own output does not decode: {e}; value {value:?}, type {ty}")
    });
    // Compared as bytes: a NaN number is not equal to itself as a Value.
    let re_encoded = again
        .to_msgpack(ty)
        .unwrap_or_else(|e| panic!("a re-decoded value does not encode: {e}; value {again:?}"));
    assert_eq!(
        encoded, re_encoded,
        "encode/decode is not stable for type {ty}: {value:?} became {again:?}"
    );
}
