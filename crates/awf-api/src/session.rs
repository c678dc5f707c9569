//! [`Api`]: the open (or not yet open) profile behind every command. A profile that cannot be
//! opened at start-up (passphrase needed, no keyring service, in use elsewhere) leaves the API
//! answering `app_status` with the reason, so the UI can offer the way out instead of failing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use awf_core::profile::Probe;
use awf_core::{KeyVault, OpenOptions, OsKeyring, Profile, SecretString};

use crate::dto::AppStatus;
use crate::error::{ApiError, ErrorCode};

/// What the API needs to open a profile.
pub struct ApiConfig {
    pub data_dir: PathBuf,
    pub vault: Arc<dyn KeyVault>,
    /// Passphrase given up front (CLI `--passphrase-stdin`, `AWF_PASSPHRASE`).
    pub passphrase: Option<SecretString>,
}

impl ApiConfig {
    /// The OS keyring and the given data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ApiConfig { data_dir: data_dir.into(), vault: Arc::new(OsKeyring), passphrase: None }
    }
}

enum State {
    Open(Arc<Profile>),
    Closed(ApiError),
}

/// The command surface over one profile.
pub struct Api {
    data_dir: PathBuf,
    vault: Arc<dyn KeyVault>,
    state: RwLock<State>,
    /// The open profile's egress gate and platform client, built on first use.
    platform: Mutex<Option<Arc<awf_egress::PlatformClient>>>,
    /// What the last successful capabilities check said.
    platform_info: Mutex<Option<crate::dto::PlatformInfo>>,
    /// Device information is offered once per run.
    device_info_offered: Mutex<bool>,
    /// Progress of long commands (dataset imports).
    pub(crate) jobs: crate::library::Jobs,
    /// Dataset uploads the sync engine is running (progress, cancel).
    pub(crate) uploads: crate::uploads::Uploads,
    /// A completed account cancellation (its receipt), kept for the rest of the run.
    cancelled: Mutex<Option<crate::rights::CancellationStatus>>,
    /// One cancellation attempt at a time.
    cancel_turn: Mutex<()>,
    /// One sync pass at a time: "Sync now", the background worker and the CLI's loop would
    /// otherwise read the same outbox entries and send each change twice.
    pub(crate) sync_turn: Mutex<()>,
}

impl Api {
    /// Tries to open the profile; never fails: a profile that does not open is reported by
    /// [`Api::status`] and by `profile_not_open` errors from the other commands.
    pub fn open(config: ApiConfig) -> Api {
        let api = Api {
            data_dir: config.data_dir,
            vault: config.vault,
            state: RwLock::new(State::Closed(not_open())),
            platform: Mutex::new(None),
            platform_info: Mutex::new(None),
            device_info_offered: Mutex::new(false),
            jobs: Default::default(),
            uploads: Default::default(),
            cancelled: Mutex::new(None),
            cancel_turn: Mutex::new(()),
            sync_turn: Mutex::new(()),
        };
        let started = std::time::Instant::now();
        if api.try_open(config.passphrase).is_none() {
            // A performance sample (usage-analytics purpose: queued only with its consent).
            api.usage(
                "performance",
                serde_json::json!({ "name": "profile_open_ms", "value": started.elapsed().as_secs_f64() * 1000.0 }),
            );
        }
        api
    }

    fn try_open(&self, passphrase: Option<SecretString>) -> Option<ApiError> {
        let opts = OpenOptions::new(&self.data_dir).vault(self.vault.clone()).passphrase(passphrase);
        let next = match Profile::open(opts) {
            Ok(p) => {
                // Local retention applies from the first moment the profile is open.
                let _ = p.purge_expired(time::OffsetDateTime::now_utc());
                let p = Arc::new(p);
                // Panics become crash reports of this profile (kept only with that consent).
                awf_core::crash::watch(&p);
                State::Open(p)
            }
            Err(e) => State::Closed(e.into()),
        };
        let err = match &next {
            State::Open(_) => None,
            State::Closed(e) => Some(e.clone()),
        };
        *self.state.write().expect("api state lock") = next;
        err
    }

    /// The open profile, or the error that keeps it closed (`profile_locked`,
    /// `passphrase_required`, `keyring_unavailable`, …), so callers can act on the cause.
    pub fn profile(&self) -> Result<Arc<Profile>, ApiError> {
        match &*self.state.read().expect("api state lock") {
            State::Open(p) => Ok(p.clone()),
            State::Closed(reason) => Err(reason.clone()),
        }
    }

    pub(crate) fn platform_slot(&self) -> &Mutex<Option<Arc<awf_egress::PlatformClient>>> {
        &self.platform
    }

    pub(crate) fn device_info_offered(&self) -> &Mutex<bool> {
        &self.device_info_offered
    }

    pub(crate) fn platform_info_cache(&self) -> &Mutex<Option<crate::dto::PlatformInfo>> {
        &self.platform_info
    }

    pub(crate) fn cancelled_slot(&self) -> &Mutex<Option<crate::rights::CancellationStatus>> {
        &self.cancelled
    }

    pub(crate) fn cancel_turn(&self) -> &Mutex<()> {
        &self.cancel_turn
    }

    /// Takes the open profile out of the API, which then answers `reason` until `profile_retry`
    /// opens the data directory again; waits up to 10 s for commands still running on it.
    pub(crate) fn take_profile(&self, reason: ApiError) -> Result<Profile, ApiError> {
        let mut shared = {
            let mut state = self.state.write().expect("api state lock");
            match std::mem::replace(&mut *state, State::Closed(reason)) {
                State::Open(p) => p,
                State::Closed(e) => {
                    *state = State::Closed(e.clone());
                    return Err(e);
                }
            }
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match Arc::try_unwrap(shared) {
                Ok(p) => return Ok(p),
                Err(back) if std::time::Instant::now() < deadline => {
                    shared = back;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(back) => {
                    *self.state.write().expect("api state lock") = State::Open(back);
                    return Err(ApiError::new(ErrorCode::Internal, "The profile is still in use by a running task.")
                        .hint("Wait for running imports or exports to finish, then try again."));
                }
            }
        }
    }

    /// Where this API's profile lives.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Whether the profile is open, and why not.
    pub fn status(&self) -> AppStatus {
        let state = self.state.read().expect("api state lock");
        let (ready, key_mode, error) = match &*state {
            State::Open(p) => (true, Some(p.key_mode()), None),
            State::Closed(e) => (false, None, Some(e.clone())),
        };
        AppStatus {
            ready,
            data_dir: self.data_dir.display().to_string(),
            key_mode,
            profile_exists: !matches!(Profile::probe(&self.data_dir), Ok(Probe::Empty)),
            error,
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            schema_version: Profile::schema_version(),
        }
    }

    /// Opens a passphrase profile, or creates a new one protected by `passphrase`.
    pub fn unlock(&self, passphrase: SecretString) -> Result<AppStatus, ApiError> {
        if matches!(&*self.state.read().expect("api state lock"), State::Open(_)) {
            return Ok(self.status());
        }
        awf_core::keys::validate_passphrase(&passphrase)?;
        match self.try_open(Some(passphrase)) {
            None => Ok(self.status()),
            Some(e) => Err(e),
        }
    }

    /// Tries the keyring again (after the user started a Secret Service, say).
    pub fn retry(&self) -> AppStatus {
        if !matches!(&*self.state.read().expect("api state lock"), State::Open(_)) {
            self.try_open(None);
        }
        self.status()
    }

    /// Runs one command by name with JSON arguments.
    pub fn call(&self, command: &str, args: serde_json::Value) -> Result<serde_json::Value, ApiError> {
        if !crate::rights::ALLOWED_WHILE_LOCKED.contains(&command) && self.is_locked() {
            return Err(crate::rights::locked());
        }
        crate::commands::dispatch(self, command, args)
    }
}

fn not_open() -> ApiError {
    ApiError::new(ErrorCode::ProfileNotOpen, "The profile has not been opened yet.")
}
