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
