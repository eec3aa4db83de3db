//! Our signer against vectors produced by the official Volcengine Python SDK
//! (`volcenginesdkcore.signv4`, see scripts/signer-vectors.py).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use terraform_provider_volcengine::volcengine::secret::Secret;
use terraform_provider_volcengine::volcengine::signer::{self, Credentials, Request};

#[derive(Deserialize)]
struct VectorFile {
    generator: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    now: String,
    method: String,
    host: String,
    path: String,
    content_type: Option<String>,
    session_token: Option<String>,
    region: String,
    service: String,
    access_key: String,
    secret_key: String,
    query: Vec<(String, String)>,
    body: String,
    extra_headers: Vec<(String, String)>,
    sdk_headers: Vec<(String, String)>,
    expected: Expected,
}

#[derive(Deserialize)]
struct Expected {
    #[serde(rename = "X-Date")]
    x_date: String,
    #[serde(rename = "X-Content-Sha256")]
    x_content_sha256: String,
    #[serde(rename = "Authorization")]
    authorization: String,
}

impl Case {
    fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            host: &self.host,
            path: &self.path,
            query: &self.query,
            content_type: self.content_type.as_deref(),
            body: self.body.as_bytes(),
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            access_key: self.access_key.clone(),
            secret_key: Secret::new(&*self.secret_key),
            session_token: self.session_token.as_deref().map(Secret::new),
        }
    }

    /// `SignedHeaders=...` and `Signature=...` of the expected Authorization.
    fn expected_names_and_signature(&self) -> (&str, &str) {
        let auth = &self.expected.authorization;
        let names = auth
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_else(|| panic!("{}: no SignedHeaders in {auth}", self.name));
        let signature = auth
            .rsplit("Signature=")
            .next()
            .unwrap_or_else(|| panic!("{}: no Signature in {auth}", self.name));
        (names, signature)
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed_text() -> String {
    std::fs::read_to_string(root().join("tests/vectors/signer.json"))
        .expect("tests/vectors/signer.json is committed")
}

fn committed() -> VectorFile {
    serde_json::from_str(&committed_text()).expect("vector file parses")
}

#[test]
fn sign_reproduces_every_sdk_header_byte_for_byte() {
    let file = committed();
    assert!(
        file.generator.contains("volcenginesdk-core"),
        "{}",
        file.generator
    );
    let mut checked = 0;
    for case in &file.cases {
        if !case.extra_headers.is_empty() {
            // Our client never sends extra X-* headers; those cases are
            // checked through signature_for below.
            continue;
        }
        let now = signer::parse_x_date(&case.now).expect("case time parses");
        let signed = signer::sign(
            &case.request(),
            &case.credentials(),
            &case.region,
            &case.service,
            now,
        );
        assert_eq!(signed.x_date, case.expected.x_date, "{}: X-Date", case.name);
        assert_eq!(
            signed.x_content_sha256, case.expected.x_content_sha256,
            "{}: X-Content-Sha256",
            case.name
        );
        assert_eq!(
            signed.authorization, case.expected.authorization,
            "{}: Authorization",
            case.name
        );
        assert_eq!(
            signed
                .x_security_token
                .as_ref()
                .map(|t| t.expose().to_owned()),
            case.session_token,
            "{}: X-Security-Token",
            case.name
        );
        // Every header we add is one the SDK sent, with the same value.
        for (name, value) in signed.iter() {
            let sdk = case
                .sdk_headers
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{}: the SDK did not send {name}", case.name));
            assert_eq!(sdk.1, value, "{}: {name}", case.name);
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} cases checked through sign()");
}

#[test]
fn signature_for_agrees_over_the_headers_the_sdk_signed() {
    // The emulator verifies with signature_for over the headers a client
    // declares: it must accept exactly what the SDK signs (Host,
    // Content-Type, Content-Md5 and every X-* header).
    for case in committed().cases {
        let signed_headers: Vec<(String, String)> = case
            .sdk_headers
            .iter()
            .filter(|(name, _)| {
                matches!(name.as_str(), "Host" | "Content-Type" | "Content-Md5")
                    || name.starts_with("X-")
            })
            .cloned()
            .collect();
        let (names, signature) = signer::signature_for(
            &case.secret_key,
            &case.expected.x_date,
            &case.region,
            &case.service,
            &case.request(),
            &signed_headers,
        );
        let (want_names, want_signature) = case.expected_names_and_signature();
        assert_eq!(names, want_names, "{}: signed header names", case.name);
        assert_eq!(signature, want_signature, "{}: signature", case.name);
    }
}

#[test]
fn vectors_cover_the_required_cases() {
    let file = committed();
    let has = |pred: &dyn Fn(&Case) -> bool| file.cases.iter().any(pred);
    assert!(has(&|c| c.method == "GET" && c.session_token.is_none()));
    assert!(has(&|c| c.method == "POST"
        && c.content_type.as_deref()
            == Some("application/x-www-form-urlencoded")
        && !c.body.is_empty()));
    for special in [" ", "+", "*", "~", "/", "="] {
        assert!(
            has(&|c| c.query.iter().any(|(_, v)| v.contains(special))),
            "no value containing {special:?}"
        );
    }
    assert!(has(&|c| c.query.iter().any(|(_, v)| !v.is_ascii())));
    assert!(has(&|c| c.query.iter().any(|(_, v)| v.is_empty())));
    assert!(has(&|c| c.query.iter().any(|(k, _)| k == "AddAccounts.10")
        && c.query.iter().any(|(k, _)| k == "AddAccounts.2")));
    assert!(has(&|c| c.session_token.is_some()));
    assert!(has(&|c| c.host.ends_with(":443")));
    assert!(has(&|c| c.host.contains(':')
        && !c.host.ends_with(":443")
        && !c.host.ends_with(":80")));
    assert!(has(&|c| !c.extra_headers.is_empty()));
}

/// Re-runs the generator against the installed SDK: the committed vectors
/// must be exactly what the oracle produces today.
#[test]
fn committed_vectors_match_the_sdk_now() {
    let python = root().join(".tools/venv/bin/python");
    assert!(
        Path::new(&python).exists(),
        "{} is missing: run scripts/setup-tools.sh",
        python.display()
    );
    let output = Command::new(&python)
        .arg(root().join("scripts/signer-vectors.py"))
        .output()
        .expect("run scripts/signer-vectors.py");
    assert!(
        output.status.success(),
        "scripts/signer-vectors.py failed (run scripts/setup-tools.sh?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fresh: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("generator prints JSON");
    let committed: serde_json::Value = serde_json::from_str(&committed_text()).unwrap();
    assert!(
        fresh == committed,
        "tests/vectors/signer.json is stale: regenerate with \
         .tools/venv/bin/python scripts/signer-vectors.py --out tests/vectors/signer.json"
    );
}
