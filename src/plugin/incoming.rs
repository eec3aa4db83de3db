//! The accept loop: raw connections in, (TLS-)ready connections out, as the
//! stream tonic serves. A failed TLS handshake drops that one connection and
//! never stops the loop.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::conn::PluginConn;
use super::listener::PluginListener;

/// A client that connects but never finishes the TLS handshake is dropped
/// after this long.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after an accept error (e.g. out of file descriptors) so the loop
/// does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// Ready connections, ending when `shutdown` is cancelled.
pub type Incoming = ReceiverStream<io::Result<PluginConn>>;

/// Spawns the accept loop on the current runtime. With `tls` set, each
/// connection completes its TLS handshake (concurrently with others) before
/// it is handed to the server.
pub fn spawn_accept_loop(
    listener: PluginListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> Incoming {
    let (ready_tx, ready_rx) = mpsc::channel(16);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let conn = match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a plugin connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                    continue;
                }
            };
            let Some(acceptor) = acceptor.clone() else {
                if ready_tx.send(Ok(conn)).await.is_err() {
                    break;
                }
                continue;
            };
            let ready_tx = ready_tx.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(conn));
                let tls_stream = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    result = handshake => match result {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(err)) => {
                            tracing::warn!(error = %err, "TLS handshake with a plugin client failed");
                            return;
                        }
                        Err(_) => {
                            tracing::warn!("TLS handshake with a plugin client timed out");
                            return;
                        }
                    },
                };
                let _ = ready_tx.send(Ok(PluginConn::new(tls_stream))).await;
            });
        }
        tracing::debug!("plugin listener closed");
    });
    ReceiverStream::new(ready_rx)
}
