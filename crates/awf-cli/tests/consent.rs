//! Consent end to end against the reference platform as a real process (a recording server: it
//! counts every request it receives by purpose), with the OS keyring.

mod common;

use awf_api::dto::{ConsentSetRequest, RegisterForm};
use awf_api::{Api, ApiConfig};
use awf_core::{AgentDraft, Purpose};
use common::platform::Platform;
use serde_json::json;

const OPTIONAL: [&str; 8] = [
    "security_device_info",
    "usage_analytics",
    "crash_reports",
    "marketing",
    "research",
    "developer_data_hosting",
    "cross_border_transfer",
    "third_party_sharing",
];

fn signed_up(p: &Platform, dir: &std::path::Path, phone: &str) -> Api {
    let api = Api::open(ApiConfig::new(dir));
    api.set_platform_url(awf_api::dto::SetPlatformUrl { url: Some(p.url.clone()) }).unwrap();
    api.call("account_accept_policy", json!({"policy_version": 1})).unwrap();
    api.call("account_request_sms_code", json!({ "phone": phone })).unwrap();
    let form = RegisterForm {
        account_name: format!("dev{}", &phone[phone.len() - 4..]),
        phone: phone.into(),
        password: "a-good-password".into(),
        sms_code: p.sms_code(phone),
        date_of_birth: "1991-02-03".into(),
        guardian: None,
    };
    api.register(form).unwrap();
    api
}

/// A session of ordinary work: agents created and edited, a UI error, a settings change, and
/// the app's periodic check-in with the platform.
fn work(api: &Api, n: usize) {
    for i in 0..n {
        let a =
            api.call("agent_create", serde_json::to_value(AgentDraft::named(format!("agent {i}"))).unwrap()).unwrap();
        let mut draft = a.clone();
        draft["instructions"] = json!("Answer politely.");
        let fields = [
            "name",
            "description",
            "icon",
            "instructions",
            "opening_message",
            "suggested_questions",
            "model",
            "variables",
            "plugin_ids",
            "dataset_ids",
        ];
        let draft: serde_json::Map<_, _> = fields.iter().map(|f| (f.to_string(), draft[*f].clone())).collect();
        api.call("agent_update", json!({"id": a["id"], "draft": draft, "expected_version": a["version"]})).unwrap();
    }
    api.call("telemetry_ui_error", json!({"message": "TypeError: x is undefined", "source": "App.svelte"})).unwrap();
    let url = api.settings_view().unwrap().platform_url;
    api.set_platform_url(awf_api::dto::SetPlatformUrl { url: Some(url) }).unwrap();
    api.platform_check().unwrap();
    api.telemetry_flush().unwrap();
}

fn set(api: &Api, purpose: Purpose, granted: bool) -> awf_api::dto::ConsentChange {
    api.consent_set(ConsentSetRequest { purpose, granted, method: None }).unwrap()
}

fn held(api: &Api, category: &str) -> u64 {
    api.platform()
        .unwrap()
        .held_data()
        .unwrap()
        .categories
        .iter()
        .find(|c| c.category == category)
        .map_or(0, |c| c.count)
}

#[test]
fn optional_purposes_send_nothing_until_granted_and_nothing_after_withdrawal() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    let api = signed_up(&p, dir.path(), "+8613900000001");

    // Everything optional starts off, and a whole session sends none of it.
    let list = api.consent_list().unwrap();
    for v in &list {
        if OPTIONAL.contains(&v.info.purpose.as_str()) {
            assert!(!v.granted && !v.info.required, "{:?} must start off", v.info.purpose);
        }
    }
    work(&api, 3);
    for purpose in OPTIONAL {
        assert_eq!(p.received_for(purpose), 0, "{purpose} reached the platform without consent");
    }
    assert!(api.profile().unwrap().telemetry().pending(None).unwrap().is_empty(), "nothing is even queued");
    // A profile opened again queues no performance sample without consent.
    drop(api);
    let api = Api::open(ApiConfig::new(dir.path()));
    assert!(api.profile().unwrap().telemetry().pending(None).unwrap().is_empty());
    // The policy acceptance's receipt is at the platform.
    let receipts = api.platform().unwrap().platform_receipts().unwrap().receipts;
    assert_eq!(receipts.iter().map(|r| r.purpose).collect::<Vec<_>>(), vec![Purpose::AccountOperation]);

    // Granted: they arrive.
    for purpose in [Purpose::UsageAnalytics, Purpose::CrashReports, Purpose::SecurityDeviceInfo] {
        assert_eq!(set(&api, purpose, true).receipts_sent, 1);
    }
    work(&api, 2);
    assert!(p.received_for("usage_analytics") >= 1);
    assert!(p.received_for("crash_reports") >= 1);
    assert!(p.received_for("security_device_info") >= 1);
    assert!(held(&api, "telemetry:usage_analytics") >= 4, "two creates and two saves were sent");
    assert!(api.profile().unwrap().telemetry().pending(None).unwrap().is_empty(), "sent items leave the queue");
    // With consent, opening the profile queues a performance sample.
    drop(api);
    let api = Api::open(ApiConfig::new(dir.path()));
    let pending = api.profile().unwrap().telemetry().pending(Some(Purpose::UsageAnalytics)).unwrap();
    assert!(pending.iter().any(|i| i.kind == "performance" && i.data["name"] == "profile_open_ms"), "{pending:?}");
    api.telemetry_flush().unwrap();

    // Withdrawn: the queue is purged at once, the platform deletes what it holds, none more arrive.
    let a = api.call("agent_create", serde_json::to_value(AgentDraft::named("queued")).unwrap()).unwrap();
    assert!(a["id"].is_string());
    // An automatic check-in leaves a fresh item in the queue, where it can be previewed.
    api.platform_check().unwrap();
    assert_eq!(api.profile().unwrap().telemetry().pending(Some(Purpose::UsageAnalytics)).unwrap().len(), 1);
    let change = set(&api, Purpose::UsageAnalytics, false);
    assert_eq!(change.queue_purged, 1);
    assert!(change.platform_deleted.is_some_and(|n| n >= 4), "{change:?}");
    let before = p.received_for("usage_analytics");
    work(&api, 2);
    assert_eq!(p.received_for("usage_analytics"), before, "usage_analytics arrived after withdrawal");
    assert!(api.profile().unwrap().telemetry().pending(Some(Purpose::UsageAnalytics)).unwrap().is_empty());
    assert_eq!(held(&api, "telemetry:usage_analytics"), 0, "the platform still holds withdrawn data");
    assert!(held(&api, "telemetry:crash_reports") >= 1, "other purposes are untouched");

    // The ledger holds every change in order, chained, and every receipt was acknowledged.
    let ledger = api.consent_ledger().unwrap();
    assert_eq!(ledger.entries.len(), 5);
    assert_eq!(ledger.acknowledged_upto, 5);
    assert!(api.profile().unwrap().consents().verify().unwrap().intact);
    assert_eq!(api.platform().unwrap().platform_receipts().unwrap().receipts.len(), 5);
}

#[test]
fn marketing_opt_out_is_reflected_at_the_platform() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    let api = signed_up(&p, dir.path(), "+8613900000002");
    let me = api.platform_status().unwrap().account.unwrap().account_id;
    assert!(!p.marketing_recipients().contains(&me), "marketing is off until granted");
    set(&api, Purpose::Marketing, true);
    assert!(p.marketing_recipients().contains(&me));
    set(&api, Purpose::Marketing, false);
    assert!(!p.marketing_recipients().contains(&me), "the opt-out did not reach the platform");
}

#[test]
fn withdrawal_while_offline_is_settled_when_the_platform_returns() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let port = p.port;
    let dir = tempfile::tempdir().unwrap();
    let api = signed_up(&p, dir.path(), "+8613900000003");
    set(&api, Purpose::CrashReports, true);
    api.call("telemetry_ui_error", json!({"message": "boom"})).unwrap();
    api.telemetry_flush().unwrap();
    assert_eq!(held(&api, "telemetry:crash_reports"), 1);

    p.stop();
    let change = set(&api, Purpose::CrashReports, false);
    assert!(change.platform_deleted.is_none() && change.note.is_some(), "{change:?}");
    assert_eq!(change.receipts_pending, 1);

    let p = Platform::start(pdata.path(), port, &[]);
    assert!(api.platform_check().unwrap().online);
    assert_eq!(held(&api, "telemetry:crash_reports"), 0, "the owed deletion was made on reconnection");
    assert_eq!(api.consent_ledger().unwrap().acknowledged_upto, 3);
    drop(p);
}

#[test]
fn cli_lists_grants_withdraws_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut c = common::awf(dir.path());
        c.env("AWF_PLATFORM_URL", "http://127.0.0.1:9").args(args);
        common::ok(c)
    };
    let list = run(&["consent", "list"]);
    assert!(list.contains("usage_analytics") && list.contains("§1.2(3)") && list.contains("optional"), "{list}");
    let out = run(&["consent", "grant", "research"]);
    assert!(out.contains("Granted research"), "{out}");
    assert!(out.contains("Not signed in"), "the receipt waits for a session: {out}");
    let out = run(&["consent", "withdraw", "research"]);
    assert!(out.contains("Withdrawn research"), "{out}");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&run(&["consent", "list", "--json"])).unwrap();
    let research = listed.iter().find(|v| v["info"]["purpose"] == "research").unwrap();
    assert_eq!(research["granted"], false);
    assert_eq!(research["record"]["method"], "cli");
    assert!(run(&["consent", "verify"]).contains("intact (2 entries)"));
    let mut c = common::awf(dir.path());
    c.args(["consent", "grant", "not_a_purpose"]);
    let out = common::fails(c);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[invalid_input]"));
}

#[test]
fn cookies_are_listed_persisted_deleted_and_refusable_while_login_keeps_working() {
    use awf_core::KeyVault;
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    let entry = {
        let api = signed_up(&p, dir.path(), "+8613900000004");
        let view = api.cookies_view().unwrap();
        let names: Vec<_> = view.cookies.iter().map(|c| c.name.as_str()).collect();
        assert!(names.contains(&"awf_session") && names.contains(&"awf_anon"), "{names:?}");
        format!("platform-cookies/{}", api.profile().unwrap().profile_id())
    };
    // Persisted (in the keyring, like every credential) and listed again after a restart.
    assert!(awf_core::OsKeyring.get_secret(&entry).unwrap().is_some());
    let api = Api::open(ApiConfig::new(dir.path()));
    assert_eq!(api.cookies_view().unwrap().cookies.len(), 2);
    let view = api.cookies_delete(Some("awf_anon".into())).unwrap();
    assert_eq!(view.cookies.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["awf_session"]);
    api.cookies_delete(None).unwrap();
    assert!(awf_core::OsKeyring.get_secret(&entry).unwrap().is_none(), "deleted cookies must leave the keyring");
    drop(api);
    let api = Api::open(ApiConfig::new(dir.path()));
    assert!(api.cookies_view().unwrap().cookies.is_empty());

    // Refused: nothing is kept, and the account works by token.
    api.set_refuse_cookies(true).unwrap();
    assert_eq!(api.platform().unwrap().profile().unwrap().account_name, "dev0004");
    api.logout().unwrap();
    api.login(awf_api::dto::LoginForm { login: "dev0004".into(), password: "a-good-password".into() }).unwrap();
    assert!(api.cookies_view().unwrap().cookies.is_empty(), "a refused cookie was kept");
    assert!(awf_core::OsKeyring.get_secret(&entry).unwrap().is_none());
    assert!(api.platform().unwrap().profile().is_ok());
    let id = api.cookies_view().unwrap().installation_id;
    assert_ne!(api.call("installation_id_reset", json!({})).unwrap()["installation_id"], json!(id));
}

/// D10: the platform publishes a version that widens one purpose, narrows a right and covers a
/// purpose new since the accepted version. The app shows the diff with purposes and rights
/// marked, blocks the widened purpose until the user consents again, and leaves the new one off.
#[test]
fn a_new_policy_version_is_diffed_and_blocks_the_widened_purpose_until_reconsent() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    let api = signed_up(&p, dir.path(), "+8613900000005");
    set(&api, Purpose::UsageAnalytics, true);
    set(&api, Purpose::CrashReports, true);

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/policy/v1");
    let en1 = std::fs::read_to_string(root.join("en.txt")).unwrap();
    let zh1 = std::fs::read_to_string(root.join("zh-CN.txt")).unwrap();
    let en2 = en1
        .replace(
            "and related performance data",
            "and related performance data, including feature-level interaction events,",
        )
        .replace(
            "according to our published procedures.",
            "according to our published procedures within 30 days of the event.",
        );
    let zh2 = zh1.replace("使用情况及相关性能数据信息。", "使用情况及相关性能数据信息(包括功能级交互事件)。");
    assert!(en2 != en1 && zh2 != zh1);
    let mut terms: Vec<serde_json::Value> = Purpose::ALL[1..]
        .iter()
        .map(|p| json!({"purpose": p, "since_version": if matches!(p, Purpose::UsageAnalytics | Purpose::Research) { 2 } else { 1 }}))
        .collect();
    terms.sort_by_key(|t| t["purpose"].as_str().unwrap().to_string());
    let published = reqwest::blocking::Client::new()
        .post(format!("{}/v1/dev/policy", p.url))
        .json(&json!({"version": 2, "zh_cn": zh2, "en": en2, "purposes": terms, "material": true,
                      "changes": ["Usage data now includes feature-level interaction events.", "Complaints must be filed within 30 days."]}))
        .send()
        .unwrap();
    assert_eq!(published.status().as_u16(), 201, "{}", published.text().unwrap_or_default());

    // The app learns the new version at its next check.
    api.platform_check().unwrap();
    let status = api.policy_status().unwrap();
    assert_eq!((status.accepted_version, status.current_version, status.material), (Some(1), 2, true));
    assert_eq!(status.needs_reconsent, vec![Purpose::UsageAnalytics]);
    assert_eq!(status.new_purposes, vec![Purpose::Research], "a purpose new in v2 is listed and off");
    let marked = |concerns: &str| status.diff_en.iter().any(|l| l.concerns.as_deref() == Some(concerns));
    assert!(marked("purposes") && marked("rights"), "{:?}", status.diff_en);
    assert!(status.diff_zh.iter().any(|l| l.text.contains("功能级交互事件")));
    assert_eq!(api.policy_text().version, 2);

    // The widened purpose is blocked (nothing queued or sent); the unchanged one still works.
    let sent_before = p.received_for("usage_analytics");
    api.call("agent_create", serde_json::to_value(AgentDraft::named("after v2")).unwrap()).unwrap();
    assert!(api.profile().unwrap().telemetry().pending(Some(Purpose::UsageAnalytics)).unwrap().is_empty());
    assert_eq!(api.call("telemetry_ui_error", json!({"message": "still reported"})).unwrap(), json!(true));
    api.telemetry_flush().unwrap();
    assert_eq!(p.received_for("usage_analytics"), sent_before);

    // Accepting v2 without re-consenting keeps it blocked and the new purpose off.
    let status = api.policy_accept(awf_api::dto::PolicyAcceptRequest { policy_version: 2, reconsent: vec![] }).unwrap();
    assert_eq!(status.accepted_version, Some(2));
    assert_eq!(status.needs_reconsent, vec![Purpose::UsageAnalytics]);
    assert!(!api.profile().unwrap().consents().allows(Purpose::Research).unwrap());
    // Consenting again under v2 unblocks it.
    let status = api
        .policy_accept(awf_api::dto::PolicyAcceptRequest {
            policy_version: 2,
            reconsent: vec![Purpose::UsageAnalytics],
        })
        .unwrap();
    assert!(status.needs_reconsent.is_empty());
    api.call("agent_create", serde_json::to_value(AgentDraft::named("re-consented")).unwrap()).unwrap();
    assert_eq!(api.profile().unwrap().telemetry().pending(Some(Purpose::UsageAnalytics)).unwrap().len(), 1);
    assert!(api.profile().unwrap().consents().verify().unwrap().intact);
}
