//! AutoMTLS: a fresh server certificate per start, and a TLS configuration
//! that accepts exactly the client certificate Terraform passed in
//! `PLUGIN_CLIENT_CERT`.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{aws_lc_rs, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};

/// Environment variable holding Terraform's client certificate (PEM).
pub const CLIENT_CERT_KEY: &str = "PLUGIN_CLIENT_CERT";

/// Environment variable with which Terraform turns AutoMTLS off.
pub const DISABLE_TLS_KEY: &str = "TF_DISABLE_PLUGIN_TLS";

/// How long the generated server certificate stays valid. Terraform only
/// checks it once, when it connects right after the handshake line.
const SERVER_CERT_LIFETIME: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {0}")]
    InvalidClientCert(String),
    #[error("could not generate the server certificate: {0}")]
    CertGeneration(#[from] rcgen::Error),
    #[error("could not build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The server's certificate and private key for one process lifetime.
pub struct ServerIdentity {
    /// DER of the self-signed certificate (also sent in the handshake line).
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").finish_non_exhaustive()
    }
}

/// Generates a self-signed ECDSA P-256 certificate for `localhost`.
///
/// P-256 keys take well under a millisecond to generate, which keeps the
/// handshake fast (RSA generation would dominate start-up).
pub fn generate_server_identity() -> Result<ServerIdentity, TlsSetupError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "terraform-provider-volcengine");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - Duration::from_secs(60);
    params.not_after = now + SERVER_CERT_LIFETIME;
    let cert = params.self_signed(&key)?;
    Ok(ServerIdentity {
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    })
}

/// Reads the first certificate from Terraform's PEM.
pub fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>, TlsSetupError> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|err| TlsSetupError::InvalidClientCert(err.to_string()))
}

/// TLS 1.2/1.3 server configuration (aws-lc-rs, ALPN `h2`) that requires the
/// client to present `client_cert` and prove it holds its key.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let provider = Arc::new(crypto_provider());
    let verifier = PinnedClientCert {
        cert: client_cert,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )?;
    // grpc-go insists on negotiating h2 through ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly one client certificate, byte for byte.
///
/// Terraform's certificate is self-signed with the CA flag set. A WebPKI
/// verifier with it as the only root rejects it ("CA used as end entity"),
/// and chain building adds nothing here anyway: the trust decision is "is
/// this the certificate Terraform gave us". Possession of the private key is
/// still proven by the handshake signature, checked with aws-lc-rs (which,
/// unlike *ring*, verifies Terraform's ECDSA P-521 signatures).
#[derive(Debug)]
struct PinnedClientCert {
    cert: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientCert {
    fn ensure_pinned(&self, presented: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if presented.as_ref() == self.cert.as_ref() {
            Ok(())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// No hints: Go then offers its only certificate.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.ensure_pinned(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.ensure_pinned(cert)?;
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.ensure_pinned(cert)?;
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The crypto provider for the plugin's TLS: aws-lc-rs, because *ring*
/// cannot verify Terraform's ECDSA P-521 client signatures.
pub fn crypto_provider() -> CryptoProvider {
    aws_lc_rs::default_provider()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_identity_builds_a_config() {
        let identity = generate_server_identity().unwrap();
        let client_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let client = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&client_key)
            .unwrap();
        let parsed = parse_client_cert(&client.pem()).unwrap();
        assert_eq!(parsed.as_ref(), client.der().as_ref());
        let config = server_config(&identity, parsed).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
    }

    #[test]
    fn p521_is_among_the_verified_schemes() {
        let schemes = crypto_provider()
            .signature_verification_algorithms
            .supported_schemes();
        assert!(schemes.contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn garbage_client_cert_is_an_error() {
        assert!(matches!(
            parse_client_cert("not a pem"),
            Err(TlsSetupError::InvalidClientCert(_))
        ));
    }
}
