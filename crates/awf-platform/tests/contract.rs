//! The router serves every operation of the committed OpenAPI document: each documented path
//! and method reaches a handler (no "no such route" 404, no 405), in development mode so that
//! the dev routes are served too. schemathesis (`cargo xtask schemathesis`) checks the answers
//! in depth; this is the quick check that no documented route is missing.

use awf_platform::{App, PlatformConfig};
use awf_platform_api::ErrorBody;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = PlatformConfig::new(dir.path().to_path_buf());
    config.dev = true;
    let router = App::open(config).unwrap().router();
    let doc: serde_json::Value = serde_json::from_str(&awf_platform_api::openapi::document_json()).unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            // A documented path parameter takes a value that exists (policy version 1).
            let uri = path.replace("{version}", "1").replace("{id}", "req_unknown");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(uri.as_str())
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(!status.is_server_error(), "{method} {path}: {status}");
            if status == StatusCode::NOT_FOUND {
                let body: ErrorBody = serde_json::from_slice(&bytes).unwrap();
                panic!("{method} {path} is not routed: {}", body.message);
            }
        }
    }
    assert_eq!(operations, 45);
}
