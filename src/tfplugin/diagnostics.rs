//! Diagnostics (errors and warnings shown by Terraform) and the attribute
//! paths that point them at a line of configuration.

use std::fmt;

use super::proto;
use super::proto::attribute_path::step::Selector;
use super::proto::diagnostic::Severity;

/// A path into a value: attribute names and element keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttrPath(Vec<Step>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Attribute(String),
    /// A map key, or a set element identified by its (string) value.
    Key(String),
    /// A list or tuple index.
    Index(i64),
}

impl AttrPath {
    pub fn root() -> Self {
        AttrPath(Vec::new())
    }

    /// A path starting at a top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        AttrPath(vec![Step::Attribute(name.into())])
    }

    pub fn then_attr(mut self, name: impl Into<String>) -> Self {
        self.0.push(Step::Attribute(name.into()));
        self
    }

    pub fn then_key(mut self, key: impl Into<String>) -> Self {
        self.0.push(Step::Key(key.into()));
        self
    }

    pub fn then_index(mut self, index: i64) -> Self {
        self.0.push(Step::Index(index));
        self
    }

    pub fn steps(&self) -> &[Step] {
        &self.0
    }

    pub fn to_proto(&self) -> proto::AttributePath {
        let steps = self
            .0
            .iter()
            .map(|step| proto::attribute_path::Step {
                selector: Some(match step {
                    Step::Attribute(name) => Selector::AttributeName(name.clone()),
                    Step::Key(key) => Selector::ElementKeyString(key.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect();
        proto::AttributePath { steps }
    }
}

/// Terraform's own notation: `account_ids["abc"]`, `timeouts.create`.
impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Attribute(name) if i == 0 => write!(f, "{name}")?,
                Step::Attribute(name) => write!(f, ".{name}")?,
                Step::Key(key) => write!(f, "[{key:?}]")?,
                Step::Index(idx) => write!(f, "[{idx}]")?,
            }
        }
        Ok(())
    }
}

/// An error diagnostic.
pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> proto::Diagnostic {
    diagnostic(Severity::Error, summary, detail, None)
}

/// An error diagnostic pointing at an attribute.
pub fn error_at(
    path: &AttrPath,
    summary: impl Into<String>,
    detail: impl Into<String>,
) -> proto::Diagnostic {
    diagnostic(Severity::Error, summary, detail, Some(path))
}

/// A warning diagnostic.
pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> proto::Diagnostic {
    diagnostic(Severity::Warning, summary, detail, None)
}

/// A warning diagnostic pointing at an attribute.
pub fn warning_at(
    path: &AttrPath,
    summary: impl Into<String>,
    detail: impl Into<String>,
) -> proto::Diagnostic {
    diagnostic(Severity::Warning, summary, detail, Some(path))
}

fn diagnostic(
    severity: Severity,
    summary: impl Into<String>,
    detail: impl Into<String>,
    path: Option<&AttrPath>,
) -> proto::Diagnostic {
    proto::Diagnostic {
        severity: severity as i32,
        summary: summary.into(),
        detail: detail.into(),
        attribute: path.filter(|p| !p.0.is_empty()).map(AttrPath::to_proto),
    }
}

/// A list of diagnostics collected during one request.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(Vec<proto::Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: proto::Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(error(summary, detail));
    }

    pub fn error_at(
        &mut self,
        path: &AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(error_at(path, summary, detail));
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(warning(summary, detail));
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = proto::Diagnostic>) {
        self.0.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error as i32)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &proto::Diagnostic> {
        self.0.iter()
    }

    pub fn into_vec(self) -> Vec<proto::Diagnostic> {
        self.0
    }
}

impl From<proto::Diagnostic> for Diagnostics {
    fn from(d: proto::Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = proto::Diagnostic;
    type IntoIter = std::vec::IntoIter<proto::Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_to_proto_and_display() {
        let path = AttrPath::attr("account_ids").then_key("abc");
        assert_eq!(path.to_string(), r#"account_ids["abc"]"#);
        let proto = path.to_proto();
        assert_eq!(proto.steps.len(), 2);
        assert_eq!(
            proto.steps[0].selector,
            Some(Selector::AttributeName("account_ids".into()))
        );
        assert_eq!(
            proto.steps[1].selector,
            Some(Selector::ElementKeyString("abc".into()))
        );
        assert_eq!(
            AttrPath::attr("timeouts").then_attr("create").to_string(),
            "timeouts.create"
        );
        assert_eq!(AttrPath::attr("l").then_index(3).to_string(), "l[3]");
    }

    #[test]
    fn severity_and_error_detection() {
        let mut diags = Diagnostics::new();
        diags.warning("w", "");
        assert!(!diags.has_errors());
        diags.error_at(&AttrPath::attr("image_id"), "bad", "detail");
        assert!(diags.has_errors());
        let v = diags.into_vec();
        assert_eq!(v[1].severity, Severity::Error as i32);
        assert!(v[1].attribute.is_some());
        assert!(v[0].attribute.is_none());
    }
}
