//! Plugins and tables under consented sync (issue 6), between two devices of one account,
//! against the reference platform as a real process, with the real OS keyring: nothing is sent
//! without the hosting consent; a plugin travels without its secret (a marker secret is in no
//! platform item and no transmission-log preview) and shows "secret not set" on the other
//! device; a deleted plugin is gone there too, with the platform's receipt in the deletion
//! ledger; a table edited on one device reaches the other; edits of different cells merge, edits
//! of the same cell are a conflict settled by keep-theirs or keep-mine on both devices, never a
//! silent overwrite; a table with personal information waits for the attestation.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::platform::Platform;
use common::{awf, ok};

const PASSWORD: &str = "correct-horse-battery-42";
const MARKER_SECRET: &str = "MARKER-SYNC-SECRET-5be1d7-never-on-the-platform";

const PETSTORE: &str = r#"{
  "openapi": "3.0.0",
  "info": { "title": "Swagger Petstore", "version": "1.0.0" },
  "servers": [{ "url": "https://petstore.example.com/v1" }],
  "components": { "securitySchemes": { "key": { "type": "apiKey", "name": "X-API-Key", "in": "header" } } },
  "security": [{ "key": [] }],
  "paths": {
    "/pets": {
      "get": { "operationId": "listPets", "summary": "List all pets",
        "responses": { "200": { "description": "ok" } } }
    }
  }
}"#;

fn awf_at(dir: &Path, platform: &str) -> Command {
    let mut c = awf(dir);
    c.env("AWF_PLATFORM_URL", platform).env_remove("AWF_PLATFORM_PASSWORD");
    c
}

fn with_stdin(mut c: Command, input: &str) -> std::process::Output {
    use std::io::Write;
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn json(dir: &Path, p: &str, args: &[&str]) -> serde_json::Value {
    let mut c = awf_at(dir, p);
    c.args(args).arg("--json");
    let out = ok(c);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn run(dir: &Path, p: &Platform, args: &[&str]) -> String {
    let mut c = awf_at(dir, &p.url);
    c.args(args);
    ok(c)
}

fn sign_up(dir: &Path, p: &Platform, name: &str, phone: &str) {
    run(dir, p, &["signup", "code", "--phone", phone, "--accept-policy"]);
    let code = p.sms_code(phone);
    let mut c = awf_at(dir, &p.url);
    c.args(["signup", "create", "--account-name", name, "--phone", phone, "--sms-code", &code]);
    c.args(["--date-of-birth", "1990-05-17", "--password-stdin"]);
    let out = with_stdin(c, &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn log_in(dir: &Path, p: &Platform, name: &str) {
    let mut c = awf_at(dir, &p.url);
    c.args(["login", "--login", name, "--password-stdin", "--accept-policy"]);
    let out = with_stdin(c, &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn grant_hosting(dir: &Path, p: &Platform) {
    run(dir, p, &["consent", "grant", "developer_data_hosting"]);
}

fn sync(dir: &Path, p: &Platform) -> serde_json::Value {
    json(dir, &p.url, &["sync"])
}

fn import_table(dir: &Path, p: &Platform, name: &str, csv: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, csv).unwrap();
    json(dir, &p.url, &["table", "import", file.to_str().unwrap()])["id"].as_str().unwrap().to_string()
}

fn rows(dir: &Path, p: &Platform, id: &str) -> serde_json::Value {
    json(dir, &p.url, &["table", "rows", id])["rows"].clone()
}

fn set_cell(dir: &Path, p: &Platform, id: &str, row: u32, column: &str, value: &str) {
    run(dir, p, &["table", "set-cell", id, &row.to_string(), column, value]);
}

/// The platform's items as the export holds them (`platform/items.jsonl`, every body in full).
fn platform_items(dir: &Path, p: &Platform) -> String {
    let zip_path = dir.join(format!("export-{}.zip", std::process::id()));
    let _ = std::fs::remove_file(&zip_path);
    let mut c = awf_at(dir, &p.url);
    c.args(["export", "--out"]).arg(&zip_path);
    ok(c);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut items = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("platform/items.jsonl").unwrap(), &mut items).unwrap();
    std::fs::remove_file(&zip_path).unwrap();
    items
}

#[test]
fn a_plugin_syncs_without_its_secret_and_its_deletion_travels_with_a_receipt() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    sign_up(a.path(), &p, "plugin-dev", "+8613800006601");
    let spec = a.path().join("petstore.json");
    std::fs::write(&spec, PETSTORE).unwrap();
    let plugin = json(a.path(), &p.url, &["plugin", "import", spec.to_str().unwrap()]);
    let id = plugin["id"].as_str().unwrap().to_string();
    let mut c = awf_at(a.path(), &p.url);
    c.args(["plugin", "secret", &id]);
    let out = with_stdin(c, &format!("{MARKER_SECRET}\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(a.path(), &p.url, &["plugin", "show", &id])["secret_set"], true);
    let table = import_table(a.path(), &p, "stock.csv", "item,qty\napple,1\n");

    // Without the hosting consent: not one item write, and both wait in the queue.
    let r = sync(a.path(), &p);
    assert!(r["blocked"].as_str().unwrap().contains("consent"), "{r}");
    assert_eq!(p.item_requests(), 0, "nothing was sent");
    assert_eq!(p.received_for("developer_data_hosting"), 0);
    let st = json(a.path(), &p.url, &["sync", "status"]);
    let listed: Vec<(&str, &str)> = st["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap(), i["id"].as_str().unwrap()))
        .collect();
    assert!(listed.contains(&("plugin", id.as_str())), "{st}");
    assert!(listed.contains(&("table", table.as_str())), "{st}");
    let text = run(a.path(), &p, &["sync", "status"]);
    assert!(text.contains("plugin") && text.contains(&id), "awf sync status lists the plugin: {text}");

    // With it, the plugin goes up without its secret; the other device gets it without one.
    grant_hosting(a.path(), &p);
    let r = sync(a.path(), &p);
    assert_eq!((r["pushed"].as_u64(), r["pending"].as_u64()), (Some(2), Some(0)), "{r}");
    log_in(b.path(), &p, "plugin-dev");
    grant_hosting(b.path(), &p);
    let r = sync(b.path(), &p);
    assert_eq!(r["pulled"], 2, "{r}");
    let there = json(b.path(), &p.url, &["plugin", "show", &id]);
    assert_eq!(there["name"], "Swagger Petstore");
    assert_eq!(there["auth"]["type"], "api_key", "the auth method and its placement travel: {there}");
    assert_eq!(there["auth"]["param_name"], "X-API-Key");
    assert_eq!(there["spec"]["tools"][0]["name"], "listPets");
    assert_eq!(there["secret_set"], false, "the secret is not set on this device: {there}");
    assert_eq!(json(b.path(), &p.url, &["sync", "status"])["overview"]["pending"], 0, "pulling queues nothing");

    let items = platform_items(a.path(), &p);
    assert!(items.contains("Swagger Petstore"), "the platform holds the plugin: {items}");
    assert!(!items.contains(MARKER_SECRET), "no platform item holds the secret");
    let log = run(a.path(), &p, &["log", "--limit", "1000", "--json"]);
    // Both went in one batch of writes, which the log names item by item.
    assert!(log.contains("/v1/items/batch"), "the log records the batch: {log}");
    assert!(log.contains(&format!("plugin/{id}")), "its preview names the plugin: {log}");
    assert!(!log.contains(MARKER_SECRET), "no transmission-log preview holds the secret");
    assert!(!run(b.path(), &p, &["log", "--limit", "1000", "--json"]).contains(MARKER_SECRET));

    // Deleting travels as a tombstone, with the platform's receipt in the deletion ledger.
    run(a.path(), &p, &["plugin", "delete", &id, "--yes"]);
    assert_eq!(sync(a.path(), &p)["deleted"], 1);
    let ledger = json(a.path(), &p.url, &["deletions"]);
    let entry = ledger["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["platform"]["scope"]["type"], "item", "{entry}");
    assert_eq!(entry["platform"]["scope"]["id"], id.as_str());
    assert_eq!(sync(b.path(), &p)["pulled"], 1);
    let mut c = awf_at(b.path(), &p.url);
    c.args(["plugin", "show", &id]);
    assert!(!c.output().unwrap().status.success(), "the plugin is gone on the other device too");
}

#[test]
fn tables_sync_both_ways_merging_cells_and_asking_when_both_changed_the_same_cell() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    sign_up(a.path(), &p, "table-dev", "+8613800006602");
    grant_hosting(a.path(), &p);
    let id = import_table(a.path(), &p, "stock.csv", "item,qty\napple,1\npear,2\n");
    assert_eq!(sync(a.path(), &p)["pushed"], 1);
    log_in(b.path(), &p, "table-dev");
    grant_hosting(b.path(), &p);
    assert_eq!(sync(b.path(), &p)["pulled"], 1);
    assert_eq!(rows(b.path(), &p, &id), serde_json::json!([["apple", 1], ["pear", 2]]));

    // Edited on B, it reaches A.
    set_cell(b.path(), &p, &id, 1, "qty", "5");
    assert_eq!(sync(b.path(), &p)["pushed"], 1);
    assert_eq!(sync(a.path(), &p)["pulled"], 1);
    assert_eq!(rows(a.path(), &p, &id), serde_json::json!([["apple", 5], ["pear", 2]]));

    // Different cells on both devices: merged, on both.
    set_cell(a.path(), &p, &id, 1, "item", "apricot");
    set_cell(b.path(), &p, &id, 2, "qty", "7");
    sync(a.path(), &p);
    let r = sync(b.path(), &p);
    assert_eq!((r["merged"].as_u64(), r["conflicts"].as_u64()), (Some(1), Some(0)), "{r}");
    sync(a.path(), &p);
    let merged = serde_json::json!([["apricot", 5], ["pear", 7]]);
    assert_eq!(rows(a.path(), &p, &id), merged);
    assert_eq!(rows(b.path(), &p, &id), merged);

    // The same cell on both: a conflict, nothing overwritten; keep theirs settles both.
    set_cell(a.path(), &p, &id, 2, "item", "plum");
    set_cell(b.path(), &p, &id, 2, "item", "fig");
    sync(a.path(), &p);
    let r = sync(b.path(), &p);
    assert_eq!(r["conflicts"], 1, "{r}");
    assert_eq!(rows(b.path(), &p, &id)[1][0], "fig", "nothing overwritten");
    let conflicts = json(b.path(), &p.url, &["conflicts", "list"]);
    assert_eq!((conflicts[0]["kind"].as_str(), conflicts[0]["id"].as_str()), (Some("table"), Some(id.as_str())));
    assert_eq!(conflicts[0]["name"], "stock");
    assert_eq!(sync(b.path(), &p)["pushed"], 0, "the conflict waits for the developer");
    run(b.path(), &p, &["conflicts", "resolve", &id, "--theirs"]);
    sync(b.path(), &p);
    sync(a.path(), &p);
    assert_eq!(rows(b.path(), &p, &id)[1][0], "plum");
    assert_eq!(rows(a.path(), &p, &id)[1][0], "plum");

    // Again, settled by keeping this device's cell: it goes up and reaches the other device.
    set_cell(a.path(), &p, &id, 2, "item", "kiwi");
    set_cell(b.path(), &p, &id, 2, "item", "lime");
    sync(a.path(), &p);
    assert_eq!(sync(b.path(), &p)["conflicts"], 1);
    run(b.path(), &p, &["conflicts", "resolve", &id, "--mine"]);
    assert_eq!(sync(b.path(), &p)["pushed"], 1);
    sync(a.path(), &p);
    assert_eq!(rows(a.path(), &p, &id), serde_json::json!([["apricot", 5], ["lime", 7]]));
    assert_eq!(rows(b.path(), &p, &id), serde_json::json!([["apricot", 5], ["lime", 7]]));
    for dir in [a.path(), b.path()] {
        assert!(json(dir, &p.url, &["conflicts", "list"]).as_array().unwrap().is_empty());
        assert_eq!(json(dir, &p.url, &["sync", "status"])["overview"]["pending"], 0);
    }
}

#[test]
fn a_table_with_personal_information_is_held_back_until_attested() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let a = tempfile::tempdir().unwrap();
    sign_up(a.path(), &p, "pii-table-dev", "+8613800006603");
    grant_hosting(a.path(), &p);
    let id = import_table(
        a.path(),
        &p,
        "customers.csv",
        "name,phone,email\nAlice,13812345678,alice@example.com\nBob,13912345678,bob@example.org\n",
    );
    let r = sync(a.path(), &p);
    assert_eq!(r["pushed"], 0, "{r}");
    let status = json(a.path(), &p.url, &["sync", "status"]);
    let item = status["items"].as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).expect("listed").clone();
    assert_eq!((item["kind"].as_str(), item["status"].as_str()), (Some("table"), Some("held_back")), "{status}");
    assert!(item["reason"].as_str().unwrap().contains("personal information"), "{item}");
    assert_eq!(p.item_requests(), 0, "nothing of it was sent");

    let mut c = awf_at(a.path(), &p.url);
    c.args(["sync", "attest", &id]);
    assert!(!c.output().unwrap().status.success(), "an attestation needs --yes");
    run(a.path(), &p, &["sync", "attest", &id, "--yes"]);
    let ledger = json(a.path(), &p.url, &["consent", "ledger"]);
    let entries = ledger["entries"].as_array().unwrap_or_else(|| ledger.as_array().unwrap());
    let attested = entries.iter().find(|e| e["method"] == "pii_attestation").expect("the attestation is in the ledger");
    assert!(attested["subject"].as_str().unwrap().starts_with(&format!("table/{id}@")), "{attested}");
    assert_eq!(sync(a.path(), &p)["pushed"], 1);

    // A changed content needs a new attestation.
    set_cell(a.path(), &p, &id, 1, "name", "Alicia");
    let r = sync(a.path(), &p);
    assert_eq!(r["pushed"], 0, "{r}");
    assert_eq!(p.item_requests(), 1);
}
