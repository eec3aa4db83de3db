//! Where the plugin listens: a unix socket in a private temporary directory,
//! or loopback TCP within the port range go-plugin allows.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use tempfile::TempDir;
use tokio::net::{TcpListener, UnixListener};

use super::conn::PluginConn;

/// Lowest TCP port the client allows (go-plugin's variable).
pub const MIN_PORT_KEY: &str = "PLUGIN_MIN_PORT";
/// Highest TCP port the client allows.
pub const MAX_PORT_KEY: &str = "PLUGIN_MAX_PORT";
/// Directory in which to create the socket's temporary directory.
pub const UNIX_SOCKET_DIR_KEY: &str = "PLUGIN_UNIX_SOCKET_DIR";

/// Where and how to listen.
#[derive(Debug, Clone, Default)]
pub struct ListenOptions {
    /// Parent of the socket's temporary directory (default: the system temp dir).
    pub unix_socket_dir: Option<PathBuf>,
    /// Use TCP even where unix sockets work.
    pub force_tcp: bool,
    /// Inclusive TCP port range; `(0, 0)` lets the kernel pick.
    pub port_range: (u16, u16),
}

/// Parses go-plugin's port bounds (unset means 0: any port).
pub fn parse_port_range(min: Option<&str>, max: Option<&str>) -> io::Result<(u16, u16)> {
    let parse = |key: &str, value: Option<&str>| -> io::Result<u16> {
        match value.map(str::trim).filter(|value| !value.is_empty()) {
            None => Ok(0),
            Some(value) => value.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{key}={value:?} is not a port number"),
                )
            }),
        }
    };
    let range = (parse(MIN_PORT_KEY, min)?, parse(MAX_PORT_KEY, max)?);
    if range.0 > range.1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{MIN_PORT_KEY} {} is above {MAX_PORT_KEY} {}",
                range.0, range.1
            ),
        ));
    }
    Ok(range)
}

/// A bound listener. Dropping it removes the socket's temporary directory.
#[derive(Debug)]
pub struct PluginListener {
    socket: Socket,
    /// Removed (with the socket file) on drop.
    socket_dir: Option<TempDir>,
}

#[derive(Debug)]
enum Socket {
    Unix {
        listener: UnixListener,
        path: PathBuf,
    },
    Tcp {
        listener: TcpListener,
        addr: SocketAddr,
    },
}

impl PluginListener {
    /// Binds a unix socket, falling back to TCP when that is impossible
    /// (e.g. a socket path longer than the kernel allows).
    pub fn bind(options: &ListenOptions) -> io::Result<Self> {
        if !options.force_tcp {
            match Self::bind_unix(options.unix_socket_dir.as_deref()) {
                Ok(listener) => return Ok(listener),
                Err(err) => tracing::debug!(error = %err, "unix socket unavailable, using TCP"),
            }
        }
        Self::bind_tcp(options.port_range)
    }

    fn bind_unix(parent: Option<&Path>) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt as _;
        let mut builder = tempfile::Builder::new();
        // Mode 0700: only this user can reach the socket.
        builder
            .prefix("plugin")
            .permissions(std::fs::Permissions::from_mode(0o700));
        let dir = match parent {
            Some(parent) => builder.tempdir_in(parent)?,
            None => builder.tempdir()?,
        };
        let path = dir.path().join("plugin.sock");
        let listener = UnixListener::bind(&path)?;
        Ok(Self {
            socket: Socket::Unix { listener, path },
            socket_dir: Some(dir),
        })
    }

    fn bind_tcp((min, max): (u16, u16)) -> io::Result<Self> {
        let mut last_error = None;
        for port in min..=max {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match std::net::TcpListener::bind(addr) {
                Ok(listener) => {
                    listener.set_nonblocking(true)?;
                    let listener = TcpListener::from_std(listener)?;
                    let addr = listener.local_addr()?;
                    return Ok(Self {
                        socket: Socket::Tcp { listener, addr },
                        socket_dir: None,
                    });
                }
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::AddrInUse, "no free port in range")))
    }

    /// Go's name for the network: `unix` or `tcp`.
    pub fn network(&self) -> &'static str {
        match self.socket {
            Socket::Unix { .. } => "unix",
            Socket::Tcp { .. } => "tcp",
        }
    }

    /// The socket path or `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        match &self.socket {
            Socket::Unix { path, .. } => path.display().to_string(),
            Socket::Tcp { addr, .. } => addr.to_string(),
        }
    }

    /// Waits for the next raw (not yet TLS) connection.
    pub async fn accept(&self) -> io::Result<PluginConn> {
        match &self.socket {
            Socket::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                Ok(PluginConn::new(stream))
            }
            Socket::Tcp { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                Ok(PluginConn::new(stream))
            }
        }
    }

    /// Splits off the temporary directory so the caller can remove it at a
    /// point of its choosing, independent of the accept task.
    pub fn take_socket_dir(&mut self) -> Option<TempDir> {
        self.socket_dir.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_range_parsing() {
        assert_eq!(parse_port_range(None, None).unwrap(), (0, 0));
        assert_eq!(
            parse_port_range(Some("10000"), Some("25000")).unwrap(),
            (10000, 25000)
        );
        assert!(parse_port_range(Some("x"), None).is_err());
        assert!(parse_port_range(Some("3"), Some("2")).is_err());
    }

    #[tokio::test]
    async fn unix_listener_lives_in_a_private_dir_removed_on_drop() {
        let listener = PluginListener::bind(&ListenOptions::default()).unwrap();
        assert_eq!(listener.network(), "unix");
        let path = PathBuf::from(listener.address());
        assert!(path.ends_with("plugin.sock"));
        let dir = path.parent().unwrap().to_owned();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "socket dir must be private");
        drop(listener);
        assert!(!dir.exists());
    }

    #[tokio::test]
    async fn tcp_listener_binds_loopback() {
        let options = ListenOptions {
            force_tcp: true,
            ..ListenOptions::default()
        };
        let listener = PluginListener::bind(&options).unwrap();
        assert_eq!(listener.network(), "tcp");
        assert!(listener.address().starts_with("127.0.0.1:"));
    }

    #[tokio::test]
    async fn overlong_socket_dir_falls_back_to_tcp() {
        let base = tempfile::tempdir().unwrap();
        let deep = base.path().join("d".repeat(120));
        std::fs::create_dir_all(&deep).unwrap();
        let options = ListenOptions {
            unix_socket_dir: Some(deep),
            ..ListenOptions::default()
        };
        let listener = PluginListener::bind(&options).unwrap();
        assert_eq!(listener.network(), "tcp");
    }
}
