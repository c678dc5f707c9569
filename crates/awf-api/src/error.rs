//! The one error shape at the boundary: `{code, message, hint, field}`. The UI branches on
//! `code`, never on `message`.

use awf_core::CoreError;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every error a command can return. Closed: adding a code is an API change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request names no known command.
    UnknownCommand,
    /// The request body is not valid JSON for the command.
    BadRequest,
    /// The HTTP bridge was called without its per-run token.
    Unauthorized,
    NotFound,
    InvalidInput,
    TooLarge,
    Conflict,
    ProfileLocked,
    ProfileNotOpen,
    KeyringUnavailable,
    KeyMissing,
    PassphraseRequired,
    WrongPassphrase,
    SchemaTooNew,
    StoreCorrupt,
    ReadOnly,
    DiskFull,
    Io,
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order (exported to TypeScript as `ERROR_CODES`).
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::UnknownCommand,
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::NotFound,
        ErrorCode::InvalidInput,
        ErrorCode::TooLarge,
        ErrorCode::Conflict,
        ErrorCode::ProfileLocked,
        ErrorCode::ProfileNotOpen,
        ErrorCode::KeyringUnavailable,
        ErrorCode::KeyMissing,
        ErrorCode::PassphraseRequired,
        ErrorCode::WrongPassphrase,
        ErrorCode::SchemaTooNew,
        ErrorCode::StoreCorrupt,
        ErrorCode::ReadOnly,
        ErrorCode::DiskFull,
        ErrorCode::Io,
        ErrorCode::Internal,
    ];

    /// The code's wire name (`not_found`, …).
    pub fn as_str(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).expect("codes serialise as strings")
    }
}

/// An error as every front end receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    /// What happened, in a sentence.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The input field at fault, as a path (`model.temperature`, `variables[2].name`).
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), hint: None, field: None }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// What to install or do when no keyring service answers, per OS.
pub fn keyring_hint() -> &'static str {
    if cfg!(target_os = "linux") {
        "Install and unlock a Secret Service provider (Debian/Ubuntu: `sudo apt install gnome-keyring`, then log in to a desktop session; KDE: KWallet), or protect this profile with a passphrase instead (`--passphrase-stdin`, or the passphrase form in the app)."
    } else if cfg!(target_os = "macos") {
        "Unlock the login keychain (Keychain Access), or protect this profile with a passphrase instead."
    } else {
        "Make sure Windows Credential Manager is available for your user, or protect this profile with a passphrase instead."
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        use ErrorCode as C;
        let message = e.to_string();
        match e {
            CoreError::NotFound { .. } => ApiError::new(C::NotFound, message).hint("It may have been deleted; refresh the list."),
            CoreError::Invalid { field, .. } => ApiError::new(C::InvalidInput, message).field(field).hint("Correct the highlighted field; nothing was saved."),
            CoreError::TooLarge { field, .. } => ApiError::new(C::TooLarge, message).field(field).hint("Shorten it, or move long reference text into a dataset; nothing was saved."),
            CoreError::Conflict { .. } => ApiError::new(C::Conflict, message).hint("Reload the agent to see the newer version, then apply your change again."),
            CoreError::ProfileLocked { .. } => ApiError::new(C::ProfileLocked, message).hint("Close the other AiWellFlow Studio window or `awf` command using this profile, or choose another profile with --data-dir / AWF_DATA_DIR."),
            CoreError::KeyringUnavailable { .. } => ApiError::new(C::KeyringUnavailable, message).hint(keyring_hint()),
            CoreError::KeyMissing => ApiError::new(C::KeyMissing, message).hint("The store cannot be decrypted without its key. If you restored the data directory from another machine, restore its keyring too; otherwise start a new profile in an empty directory."),
            CoreError::PassphraseRequired => ApiError::new(C::PassphraseRequired, message).hint("Enter the profile's passphrase (`--passphrase-stdin` or AWF_PASSPHRASE for the CLI)."),
            CoreError::WrongPassphrase => ApiError::new(C::WrongPassphrase, message).hint("Check the passphrase and try again."),
            CoreError::SchemaTooNew { .. } => ApiError::new(C::SchemaTooNew, message).hint("Update AiWellFlow Studio to the latest version."),
            CoreError::Corrupt { .. } => ApiError::new(C::StoreCorrupt, message).hint("Restore the data directory from a backup or export; Studio has not changed it."),
            CoreError::ReadOnly { .. } => ApiError::new(C::ReadOnly, message).hint("Make the data directory writable, or choose another one with --data-dir; nothing was saved."),
            CoreError::DiskFull { .. } => ApiError::new(C::DiskFull, message).hint("Free some disk space and save again; what was saved before is intact."),
            CoreError::Io { .. } => ApiError::new(C::Io, message).hint("Check the data directory's permissions and disk."),
            _ => ApiError::new(C::Internal, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// Adding a variant breaks this exhaustive match, which points here and to `ALL`.
    fn position(code: ErrorCode) -> usize {
        use ErrorCode::*;
        match code {
            UnknownCommand => 0,
            BadRequest => 1,
            Unauthorized => 2,
            NotFound => 3,
            InvalidInput => 4,
            TooLarge => 5,
            Conflict => 6,
            ProfileLocked => 7,
            ProfileNotOpen => 8,
            KeyringUnavailable => 9,
            KeyMissing => 10,
            PassphraseRequired => 11,
            WrongPassphrase => 12,
            SchemaTooNew => 13,
            StoreCorrupt => 14,
            ReadOnly => 15,
            DiskFull => 16,
            Io => 17,
            Internal => 18,
        }
    }

    #[test]
    fn all_lists_every_code_once_in_order() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(position(*c), i, "{c:?}");
        }
        let names: std::collections::HashSet<String> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
