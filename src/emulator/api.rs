//! The ECS API endpoint: parameters, the gateway checks (Action/Version,
//! signature, throttling, injected faults) and the two image-share actions.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;
use time::OffsetDateTime;

use super::auth::{claimed_region, IncomingRequest};
use super::calls::CallRecord;
use super::faults::{Fault, FaultEffect};
use super::response::{self, ApiFailure, Metadata, API_VERSION};
use super::server::Connection;
use super::state::AVAILABLE;
use super::Shared;

pub const MODIFY: &str = "ModifyImageSharePermission";
pub const DESCRIBE: &str = "DescribeImageSharePermission";
/// The actions the emulator implements.
pub const ACTIONS: [&str; 2] = [MODIFY, DESCRIBE];
/// At most this many accounts in `AddAccounts.N` or `RemoveAccounts.N` per call.
pub const MAX_ACCOUNTS_PER_LIST: usize = 50;
/// `MaxResults` when the request has none (lowered to the page maximum if that is smaller).
pub const DEFAULT_MAX_RESULTS: u32 = 20;

/// How one call ended, for the response, the call log and the log line.
struct Outcome {
    /// `None`: close the connection without answering.
    response: Option<Response>,
    status: u16,
    code: Option<String>,
    faulted: bool,
}

impl Outcome {
    fn success(metadata: &Metadata, result: Value, faulted: bool) -> Self {
        Outcome {
            response: Some(response::success(metadata, result)),
            status: 200,
            code: None,
            faulted,
        }
    }

    fn failure(metadata: &Metadata, failure: &ApiFailure, faulted: bool) -> Self {
        Outcome {
            response: Some(response::failure(metadata, failure)),
            status: failure.status.as_u16(),
            code: Some(failure.code.clone()),
            faulted,
        }
    }
}

/// Every request to `/`: GET with a query, or POST with a form body.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    connection: Option<Extension<Connection>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let seq = shared.calls().next_seq();
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let mut params = query.clone();
    if method == Method::POST && is_form(&headers) {
        params.extend(form_urlencoded::parse(&body).into_owned());
    }
    let action = first(&params, "Action").unwrap_or_default().to_owned();
    let mut metadata = Metadata {
        request_id: shared.request_id(),
        action: action.clone(),
        region: claimed_region(&headers).unwrap_or_else(|| shared.region.clone()),
    };
    let request = IncomingRequest {
        method: method.as_str(),
        path: uri.path(),
        query: &query,
        headers: &headers,
        body: &body,
    };
    let outcome = process(&shared, &request, &params, &mut metadata).await;

    let record = CallRecord {
        seq,
        action,
        params: params.into_iter().collect::<BTreeMap<_, _>>(),
        status: outcome.status,
        code: outcome.code.clone(),
        faulted: outcome.faulted,
        request_id: metadata.request_id.clone(),
    };
    tracing::info!(
        seq,
        action = %record.action,
        status = record.status,
        code = record.code.as_deref().unwrap_or(""),
        faulted = record.faulted,
        request_id = %record.request_id,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "ecs call"
    );
    shared.calls().push(record);

    match outcome.response {
        Some(response) => response,
        None => match connection {
            Some(Extension(connection)) => connection.drop_now().await,
            // Without a connection handle (not served by our accept loop) the
            // closest thing to a dropped connection is an empty 502.
            None => StatusCode::BAD_GATEWAY.into_response(),
        },
    }
}

async fn process(
    shared: &Shared,
    request: &IncomingRequest<'_>,
    params: &[(String, String)],
    metadata: &mut Metadata,
) -> Outcome {
    // Gateway: Action and Version must be present before anything else.
    let version = first(params, "Version").unwrap_or_default();
    if metadata.action.is_empty() {
        return Outcome::failure(metadata, &ApiFailure::missing_parameter("Action"), false);
    }
    if version.is_empty() {
        return Outcome::failure(metadata, &ApiFailure::missing_parameter("Version"), false);
    }
    let verified = match shared.verifier.verify(request, OffsetDateTime::now_utc()) {
        Ok(verified) => verified,
        Err(failure) => return Outcome::failure(metadata, &failure, false),
    };
    metadata.region = verified.region.clone();
    if !ACTIONS.contains(&metadata.action.as_str()) || version != API_VERSION {
        let failure = ApiFailure::invalid_action_or_version(&metadata.action, version);
        return Outcome::failure(metadata, &failure, false);
    }
    if !shared.throttle().admit(Instant::now()) {
        return Outcome::failure(metadata, &ApiFailure::throttled(), false);
    }

    let fault = shared.faults().next(&metadata.action);
    let faulted = fault.is_some();
    if let Some(Fault { latency, effect }) = fault {
        tokio::time::sleep(latency).await;
        match effect {
            FaultEffect::Delay => {}
            FaultEffect::Error {
                status,
                code,
                message,
            } => {
                let message =
                    message.unwrap_or_else(|| ApiFailure::default_message(&code).to_owned());
                let failure = ApiFailure::new(status, &code, message);
                return Outcome::failure(metadata, &failure, true);
            }
            FaultEffect::Raw { status, body } => {
                let content_type = if body.trim_start().starts_with(['{', '[']) {
                    "application/json; charset=utf-8"
                } else {
                    "text/html; charset=utf-8"
                };
                return Outcome {
                    response: Some(
                        (status, [(header::CONTENT_TYPE, content_type)], body).into_response(),
                    ),
                    status: status.as_u16(),
                    code: None,
                    faulted: true,
                };
            }
            FaultEffect::Drop => {
                return Outcome {
                    response: None,
                    status: 0,
                    code: None,
                    faulted: true,
                };
            }
        }
    }

    let result = match metadata.action.as_str() {
        MODIFY => modify(shared, &verified.region, params).await,
        _ => describe(shared, &verified.region, params),
    };
    match result {
        Ok(result) => Outcome::success(metadata, result, faulted),
        Err(failure) => Outcome::failure(metadata, &failure, faulted),
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

fn first<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A parameter that may appear at most once.
fn single<'p>(params: &'p [(String, String)], name: &str) -> Result<Option<&'p str>, ApiFailure> {
    let mut values = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let value = values.next();
    if values.next().is_some() {
        return Err(ApiFailure::invalid_argument(format!(
            "{name} is given more than once."
        )));
    }
    Ok(value)
}

fn image_id(params: &[(String, String)]) -> Result<&str, ApiFailure> {
    match single(params, "ImageId")? {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(ApiFailure::missing_image_id()),
    }
}

/// `Name.1=..&Name.2=..`, in index order.
fn indexed_list(params: &[(String, String)], name: &str) -> Result<Vec<String>, ApiFailure> {
    let prefix = format!("{name}.");
    let mut entries = BTreeMap::new();
    for (key, value) in params {
        let Some(index) = key.strip_prefix(&prefix) else {
            continue;
        };
        let index: u32 = index.parse().ok().filter(|i| *i >= 1).ok_or_else(|| {
            ApiFailure::invalid_argument(format!("{key} is not {name}.N with N >= 1."))
        })?;
        if entries.insert(index, value.clone()).is_some() {
            return Err(ApiFailure::invalid_argument(format!(
                "{key} is given more than once."
            )));
        }
    }
    if entries.len() > MAX_ACCOUNTS_PER_LIST {
        return Err(ApiFailure::invalid_argument(format!(
            "{name} has {} accounts; at most {MAX_ACCOUNTS_PER_LIST} are allowed in one call.",
            entries.len()
        )));
    }
    Ok(entries.into_values().collect())
}

/// Account IDs are numeric strings.
pub fn is_account_id(account: &str) -> bool {
    (1..=32).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_digit())
}

async fn modify(
    shared: &Shared,
    region: &str,
    params: &[(String, String)],
) -> Result<Value, ApiFailure> {
    let image_id = image_id(params)?.to_owned();
    let add = indexed_list(params, "AddAccounts")?;
    let remove = indexed_list(params, "RemoveAccounts")?;
    if add.is_empty() && remove.is_empty() {
        return Err(ApiFailure::missing_accounts());
    }
    if let Some(bad) = add.iter().chain(&remove).find(|a| !is_account_id(a)) {
        return Err(ApiFailure::malformed_account(bad));
    }
    let add: BTreeSet<String> = add.into_iter().collect();
    let remove: BTreeSet<String> = remove.into_iter().collect();
    if let Some(both) = add.intersection(&remove).next() {
        return Err(ApiFailure::invalid_argument(format!(
            "Account {both} is in both AddAccounts and RemoveAccounts."
        )));
    }
    let in_region = region == shared.region;
    let share_limit = shared.share_limit;
    let outcome = shared
        .store
        .update(|images| {
            let image = images
                .get_mut(&image_id)
                .filter(|_| in_region)
                .ok_or_else(|| ApiFailure::image_not_found(&image_id))?;
            if image.status != AVAILABLE {
                return Err(ApiFailure::invalid_image_status(&image.status));
            }
            let mut accounts = image.accounts.clone();
            let grows = add.iter().any(|a| !accounts.contains(a));
            accounts.extend(add.iter().cloned());
            accounts.retain(|a| !remove.contains(a));
            if grows && accounts.len() > share_limit {
                return Err(ApiFailure::share_limit_exceeded(share_limit));
            }
            let changed = accounts != image.accounts;
            image.accounts = accounts;
            Ok(((), changed))
        })
        .await;
    match outcome {
        Ok(result) => result.map(|()| json!({})),
        Err(error) => {
            tracing::error!(%error, "could not write the state file");
            Err(ApiFailure::internal_error())
        }
    }
}

fn describe(
    shared: &Shared,
    region: &str,
    params: &[(String, String)],
) -> Result<Value, ApiFailure> {
    let image_id = image_id(params)?;
    let page_size = match single(params, "MaxResults")? {
        None | Some("") => DEFAULT_MAX_RESULTS.min(shared.page_max),
        Some(text) => {
            let n: u32 = text.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ApiFailure::invalid_argument("MaxResults must be a positive integer.")
            })?;
            n.min(shared.page_max)
        }
    };
    let after = match single(params, "NextToken")? {
        None | Some("") => None,
        Some(token) => Some(decode_token(image_id, token)?),
    };
    shared.store.read(|images| {
        let image = images
            .get(image_id)
            .filter(|_| region == shared.region)
            .ok_or_else(|| ApiFailure::image_not_found(image_id))?;
        let start = match &after {
            Some(last) => Bound::Excluded(last.as_str()),
            None => Bound::Unbounded,
        };
        let mut rest = image.accounts.range::<str, _>((start, Bound::Unbounded));
        let page: Vec<&String> = rest.by_ref().take(page_size as usize).collect();
        let next_token = match (page.last(), rest.next()) {
            (Some(last), Some(_)) => encode_token(image_id, last),
            _ => String::new(),
        };
        Ok(json!({
            "Accounts": page.iter().map(|a| json!({ "AccountId": a })).collect::<Vec<_>>(),
            "ImageId": image_id,
            "NextToken": next_token,
            "TotalCount": image.accounts.len(),
        }))
    })
}

const TOKEN_VERSION: &str = "v1";

/// An opaque token naming the last account of the page, bound to the image,
/// so pages stay consistent when accounts are added or removed between calls.
fn encode_token(image_id: &str, last_account: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{TOKEN_VERSION}\n{image_id}\n{last_account}"))
}

fn decode_token(image_id: &str, token: &str) -> Result<String, ApiFailure> {
    let invalid = || ApiFailure::invalid_argument("NextToken is not valid for this request.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, '\n');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(TOKEN_VERSION), Some(image), Some(last))
            if image == image_id && is_account_id(last) =>
        {
            Ok(last.to_owned())
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn indexed_lists_come_in_index_order() {
        let p = params(&[
            ("AddAccounts.10", "10"),
            ("AddAccounts.2", "2"),
            ("AddAccounts.1", "1"),
        ]);
        assert_eq!(
            indexed_list(&p, "AddAccounts").unwrap(),
            vec!["1", "2", "10"]
        );
        assert_eq!(
            indexed_list(&p, "RemoveAccounts").unwrap(),
            Vec::<String>::new()
        );
        let bad = params(&[("AddAccounts.0", "1")]);
        assert_eq!(
            indexed_list(&bad, "AddAccounts").unwrap_err().code,
            "InvalidArgument"
        );
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_the_image() {
        let token = encode_token("image-a", "2100");
        assert_eq!(decode_token("image-a", &token).unwrap(), "2100");
        assert!(decode_token("image-b", &token).is_err());
        assert!(decode_token("image-a", "not a token!").is_err());
    }

    #[test]
    fn account_ids_are_digits() {
        assert!(is_account_id("2100051234"));
        assert!(!is_account_id(""));
        assert!(!is_account_id("21000a"));
        assert!(!is_account_id(" 2100"));
    }
}
