//! Builders for tfplugin6 schemas, and the cty type a schema block implies
//! (which guides value decoding).

use std::collections::BTreeMap;

use super::cty::{CtyType, TypeError};
use super::proto;
use super::proto::schema::nested_block::NestingMode;

/// Builds one schema attribute. Every attribute gets a markdown description.
#[derive(Clone, Debug)]
pub struct AttributeBuilder(proto::schema::Attribute);

/// An attribute named `name` of type `ty`, described in markdown.
pub fn attribute(name: &str, ty: &CtyType, description: &str) -> AttributeBuilder {
    AttributeBuilder(proto::schema::Attribute {
        name: name.to_owned(),
        r#type: ty.to_json_bytes(),
        description: description.to_owned(),
        description_kind: proto::StringKind::Markdown as i32,
        ..Default::default()
    })
}

impl AttributeBuilder {
    pub fn required(mut self) -> Self {
        self.0.required = true;
        self
    }

    pub fn optional(mut self) -> Self {
        self.0.optional = true;
        self
    }

    pub fn computed(mut self) -> Self {
        self.0.computed = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.0.sensitive = true;
        self
    }

    pub fn deprecated(mut self, message: &str) -> Self {
        self.0.deprecated = true;
        self.0.deprecation_message = message.to_owned();
        self
    }

    pub fn build(self) -> proto::schema::Attribute {
        self.0
    }
}

/// Builds a schema block.
#[derive(Clone, Debug, Default)]
pub struct BlockBuilder(proto::schema::Block);

pub fn block(description: &str) -> BlockBuilder {
    BlockBuilder(proto::schema::Block {
        description: description.to_owned(),
        description_kind: proto::StringKind::Markdown as i32,
        ..Default::default()
    })
}

impl BlockBuilder {
    pub fn attribute(mut self, attribute: AttributeBuilder) -> Self {
        self.0.attributes.push(attribute.build());
        self
    }

    pub fn nested_block(
        mut self,
        type_name: &str,
        nesting: NestingMode,
        block: BlockBuilder,
    ) -> Self {
        self.0.block_types.push(proto::schema::NestedBlock {
            type_name: type_name.to_owned(),
            block: Some(block.0),
            nesting: nesting as i32,
            min_items: 0,
            max_items: 0,
        });
        self
    }

    pub fn build_block(self) -> proto::schema::Block {
        self.0
    }

    /// A complete schema with the given version.
    pub fn build(mut self, version: i64) -> proto::Schema {
        self.0.version = version;
        proto::Schema {
            version,
            block: Some(self.0),
        }
    }
}

/// The object type a block's values have on the wire.
pub fn implied_type(block: &proto::schema::Block) -> Result<CtyType, TypeError> {
    let mut attrs = BTreeMap::new();
    for attribute in &block.attributes {
        let ty = match &attribute.nested_type {
            Some(object) => nested_object_type(object)?,
            None => CtyType::from_json_bytes(&attribute.r#type)?,
        };
        attrs.insert(attribute.name.clone(), ty);
    }
    for nested in &block.block_types {
        let inner = implied_type(nested.block.as_ref().unwrap_or(&Default::default()))?;
        let ty = match NestingMode::try_from(nested.nesting).unwrap_or(NestingMode::Invalid) {
            NestingMode::Single | NestingMode::Group => inner,
            NestingMode::List => CtyType::list(inner),
            NestingMode::Set => CtyType::set(inner),
            NestingMode::Map => CtyType::map(inner),
            NestingMode::Invalid => {
                return Err(TypeError(format!(
                    "block {:?} has no nesting mode",
                    nested.type_name
                )))
            }
        };
        attrs.insert(nested.type_name.clone(), ty);
    }
    Ok(CtyType::Object(attrs))
}

fn nested_object_type(object: &proto::schema::Object) -> Result<CtyType, TypeError> {
    use proto::schema::object::NestingMode as M;
    let block = proto::schema::Block {
        attributes: object.attributes.clone(),
        ..Default::default()
    };
    let inner = implied_type(&block)?;
    Ok(match M::try_from(object.nesting).unwrap_or(M::Invalid) {
        M::List => CtyType::list(inner),
        M::Set => CtyType::set(inner),
        M::Map => CtyType::map(inner),
        M::Single | M::Invalid => inner,
    })
}

/// The type of a resource identity (an object of its attributes).
pub fn identity_type(schema: &proto::ResourceIdentitySchema) -> Result<CtyType, TypeError> {
    schema
        .identity_attributes
        .iter()
        .map(|a| Ok((a.name.clone(), CtyType::from_json_bytes(&a.r#type)?)))
        .collect::<Result<BTreeMap<_, _>, _>>()
        .map(CtyType::Object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_and_implied_type() {
        let schema = block("A thing.")
            .attribute(attribute("id", &CtyType::String, "ID.").computed())
            .attribute(attribute("tags", &CtyType::set(CtyType::String), "Tags.").optional())
            .nested_block(
                "timeouts",
                NestingMode::Single,
                block("Timeouts.")
                    .attribute(attribute("create", &CtyType::String, "C.").optional()),
            )
            .build(3);
        assert_eq!(schema.version, 3);
        let b = schema.block.as_ref().unwrap();
        assert_eq!(
            b.attributes[0].description_kind,
            proto::StringKind::Markdown as i32
        );
        assert!(b.attributes[0].computed && !b.attributes[0].required);
        assert_eq!(
            implied_type(b).unwrap(),
            CtyType::object([
                ("id", CtyType::String),
                ("tags", CtyType::set(CtyType::String)),
                ("timeouts", CtyType::object([("create", CtyType::String)])),
            ])
        );
    }
}
