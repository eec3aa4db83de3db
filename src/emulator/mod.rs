//! A local emulator of Volcengine ECS image sharing
//! (`ModifyImageSharePermission`, `DescribeImageSharePermission`).
//!
//! It verifies V4 signatures like the service, answers with the service's
//! envelope and error codes, and has an unsigned admin API under
//! `/_emulator/` for seeding images, drift, fault injection, throttling and
//! the call log. Run it as the `volcengine-ecs-emulator` binary or in-process:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use terraform_provider_volcengine::emulator::{Emulator, EmulatorConfig};
//! let emulator = Emulator::start(EmulatorConfig {
//!     images: vec!["image-demo".into()],
//!     ..EmulatorConfig::default()
//! })
//! .await?;
//! println!("{}", emulator.base_url());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
pub mod api;
pub mod auth;
pub mod calls;
pub mod cli;
pub mod faults;
pub mod response;
mod server;
pub mod state;

use axum::routing::any;
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use std::{fmt, io};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use auth::EmulatorCredential;
pub use calls::CallRecord;
pub use faults::FaultSpec;
pub use state::ImageView;

use auth::Verifier;
use calls::CallLog;
use faults::{Faults, Throttle};
use state::{Image, Store, AVAILABLE};

/// The access key the emulator accepts when none is configured.
pub const DEFAULT_ACCESS_KEY: &str = "AKLOCALEMULATOR";
/// Its secret key. Not a secret: it only opens a local emulator.
pub const DEFAULT_SECRET_KEY: &str = "emulator-secret-key";
pub const DEFAULT_REGION: &str = "cn-beijing";
/// The service does not publish its per-image cap; this one is the emulator's choice.
pub const DEFAULT_SHARE_LIMIT: usize = 500;
pub const DEFAULT_PAGE_MAX: u32 = 100;
/// How far `X-Date` may be from the emulator's clock.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// How to run an emulator. `Default` listens on 127.0.0.1 on a free port with
/// the default key pair and no images.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    pub listen: SocketAddr,
    /// Accepted key pairs; empty means the default pair.
    pub credentials: Vec<EmulatorCredential>,
    /// Images to create (status available) when not already in the state file.
    pub images: Vec<String>,
    /// Load from and persist to this JSON file.
    pub state_file: Option<PathBuf>,
    /// Most accounts one image may be shared with.
    pub share_limit: usize,
    /// Largest `MaxResults` honoured (larger values are lowered to it).
    pub page_max: u32,
    /// The region whose images the emulator holds; requests signed for another region find no images.
    pub region: String,
    pub max_clock_skew: Duration,
    /// Let non-loopback peers use `/_emulator/` (off: they get 403).
    pub admin_from_anywhere: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: Vec::new(),
            images: Vec::new(),
            state_file: None,
            share_limit: DEFAULT_SHARE_LIMIT,
            page_max: DEFAULT_PAGE_MAX,
            region: DEFAULT_REGION.to_owned(),
            max_clock_skew: DEFAULT_MAX_CLOCK_SKEW,
            admin_from_anywhere: false,
        }
    }
}

impl EmulatorConfig {
    /// The key pairs accepted: the configured ones, or the default pair.
    pub fn effective_credentials(&self) -> Vec<EmulatorCredential> {
        if self.credentials.is_empty() {
            vec![EmulatorCredential::new(
                DEFAULT_ACCESS_KEY,
                DEFAULT_SECRET_KEY,
            )]
        } else {
            self.credentials.clone()
        }
    }
}

/// Why an admin operation failed.
#[derive(Debug)]
pub enum AdminError {
    NotFound(String),
    Invalid(String),
    Io(io::Error),
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::NotFound(id) => write!(f, "no image {id}"),
            AdminError::Invalid(message) => f.write_str(message),
            AdminError::Io(e) => write!(f, "could not write the state file: {e}"),
        }
    }
}

impl std::error::Error for AdminError {}

/// State shared by the API and admin handlers.
pub(crate) struct Shared {
    region: String,
    share_limit: usize,
    page_max: u32,
    admin_from_anywhere: bool,
    verifier: Verifier,
    store: Store,
    faults: Mutex<Faults>,
    throttle: Mutex<Throttle>,
    calls: Mutex<CallLog>,
    request_counter: AtomicU64,
}

/// Locks a mutex whose data stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    fn throttle(&self) -> MutexGuard<'_, Throttle> {
        lock(&self.throttle)
    }

    fn calls(&self) -> MutexGuard<'_, CallLog> {
        lock(&self.calls)
    }

    /// Volcengine-style request ID: the UTC time, a counter and random hex.
    fn request_id(&self) -> String {
        let now = time::OffsetDateTime::now_utc();
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}{:08X}{:012X}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second(),
            n as u32,
            fastrand::u64(..1 << 48)
        )
    }

    fn image(&self, id: &str) -> Option<ImageView> {
        self.store
            .read(|images| images.get(id).map(|image| state::view(id, image)))
    }

    /// Creates (status `status` or available) or updates an image; returns it and whether it was created.
    async fn put_image(
        &self,
        id: &str,
        status: Option<&str>,
    ) -> Result<(ImageView, bool), AdminError> {
        if id.is_empty() {
            return Err(AdminError::Invalid("the image ID is empty".into()));
        }
        if status.is_some_and(str::is_empty) {
            return Err(AdminError::Invalid("status is empty".into()));
        }
        self.store
            .update(|images| {
                let created = !images.contains_key(id);
                let image = images.entry(id.to_owned()).or_insert_with(|| Image {
                    status: AVAILABLE.to_owned(),
                    accounts: Default::default(),
                });
                let before = image.status.clone();
                if let Some(status) = status {
                    image.status = status.to_owned();
                }
                let changed = created || image.status != before;
                Ok::<_, AdminError>(((state::view(id, image), created), changed))
            })
            .await
            .map_err(AdminError::Io)?
    }

    async fn delete_image(&self, id: &str) -> Result<(), AdminError> {
        self.store
            .update(|images| match images.remove(id) {
                Some(_) => Ok(((), true)),
                None => Err(AdminError::NotFound(id.to_owned())),
            })
            .await
            .map_err(AdminError::Io)?
    }

    /// Replaces an image's shares out of band (drift); the share limit does not apply.
    async fn set_shares(&self, id: &str, accounts: Vec<String>) -> Result<Vec<String>, AdminError> {
        if let Some(bad) = accounts.iter().find(|a| !api::is_account_id(a)) {
            return Err(AdminError::Invalid(format!(
                "{bad:?} is not an account ID (digits only)"
            )));
        }
        self.store
            .update(|images| {
                let image = images
                    .get_mut(id)
                    .ok_or_else(|| AdminError::NotFound(id.to_owned()))?;
                let accounts: std::collections::BTreeSet<String> = accounts.into_iter().collect();
                let changed = accounts != image.accounts;
                image.accounts = accounts;
                Ok((image.accounts.iter().cloned().collect(), changed))
            })
            .await
            .map_err(AdminError::Io)?
    }

    fn add_fault(&self, spec: FaultSpec) -> Result<(), AdminError> {
        spec.validate().map_err(AdminError::Invalid)?;
        self.faults().add(spec);
        Ok(())
    }
}

/// Starts emulators.
pub struct Emulator;

impl Emulator {
    /// Binds `config.listen`, loads the state file and serves in the background.
    pub async fn start(config: EmulatorConfig) -> io::Result<RunningEmulator> {
        if config.page_max == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "page_max must be at least 1",
            ));
        }
        let store = Store::open(config.state_file.clone(), &config.images).await?;
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            region: config.region.clone(),
            share_limit: config.share_limit,
            page_max: config.page_max,
            admin_from_anywhere: config.admin_from_anywhere,
            verifier: Verifier::new(&config.effective_credentials(), config.max_clock_skew),
            store,
            faults: Mutex::default(),
            throttle: Mutex::default(),
            calls: Mutex::default(),
            request_counter: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/", any(api::handle))
            .with_state(shared.clone())
            .merge(admin::router(shared.clone()))
            .fallback(|| async {
                (
                    axum::http::StatusCode::NOT_FOUND,
                    axum::Json(serde_json::json!({
                        "error": "no such path: the ECS API is at / and the admin API under /_emulator/"
                    })),
                )
            });
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server::serve(listener, router, shutdown.clone()));
        tracing::info!(%local_addr, region = %config.region, "emulator listening");
        Ok(RunningEmulator {
            local_addr,
            shared,
            shutdown,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server (without waiting);
/// [`RunningEmulator::shutdown`] stops it and waits.
pub struct RunningEmulator {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// `http://HOST:PORT`, the endpoint to configure clients with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The region whose images the emulator holds.
    pub fn region(&self) -> &str {
        &self.shared.region
    }

    /// Every API call answered so far, in arrival order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared.calls().list()
    }

    pub fn clear_calls(&self) {
        self.shared.calls().clear();
    }

    /// The accounts `image_id` is shared with (sorted), or `None` without such an image.
    pub fn shares(&self, image_id: &str) -> Option<Vec<String>> {
        self.shared.image(image_id).map(|view| view.accounts)
    }

    pub fn images(&self) -> Vec<ImageView> {
        self.shared.store.views()
    }

    /// Creates or updates an image (status `available` when `status` is `None` on create).
    pub async fn put_image(
        &self,
        image_id: &str,
        status: Option<&str>,
    ) -> Result<ImageView, AdminError> {
        self.shared
            .put_image(image_id, status)
            .await
            .map(|(view, _)| view)
    }

    pub async fn delete_image(&self, image_id: &str) -> Result<(), AdminError> {
        self.shared.delete_image(image_id).await
    }

    /// Replaces an image's shares out of band (drift).
    pub async fn set_shares(
        &self,
        image_id: &str,
        accounts: &[&str],
    ) -> Result<Vec<String>, AdminError> {
        let accounts = accounts.iter().map(|a| a.to_string()).collect();
        self.shared.set_shares(image_id, accounts).await
    }

    pub fn add_fault(&self, spec: FaultSpec) -> Result<(), AdminError> {
        self.shared.add_fault(spec)
    }

    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// At most `max_per_second` calls per second; 0 turns throttling off.
    pub fn set_throttle(&self, max_per_second: u32) {
        self.shared.throttle().set(max_per_second);
    }

    /// Stops accepting, lets open connections finish (bounded), and waits.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            if let Err(error) = task.await {
                tracing::error!(%error, "emulator server task failed");
            }
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
