//! The AiWellFlow reference platform: a real HTTP server implementing the platform API contract
//! (`awf-platform-api`, whose OpenAPI document describes every route) over an embedded sled
//! store. It serves local development (with `--dev`: an SMS outbox instead of a gateway, and
//! request statistics), every integration test, and self-hosting.
//!
//! The binary (`src/main.rs`) only parses flags and binds; [`serve`] and [`router`] are here so
//! that tests can also embed the server.

mod auth;
mod error;
mod http;
mod routes;
mod store;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use awf_platform_api::{Region, RequestStats, SmsMessage};
use axum::Router;

pub use error::StoreError;

/// Seconds between two SMS codes to one phone.
pub const SMS_RESEND_SECS: u64 = 30;
/// Failed log-ins allowed per login name and per client address per minute.
pub const FAILED_LOGINS_PER_MINUTE: u32 = 5;
/// Wrong codes after which an SMS code is void.
pub const SMS_MAX_ATTEMPTS: u32 = 5;
/// The largest request body accepted (413 above).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The policy version in force, and its texts.
pub const POLICY_VERSION: u32 = 1;
pub const POLICY_PUBLISHED_AT: &str = "2026-01-01T00:00:00Z";
pub const POLICY_ZH_CN: &str = include_str!("../../../assets/policy/v1/zh-CN.txt");
pub const POLICY_EN: &str = include_str!("../../../assets/policy/v1/en.txt");

/// How a platform runs.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// Where the sled store lives (`<data_dir>/store`).
    pub data_dir: PathBuf,
    /// Development mode: SMS codes go to the log and the dev outbox; `/v1/dev/…` is served.
    pub dev: bool,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub sms_code_ttl_secs: u64,
    pub region: Region,
}

impl PlatformConfig {
    /// Defaults: not dev mode, access 15 min, refresh 30 days, SMS codes 5 min, region `local`.
    pub fn new(data_dir: PathBuf) -> Self {
        PlatformConfig {
            data_dir,
            dev: false,
            access_ttl_secs: 900,
            refresh_ttl_secs: 30 * 24 * 3600,
            sms_code_ttl_secs: 300,
            region: local_region("local"),
        }
    }
}

/// The region a local platform declares: code as given, governed by Chinese law (the policy's).
pub fn local_region(code: &str) -> Region {
    let name = if code == "local" { "Local development".to_string() } else { code.to_string() };
    Region { code: code.to_string(), name, jurisdiction: "CN".to_string() }
}

/// The platform's shared state.
pub(crate) struct Platform {
    pub config: PlatformConfig,
    pub store: store::Store,
    pub login_failures: auth::FailureWindow,
    pub outbox: Mutex<Vec<SmsMessage>>,
    pub stats: Mutex<RequestStats>,
    /// An Argon2id hash of a random password: log-ins to unknown accounts verify against it so
    /// that they take as long as log-ins to known ones.
    pub dummy_hash: String,
}

/// The server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("cannot open the store in {dir}: {source}")]
    Store { dir: PathBuf, source: StoreError },
    #[error("cannot hash: {0}")]
    Hash(String),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A platform ready to serve: its router, and the handle to flush its store at the end.
pub struct App {
    state: Arc<Platform>,
}

impl App {
    pub fn open(config: PlatformConfig) -> Result<App, PlatformError> {
        let store = store::Store::open(&config.data_dir)
            .map_err(|source| PlatformError::Store { dir: config.data_dir.clone(), source })?;
        let dummy_hash =
            auth::hash_password(&auth::new_token("dummy_")).map_err(|e| PlatformError::Hash(e.to_string()))?;
        let state = Platform {
            config,
            store,
            login_failures: auth::FailureWindow::new(FAILED_LOGINS_PER_MINUTE as usize, Duration::from_secs(60)),
            outbox: Mutex::new(Vec::new()),
            stats: Mutex::new(RequestStats { total: 0, by_purpose: Default::default(), by_route: Default::default() }),
            dummy_hash,
        };
        Ok(App { state: Arc::new(state) })
    }

    /// The axum router of every route, with the error mapping, statistics, cookie and logging
    /// middleware.
    pub fn router(&self) -> Router {
        routes::router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` resolves, then flushes the store.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), PlatformError> {
        let app = self.router().into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
        self.state
            .store
            .flush()
            .map_err(|source| PlatformError::Store { dir: self.state.config.data_dir.clone(), source })?;
        Ok(())
    }
}
