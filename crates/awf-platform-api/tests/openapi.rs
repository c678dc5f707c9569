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
            let bodyless = ["/v1/auth/logout", "/v1/account/data/erase"];
            if (method == "post" || method == "patch") && !bodyless.contains(&path.as_str()) {
                assert!(responses.contains_key("413"), "{method} {path} lacks 413");
                let media =
                    if path == "/v1/uploads/{id}" { "application/offset+octet-stream" } else { "application/json" };
                assert!(op["requestBody"]["content"][media].is_object(), "{method} {path} body");
            }
        }
    }
    // 12 before the privacy routes; then consents (2), telemetry (4 purposes × ingest and
    // delete), the data summary and the dev marketing list; then policy versions (one version,
    // and the dev publication); then the rights routes (receipt keys, erase, cancel, requests (3),
    // the operator's list and answer, deletion of one request); then sync (an item's put, get and
    // delete, a batch of puts, the change feed, an upload's creation, offset, chunk and content,
    // the dev counts).
    assert_eq!(operations, 45);
}

#[test]
fn telemetry_is_documented_once_per_telemetry_purpose_with_its_own_purpose_header() {
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    let telemetry: Vec<_> = paths.keys().filter(|p| p.starts_with("/v1/telemetry")).cloned().collect();
    assert_eq!(
        telemetry,
        [
            "/v1/telemetry/crash_reports",
            "/v1/telemetry/research",
            "/v1/telemetry/security_device_info",
            "/v1/telemetry/usage_analytics",
        ]
    );
    for purpose in awf_platform_api::openapi::TELEMETRY_PURPOSES {
        let item = &doc["paths"][format!("/v1/telemetry/{}", purpose.as_str())];
        let post = &item["post"];
        let headers: Vec<_> =
            post["parameters"].as_array().unwrap().iter().filter(|p| p["name"] == "x-awf-purpose").collect();
        assert_eq!(headers.len(), 1, "one purpose header");
        assert_eq!(headers[0]["required"], true);
        assert_eq!(headers[0]["schema"]["enum"], serde_json::json!([purpose.as_str()]));
        assert!(!post["parameters"].as_array().unwrap().iter().any(|p| p["in"] == "path"));
        let responses = post["responses"].as_object().unwrap();
        for status in ["202", "400", "401", "403", "413", "415", "500"] {
            assert!(responses.contains_key(status), "ingest of {purpose:?} lacks {status}");
        }
        assert_eq!(responses["403"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody");
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/TelemetryBatch"
        );
        let delete = &item["delete"];
        for status in ["200", "400", "401", "500"] {
            assert!(delete["responses"].as_object().unwrap().contains_key(status), "delete lacks {status}");
        }
        // Deletion takes any purpose header (it follows a withdrawal).
        let header = delete["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "x-awf-purpose").unwrap();
        assert_eq!(header["required"], false);
        assert_eq!(post["operationId"], format!("ingest_telemetry_{}", purpose.as_str()));
    }
}

#[test]
fn privacy_routes_are_authenticated_and_state_the_platforms_rules() {
    let doc = document();
    for (path, method) in [
        ("/v1/consents", "post"),
        ("/v1/consents", "get"),
        ("/v1/account/data", "get"),
        ("/v1/telemetry/usage_analytics", "post"),
        ("/v1/telemetry/usage_analytics", "delete"),
    ] {
        let op = &doc["paths"][path][method];
        assert_eq!(op["security"].as_array().unwrap().len(), 2, "{method} {path}");
        assert!(op["responses"]["401"].is_object(), "{method} {path} lacks 401");
    }
    let consent = &doc["paths"]["/v1/consents"]["post"]["responses"];
    assert_eq!(consent["201"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ReceiptAck");
    assert_eq!(consent["200"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ReceiptAck");

    let receipt = &doc["components"]["schemas"]["ConsentReceipt"]["properties"];
    let purposes = receipt["purpose"]["enum"].as_array().unwrap();
    assert_eq!(purposes.len(), 9);
    assert!(!purposes.contains(&serde_json::json!("service_information")));
    assert_eq!(receipt["ledger_hash"]["pattern"], "^[0-9a-f]{64}$");
    assert_eq!(receipt["ledger_seq"]["minimum"], 1);
    assert_eq!(receipt["at"]["maxLength"], 40);
    let batch = &doc["components"]["schemas"]["TelemetryBatch"]["properties"]["events"];
    assert_eq!((batch["minItems"].as_u64(), batch["maxItems"].as_u64()), (Some(1), Some(500)));
    let data = &doc["components"]["schemas"]["TelemetryEvent"]["properties"]["data"];
    assert!(data.get("type").is_none(), "an item's data is any JSON value");

    let recipients = &doc["paths"]["/v1/dev/marketing-recipients"]["get"];
    assert_eq!(recipients["tags"][0], "dev");
    assert!(recipients["responses"]["404"].is_object());
    assert_eq!(recipients["responses"]["200"]["content"]["application/json"]["schema"]["items"]["type"], "string");
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

#[test]
fn policy_versions_are_documented_with_the_publication_rules() {
    let doc = document();
    let version = &doc["paths"]["/v1/policy/{version}"]["get"];
    assert_eq!(version["tags"][0], "service");
    let param = version["parameters"].as_array().unwrap().iter().find(|p| p["in"] == "path").unwrap();
    assert_eq!((param["name"].as_str(), param["schema"]["minimum"].as_u64()), (Some("version"), Some(1)));
    for status in ["200", "404"] {
        assert!(version["responses"][status].is_object(), "GET /v1/policy/{{version}} lacks {status}");
    }
    assert!(version.get("security").is_none(), "policy versions need no authentication");

    let publish = &doc["paths"]["/v1/dev/policy"]["post"];
    assert_eq!(publish["tags"][0], "dev");
    for status in ["201", "400", "404", "413", "415"] {
        assert!(publish["responses"][status].is_object(), "POST /v1/dev/policy lacks {status}");
    }
    assert_eq!(
        publish["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/PolicyDocument"
    );
    let schemas = &doc["components"]["schemas"];
    let body = &schemas["PublishPolicy"]["properties"];
    assert_eq!(body["version"]["minimum"], 1);
    assert_eq!((body["en"]["minLength"].as_u64(), body["en"]["maxLength"].as_u64()), (Some(1), Some(262_144)));
    assert_eq!(
        (body["purposes"]["maxItems"].as_u64(), body["purposes"]["uniqueItems"].as_bool()),
        (Some(9), Some(true))
    );
    assert_eq!(body["changes"]["maxItems"], 50);
    assert_eq!(body["changes"]["items"]["maxLength"], 500);
    let terms = &schemas["PolicyPurposeTerms"]["properties"];
    assert!(!terms["purpose"]["enum"].as_array().unwrap().contains(&serde_json::json!("service_information")));
    assert_eq!(terms["since_version"]["minimum"], 1);
}

#[test]
fn rights_routes_state_their_rules_and_authentication() {
    let doc = document();
    let paths = &doc["paths"];
    for (path, method) in [
        ("/v1/account/data/erase", "post"),
        ("/v1/account/cancel", "post"),
        ("/v1/requests", "post"),
        ("/v1/requests", "get"),
        ("/v1/requests/{id}", "get"),
        ("/v1/requests/{id}", "delete"),
    ] {
        let op = &paths[path][method];
        assert_eq!(op["security"].as_array().unwrap().len(), 2, "{method} {path}");
        assert!(op["responses"]["401"].is_object(), "{method} {path} lacks 401");
        assert_eq!(op["tags"][0], "rights");
    }
    for (path, method) in [("/v1/admin/requests", "get"), ("/v1/admin/requests/{id}/answer", "post")] {
        let op = &paths[path][method];
        assert_eq!(op["security"], serde_json::json!([{ "admin_token": [] }]), "{method} {path}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["admin_token"]["scheme"], "bearer");
    assert!(paths["/v1/receipt-keys"]["get"].get("security").is_none());

    let cancel = &paths["/v1/account/cancel"]["post"];
    for status in ["200", "401", "422", "429"] {
        assert!(cancel["responses"][status].is_object(), "cancel lacks {status}");
    }
    let key = cancel["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "idempotency-key").unwrap();
    assert_eq!((key["in"].as_str(), key["required"].as_bool()), (Some("header"), Some(false)));
    let receipt = "#/components/schemas/DeletionReceipt";
    assert_eq!(cancel["responses"]["200"]["content"]["application/json"]["schema"]["$ref"], receipt);
    let erase = &paths["/v1/account/data/erase"]["post"]["responses"]["200"];
    assert_eq!(erase["content"]["application/json"]["schema"]["$ref"], receipt);

    let schemas = &doc["components"]["schemas"];
    let request = &schemas["NewRightsRequest"]["properties"];
    assert_eq!((request["text"]["minLength"].as_u64(), request["text"]["maxLength"].as_u64()), (Some(1), Some(5000)));
    assert_eq!(request["attachments"]["maxItems"], 5);
    let categories = &schemas["RequestCategory"]["enum"];
    assert_eq!(
        categories,
        &serde_json::json!(["access", "correction", "deletion", "portability", "withdrawal", "complaint"])
    );
    let upload = &schemas["AttachmentUpload"]["properties"];
    assert_eq!(upload["content_base64"]["maxLength"], 2_796_204);
    assert_eq!(upload["name"]["maxLength"], 128);
    let scope = schemas["DeletionScope"]["oneOf"].as_array().unwrap();
    assert_eq!(scope.len(), 4);
    for status in ["201", "413", "422"] {
        assert!(paths["/v1/requests"]["post"]["responses"][status].is_object(), "submit lacks {status}");
    }
}
