//! Typed ECS image-sharing actions on top of [`Client::call`].

use std::collections::BTreeSet;

use serde::Deserialize;

use super::client::{CallContext, Client};
use super::error::Error;

/// The API accepts at most this many accounts in each of `AddAccounts` and
/// `RemoveAccounts` per call.
pub const MAX_ACCOUNTS_PER_CALL: usize = 50;

/// Page size asked of DescribeImageSharePermission. The service (and the
/// emulator's `--page-max`) may return fewer; pagination follows `NextToken`.
pub const DESCRIBE_PAGE_SIZE: u32 = 100;

/// Hard cap on pages followed in one Describe: at the page size above this
/// is far beyond any real share list, and stops a server that never ends.
pub const MAX_DESCRIBE_PAGES: usize = 1000;

pub const ACTION_MODIFY: &str = "ModifyImageSharePermission";
pub const ACTION_DESCRIBE: &str = "DescribeImageSharePermission";

/// One ModifyImageSharePermission call: accounts to add and to remove.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModifyImageSharePermission {
    pub image_id: String,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl ModifyImageSharePermission {
    /// The request parameters, after checking the API's limits.
    pub fn params(&self) -> Result<Vec<(String, String)>, Error> {
        let invalid = |message: String| Err(Error::InvalidRequest { message });
        if self.image_id.is_empty() {
            return invalid(format!("{ACTION_MODIFY}: image ID is empty"));
        }
        if self.add.is_empty() && self.remove.is_empty() {
            return invalid(format!(
                "{ACTION_MODIFY}: nothing to add or remove for image {}",
                self.image_id
            ));
        }
        for (name, list) in [("AddAccounts", &self.add), ("RemoveAccounts", &self.remove)] {
            if list.len() > MAX_ACCOUNTS_PER_CALL {
                return invalid(format!(
                    "{ACTION_MODIFY}: {} accounts in {name}, at most {MAX_ACCOUNTS_PER_CALL} per call",
                    list.len()
                ));
            }
            if list.iter().any(String::is_empty) {
                return invalid(format!("{ACTION_MODIFY}: empty account ID in {name}"));
            }
        }
        let mut params = vec![("ImageId".to_owned(), self.image_id.clone())];
        params.extend(indexed("AddAccounts", &self.add));
        params.extend(indexed("RemoveAccounts", &self.remove));
        Ok(params)
    }
}

/// `Name.1=a&Name.2=b...`: the API's flattening of arrays, 1-based.
fn indexed<'a>(name: &'a str, values: &'a [String]) -> impl Iterator<Item = (String, String)> + 'a {
    values
        .iter()
        .enumerate()
        .map(move |(i, value)| (format!("{name}.{}", i + 1), value.clone()))
}

/// Adds and removes shares in one call. Refuses (before sending) lists over
/// [`MAX_ACCOUNTS_PER_CALL`] and a call with nothing to do; splitting larger
/// changes into batches is the caller's job.
pub async fn modify_image_share_permission(
    client: &Client,
    ctx: &CallContext,
    req: &ModifyImageSharePermission,
) -> Result<(), Error> {
    let params = req.params()?;
    client.call(ACTION_MODIFY, &params, ctx).await.map(drop)
}

/// The accounts an image is shared with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageShares {
    pub image_id: String,
    pub accounts: BTreeSet<String>,
    /// `TotalCount` as the service reported it (first page).
    pub total_count: u64,
}

#[derive(Deserialize)]
struct DescribePage {
    #[serde(rename = "Accounts", default)]
    accounts: Option<Vec<Account>>,
    #[serde(rename = "NextToken", default)]
    next_token: Option<String>,
    #[serde(rename = "TotalCount", default)]
    total_count: Option<u64>,
}

#[derive(Deserialize)]
struct Account {
    #[serde(rename = "AccountId")]
    account_id: String,
}

/// Reads every account `image_id` is shared with, following `NextToken`
/// until it is empty or absent. A token seen twice or more than
/// [`MAX_DESCRIBE_PAGES`] pages are errors, never an endless loop.
pub async fn describe_image_share_permission(
    client: &Client,
    ctx: &CallContext,
    image_id: &str,
) -> Result<ImageShares, Error> {
    if image_id.is_empty() {
        return Err(Error::InvalidRequest {
            message: format!("{ACTION_DESCRIBE}: image ID is empty"),
        });
    }
    let mut shares = ImageShares {
        image_id: image_id.to_owned(),
        ..ImageShares::default()
    };
    let mut seen_tokens = BTreeSet::new();
    let mut next_token: Option<String> = None;
    for page_number in 1..=MAX_DESCRIBE_PAGES {
        let mut params = vec![
            ("ImageId".to_owned(), image_id.to_owned()),
            ("MaxResults".to_owned(), DESCRIBE_PAGE_SIZE.to_string()),
        ];
        if let Some(token) = &next_token {
            params.push(("NextToken".to_owned(), token.clone()));
        }
        let result = client.call(ACTION_DESCRIBE, &params, ctx).await?;
        let page: DescribePage = serde_json::from_value(result.clone()).map_err(|e| {
            pagination_error(&format!(
                "unexpected Result shape on page {page_number} ({e}): {}",
                result
            ))
        })?;
        if page_number == 1 {
            shares.total_count = page.total_count.unwrap_or_default();
        }
        shares.accounts.extend(
            page.accounts
                .unwrap_or_default()
                .into_iter()
                .map(|a| a.account_id),
        );
        match page.next_token.filter(|t| !t.is_empty()) {
            None => return Ok(shares),
            Some(token) => {
                if !seen_tokens.insert(token.clone()) {
                    return Err(pagination_error(&format!(
                        "NextToken {token:?} was returned twice (page {page_number}); refusing to loop"
                    )));
                }
                next_token = Some(token);
            }
        }
    }
    Err(pagination_error(&format!(
        "more than {MAX_DESCRIBE_PAGES} pages of shares for image {image_id}; giving up"
    )))
}

/// A successful answer the pagination cannot use.
fn pagination_error(detail: &str) -> Error {
    Error::MalformedResponse {
        status: 200,
        request_id: None,
        excerpt: super::error::safe_excerpt(format!("{ACTION_DESCRIBE}: {detail}").as_bytes(), 200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("21000{i:05}")).collect()
    }

    #[test]
    fn flattens_lists_one_based() {
        let req = ModifyImageSharePermission {
            image_id: "image-1".into(),
            add: accounts(2),
            remove: accounts(1),
        };
        let params = req.params().unwrap();
        let keys: Vec<_> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ImageId",
                "AddAccounts.1",
                "AddAccounts.2",
                "RemoveAccounts.1"
            ]
        );
    }

    #[test]
    fn refuses_over_limit_and_empty() {
        let over = ModifyImageSharePermission {
            image_id: "image-1".into(),
            add: accounts(51),
            remove: vec![],
        };
        assert!(matches!(over.params(), Err(Error::InvalidRequest { .. })));
        let over = ModifyImageSharePermission {
            image_id: "image-1".into(),
            add: vec![],
            remove: accounts(51),
        };
        assert!(matches!(over.params(), Err(Error::InvalidRequest { .. })));
        let at_limit = ModifyImageSharePermission {
            image_id: "image-1".into(),
            add: accounts(50),
            remove: accounts(50),
        };
        assert_eq!(at_limit.params().unwrap().len(), 101);
        let empty = ModifyImageSharePermission {
            image_id: "image-1".into(),
            ..Default::default()
        };
        assert!(matches!(empty.params(), Err(Error::InvalidRequest { .. })));
    }
}
