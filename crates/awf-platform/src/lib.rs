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
mod keys;
mod policy;
mod privacy;
mod rights;
mod routes;
mod store;
mod sync;
mod sync_store;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use awf_platform_api::{PolicyDocument, PublishPolicy, Region, RequestStats, SmsMessage};
use axum::Router;

pub use error::StoreError;
pub use policy::{MAX_CHANGES, MAX_CHANGE_CHARS, MAX_POLICY_TEXT_BYTES};
pub use rights::{ADMIN_TOKEN_FILE, MAX_REQUEST_BODY_BYTES, SIGNING_KEY_FILE};

/// Seconds between two SMS codes to one phone.
pub const SMS_RESEND_SECS: u64 = 30;
/// Failed log-ins allowed per login name and per client address per minute.
pub const FAILED_LOGINS_PER_MINUTE: u32 = 5;
/// Wrong codes after which an SMS code is void.
pub const SMS_MAX_ATTEMPTS: u32 = 5;
/// The largest request body accepted (413 above).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The shipped policy version (version 1), and its texts: in force until another is published
/// (`POST /v1/dev/policy`, or `awf-platform publish-policy`).
pub const POLICY_VERSION: u32 = 1;
pub const POLICY_PUBLISHED_AT: &str = "2026-01-01T00:00:00Z";
pub const POLICY_ZH_CN: &str = include_str!("../../../assets/policy/v1/zh-CN.txt");
pub const POLICY_EN: &str = include_str!("../../../assets/policy/v1/en.txt");
/// Days the platform keeps a telemetry item (of any telemetry purpose) after receiving it.
pub const TELEMETRY_RETENTION_DAYS: i64 = 90;
/// The most items in one telemetry batch.
pub const MAX_TELEMETRY_BATCH: usize = 500;
/// The largest `data` of one telemetry item, serialised (413 above).
pub const MAX_TELEMETRY_DATA_BYTES: usize = 64 * 1024;

/// The platform's clock (unix seconds); a parameter so that unit tests can move time.
pub(crate) type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

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
    /// Now, in unix seconds (the retention purge reads it).
    pub clock: Clock,
    /// Signs deletion receipts.
    pub signer: rights::ReceiptSigner,
    /// SHA-256 (hex) of the admin token (`<data dir>/admin-token`).
    pub admin_token_hash: String,
    /// Held through a cancellation, so that a retry waits for its first attempt's answer.
    pub cancelling: tokio::sync::Mutex<()>,
}

impl Platform {
    pub fn now(&self) -> i64 {
        (self.clock)()
    }
}

/// The server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("cannot open the store in {dir}: {source}")]
    Store { dir: PathBuf, source: StoreError },
    #[error("cannot read or create {path}: {source}")]
    KeyFile { path: PathBuf, source: std::io::Error },
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
        Self::open_with_clock(config, Arc::new(|| time::OffsetDateTime::now_utc().unix_timestamp()))
    }

    pub(crate) fn open_with_clock(config: PlatformConfig, clock: Clock) -> Result<App, PlatformError> {
        let store = store::Store::open(&config.data_dir)
            .map_err(|source| PlatformError::Store { dir: config.data_dir.clone(), source })?;
        let dummy_hash =
            auth::hash_password(&auth::new_token("dummy_")).map_err(|e| PlatformError::Hash(e.to_string()))?;
        let signer = rights::ReceiptSigner::load_or_create(&config.data_dir)
            .map_err(|source| PlatformError::KeyFile { path: config.data_dir.join(SIGNING_KEY_FILE), source })?;
        let admin_token_hash = rights::load_or_create_admin_token(&config.data_dir)
            .map_err(|source| PlatformError::KeyFile { path: config.data_dir.join(ADMIN_TOKEN_FILE), source })?;
        let state = Platform {
            config,
            store,
            login_failures: auth::FailureWindow::new(FAILED_LOGINS_PER_MINUTE as usize, Duration::from_secs(60)),
            outbox: Mutex::new(Vec::new()),
            stats: Mutex::new(RequestStats { total: 0, by_purpose: Default::default(), by_route: Default::default() }),
            dummy_hash,
            clock,
            signer,
            admin_token_hash,
            cancelling: tokio::sync::Mutex::new(()),
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

/// Reading what a stopped platform stores (for tools and tests): the accounts' content is sealed
/// with their keys (`<data dir>/account-keys/`, see `keys.rs`), and upload files are encrypted.
pub mod sealed {
    use std::path::Path;

    use crate::keys::{self, KeyStore};
    pub use crate::keys::{is_sealed, KEY_DIR};
    use crate::StoreError;

    /// Opens a value stored under `key` in `tree` for `account` with the account's key file(s)
    /// in `data_dir` (a legacy plaintext value is returned as it is). Fails when the account has
    /// no key that opens it (its key was destroyed, or the value belongs to another account,
    /// tree or key).
    pub fn open(data_dir: &Path, account: &str, tree: &str, key: &[u8], value: &[u8]) -> Result<Vec<u8>, StoreError> {
        keys::open(&KeyStore::open(data_dir)?.keys(account)?, tree, key, value)
    }

    /// Decrypts the bytes of an upload file in place, with the `file_nonce` of its (opened)
    /// upload record.
    pub fn decrypt_upload_file(
        data_dir: &Path,
        account: &str,
        file_nonce: &str,
        bytes: &mut [u8],
    ) -> Result<(), StoreError> {
        let key = KeyStore::open(data_dir)?
            .sealing_key(account)?
            .ok_or_else(|| StoreError::Sealed(format!("{account} has no key")))?;
        keys::apply(&mut keys::file_cipher(&key, file_nonce, 0)?, bytes);
        Ok(())
    }
}

/// `awf-platform publish-policy` could not publish.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "the store in {0} is in use, most likely by a running platform: stop the platform and publish again \
         (a platform in development mode also takes new versions by POST /v1/dev/policy)"
    )]
    Locked(PathBuf),
    #[error("no platform store in {0} (expected {0}/store): pass the --data-dir of an existing platform")]
    NoStore(PathBuf),
    #[error("cannot open the store in {dir}: {source}")]
    Store { dir: PathBuf, source: StoreError },
    /// Refused by the rules of a publication: `field: message` (or the message alone).
    #[error("refused: {0}")]
    Invalid(String),
}

/// Publishes a policy version into the store of a platform that is not running (the store is
/// locked to one process). The rules are those of `POST /v1/dev/policy`; `published_at` is now.
pub fn publish_policy(data_dir: &Path, req: &PublishPolicy) -> Result<PolicyDocument, PublishError> {
    if !data_dir.join("store").is_dir() {
        return Err(PublishError::NoStore(data_dir.to_path_buf()));
    }
    let store = store::Store::open(data_dir).map_err(|source| match &source {
        StoreError::Sled(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
            PublishError::Locked(data_dir.to_path_buf())
        }
        _ => PublishError::Store { dir: data_dir.to_path_buf(), source },
    })?;
    let now = routes::rfc3339(time::OffsetDateTime::now_utc());
    let document = policy::publish(&store, req, now).map_err(|e| {
        PublishError::Invalid(match e.body.field {
            Some(field) => format!("{field}: {}", e.body.message),
            None => e.body.message,
        })
    })?;
    store.flush().map_err(|source| PublishError::Store { dir: data_dir.to_path_buf(), source })?;
    Ok(document)
}

#[cfg(test)]
mod tests {
    //! The retention purge through the real router, with the platform's clock moved by the test.

    use std::sync::atomic::{AtomicI64, Ordering};

    use awf_platform_api::Purpose;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use serde_json::{json, Value};
    use tower::ServiceExt;

    use super::*;

    async fn call(
        router: &Router,
        method: &str,
        path: &str,
        token: Option<&str>,
        purpose: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path).header("x-awf-purpose", purpose);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(b) => {
                request = request.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&b).unwrap())
            }
            None => Body::empty(),
        };
        let response = router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn count(data: &Value, category: &str) -> u64 {
        let categories = data["categories"].as_array().unwrap();
        categories.iter().find(|c| c["category"] == category).unwrap()["count"].as_u64().unwrap()
    }

    #[tokio::test]
    async fn telemetry_is_purged_after_the_retention_period() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = PlatformConfig::new(dir.path().to_path_buf());
        config.dev = true;
        let start = time::OffsetDateTime::now_utc().unix_timestamp();
        let now = Arc::new(AtomicI64::new(start));
        let clock = now.clone();
        let app = App::open_with_clock(config, Arc::new(move || clock.load(Ordering::SeqCst))).unwrap();
        let router = app.router();

        let op = "account_operation";
        let (status, _) =
            call(&router, "POST", "/v1/auth/sms-code", None, op, Some(json!({ "phone": "+8613700000001" }))).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let code = app.state.outbox.lock().unwrap().last().unwrap().code.clone();
        let register = json!({
            "account_name": "retention", "phone": "+8613700000001", "password": "long enough password",
            "sms_code": code, "date_of_birth": "1990-01-01", "policy_version": 1,
        });
        let (status, grant) = call(&router, "POST", "/v1/auth/register", None, op, Some(register)).await;
        assert_eq!(status, StatusCode::CREATED);
        let token = grant["tokens"]["access_token"].as_str().unwrap().to_string();
        let token = Some(token.as_str());

        let receipt = json!({
            "receipt_id": "r1", "purpose": "usage_analytics", "granted": true, "at": "2026-01-01T00:00:00Z",
            "policy_version": 1, "method": "test", "ledger_seq": 1, "ledger_hash": "0".repeat(64),
        });
        assert_eq!(call(&router, "POST", "/v1/consents", token, op, Some(receipt)).await.0, StatusCode::CREATED);
        let ua = "usage_analytics";
        let batch = |id: &str| json!({ "events": [{ "id": id, "kind": "k", "at": "", "data": {} }] });
        let (status, ack) = call(&router, "POST", "/v1/telemetry/usage_analytics", token, ua, Some(batch("old"))).await;
        assert_eq!((status, ack["accepted"].as_u64()), (StatusCode::ACCEPTED, Some(1)));

        // 89 days later: still held; a second item arrives.
        now.store(start + 89 * 86_400, Ordering::SeqCst);
        let (_, data) = call(&router, "GET", "/v1/account/data", token, op, None).await;
        assert_eq!(count(&data, "telemetry:usage_analytics"), 1);
        call(&router, "POST", "/v1/telemetry/usage_analytics", token, ua, Some(batch("new"))).await;
        let (_, data) = call(&router, "GET", "/v1/account/data", token, op, None).await;
        assert_eq!(count(&data, "telemetry:usage_analytics"), 2);

        // 90 days after the first: the first is gone when the data is read, the second stays.
        now.store(start + TELEMETRY_RETENTION_DAYS * 86_400 + 1, Ordering::SeqCst);
        let (_, data) = call(&router, "GET", "/v1/account/data", token, op, None).await;
        assert_eq!(count(&data, "telemetry:usage_analytics"), 1);
        let left = app.state.store.delete_telemetry("", Purpose::UsageAnalytics).unwrap();
        assert_eq!(left, 0, "keys are per account");

        // And on ingest: 90 days after the second, it is purged before the new batch is stored.
        now.store(start + (89 + TELEMETRY_RETENTION_DAYS) * 86_400 + 1, Ordering::SeqCst);
        call(&router, "POST", "/v1/telemetry/usage_analytics", token, ua, Some(batch("newest"))).await;
        let account = grant["account"]["account_id"].as_str().unwrap();
        let ids: Vec<_> = app
            .state
            .store
            .telemetry(account, Purpose::UsageAnalytics)
            .unwrap()
            .into_iter()
            .map(|e| e.event.id)
            .collect();
        assert_eq!(ids, ["newest"]);
    }
}
