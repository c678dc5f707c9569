//! Profile settings kept in the store (sealed like everything else).

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::storage::{Batch, Storage, Tree};

const SETTINGS_KEY: &[u8] = b"settings";

/// User settings of a profile. Absent fields take their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Settings {
    /// The platform address chosen by the user; `None` means the build's default.
    #[serde(default)]
    pub platform_url: Option<String>,
    /// Keep no platform cookies (§2: refuse cookies). Log-in keeps working by token.
    #[serde(default)]
    pub refuse_cookies: bool,
    /// Local retention, in days, of the transmission log and the telemetry queue.
    #[serde(default)]
    pub retention: Retention,
}

/// How long local records are kept (D5). Purged at start and at every platform check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Retention {
    pub transmission_log_days: u32,
    pub telemetry_queue_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { transmission_log_days: 90, telemetry_queue_days: 30 }
    }
}

/// Reads the settings (defaults when none were saved).
pub(crate) fn load(s: &Storage) -> Result<Settings> {
    match s.get(Tree::Meta, SETTINGS_KEY)? {
        None => Ok(Settings::default()),
        Some(v) => serde_json::from_slice(&v).map_err(|e| CoreError::Corrupt { detail: format!("settings: {e}") }),
    }
}

/// Saves the settings durably.
pub(crate) fn save(s: &Storage, settings: &Settings) -> Result<()> {
    let mut b = Batch::default();
    b.put(Tree::Meta, SETTINGS_KEY, serde_json::to_vec(settings).expect("settings serialise"));
    s.commit(b)
}
