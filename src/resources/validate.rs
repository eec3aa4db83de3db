//! Shape checks for image and account IDs, shared by the resource and the
//! data source. Unknown values are skipped; they are checked once known.

use crate::tfplugin::{AttrPath, Diagnostics, Value};

/// Longest account ID accepted (Volcengine's are 10 digits today).
pub const MAX_ACCOUNT_ID_LEN: usize = 32;

/// `image-` followed by lowercase letters and digits.
pub fn check_image_id(image_id: &str) -> Result<(), String> {
    let suffix = image_id.strip_prefix("image-").unwrap_or_default();
    if suffix.is_empty()
        || !suffix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(format!(
            "{image_id:?} is not an image ID: expected \"image-\" followed by lowercase letters and digits, \
             e.g. \"image-ebgy1og99tfct0gw1234\"."
        ));
    }
    Ok(())
}

/// Digits only, 1 to [`MAX_ACCOUNT_ID_LEN`] of them.
pub fn check_account_id(account_id: &str) -> Result<(), String> {
    if account_id.is_empty()
        || account_id.len() > MAX_ACCOUNT_ID_LEN
        || !account_id.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!(
            "{account_id:?} is not a Volcengine account ID: expected 1 to {MAX_ACCOUNT_ID_LEN} digits, e.g. \"2100051234\"."
        ));
    }
    Ok(())
}

/// Validates a known `image_id` attribute.
pub fn validate_image_id(config: &Value, diags: &mut Diagnostics) {
    if let Some(image_id) = config.attr("image_id").as_str() {
        if let Err(message) = check_image_id(image_id) {
            diags.error_at(&AttrPath::attr("image_id"), "Invalid image ID", message);
        }
    }
}

/// Validates every known element of a known `account_ids` set.
pub fn validate_account_ids(config: &Value, diags: &mut Diagnostics) {
    for element in config.attr("account_ids").elements().unwrap_or_default() {
        if let Some(account_id) = element.as_str() {
            if let Err(message) = check_account_id(account_id) {
                diags.error_at(
                    &AttrPath::attr("account_ids").then_key(account_id),
                    "Invalid account ID",
                    message,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_ids() {
        assert!(check_image_id("image-ebgy1og99tfct0gw1234").is_ok());
        for bad in [
            "",
            "image-",
            "img-abc",
            "image-ABC",
            "image-ab_c",
            "image-ab c",
            "xx image-abc",
        ] {
            assert!(check_image_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn account_ids() {
        assert!(check_account_id("2100051234").is_ok());
        for bad in ["", "abc", "21000-1", " 1", &"1".repeat(33)] {
            assert!(check_account_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths_name_the_bad_element() {
        let config = Value::object([
            ("image_id", Value::Unknown),
            (
                "account_ids",
                Value::Set(vec![
                    Value::string("1"),
                    Value::string("abc"),
                    Value::Unknown,
                ]),
            ),
        ]);
        let mut diags = Diagnostics::new();
        validate_image_id(&config, &mut diags);
        validate_account_ids(&config, &mut diags);
        let diags = diags.into_vec();
        assert_eq!(diags.len(), 1);
        assert!(diags[0].detail.contains("\"abc\""));
        let path = diags[0].attribute.as_ref().unwrap();
        assert_eq!(path.steps.len(), 2);
    }
}
