//! The admin API under `/_emulator/`: unsigned JSON endpoints for tests and
//! demos to seed images, change shares out of band, inject faults, throttle
//! and read the call log. Only loopback peers may use it unless the emulator
//! was started with `admin_from_anywhere`.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

use super::faults::FaultSpec;
use super::server::Connection;
use super::{AdminError, Shared};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_emulator/images", get(list_images))
        .route(
            "/_emulator/images/{id}",
            get(get_image).put(put_image).delete(delete_image),
        )
        .route(
            "/_emulator/images/{id}/shares",
            get(get_shares).put(put_shares),
        )
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/calls", get(list_calls).delete(clear_calls))
        .route("/_emulator/throttle", get(get_throttle).post(set_throttle))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            loopback_only,
        ))
        .with_state(shared)
}

async fn loopback_only(
    State(shared): State<Arc<Shared>>,
    connection: Option<Extension<Connection>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = connection.map(|Extension(c)| c.peer);
    let allowed = admin_allowed(peer, shared.admin_from_anywhere);
    if !allowed {
        return error(
            StatusCode::FORBIDDEN,
            "the admin API only answers loopback clients",
        );
    }
    next.run(request).await
}

/// Loopback peers always; others only when allowed from anywhere. A request
/// without a known peer (not from our accept loop) is refused.
fn admin_allowed(peer: Option<SocketAddr>, from_anywhere: bool) -> bool {
    from_anywhere || peer.is_some_and(|peer| peer.ip().is_loopback())
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match self {
            AdminError::NotFound(id) => error(StatusCode::NOT_FOUND, format!("no image {id}")),
            AdminError::Invalid(message) => error(StatusCode::BAD_REQUEST, message),
            AdminError::Io(e) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("could not write the state file: {e}"),
            ),
        }
    }
}

/// Parses a JSON body whatever its content type (curl's `-d` says form);
/// an empty body is `None`.
fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<Option<T>, AdminError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| AdminError::Invalid(format!("invalid JSON body: {e}")))
}

async fn list_images(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.store.views()).into_response()
}

async fn get_image(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.image(&id) {
        Some(view) => Json(view).into_response(),
        None => AdminError::NotFound(id).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageBody {
    status: Option<String>,
}

async fn put_image(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let status = match parse_body::<ImageBody>(&body) {
        Ok(body) => body.and_then(|b| b.status),
        Err(e) => return e.into_response(),
    };
    match shared.put_image(&id, status.as_deref()).await {
        Ok((view, created)) => {
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (code, Json(view)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn delete_image(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.delete_image(&id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn get_shares(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.image(&id) {
        Some(view) => Json(json!({ "accounts": view.accounts })).into_response(),
        None => AdminError::NotFound(id).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SharesBody {
    accounts: Vec<String>,
}

async fn put_shares(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let accounts = match parse_body::<SharesBody>(&body) {
        Ok(Some(body)) => body.accounts,
        Ok(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "body {\"accounts\": [...]} is required",
            )
        }
        Err(e) => return e.into_response(),
    };
    match shared.set_shares(&id, accounts).await {
        Ok(accounts) => Json(json!({ "accounts": accounts })).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.faults().list()).into_response()
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let spec = match parse_body::<FaultSpec>(&body) {
        Ok(spec) => spec.unwrap_or_default(),
        Err(e) => return e.into_response(),
    };
    match shared.add_fault(spec.clone()) {
        Ok(()) => (StatusCode::CREATED, Json(spec)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.faults().clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn list_calls(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.calls().list()).into_response()
}

async fn clear_calls(State(shared): State<Arc<Shared>>) -> Response {
    shared.calls().clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThrottleBody {
    max_per_second: u32,
}

async fn get_throttle(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "max_per_second": shared.throttle().max_per_second() })).into_response()
}

async fn set_throttle(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse_body::<ThrottleBody>(&body) {
        Ok(Some(body)) => {
            shared.throttle().set(body.max_per_second);
            Json(json!({ "max_per_second": body.max_per_second })).into_response()
        }
        Ok(None) => error(
            StatusCode::BAD_REQUEST,
            "body {\"max_per_second\": N} is required",
        ),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_peers_by_default() {
        let loopback: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let loopback6: SocketAddr = "[::1]:5000".parse().unwrap();
        let remote: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        assert!(admin_allowed(Some(loopback), false));
        assert!(admin_allowed(Some(loopback6), false));
        assert!(!admin_allowed(Some(remote), false));
        assert!(!admin_allowed(None, false));
        assert!(admin_allowed(Some(remote), true));
    }
}
