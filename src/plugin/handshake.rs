//! Protocol negotiation and the one-line handshake go-plugin reads on stdout.

use std::fmt;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use rustls::pki_types::CertificateDer;

/// go-plugin's own (core) protocol version, the first handshake field.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// The Terraform plugin protocol this provider speaks (tfplugin6).
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;

/// Environment variable listing the plugin protocol versions the client accepts.
pub const PROTOCOL_VERSIONS_KEY: &str = "PLUGIN_PROTOCOL_VERSIONS";

/// The client accepts none of the protocol versions this provider speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this provider speaks plugin protocol {PLUGIN_PROTOCOL_VERSION} but Terraform offered \
     protocol version(s) \"{offered}\"; use Terraform 1.0 or later"
)]
pub struct UnsupportedProtocol {
    /// The raw `PLUGIN_PROTOCOL_VERSIONS` value.
    pub offered: String,
}

/// Picks the protocol version from the client's comma-separated offer.
///
/// A missing or empty offer comes from clients that predate version
/// negotiation; like go-plugin, the server then uses its own version.
pub fn negotiate(offered: Option<&str>) -> Result<u32, UnsupportedProtocol> {
    let Some(list) = offered.map(str::trim).filter(|list| !list.is_empty()) else {
        return Ok(PLUGIN_PROTOCOL_VERSION);
    };
    let speaks_ours = list
        .split(',')
        .filter_map(|version| version.trim().parse::<u32>().ok())
        .any(|version| version == PLUGIN_PROTOCOL_VERSION);
    if speaks_ours {
        Ok(PLUGIN_PROTOCOL_VERSION)
    } else {
        Err(UnsupportedProtocol {
            offered: list.to_owned(),
        })
    }
}

/// Everything the client needs to connect, printed as one line.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// `unix` or `tcp`, as Go's `net.Addr.Network()` names them.
    pub network: &'static str,
    /// Socket path or `127.0.0.1:PORT`.
    pub address: String,
    /// The server certificate when AutoMTLS is on.
    pub server_cert: Option<CertificateDer<'static>>,
}

impl fmt::Display for Handshake {
    /// `1|6|unix|/tmp/plugin123/plugin.sock|grpc|<cert>`: the certificate is
    /// its DER in standard base64 without padding (go-plugin decodes it with
    /// `RawStdEncoding`), empty when TLS is off.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cert = self
            .server_cert
            .as_ref()
            .map(|der| STANDARD_NO_PAD.encode(der))
            .unwrap_or_default();
        write!(
            f,
            "{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|{}|{}|grpc|{cert}",
            self.network, self.address
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_six_when_offered() {
        assert_eq!(negotiate(Some("6")), Ok(6));
        assert_eq!(negotiate(Some("5,6")), Ok(6));
        assert_eq!(negotiate(Some(" 5 , 6 ")), Ok(6));
        assert_eq!(negotiate(None), Ok(6));
        assert_eq!(negotiate(Some("")), Ok(6));
    }

    #[test]
    fn negotiation_fails_without_six() {
        let err = negotiate(Some("4,5")).unwrap_err();
        assert_eq!(err.offered, "4,5");
        assert!(err.to_string().contains("protocol 6"));
        assert!(negotiate(Some("66")).is_err());
    }

    #[test]
    fn handshake_line_format() {
        let plain = Handshake {
            network: "unix",
            address: "/tmp/x/plugin.sock".into(),
            server_cert: None,
        };
        assert_eq!(plain.to_string(), "1|6|unix|/tmp/x/plugin.sock|grpc|");
        let tls = Handshake {
            network: "tcp",
            address: "127.0.0.1:1234".into(),
            server_cert: Some(CertificateDer::from(vec![0xfb, 0xff])),
        };
        // "+/8=" with padding in standard base64; go-plugin wants it unpadded.
        assert_eq!(tls.to_string(), "1|6|tcp|127.0.0.1:1234|grpc|+/8");
    }
}
