//! Fuzzes the command surface: any command name with any JSON arguments must come back as a
//! response or a coded error, never a panic, and must never corrupt what is stored.

use std::sync::OnceLock;

use awf_api::{Api, ApiConfig, ErrorCode};
use proptest::prelude::*;
use serde_json::{json, Value};

fn api() -> &'static (Api, String, tempfile::TempDir) {
    static API: OnceLock<(Api, String, tempfile::TempDir)> = OnceLock::new();
    API.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ApiConfig::new(dir.path());
        cfg.passphrase = Some(awf_core::SecretString::new("dispatch-fuzz-passphrase".into()));
        let api = Api::open(cfg);
        let mut draft = api.call("agent_defaults", Value::Null).unwrap();
        draft["name"] = json!("Sentinel");
        draft["instructions"] = json!("sentinel instructions");
        let id = api.call("agent_create", draft).unwrap()["id"].as_str().unwrap().to_string();
        (api, id, dir)
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        Just(Value::from("")),
        Just(Value::from(-1)),
        Just(Value::from(u64::MAX)),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("id".to_string()),
                    Just("name".to_string()),
                    Just("seq".to_string()),
                    Just("draft".to_string()),
                    Just("filter".to_string()),
                    "[a-z_]{1,12}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn command_name() -> impl Strategy<Value = String> {
    let names: Vec<String> = awf_api::commands::table().into_iter().map(|c| c.name.to_string()).collect();
    prop_oneof![proptest::sample::select(names), "[a-z_]{0,20}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_input_gets_a_response_or_a_coded_error(name in command_name(), args in json_value()) {
        let (api, _, _) = api();
        // Destructive commands are fuzzed too, but never against the sentinel agent.
        let hits_sentinel = args.get("id").and_then(Value::as_str) == Some(api_sentinel());
        prop_assume!(!hits_sentinel);
        if let Err(e) = api.call(&name, args) {
            prop_assert!(!e.message.is_empty());
            if e.code == ErrorCode::Internal {
                prop_assert!(false, "internal error for {name}: {}", e.message);
            }
        }
    }
}

fn api_sentinel() -> &'static str {
    &api().1
}

#[test]
fn the_sentinel_survives_the_fuzzing_run() {
    let (api, id, _) = api();
    let a = api.call("agent_get", json!({ "id": id })).unwrap();
    assert_eq!(a["instructions"], "sentinel instructions");
}
