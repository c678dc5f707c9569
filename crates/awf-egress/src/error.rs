//! What can go wrong between Studio and the platform.

use awf_core::CoreError;
use awf_platform_api::{ErrorBody, PlatformErrorCode, Purpose};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EgressError {
    /// The gate refused the request: its purpose has no consent. Nothing was sent.
    #[error("no consent for `{}`: the request was not sent", purpose.as_str())]
    ConsentRequired { purpose: Purpose },

    /// A plain `http://` address that is not loopback.
    #[error("`{url}` would send data unencrypted: only https:// is allowed, except to this computer")]
    InsecureAddress { url: String },

    #[error("`{url}` is not a usable platform address: {reason}")]
    InvalidAddress { url: String, reason: String },

    /// No answer: connection refused, DNS failure, timeout, TLS failure.
    #[error("the platform at {url} cannot be reached: {detail}")]
    Unreachable { url: String, detail: String },

    /// The platform answered with an error.
    #[error("the platform refused the request ({status}): {}", body.message)]
    Platform { status: u16, body: ErrorBody },

    /// The platform's answer does not match the contract.
    #[error("the platform's answer to {path} is not valid: {detail}")]
    BadResponse { path: String, detail: String },

    /// The call needs a signed-in session and there is none (or it can no longer be refreshed).
    #[error("you are not signed in to the platform")]
    NotSignedIn,

    #[error(transparent)]
    Core(#[from] CoreError),
}

impl EgressError {
    /// The platform's error code, when the platform answered with one.
    pub fn platform_code(&self) -> Option<PlatformErrorCode> {
        match self {
            EgressError::Platform { body, .. } => Some(body.code),
            _ => None,
        }
    }
}
