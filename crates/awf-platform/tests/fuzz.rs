//! Fuzzing the request bodies: random bytes, random text and random JSON shaped like each
//! route's body go to every route that takes one, through the real router (in process, with
//! `tower::ServiceExt::oneshot`). Whatever arrives, the answer is a client error or a success,
//! never a 5xx or a panic, and every error is an `ErrorBody`. Requests to authenticated routes
//! carry, at random, the token of an account registered at the start (which has granted
//! `usage_analytics`, so that telemetry bodies get past the consent check and are validated).

use awf_platform::{App, PlatformConfig};
use awf_platform_api::ErrorBody;
use axum::body::Body;
use axum::http::{Method, Request};
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;

/// The routes with bodies, and the fields their bodies have.
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("POST", "/v1/auth/sms-code", &["phone"]),
    (
        "POST",
        "/v1/auth/register",
        &["account_name", "phone", "password", "sms_code", "date_of_birth", "guardian", "policy_version"],
    ),
    ("POST", "/v1/auth/login", &["login", "password"]),
    ("POST", "/v1/auth/refresh", &["refresh_token"]),
    ("POST", "/v1/auth/logout", &[]),
    ("PATCH", "/v1/account/profile", &["account_name", "display_name", "email", "organisation"]),
    (
        "POST",
        "/v1/consents",
        &["receipt_id", "purpose", "granted", "at", "policy_version", "method", "ledger_seq", "ledger_hash"],
    ),
    ("POST", "/v1/telemetry/usage_analytics", &["events"]),
    ("POST", "/v1/requests", &["category", "text", "attachments"]),
    // The account's password is not guessable: these are refusals (401, 422, 429), never a
    // cancellation of the account the other cases use.
    ("POST", "/v1/account/cancel", &["password", "account_name"]),
    ("POST", "/v1/admin/requests/req_unknown/answer", &["text", "close"]),
];

/// The fields of one telemetry item (inside `events`).
const EVENT_FIELDS: &[&str] = &["id", "kind", "at", "data"];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
        "[a-z_]{1,12}".prop_map(Value::from),
        "[0-9]{0,8}".prop_map(Value::from),
        "\\+?[0-9]{5,16}".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,40})?Z?".prop_map(Value::from),
        "[0-9a-fA-F]{62,66}".prop_map(Value::from),
        prop::sample::select(&["usage_analytics", "marketing", "service_information", "research", "nope"][..])
            .prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with `fields` holding `values` (some dropped); `events` holds telemetry items.
fn shaped_object(fields: &'static [&'static str]) -> BoxedStrategy<Value> {
    let value = |field: &str| -> BoxedStrategy<Value> {
        if field == "events" {
            prop_oneof![
                3 => prop::collection::vec(shaped_object(EVENT_FIELDS), 0..5).prop_map(Value::from),
                1 => json_value(),
            ]
            .boxed()
        } else {
            json_value().boxed()
        }
    };
    // Mostly complete objects, so that bodies get past "missing field" to the field rules.
    let values: Vec<_> = fields.iter().map(|f| (prop::bool::weighted(0.85), value(f))).collect();
    values
        .prop_map(move |values| {
            let mut object = serde_json::Map::new();
            for (field, (keep, value)) in fields.iter().zip(values) {
                if keep {
                    object.insert((*field).to_string(), value);
                }
            }
            Value::Object(object)
        })
        .boxed()
}

/// A valid body for the privacy routes, and the JSON pointers of its values: the fuzzer changes
/// or removes one of them, so that each field rule is reached with everything else right.
fn template(path: &str) -> Option<(Value, &'static [&'static str])> {
    match path {
        "/v1/consents" => Some((
            json!({
                "receipt_id": "r1", "purpose": "marketing", "granted": true, "at": "2026-01-01T00:00:00.000Z",
                "policy_version": 1, "method": "consent_centre", "ledger_seq": 1, "ledger_hash": "a".repeat(64),
            }),
            &[
                "/receipt_id",
                "/purpose",
                "/granted",
                "/at",
                "/policy_version",
                "/method",
                "/ledger_seq",
                "/ledger_hash",
            ],
        )),
        "/v1/telemetry/usage_analytics" => Some((
            json!({ "events": [
                { "id": "e1", "kind": "agent_created", "at": "2026-01-01T00:00:00.000Z", "data": { "n": 1 } },
                { "id": "e2", "kind": "panic", "at": "", "data": null },
            ] }),
            &["/events", "/events/0/id", "/events/1/id", "/events/0/kind", "/events/0/at", "/events/1/data"],
        )),
        "/v1/requests" => Some((
            json!({
                "category": "complaint", "text": "My data was shown to someone else.",
                "attachments": [{ "name": "a.txt", "media_type": "text/plain", "content_base64": "aGk=" }],
            }),
            &[
                "/category",
                "/text",
                "/attachments",
                "/attachments/0/name",
                "/attachments/0/media_type",
                "/attachments/0/content_base64",
            ],
        )),
        _ => None,
    }
}

fn mutated(path: &'static str) -> BoxedStrategy<Vec<u8>> {
    let Some((valid, pointers)) = template(path) else {
        return json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()).boxed();
    };
    (prop::sample::select(pointers), prop::option::weighted(0.9, json_value()))
        .prop_map(move |(pointer, value)| {
            let mut body = valid.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            match (body.pointer_mut(parent).and_then(Value::as_object_mut), value) {
                (Some(object), Some(value)) => {
                    object.insert(key.to_string(), value);
                }
                (Some(object), None) => {
                    object.remove(key);
                }
                (None, _) => {}
            }
            serde_json::to_vec(&body).unwrap()
        })
        .boxed()
}

/// A body for a route: its fields with random values (some dropped), a valid body with one
/// value changed, or a random JSON value.
fn shaped_body(path: &'static str, fields: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let shaped = shaped_object(fields).prop_map(|v| serde_json::to_vec(&v).unwrap());
    prop_oneof![
        2 => mutated(path),
        3 => shaped,
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => ".{0,200}".prop_map(String::into_bytes),
    ]
}

fn purpose() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("account_operation".to_string())),
        Just(Some("usage_analytics".to_string())),
        ".{0,12}".prop_map(Some)
    ]
}

type Case = (usize, Vec<u8>, bool, Option<String>, bool);

fn case() -> impl Strategy<Value = Case> {
    (0..ROUTES.len()).prop_flat_map(|i| {
        (
            Just(i),
            shaped_body(ROUTES[i].1, ROUTES[i].2),
            any::<bool>(),
            // Telemetry is taken only under its own purpose: mostly send that one.
            if ROUTES[i].1.starts_with("/v1/telemetry/") {
                prop_oneof![4 => Just(Some("usage_analytics".to_string())), 1 => purpose()].boxed()
            } else {
                purpose().boxed()
            },
            prop::bool::weighted(0.8),
        )
    })
}

async fn send(router: &axum::Router, method: &str, path: &str, token: Option<&str>, body: &Value) -> Value {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .header("x-awf-purpose", "account_operation");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Body::from(serde_json::to_vec(body).unwrap())).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert!(response.status().is_success(), "{method} {path}: {}", response.status());
    serde_json::from_slice(&axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap()).unwrap()
}

/// Registers an account through the dev outbox, grants `usage_analytics`; returns its token.
async fn account(router: &axum::Router) -> String {
    let phone = "+8613600000001";
    send(router, "POST", "/v1/auth/sms-code", None, &json!({ "phone": phone })).await;
    let request = Request::builder().uri("/v1/dev/sms-outbox").body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let outbox: Value =
        serde_json::from_slice(&axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap()).unwrap();
    let code = outbox[0]["code"].as_str().unwrap().to_string();
    let register = json!({
        "account_name": "fuzzer", "phone": phone, "password": "fuzzing password", "sms_code": code,
        "date_of_birth": "1990-01-01", "policy_version": 1,
    });
    let grant = send(router, "POST", "/v1/auth/register", None, &register).await;
    let token = grant["tokens"]["access_token"].as_str().unwrap().to_string();
    let receipt = json!({
        "receipt_id": "fuzz-grant", "purpose": "usage_analytics", "granted": true, "at": "2026-01-01T00:00:00Z",
        "policy_version": 1, "method": "fuzz", "ledger_seq": i64::MAX, "ledger_hash": "0".repeat(64),
    });
    send(router, "POST", "/v1/consents", Some(&token), &receipt).await;
    token
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_body_gets_a_server_error((route, body, json_type, purpose, authed) in case()) {
        thread_local! {
            static APP: (tempfile::TempDir, tokio::runtime::Runtime, axum::Router, String) = {
                let dir = tempfile::tempdir().unwrap();
                let mut config = PlatformConfig::new(dir.path().to_path_buf());
                config.dev = true;
                let app = App::open(config).unwrap();
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
                let router = app.router();
                let token = rt.block_on(account(&router));
                (dir, rt, router, token)
            };
        }
        let (method, path, _) = ROUTES[route];
        let mut request = Request::builder().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(path);
        if json_type {
            request = request.header("content-type", "application/json");
        }
        // Log-out would revoke the token the other cases use.
        if authed && path != "/v1/auth/logout" {
            request = request.header("authorization", APP.with(|(_, _, _, token)| format!("Bearer {token}")));
        }
        if let Some(purpose) = purpose {
            if let Ok(v) = axum::http::HeaderValue::from_str(&purpose) {
                request = request.header("x-awf-purpose", v);
            }
        }
        let request = request.body(Body::from(body.clone())).unwrap();
        let (status, bytes) = APP.with(|(_, rt, router, _)| {
            rt.block_on(async {
                let response = router.clone().oneshot(request).await.unwrap();
                let status = response.status();
                (status, axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap())
            })
        });
        prop_assert!(!status.is_server_error(), "{method} {path} with {:?} answered {status}", String::from_utf8_lossy(&body));
        if !status.is_success() {
            let parsed: Result<ErrorBody, _> = serde_json::from_slice(&bytes);
            prop_assert!(parsed.is_ok(), "{method} {path} answered {status} without an ErrorBody: {:?}", String::from_utf8_lossy(&bytes));
        }
    }
}
