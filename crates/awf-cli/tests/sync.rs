//! Consented sync end to end (C1–C6) between two devices of one account, against the reference
//! platform as a real process, with the real OS keyring: nothing is sent without the hosting
//! consent; agents travel both ways; concurrent edits of different lines merge by themselves;
//! edits of the same lines become a conflict settled by hand, never a silent overwrite; a delete
//! travels as a tombstone and its platform receipt lands in the deletion ledger.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::platform::Platform;
use common::{awf, ok};

const PASSWORD: &str = "correct-horse-battery-42";

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

fn sign_up(dir: &Path, p: &Platform, name: &str, phone: &str) {
    let mut c = awf_at(dir, &p.url);
    c.args(["signup", "code", "--phone", phone, "--accept-policy"]);
    ok(c);
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
    let mut c = awf_at(dir, &p.url);
    c.args(["consent", "grant", "developer_data_hosting"]);
    ok(c);
}

fn sync(dir: &Path, p: &Platform) -> serde_json::Value {
    json(dir, &p.url, &["sync"])
}

fn create(dir: &Path, p: &Platform, name: &str, instructions: &str) -> String {
    let a = json(dir, &p.url, &["agents", "create", "--name", name, "--instructions", instructions]);
    a["id"].as_str().unwrap().to_string()
}

fn instructions(dir: &Path, p: &Platform, id: &str) -> String {
    json(dir, &p.url, &["agents", "show", id])["instructions"].as_str().unwrap().to_string()
}

fn edit(dir: &Path, p: &Platform, id: &str, text: &str) {
    let mut c = awf_at(dir, &p.url);
    c.args(["agents", "edit", id, "--instructions", text]);
    ok(c);
}

#[test]
fn agents_sync_between_two_devices_only_with_consent_merging_or_asking_never_overwriting() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    sign_up(a.path(), &p, "sync-dev", "+8613800005501");
    let id = create(a.path(), &p, "Support bot", "greet\nanswer\nsign off\n");

    // Without the hosting consent nothing is sent: not one request of the purpose.
    let r = sync(a.path(), &p);
    assert!(r["blocked"].as_str().unwrap().contains("consent"), "{r}");
    assert_eq!(p.received_for("developer_data_hosting"), 0);
    assert_eq!(p.item_requests(), 0);
    let st = json(a.path(), &p.url, &["sync", "status"]);
    assert_eq!(st["overview"]["pending"], 1, "{st}");

    // With it, the agent goes up; the other device pulls it.
    grant_hosting(a.path(), &p);
    let r = sync(a.path(), &p);
    assert_eq!((r["pushed"].as_u64(), r["pending"].as_u64()), (Some(1), Some(0)), "{r}");
    log_in(b.path(), &p, "sync-dev");
    grant_hosting(b.path(), &p);
    let r = sync(b.path(), &p);
    assert_eq!(r["pulled"], 1, "{r}");
    assert_eq!(instructions(b.path(), &p, &id), "greet\nanswer\nsign off\n");
    assert_eq!(json(b.path(), &p.url, &["sync", "status"])["overview"]["pending"], 0, "pulling queues nothing");

    // Different lines edited on both devices: merged without asking, on both.
    edit(a.path(), &p, &id, "GREET WARMLY\nanswer\nsign off\n");
    edit(b.path(), &p, &id, "greet\nanswer\nSIGN OFF POLITELY\n");
    sync(a.path(), &p);
    let r = sync(b.path(), &p);
    assert_eq!(r["merged"], 1, "{r}");
    assert_eq!(r["conflicts"], 0, "{r}");
    sync(a.path(), &p);
    let merged = "GREET WARMLY\nanswer\nSIGN OFF POLITELY\n";
    assert_eq!(instructions(a.path(), &p, &id), merged);
    assert_eq!(instructions(b.path(), &p, &id), merged);

    // The same line edited on both: a conflict, and the platform keeps the first device's text.
    edit(a.path(), &p, &id, "GREET WARMLY\nanswer in English\nSIGN OFF POLITELY\n");
    edit(b.path(), &p, &id, "GREET WARMLY\nanswer in Chinese\nSIGN OFF POLITELY\n");
    sync(a.path(), &p);
    let r = sync(b.path(), &p);
    assert_eq!(r["conflicts"], 1, "{r}");
    let conflicts = json(b.path(), &p.url, &["conflicts", "list"]);
    let c = &conflicts[0];
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["merge_clean"], false);
    assert!(c["merged_instructions"].as_str().unwrap().contains("<<<<<<<"), "{c}");
    assert_eq!(c["theirs_instructions"], "GREET WARMLY\nanswer in English\nSIGN OFF POLITELY\n");
    assert_eq!(
        instructions(b.path(), &p, &id),
        "GREET WARMLY\nanswer in Chinese\nSIGN OFF POLITELY\n",
        "nothing overwritten"
    );
    // Another pass leaves the conflict as it is: it is the developer's to settle.
    assert_eq!(sync(b.path(), &p)["pushed"], 0);
    let file = b.path().join("merged.txt");
    std::fs::write(&file, "GREET WARMLY\nanswer in English or Chinese\nSIGN OFF POLITELY\n").unwrap();
    let mut c = awf_at(b.path(), &p.url);
    c.args(["conflicts", "resolve", &id, "--merged"]).arg(&file);
    ok(c);
    assert_eq!(sync(b.path(), &p)["pushed"], 1);
    sync(a.path(), &p);
    let settled = "GREET WARMLY\nanswer in English or Chinese\nSIGN OFF POLITELY\n";
    assert_eq!(instructions(a.path(), &p, &id), settled);
    assert!(json(b.path(), &p.url, &["conflicts", "list"]).as_array().unwrap().is_empty());

    // Deleting travels as a tombstone, with the platform's receipt in the deletion ledger.
    let mut c = awf_at(a.path(), &p.url);
    c.args(["agents", "delete", &id, "--yes"]);
    ok(c);
    assert_eq!(sync(a.path(), &p)["deleted"], 1);
    let ledger = json(a.path(), &p.url, &["deletions"]);
    let entry = ledger["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["platform"]["scope"]["type"], "item", "{entry}");
    assert_eq!(entry["platform"]["scope"]["id"], id.as_str());
    sync(b.path(), &p);
    let mut c = awf_at(b.path(), &p.url);
    c.args(["agents", "show", &id]);
    assert!(!c.output().unwrap().status.success(), "the agent is gone on the other device too");
}

#[test]
fn data_stored_in_another_region_needs_the_cross_border_consent_before_any_request() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let a = tempfile::tempdir().unwrap();
    sign_up(a.path(), &p, "border-dev", "+8613800005502");
    grant_hosting(a.path(), &p);
    create(a.path(), &p, "Abroad", "hello\n");
    // The same platform store, now declaring another region than the account's.
    let port = p.port;
    p.stop();
    let p = Platform::start(pdata.path(), port, &["--region", "eu-west-1"]);
    let r = sync(a.path(), &p);
    assert!(r["blocked"].as_str().unwrap().contains("cross-border"), "{r}");
    assert_eq!(p.item_requests(), 0, "nothing was sent");
    let mut c = awf_at(a.path(), &p.url);
    c.args(["consent", "grant", "cross_border_transfer"]);
    ok(c);
    let r = sync(a.path(), &p);
    assert_eq!(r["pushed"], 1, "{r}");

    // The export holds what the platform holds of the synced agents (D6).
    let zip_path = a.path().join("export.zip");
    let mut c = awf_at(a.path(), &p.url);
    c.args(["export", "--out"]).arg(&zip_path);
    ok(c);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut items = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("platform/items.jsonl").unwrap(), &mut items).unwrap();
    let line: serde_json::Value = serde_json::from_str(items.lines().next().unwrap()).unwrap();
    assert_eq!(line["body"]["draft"]["name"], "Abroad", "{items}");
    assert_eq!(line["revision"], 1);
}

#[test]
fn an_agent_with_sync_off_keeps_its_local_edits_when_the_other_device_changes_it() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    sign_up(a.path(), &p, "off-dev", "+8613800005503");
    grant_hosting(a.path(), &p);
    let id = create(a.path(), &p, "Kept", "one\ntwo\n");
    sync(a.path(), &p);
    log_in(b.path(), &p, "off-dev");
    grant_hosting(b.path(), &p);
    sync(b.path(), &p);
    let mut c = awf_at(b.path(), &p.url);
    c.args(["sync", "agent", &id, "off"]);
    ok(c);
    edit(b.path(), &p, &id, "one\nTWO HERE\n");
    edit(a.path(), &p, &id, "one\nTWO THERE\n");
    sync(a.path(), &p);
    sync(b.path(), &p);
    assert_eq!(
        instructions(b.path(), &p, &id),
        "one\nTWO HERE\n",
        "a pull never overwrites an agent whose sync is off"
    );
    // On again: the local edit goes up against the other device's, as a conflict.
    let mut c = awf_at(b.path(), &p.url);
    c.args(["sync", "agent", &id, "on"]);
    ok(c);
    assert_eq!(sync(b.path(), &p)["conflicts"], 1);
}

#[test]
fn passes_started_together_take_turns_and_send_each_change_once() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let a = tempfile::tempdir().unwrap();
    // The platform's address in the profile's settings, where the in-process surface below
    // finds it (the CLI gets the same address from the environment).
    let api = awf_api::Api::open(awf_api::ApiConfig::new(a.path()));
    api.set_platform_url(awf_api::dto::SetPlatformUrl { url: Some(p.url.clone()) }).unwrap();
    drop(api);
    sign_up(a.path(), &p, "turns-dev", "+8613800005541");
    grant_hosting(a.path(), &p);
    {
        let profile = awf_core::Profile::open(awf_core::OpenOptions::new(a.path())).unwrap();
        for n in 0..300 {
            profile.agents().create(awf_core::AgentDraft::named(format!("Turn agent {n}"))).unwrap();
        }
    }
    // Three passes at once ("Sync now" twice and the CLI's loop, say), in one process as in the app.
    let api = std::sync::Arc::new(awf_api::Api::open(awf_api::ApiConfig::new(a.path())));
    let before = p.item_requests();
    let start = std::sync::Arc::new(std::sync::Barrier::new(3));
    let passes: Vec<_> = (0..3)
        .map(|_| {
            let (api, start) = (api.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                api.sync_once().unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = passes.into_iter().map(|h| h.join().unwrap()).collect();
    let pushed: u64 = reports.iter().map(|r| r.pushed as u64).sum();
    assert_eq!(pushed, 300, "each change pushed by one pass: {reports:?}");
    assert!(reports.iter().all(|r| r.pending == 0), "{reports:?}");
    // 300 writes are two batches (200 + 100); passes reading the same outbox would send them again.
    assert_eq!(p.item_requests() - before, 2, "{reports:?}");
}

#[test]
fn many_changes_travel_in_batches_of_two_hundred_each_write_on_its_own_terms() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sign_up(a.path(), &p, "batch-dev", "+8613800005531");
    grant_hosting(a.path(), &p);
    let id = create(a.path(), &p, "Shared", "one\ntwo\nthree\n");
    sync(a.path(), &p);
    log_in(b.path(), &p, "batch-dev");
    grant_hosting(b.path(), &p);
    sync(b.path(), &p);
    // B changes the shared agent first: A's own change to it will meet a stale revision.
    edit(b.path(), &p, &id, "one\ntwo\nTHREE FROM B\n");
    sync(b.path(), &p);

    // 250 new agents on A (made in process: 250 processes would take minutes), plus its edit.
    {
        let profile = awf_core::Profile::open(awf_core::OpenOptions::new(a.path())).unwrap();
        for n in 0..250 {
            let mut d = awf_core::AgentDraft::named(format!("Batch agent {n}"));
            d.instructions = format!("agent number {n}\n");
            profile.agents().create(d).unwrap();
        }
    }
    edit(a.path(), &p, &id, "ONE FROM A\ntwo\nthree\n");
    let (puts, batches) = (p.received("PUT /v1/items/{kind}/{id}"), p.received("POST /v1/items/batch"));
    let r = sync(a.path(), &p);
    assert_eq!(r["pushed"], 251, "{r}");
    assert_eq!((r["merged"].as_u64(), r["pending"].as_u64()), (Some(1), Some(0)), "{r}");
    // 251 writes: two batches (200, then 51 with the merge's write requeued in the next round
    // or sent alone); never one request per change.
    let sent = p.received("POST /v1/items/batch") - batches + p.received("PUT /v1/items/{kind}/{id}") - puts;
    assert!((2..=3).contains(&sent), "{sent} requests for 251 writes");
    assert!(p.received("POST /v1/items/batch") - batches >= 2);

    // The stale write inside a batch became a merge, not an overwrite; B gets everything.
    let r = sync(b.path(), &p);
    assert_eq!(r["pulled"], 251, "{r}");
    assert_eq!(instructions(b.path(), &p, &id), "ONE FROM A\ntwo\nTHREE FROM B\n");
    let listed = json(b.path(), &p.url, &["agents", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 251, "{listed}");

    // Each batch is one record of the transmission log, under the hosting purpose.
    let log = json(a.path(), &p.url, &["log", "--limit", "1000"]);
    let records = log.as_array().unwrap_or_else(|| log["records"].as_array().unwrap());
    let batch_records: Vec<_> = records.iter().filter(|r| r["path"] == "/v1/items/batch").collect();
    assert!(batch_records.len() >= 2, "{batch_records:?}");
    assert!(batch_records.iter().all(|r| r["purpose"] == "developer_data_hosting" && r["status"] == 200));
}
