//! The IPC command through Tauri's mock runtime (no display, no D-Bus): the same wiring and the
//! same capabilities (ACL) as the window, on a real sled profile in a temporary directory
//! (passphrase mode).

use std::sync::Arc;

use awf_api::{Api, ApiConfig};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;

fn app(
    dir: &std::path::Path,
) -> (tauri::App<tauri::test::MockRuntime>, tauri::WebviewWindow<tauri::test::MockRuntime>) {
    let mut cfg = ApiConfig::new(dir);
    cfg.passphrase = Some(awf_core::SecretString::new("tauri-test-passphrase".into()));
    let api = Arc::new(Api::open(cfg));
    let app = aiwellflow_studio::wire(mock_builder(), api)
        .build(tauri::generate_context!("../tauri.conf.json", test = true))
        .expect("app builds");
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("window");
    (app, webview)
}

fn invoke(w: &tauri::WebviewWindow<tauri::test::MockRuntime>, command: &str, args: Value) -> Result<Value, Value> {
    invoke_from(w, "tauri://localhost", command, args)
}

fn invoke_from(
    w: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    origin: &str,
    command: &str,
    args: Value,
) -> Result<Value, Value> {
    let req = InvokeRequest {
        cmd: "api_call".into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: origin.parse().unwrap(),
        body: InvokeBody::Json(json!({ "command": command, "args": args })),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(w, req).map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn create_edit_restore_over_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, w) = app(dir.path());
    let status = invoke(&w, "app_status", Value::Null).unwrap();
    assert_eq!(status["ready"], true, "{status}");
    let mut draft = invoke(&w, "agent_defaults", Value::Null).unwrap();
    draft["name"] = json!("IPC agent");
    draft["instructions"] = json!("first");
    let a = invoke(&w, "agent_create", draft.clone()).unwrap();
    let id = a["id"].as_str().unwrap();
    draft["instructions"] = json!("second");
    let a2 = invoke(&w, "agent_update", json!({"id": id, "draft": draft, "expected_version": 1})).unwrap();
    assert_eq!(a2["version"], 2);
    let restored = invoke(&w, "agent_restore", json!({"id": id, "seq": 1})).unwrap();
    assert_eq!(restored["instructions"], "first");
    let list = invoke(&w, "agents_list", json!({"filter": "ipc", "include_archived": false})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn errors_arrive_as_coded_objects() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, w) = app(dir.path());
    let mut draft = invoke(&w, "agent_defaults", Value::Null).unwrap();
    draft["name"] = json!("");
    let err = invoke(&w, "agent_create", draft).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert_eq!(err["field"], "name");
    assert!(err["hint"].is_string());
    let err = invoke(&w, "agent_get", json!({"nope": 1})).unwrap_err();
    assert_eq!(err["code"], "bad_request");
    let err = invoke(&w, "rm_rf", Value::Null).unwrap_err();
    assert_eq!(err["code"], "unknown_command");
}

#[test]
fn data_dir_flag_is_read() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(aiwellflow_studio::data_dir_arg(args(&["--data-dir", "/p"])), Some("/p".into()));
    assert_eq!(aiwellflow_studio::data_dir_arg(args(&["--data-dir=/q"])), Some("/q".into()));
    assert_eq!(aiwellflow_studio::data_dir_arg(args(&["--other"])), None);
}

#[test]
fn remote_content_cannot_call_the_command_surface() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, w) = app(dir.path());
    let err = invoke_from(&w, "https://example.com", "app_status", Value::Null).unwrap_err();
    assert!(err.as_str().is_some_and(|m| m.contains("not allowed")), "{err}");
}

#[test]
fn the_window_policy_is_strict() {
    let conf: Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
    let csp = conf["app"]["security"]["csp"].as_object().expect("a CSP is set");
    let all: String = csp.values().map(|v| v.as_str().unwrap().to_string()).collect::<Vec<_>>().join(" ");
    assert!(!all.contains("unsafe-eval"), "no eval: {all}");
    let remote: Vec<&str> =
        all.split_whitespace().filter(|t| t.contains("://") && *t != "http://ipc.localhost").collect();
    assert!(remote.is_empty(), "no remote sources: {remote:?}");
    for directive in ["default-src", "script-src"] {
        assert_eq!(csp[directive], "'self'", "{directive} must be 'self' only");
    }
    assert!(!all.contains('*'), "no wildcards: {all}");
    assert_eq!(conf["app"]["withGlobalTauri"], false);
    let cap: Value = serde_json::from_str(include_str!("../capabilities/default.json")).unwrap();
    assert_eq!(
        cap["permissions"],
        serde_json::json!(["allow-api-call"]),
        "the window may call only the command surface"
    );
    assert!(cap.get("remote").is_none(), "no remote origin may use the capability");
}

/// Files dropped from the desktop must reach the page's drop zones as HTML5 drop events (with
/// their contents). With Tauri's own drag-and-drop handling on, the webview gets Tauri events
/// with paths instead (and on Windows no HTML5 drop at all), which the drop zones do not use.
#[test]
fn file_drops_reach_the_page() {
    let conf: Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
    for w in conf["app"]["windows"].as_array().expect("windows are configured") {
        assert_eq!(w["dragDropEnabled"], false, "window {} must leave drops to the page", w["label"]);
    }
}
