//! HTTP plumbing shared by every route: the JSON extractor whose rejections are `ErrorBody`
//! answers, the caller's address and cookies, and the one middleware that validates and counts
//! the purpose header, logs the request line, and hands out the anonymous-identifier cookie.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use awf_platform_api::{PlatformErrorCode, Purpose, ANONYMOUS_ID_COOKIE, PURPOSE_HEADER};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::auth;
use crate::error::ApiError;
use crate::Platform;

/// `Json<T>` whose every rejection is an `ErrorBody`: 415 for a missing or wrong content type,
/// 413 for a body over the limit, 400 for malformed JSON, a body that is not a JSON object, or a
/// missing or mistyped field. Unknown fields are ignored.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = body_limit(req.uri().path());
        let mut value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_rejection(&rejection, limit)),
        };
        // serde also reads a struct from a JSON array of its fields in order; the contract's
        // bodies are objects, so anything else is refused here.
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                PlatformErrorCode::InvalidInput,
                "The body must be a JSON object.",
            ));
        }
        integral_floats_as_integers(&mut value);
        T::deserialize(value).map(ApiJson).map_err(|e| {
            let text = e.to_string();
            let mut err = ApiError::new(
                StatusCode::BAD_REQUEST,
                PlatformErrorCode::InvalidInput,
                format!("The body does not fit this request: {text}"),
            );
            if let Some(field) = missing_field(&text) {
                err = err.with_field(field);
            }
            err
        })
    }
}

/// In JSON (and JSON Schema) `7.0` is the integer 7, but serde's integer types refuse it: the
/// body's top-level numbers with no fraction become integers. Nested values (such as a
/// telemetry item's `data`, kept exactly as sent) are left alone.
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    let Some(object) = value.as_object_mut() else { return };
    for v in object.values_mut() {
        let Some(f) = v.as_f64().filter(|_| v.is_f64()) else { continue };
        if f.fract() != 0.0 {
            continue;
        }
        if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
            *v = serde_json::Value::from(f as u64);
        } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
            *v = serde_json::Value::from(f as i64);
        }
    }
}

/// The body limit of an item write: the item and its envelope.
pub(crate) const ITEM_BODY_LIMIT: usize = awf_platform_api::sync::MAX_ITEM_BODY_BYTES + 64 * 1024;
/// The body limit of a batch of item writes.
pub(crate) const BATCH_BODY_LIMIT: usize = awf_platform_api::sync::MAX_BATCH_BYTES + 64 * 1024;

/// The largest JSON body the route of `path` takes (the router's `DefaultBodyLimit` layers are
/// set from the same constants), so a 413 names the limit the request met.
pub(crate) fn body_limit(path: &str) -> usize {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", "requests"] => crate::MAX_REQUEST_BODY_BYTES,
        ["v1", "items", "batch"] => BATCH_BODY_LIMIT,
        ["v1", "items", _, _] => ITEM_BODY_LIMIT,
        _ => crate::MAX_BODY_BYTES,
    }
}

fn json_rejection(rejection: &JsonRejection, limit: usize) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            PlatformErrorCode::PayloadTooLarge,
            format!(
                "The body is larger than this request takes: at most {limit} bytes ({:.2} MiB).",
                limit as f64 / (1024.0 * 1024.0)
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PlatformErrorCode::InvalidInput,
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        _ => {
            let text = rejection.body_text();
            let mut e = ApiError::new(
                StatusCode::BAD_REQUEST,
                PlatformErrorCode::InvalidInput,
                format!("The body is not valid JSON for this request: {}", detail(&text)),
            );
            if let Some(field) = missing_field(&text) {
                e = e.with_field(field);
            }
            e
        }
    }
}

/// serde_json's message without axum's prefix.
fn detail(text: &str) -> &str {
    text.rsplit_once(": ").map_or(text, |(_, d)| d)
}

/// The field named by serde's "missing field `x`" message.
fn missing_field(text: &str) -> Option<String> {
    let rest = text.split_once("missing field `")?.1;
    Some(rest.split_once('`')?.0.to_string())
}

/// The caller's IP address, when the server knows it (not in router-only tests).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// The value of the cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// Appends a `Set-Cookie` header.
pub fn set_cookie(headers: &mut HeaderMap, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.append(header::SET_COOKIE, v);
    }
}

/// Validates and counts the purpose header, logs the request line, and sets the anonymous
/// identifier cookie on a caller that has none — except for `service_information` requests,
/// which by the contract carry no identifier, and the `/v1/dev/…` endpoints, which are not part
/// of the product. Requests to `/v1/dev/…` are not counted, so that reading the stats does not
/// change them.
pub async fn middleware(State(state): State<Arc<Platform>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let is_dev = path.starts_with("/v1/dev/");
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let purpose_header = req.headers().get(PURPOSE_HEADER).map(|v| v.to_str().ok().and_then(Purpose::parse));
    let had_anon = cookie(req.headers(), ANONYMOUS_ID_COOKIE).is_some();

    if !is_dev {
        let mut stats = state.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.total += 1;
        // Unknown values are counted together as `invalid`, so a stream of junk headers cannot
        // grow the table without bound.
        let purpose = match purpose_header {
            None => "none",
            Some(Some(p)) => p.as_str(),
            Some(None) => "invalid",
        };
        *stats.by_purpose.entry(purpose.to_string()).or_default() += 1;
        let route = format!("{method} {}", route.as_deref().unwrap_or("(no route)"));
        *stats.by_route.entry(route).or_default() += 1;
    }

    let mut response = match purpose_header {
        Some(None) => ApiError::invalid(
            PURPOSE_HEADER,
            "Unknown purpose: the header must name one of the contract's purposes (e.g. account_operation).",
        )
        .into_response(),
        _ => next.run(req).await,
    };

    let service_information = matches!(purpose_header, Some(Some(Purpose::ServiceInformation)));
    if !had_anon && !service_information && !is_dev {
        let id = auth::new_token("");
        set_cookie(
            response.headers_mut(),
            &format!("{ANONYMOUS_ID_COOKIE}={id}; Max-Age=31536000; Path=/; HttpOnly; SameSite=Lax"),
        );
    }

    // Method, path (no query string: it may hold a phone) and status only.
    eprintln!("{method} {path} {} {}ms", response.status().as_u16(), started.elapsed().as_millis());
    response
}

/// Unknown route.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Known route, wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, PlatformErrorCode::InvalidInput, "This method is not allowed here.")
}

/// A handler panicked: answer 500 `ErrorBody` instead of dropping the connection.
pub fn panic_response(_err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    eprintln!("awf-platform: a handler panicked");
    ApiError::internal().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_several() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; awf_anon=xyz"));
        h.append(header::COOKIE, HeaderValue::from_static("awf_session=s1"));
        assert_eq!(cookie(&h, "awf_anon").as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "awf_session").as_deref(), Some("s1"));
        assert_eq!(cookie(&h, "awf"), None);
    }

    #[test]
    fn top_level_integral_floats_are_integers() {
        let mut v = serde_json::json!({ "a": 7.0, "b": 7.5, "c": -3.0, "d": 1e300, "e": "7.0", "f": { "g": 1.0 } });
        integral_floats_as_integers(&mut v);
        assert_eq!(v["a"], serde_json::json!(7u64));
        assert!(v["a"].is_u64() && v["c"].is_i64());
        assert!(v["b"].is_f64() && v["d"].is_f64() && v["f"]["g"].is_f64());
        assert_eq!(v["e"], "7.0");
    }

    #[test]
    fn missing_field_is_named() {
        assert_eq!(
            missing_field("Failed to deserialize: missing field `phone` at line 1 column 2").as_deref(),
            Some("phone")
        );
        assert_eq!(missing_field("expected value"), None);
    }
}
