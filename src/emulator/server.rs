//! The accept loop. It is hand-rolled (rather than `axum::serve`) for two
//! things the emulator needs: a handler can close its connection without any
//! response (the dropped-connection fault), and handlers see the peer address
//! (the admin API's loopback check).

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How long in-flight connections get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Request extension: the connection a request arrived on.
#[derive(Clone)]
pub struct Connection {
    pub peer: SocketAddr,
    kill: CancellationToken,
}

impl Connection {
    /// Closes the connection without answering. The future never completes:
    /// the connection task drops the request along with the socket.
    pub async fn drop_now(&self) -> Response {
        self.kill.cancel();
        std::future::pending().await
    }
}

/// Serves `router` on `listener` until `shutdown` fires, then stops accepting
/// and gives open connections [`DRAIN_TIMEOUT`] to finish.
pub async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, router.clone(), shutdown.clone()));
                }
                Err(error) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("closing connections that did not finish in time");
        connections.shutdown().await;
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) {
    let kill = CancellationToken::new();
    let connection = Connection {
        peer,
        kill: kill.clone(),
    };
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(connection.clone());
        router.clone().oneshot(request.map(Body::new))
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => log_end(peer, result),
        // Dropping `conn` closes the socket with no response written.
        _ = kill.cancelled() => tracing::debug!(%peer, "connection dropped on purpose"),
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                result = conn.as_mut() => log_end(peer, result),
                _ = kill.cancelled() => {}
            }
        }
    }
}

fn log_end(peer: SocketAddr, result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}
