//! Fuzzing the request bodies: random bytes, random text and random JSON shaped like each
//! route's body go to every route that takes one, through the real router (in process, with
//! `tower::ServiceExt::oneshot`). Whatever arrives, the answer is a client error or a success,
//! never a 5xx or a panic, and every error is an `ErrorBody`.

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
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
        "[0-9]{0,8}".prop_map(Value::from),
        "\\+?[0-9]{5,16}".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body for a route: its fields with random values (some dropped), or a random JSON value.
fn shaped_body(fields: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let shaped = prop::collection::vec((any::<bool>(), json_value()), fields.len()).prop_map(move |values| {
        let mut object = serde_json::Map::new();
        for (field, (keep, value)) in fields.iter().zip(values) {
            if keep {
                object.insert((*field).to_string(), value);
            }
        }
        serde_json::to_vec(&Value::Object(object)).unwrap()
    });
    prop_oneof![
        3 => shaped,
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => ".{0,200}".prop_map(String::into_bytes),
    ]
}

fn case() -> impl Strategy<Value = (usize, Vec<u8>, bool, Option<String>)> {
    (0..ROUTES.len()).prop_flat_map(|i| {
        (
            Just(i),
            shaped_body(ROUTES[i].2),
            any::<bool>(),
            prop_oneof![Just(None), Just(Some("account_operation".to_string())), ".{0,12}".prop_map(Some)],
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn no_body_gets_a_server_error((route, body, json_type, purpose) in case()) {
        thread_local! {
            static APP: (tempfile::TempDir, tokio::runtime::Runtime, axum::Router) = {
                let dir = tempfile::tempdir().unwrap();
                let mut config = PlatformConfig::new(dir.path().to_path_buf());
                config.dev = true;
                let app = App::open(config).unwrap();
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
                let router = app.router();
                (dir, rt, router)
            };
        }
        let (method, path, _) = ROUTES[route];
        let mut request = Request::builder().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(path);
        if json_type {
            request = request.header("content-type", "application/json");
        }
        if let Some(purpose) = purpose {
            if let Ok(v) = axum::http::HeaderValue::from_str(&purpose) {
                request = request.header("x-awf-purpose", v);
            }
        }
        let request = request.body(Body::from(body.clone())).unwrap();
        let (status, bytes) = APP.with(|(_, rt, router)| {
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
