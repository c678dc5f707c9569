//! The core's error type. Each variant carries what a person needs to act on it; the command
//! surface maps every variant to one closed error code.

use std::path::PathBuf;

/// Result alias used across the core.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    #[error("{kind} `{id}` was not found")]
    NotFound { kind: &'static str, id: String },

    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },

    #[error("{field} is too large: {actual} bytes, the limit is {limit} bytes")]
    TooLarge { field: String, limit: usize, actual: usize },

    #[error("the agent changed since you loaded it (you had version {expected}, the store has {actual})")]
    Conflict { expected: u32, actual: u32 },

    #[error("the profile at {path} is in use by another AiWellFlow Studio process{}", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    ProfileLocked { path: PathBuf, pid: Option<u32> },

    #[error("no OS keyring is available to hold the store key: {detail}")]
    KeyringUnavailable { detail: String },

    #[error("the store key for this profile is missing from the OS keyring")]
    KeyMissing,

    #[error("this profile is protected by a passphrase")]
    PassphraseRequired,

    #[error("the passphrase does not unlock this profile")]
    WrongPassphrase,

    #[error("the store was written by a newer version (schema {found}; this build reads up to {supported})")]
    SchemaTooNew { found: u32, supported: u32 },

    #[error("the store is damaged: {detail}")]
    Corrupt { detail: String },

    #[error("the data directory {path} is read-only")]
    ReadOnly { path: PathBuf },

    #[error("the disk holding {path} is full")]
    DiskFull { path: PathBuf },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl CoreError {
    /// Builds an [`CoreError::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::Invalid { field: field.into(), reason: reason.into() }
    }

    /// Classifies an I/O error on `path`, so that a full disk or a read-only directory is
    /// reported as such rather than as an opaque OS message.
    pub fn io(context: impl Into<String>, path: &std::path::Path, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
                CoreError::ReadOnly { path: path.to_path_buf() }
            }
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                CoreError::DiskFull { path: path.to_path_buf() }
            }
            _ => CoreError::Io { context: context.into(), source },
        }
    }

    pub(crate) fn from_sled(path: &std::path::Path, err: sled::Error) -> Self {
        match err {
            sled::Error::Io(e) => CoreError::io("store I/O", path, e),
            sled::Error::Corruption { at, .. } => {
                CoreError::Corrupt { detail: format!("sled reports corruption at {at:?}") }
            }
            other => CoreError::Corrupt { detail: other.to_string() },
        }
    }
}
