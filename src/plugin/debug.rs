//! Debug mode: the provider runs on its own (e.g. under a debugger) and tells
//! the user how to point Terraform at it through `TF_REATTACH_PROVIDERS`.

use serde_json::json;

/// The provider's registry address, the key Terraform looks up.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/volcengine/volcengine";

/// The `TF_REATTACH_PROVIDERS` value for a provider listening at `address`.
///
/// `Test: true` tells go-plugin that this process manages its own lifetime,
/// so Terraform does not stop it after a run.
pub fn reattach_config(network: &str, address: &str, pid: u32) -> serde_json::Value {
    json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": super::handshake::PLUGIN_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": network, "String": address },
        }
    })
}

/// The text printed on stdout in debug mode.
pub fn instructions(reattach: &serde_json::Value) -> String {
    // Single quotes protect the JSON from the shell; a path with a single
    // quote in it would need escaping, which this handles too.
    let quoted = reattach.to_string().replace('\'', r"'\''");
    format!(
        "Provider started in debug mode. To attach Terraform, set this in the shell \
         running terraform:\n\n\tTF_REATTACH_PROVIDERS='{quoted}'\n\n\
         Press Ctrl-C to stop the provider.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reattach_json_shape() {
        let value = reattach_config("unix", "/tmp/p/plugin.sock", 42);
        let entry = &value[PROVIDER_ADDRESS];
        assert_eq!(entry["Protocol"], "grpc");
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Pid"], 42);
        assert_eq!(entry["Test"], true);
        assert_eq!(entry["Addr"]["Network"], "unix");
        assert_eq!(entry["Addr"]["String"], "/tmp/p/plugin.sock");
    }

    #[test]
    fn instructions_quote_the_json() {
        let value = reattach_config("unix", "/tmp/it's/plugin.sock", 1);
        let text = instructions(&value);
        assert!(text.contains("TF_REATTACH_PROVIDERS='{"));
        assert!(text.contains(r"it'\''s"));
    }
}
