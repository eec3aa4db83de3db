//! The go-plugin magic cookie: proof that the process was started by Terraform.

/// Environment variable Terraform sets when it launches a provider.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";

/// The value Terraform uses for every provider (shared by all plugin SDKs).
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// What a person running the binary by hand sees instead of a handshake line.
pub const NOT_LAUNCHED_BY_TERRAFORM: &str = "\
This binary is a plugin. These are not meant to be executed directly.
Run Terraform (terraform init / plan / apply) with a configuration that uses the
volcengine provider and Terraform will start this plugin as needed.
To debug the provider, run it with --debug.";

/// True when the cookie Terraform sets is present and has the expected value.
pub fn is_valid(cookie: Option<&str>) -> bool {
    cookie == Some(MAGIC_COOKIE_VALUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_value_is_accepted() {
        assert!(is_valid(Some(MAGIC_COOKIE_VALUE)));
        assert!(!is_valid(None));
        assert!(!is_valid(Some("")));
        assert!(!is_valid(Some(&MAGIC_COOKIE_VALUE[1..])));
    }
}
