//! Errors: [`ApiError`] is what a handler returns — an HTTP status with an [`ErrorBody`] — and
//! [`StoreError`] is what the storage layer fails with. Every failure reaches the client as
//! `ErrorBody` JSON; internal details go to the log, never to the client.

use awf_platform_api::{ErrorBody, PlatformErrorCode};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The storage layer failed (sled I/O, or a stored value that no longer decodes).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    #[error("stored value does not decode: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    /// A sealed record that does not open (its account's key is gone, or the bytes were
    /// altered or moved), or a key file that cannot be used.
    #[error("sealed record: {0}")]
    Sealed(String),
}

/// An error answer: status, body and (for 429) the `Retry-After` seconds.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: PlatformErrorCode, message: impl Into<String>) -> Self {
        ApiError { status, body: ErrorBody { code, message: message.into(), field: None, retry_after_secs: None } }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.body.field = Some(field.into());
        self
    }

    /// 400 `invalid_input` naming the field at fault.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput, message).with_field(field)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            PlatformErrorCode::Unauthorized,
            "Sign in first: no valid credentials were sent.",
        )
    }

    pub fn token_expired() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            PlatformErrorCode::TokenExpired,
            "The token has expired: refresh it or sign in again.",
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, PlatformErrorCode::NotFound, "No such resource.")
    }

    pub fn rate_limited(retry_after_secs: u64, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, PlatformErrorCode::RateLimited, message);
        e.body.retry_after_secs = Some(retry_after_secs.max(1));
        e
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            PlatformErrorCode::Internal,
            "The platform failed; try again later.",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        // The cause goes to the operator's log; the client gets the closed code only.
        eprintln!("awf-platform: storage error: {e}");
        ApiError::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.body.retry_after_secs;
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(secs) = retry {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
