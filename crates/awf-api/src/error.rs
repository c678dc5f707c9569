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
    /// The request's purpose has no consent: nothing was sent.
    ConsentRequired,
    /// A plain http:// platform address that is not this computer.
    InsecureAddress,
    /// The platform did not answer (offline, down, timeout).
    PlatformUnreachable,
    /// The platform failed or answered with an error Studio does not know.
    PlatformError,
    /// The platform's answer does not match the contract.
    BadResponse,
    /// The command needs a signed-in platform session.
    NotSignedIn,
    /// Wrong account or password.
    InvalidCredentials,
    /// Too many attempts; `retry_after_secs` says when to try again.
    RateLimited,
    /// The account name is taken.
    AccountExists,
    /// The phone belongs to another account.
    PhoneInUse,
    /// The SMS code is wrong or was not requested.
    SmsCodeInvalid,
    /// The SMS code has expired.
    SmsCodeExpired,
    /// Under 18: a guardian's attested consent is needed (§7).
    GuardianRequired,
    /// The accepted policy is not the one in force.
    PolicyOutdated,
    /// A file or document handed in (OpenAPI document, CSV, dataset, bundle) is not valid; the
    /// message says where (pointer, line, row and column) and why.
    InvalidFile,
    /// The account is being cancelled: the profile is locked until the platform confirms.
    AccountLocked,
}

impl ErrorCode {
    /// Every code, in declaration order (exported to TypeScript as `ERROR_CODES`).
    pub const ALL: [ErrorCode; 35] = [
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
        ErrorCode::ConsentRequired,
        ErrorCode::InsecureAddress,
        ErrorCode::PlatformUnreachable,
        ErrorCode::PlatformError,
        ErrorCode::BadResponse,
        ErrorCode::NotSignedIn,
        ErrorCode::InvalidCredentials,
        ErrorCode::RateLimited,
        ErrorCode::AccountExists,
        ErrorCode::PhoneInUse,
        ErrorCode::SmsCodeInvalid,
        ErrorCode::SmsCodeExpired,
        ErrorCode::GuardianRequired,
        ErrorCode::PolicyOutdated,
        ErrorCode::InvalidFile,
        ErrorCode::AccountLocked,
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
    /// With `rate_limited`: seconds until a retry can succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), hint: None, field: None, retry_after_secs: None }
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

impl From<awf_egress::EgressError> for ApiError {
    fn from(e: awf_egress::EgressError) -> Self {
        use awf_egress::EgressError as E;
        use awf_platform_api::PlatformErrorCode as P;
        use ErrorCode as C;
        let message = e.to_string();
        match e {
            E::ConsentRequired { .. } => ApiError::new(C::ConsentRequired, message)
                .hint("Give the consent this needs in the privacy settings (for your account: accept the privacy policy), then try again."),
            E::InsecureAddress { .. } => ApiError::new(C::InsecureAddress, message)
                .field("platform_url")
                .hint("Use the platform's https:// address; plain http:// is allowed only to 127.0.0.1 or localhost."),
            E::InvalidAddress { .. } => ApiError::new(C::InvalidInput, message)
                .field("platform_url")
                .hint("Enter an address such as https://platform.example.com or http://127.0.0.1:47800."),
            E::Unreachable { .. } => ApiError::new(C::PlatformUnreachable, message).hint(
                "Check your connection and the platform address in Settings. Local authoring keeps working; Studio reconnects by itself.",
            ),
            E::BadResponse { .. } => ApiError::new(C::BadResponse, message)
                .hint("The platform may be a different version than this app; nothing was changed here."),
            E::NotSignedIn => ApiError::new(C::NotSignedIn, message).hint("Log in to the platform and try again."),
            E::Core(core) => core.into(),
            E::Platform { status, body } => {
                let mut err = match body.code {
                    P::InvalidCredentials => ApiError::new(C::InvalidCredentials, "The account name (or phone) or the password is wrong.")
                        .hint("Check both and try again; after 5 failed attempts in a minute you must wait."),
                    P::RateLimited => {
                        let secs = body.retry_after_secs.unwrap_or(60);
                        let mut e = ApiError::new(C::RateLimited, body.message.clone())
                            .hint(format!("Too many attempts. Try again in {secs} seconds."));
                        e.retry_after_secs = Some(secs);
                        e
                    }
                    P::AccountExists => ApiError::new(C::AccountExists, body.message.clone()).hint("Choose another account name, or log in if it is yours."),
                    P::PhoneInUse => ApiError::new(C::PhoneInUse, body.message.clone()).hint("Log in with this phone instead, or use another phone."),
                    P::SmsCodeInvalid => ApiError::new(C::SmsCodeInvalid, body.message.clone()).hint("Enter the 6-digit code sent to your phone, or request a new one."),
                    P::SmsCodeExpired => ApiError::new(C::SmsCodeExpired, body.message.clone()).hint("Request a new code."),
                    P::GuardianRequired => ApiError::new(C::GuardianRequired, body.message.clone())
                        .hint("Users under 18 need a guardian's consent: enter the guardian's name and phone and have them confirm."),
                    P::PolicyOutdated => ApiError::new(C::PolicyOutdated, body.message.clone()).hint("Read and accept the current privacy policy, then try again."),
                    P::InvalidInput => ApiError::new(C::InvalidInput, body.message.clone()).hint("Correct the highlighted field."),
                    P::Unauthorized | P::TokenExpired => ApiError::new(C::NotSignedIn, body.message.clone()).hint("Log in again."),
                    P::ConsentRequired => ApiError::new(C::ConsentRequired, body.message.clone())
                        .hint("The platform holds no consent for this; give it in the privacy settings."),
                    P::NotFound => ApiError::new(C::NotFound, body.message.clone()),
                    P::PayloadTooLarge => ApiError::new(C::TooLarge, body.message.clone()),
                    P::Internal => ApiError::new(C::PlatformError, format!("The platform failed ({status}): {}", body.message))
                        .hint("Try again later; nothing was changed here."),
                    P::AttestationRequired => ApiError::new(C::ConsentRequired, body.message.clone())
                        .hint("This data holds personal information: confirm that the people concerned consented before it is synced."),
                    // The sync engine handles these itself; reaching a person they are the platform's refusal.
                    P::RevisionRequired
                    | P::IdempotencyKeyReused
                    | P::UploadOffsetMismatch
                    | P::DigestMismatch
                    | P::UploadIncomplete => {
                        ApiError::new(C::PlatformError, format!("The platform refused the request ({status}): {}", body.message))
                            .hint("Sync again; the change stays queued here.")
                    }
                };
                if err.field.is_none() {
                    err.field = body.field;
                }
                err
            }
            _ => ApiError::new(C::PlatformError, message),
        }
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
            ConsentRequired => 19,
            InsecureAddress => 20,
            PlatformUnreachable => 21,
            PlatformError => 22,
            BadResponse => 23,
            NotSignedIn => 24,
            InvalidCredentials => 25,
            RateLimited => 26,
            AccountExists => 27,
            PhoneInUse => 28,
            SmsCodeInvalid => 29,
            SmsCodeExpired => 30,
            GuardianRequired => 31,
            PolicyOutdated => 32,
            InvalidFile => 33,
            AccountLocked => 34,
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
