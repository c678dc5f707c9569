//! The loopback HTTP bridge: the same command surface as the desktop app's IPC, served on
//! `127.0.0.1` with a random per-run token, plus the built web UI. Browser end-to-end tests
//! and web mode use it.
//!
//! Security boundary: it binds only to 127.0.0.1; every `/api/*` call must carry
//! `Authorization: Bearer <token>`; the `Host` header must name the bridge itself (no DNS
//! rebinding); responses carry a strict CSP. `POST /api/{command}` with a JSON body returns the
//! command's JSON response, or an `ApiError` with a matching HTTP status.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use awf_api::{Api, ApiError, ErrorCode};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

/// Largest request body accepted; larger bodies get a coded `too_large` error.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The CSP sent with every response: no inline or remote scripts, no eval.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

#[derive(Clone)]
struct BridgeState {
    api: Arc<Api>,
    token: Arc<String>,
    port: u16,
}

/// A running bridge.
pub struct Bridge {
    pub addr: SocketAddr,
    /// The per-run token. Printed once for the browser; never logged elsewhere.
    pub token: String,
}

impl Bridge {
    /// The URL to open: the token travels in the fragment, which browsers never send to servers.
    pub fn url(&self) -> String {
        format!("http://{}/#token={}", self.addr, self.token)
    }
}

fn new_token() -> String {
    use rand::RngCore;
    let mut t = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut t);
    hex::encode(t)
}

/// Binds `127.0.0.1:port` (0 for any free port) and returns the bridge and the server future.
pub async fn bind(
    api: Arc<Api>,
    ui_dir: Option<PathBuf>,
    port: u16,
) -> std::io::Result<(Bridge, impl std::future::Future<Output = std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let token = new_token();
    // A cancellation asked offline completes on its own once the platform answers.
    awf_api::rights::spawn_background(&api, std::time::Duration::from_secs(5));
    let state = BridgeState { api, token: Arc::new(token.clone()), port: addr.port() };
    let mut router = Router::new().route("/api/{command}", post(call)).with_state(state.clone());
    if let Some(dir) = ui_dir {
        let index = dir.join("index.html");
        router = router.fallback_service(
            tower_http::services::ServeDir::new(dir).fallback(tower_http::services::ServeFile::new(index)),
        );
    }
    let router = router.layer(axum::middleware::from_fn_with_state(state, guard));
    let server = async move { axum::serve(listener, router).await };
    Ok((Bridge { addr, token }, server))
}

fn error_response(status: StatusCode, err: ApiError) -> Response {
    (status, axum::Json(err)).into_response()
}

/// HTTP status for an error code.
pub fn status_for(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::UnknownCommand | C::NotFound => StatusCode::NOT_FOUND,
        C::BadRequest => StatusCode::BAD_REQUEST,
        C::Unauthorized => StatusCode::UNAUTHORIZED,
        C::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        C::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::Conflict | C::AccountExists | C::PhoneInUse | C::PolicyOutdated => StatusCode::CONFLICT,
        C::ConsentRequired => StatusCode::FORBIDDEN,
        C::NotSignedIn | C::InvalidCredentials => StatusCode::UNAUTHORIZED,
        C::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        C::InsecureAddress | C::SmsCodeInvalid | C::SmsCodeExpired | C::GuardianRequired | C::InvalidFile => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        C::PlatformUnreachable | C::PlatformError | C::BadResponse => StatusCode::BAD_GATEWAY,
        C::ProfileLocked
        | C::ProfileNotOpen
        | C::PassphraseRequired
        | C::WrongPassphrase
        | C::KeyMissing
        | C::AccountLocked => StatusCode::LOCKED,
        C::KeyringUnavailable | C::ReadOnly | C::DiskFull => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Host check and security headers for every request.
async fn guard(State(s): State<BridgeState>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host_ok = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h == format!("127.0.0.1:{}", s.port) || h == format!("localhost:{}", s.port));
    let mut resp = if host_ok {
        next.run(req).await
    } else {
        error_response(
            StatusCode::MISDIRECTED_REQUEST,
            ApiError::new(ErrorCode::Unauthorized, "The bridge answers only requests addressed to 127.0.0.1.")
                .hint("Open the URL the bridge printed."),
        )
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn authorised(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    // Constant-time comparison.
    given.len() == token.len() && given.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

async fn call(State(s): State<BridgeState>, Path(command): Path<String>, headers: HeaderMap, body: Body) -> Response {
    if !authorised(&headers, &s.token) {
        return error_response(
            StatusCode::UNAUTHORIZED,
            ApiError::new(ErrorCode::Unauthorized, "Missing or wrong bridge token.")
                .hint("Open the URL the bridge printed, including its #token part."),
        );
    }
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiError::new(ErrorCode::TooLarge, format!("The request is larger than {MAX_BODY_BYTES} bytes."))
                    .hint("Send less data in one request."),
            )
        }
    };
    let args = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ApiError::new(ErrorCode::BadRequest, format!("The request body is not valid JSON: {e}"))
                        .hint("Send a JSON body matching the command's request type."),
                )
            }
        }
    };
    let api = s.api.clone();
    let result = tokio::task::spawn_blocking(move || api.call(&command, args)).await;
    match result {
        Ok(Ok(value)) => axum::Json(value).into_response(),
        Ok(Err(e)) => error_response(status_for(e.code), e),
        Err(_) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::new(ErrorCode::Internal, "The command panicked."),
        ),
    }
}
