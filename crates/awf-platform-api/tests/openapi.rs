//! The committed `openapi.json` must match the document generated from the contract. Set
//! `AWF_UPDATE_OPENAPI=1` to rewrite it (then commit the result).

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

#[test]
fn openapi_json_is_fresh() {
    let path = committed_path();
    let generated = awf_platform_api::openapi::document_json();
    if std::env::var_os("AWF_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "crates/awf-platform-api/openapi.json is stale: run \
         `AWF_UPDATE_OPENAPI=1 cargo test -p awf-platform-api --test openapi` and commit the result"
    );
}

fn document() -> serde_json::Value {
    serde_json::from_str(&awf_platform_api::openapi::document_json()).unwrap()
}

#[test]
fn document_is_openapi_3_1_with_v1_paths_only() {
    let doc = document();
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "openapi version {version}");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 11, "only {} paths", paths.len());
    for path in paths.keys() {
        assert!(path.starts_with("/v1/"), "{path} is not under /v1/");
    }
}

#[test]
fn every_operation_declares_purpose_header_and_error_responses() {
    let doc = document();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let params = op["parameters"].as_array().unwrap();
            assert!(
                params.iter().any(|p| p["name"] == "x-awf-purpose" && p["in"] == "header"),
                "{method} {path} lacks the purpose header"
            );
            let responses = op["responses"].as_object().unwrap();
            for status in ["400", "500"] {
                let schema = &responses[status]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
            }
            if (method == "post" || method == "patch") && path != "/v1/auth/logout" {
                assert!(responses.contains_key("413"), "{method} {path} lacks 413");
                assert!(op["requestBody"]["content"]["application/json"].is_object(), "{method} {path} body");
            }
        }
    }
    assert_eq!(operations, 12);
}

#[test]
fn rate_limited_and_auth_responses_carry_their_headers() {
    let doc = document();
    let login = &doc["paths"]["/v1/auth/login"]["post"]["responses"];
    assert!(login["429"]["headers"]["Retry-After"].is_object());
    assert!(login["200"]["headers"]["Set-Cookie"].is_object());
    let sms = &doc["paths"]["/v1/auth/sms-code"]["post"]["responses"];
    assert!(sms["429"]["headers"]["Retry-After"].is_object());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session_cookie"]["in"], "cookie");
    assert_eq!(schemes["session_cookie"]["name"], "awf_session");
    let profile = &doc["paths"]["/v1/account/profile"]["get"];
    assert!(profile["security"].as_array().unwrap().len() == 2);
}
