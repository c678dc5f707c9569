//! The bridge over real loopback HTTP, with a real sled profile in a temporary directory.
//! Passphrase mode keeps these tests independent of a keyring service.

use std::sync::Arc;

use awf_api::{Api, ApiConfig};
use awf_core::SecretString;
use serde_json::{json, Value};

struct Fixture {
    base: String,
    token: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ApiConfig::new(dir.path());
    cfg.passphrase = Some(SecretString::new("bridge-test-passphrase".into()));
    let api = Arc::new(Api::open(cfg));
    assert!(api.status().ready, "{:?}", api.status().error);
    let (bridge, server) = awf_bridge::bind(api, None, 0).await.unwrap();
    tokio::spawn(server);
    Fixture { base: format!("http://{}", bridge.addr), token: bridge.token, client: reqwest::Client::new(), _dir: dir }
}

impl Fixture {
    async fn post(&self, cmd: &str, body: Value) -> (u16, Value) {
        self.post_raw(cmd, serde_json::to_vec(&body).unwrap()).await
    }
    async fn post_raw(&self, cmd: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/api/{cmd}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

fn draft(name: &str, instructions: &str) -> Value {
    json!({
        "name": name, "description": "d", "icon": "🤖", "instructions": instructions,
        "opening_message": "hi", "suggested_questions": ["q1"],
        "model": {"model": "awf-chat", "temperature": 0.5, "top_p": 1.0, "max_tokens": 512, "response_format": "markdown"},
        "variables": [{"name": "city", "description": "", "default_value": "Hangzhou", "required": true}],
        "plugin_ids": [], "dataset_ids": []
    })
}

#[tokio::test]
async fn requires_the_token_and_the_right_host() {
    let f = start().await;
    let r = f.client.post(format!("{}/api/app_status", f.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthorized");
    let r = f.client.post(format!("{}/api/app_status", f.base)).bearer_auth("0".repeat(64)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = f
        .client
        .post(format!("{}/api/app_status", f.base))
        .bearer_auth(&f.token)
        .header("host", "evil.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 421);
    let (s, v) = f.post("app_status", Value::Null).await;
    assert_eq!(s, 200);
    assert_eq!(v["ready"], true);
}

#[tokio::test]
async fn bad_input_gets_coded_errors_and_loses_nothing() {
    let f = start().await;
    let (s, agent) = f.post("agent_create", draft("Keeper", "original instructions")).await;
    assert_eq!(s, 200, "{agent}");
    let id = agent["id"].as_str().unwrap().to_string();

    let (s, e) = f.post_raw("agent_update", b"{not json".to_vec()).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")));

    let (s, e) = f.post("agent_update", json!({"id": id, "draft": {"name": 5}})).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("bad_request")), "{e}");

    let (s, e) = f.post("no_such_command", json!({})).await;
    assert_eq!((s, e["code"].as_str()), (404, Some("unknown_command")));

    let (s, e) = f.post("agent_update", json!({"id": id, "draft": draft("", "changed"), "expected_version": 1})).await;
    assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (422, Some("invalid_input"), Some("name")));
    assert!(e["hint"].as_str().is_some_and(|h| !h.is_empty()));

    let big = "x".repeat(1024 * 1024);
    let (s, e) = f.post("agent_update", json!({"id": id, "draft": draft("Keeper", &big), "expected_version": 1})).await;
    assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (413, Some("too_large"), Some("instructions")));

    let (s, e) = f.post_raw("agent_update", vec![b' '; awf_bridge::MAX_BODY_BYTES + 1]).await;
    assert_eq!((s, e["code"].as_str()), (413, Some("too_large")));

    let (s, got) = f.post("agent_get", json!({"id": id})).await;
    assert_eq!(s, 200);
    assert_eq!(got["name"], "Keeper");
    assert_eq!(got["instructions"], "original instructions");
    assert_eq!(got["version"], 1);
}

#[tokio::test]
async fn every_field_round_trips_and_history_restores() {
    let f = start().await;
    let (_, a) = f.post("agent_create", draft("Tutor", "v1")).await;
    let id = a["id"].as_str().unwrap().to_string();
    let (s, a2) = f.post("agent_update", json!({"id": id, "draft": draft("Tutor", "v2"), "expected_version": 1})).await;
    assert_eq!(s, 200, "{a2}");
    let (s, e) = f.post("agent_update", json!({"id": id, "draft": draft("Tutor", "v3"), "expected_version": 1})).await;
    assert_eq!((s, e["code"].as_str()), (409, Some("conflict")));
    let (_, hist) = f.post("agent_history", json!({"id": id})).await;
    assert_eq!(hist.as_array().unwrap().len(), 2);
    let (_, restored) = f.post("agent_restore", json!({"id": id, "seq": 1})).await;
    assert_eq!(restored["instructions"], "v1");
    let (_, got) = f.post("agent_get", json!({"id": id})).await;
    for (k, v) in draft("Tutor", "v1").as_object().unwrap() {
        assert_eq!(&got[k], v, "field {k}");
    }
}

/// The egress gate's blocking HTTP client is built and used inside the bridge's blocking pool,
/// and the whole API (client included) is dropped from async code without panicking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_commands_run_through_the_bridge_and_shut_down_cleanly() {
    let f = start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (status, _) = f.post("settings_set_platform_url", json!({"url": format!("http://127.0.0.1:{port}")})).await;
    assert_eq!(status, 200);
    let (status, body) = f.post("platform_check", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["online"], false);
    let (status, body) = f.post("account_login", json!({"login": "ada", "password": "x-password"})).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "consent_required");
    let (status, body) = f.post("transmissions_list", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
    drop(f);
}
