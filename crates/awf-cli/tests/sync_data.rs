//! Datasets under sync (C3, C4), against the reference platform as a real process: a dataset
//! with personal information is held back, saying why, until the developer attests (a consent
//! ledger entry, sent with it); a 200 MB dataset goes up in resumable chunks, and an `awf sync`
//! killed half-way resumes without re-sending more than one chunk.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::platform::Platform;
use common::{awf, ok};

const PASSWORD: &str = "correct-horse-battery-42";
/// The engine's upload chunk (crates/awf-api/src/sync.rs).
const CHUNK: u64 = 4 * 1024 * 1024;

fn awf_at(dir: &Path, platform: &str) -> Command {
    let mut c = awf(dir);
    c.env("AWF_PLATFORM_URL", platform).env_remove("AWF_PLATFORM_PASSWORD");
    c
}

fn json(dir: &Path, p: &str, args: &[&str]) -> serde_json::Value {
    let mut c = awf_at(dir, p);
    c.args(args).arg("--json");
    let out = ok(c);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn device(p: &Platform, dir: &Path, phone: &str) {
    use std::io::Write;
    let mut c = awf_at(dir, &p.url);
    c.args(["signup", "code", "--phone", phone, "--accept-policy"]);
    ok(c);
    let code = p.sms_code(phone);
    let mut c = awf_at(dir, &p.url);
    c.args(["signup", "create", "--account-name", &format!("data{}", &phone[phone.len() - 4..]), "--phone", phone]);
    c.args(["--sms-code", &code, "--date-of-birth", "1990-05-17", "--password-stdin"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut c = awf_at(dir, &p.url);
    c.args(["consent", "grant", "developer_data_hosting"]);
    ok(c);
}

fn sync_stats(p: &Platform) -> serde_json::Value {
    reqwest::blocking::get(format!("{}/v1/dev/sync-stats", p.url)).unwrap().json().unwrap()
}

#[test]
fn a_dataset_with_personal_information_waits_for_the_attestation() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    device(&p, dir.path(), "+8613800007701");
    let csv = dir.path().join("customers.csv");
    std::fs::write(&csv, "name,phone,email\nAlice,13812345678,alice@example.com\nBob,13912345678,bob@example.org\n")
        .unwrap();
    let ds = json(dir.path(), &p.url, &["dataset", "import", csv.to_str().unwrap()]);
    let id = ds["id"].as_str().unwrap().to_string();

    let r = json(dir.path(), &p.url, &["sync"]);
    assert_eq!(r["pushed"], 0, "{r}");
    let status = json(dir.path(), &p.url, &["sync", "status"]);
    let item = status["items"].as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).expect("listed").clone();
    assert_eq!(item["status"], "held_back", "{status}");
    assert!(item["reason"].as_str().unwrap().contains("personal information"), "{item}");
    assert_eq!(p.item_requests(), 0, "nothing of it was sent");
    assert_eq!(p.received("POST /v1/uploads"), 0);

    let mut c = awf_at(dir.path(), &p.url);
    c.args(["sync", "attest", &id]);
    assert!(!c.output().unwrap().status.success(), "an attestation needs --yes");
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["sync", "attest", &id, "--yes"]);
    ok(c);
    let ledger = json(dir.path(), &p.url, &["consent", "ledger"]);
    let entries = ledger["entries"].as_array().unwrap_or_else(|| ledger.as_array().unwrap());
    let attested = entries.iter().find(|e| e["method"] == "pii_attestation").expect("the attestation is in the ledger");
    assert!(attested["subject"].as_str().unwrap().starts_with(&format!("dataset/{id}@")), "{attested}");
    let verify = json(dir.path(), &p.url, &["consent", "verify"]);
    assert_eq!(verify["intact"], true, "the chain holds with the attestation: {verify}");

    let r = json(dir.path(), &p.url, &["sync"]);
    assert_eq!(r["pushed"], 1, "{r}");
    let stats = sync_stats(&p);
    assert_eq!((stats["live_items"].as_u64(), stats["uploads_completed"].as_u64()), (Some(1), Some(1)), "{stats}");
}

#[test]
fn a_large_dataset_upload_killed_half_way_resumes_resending_at_most_one_chunk() {
    let mb: u64 = std::env::var("AWF_SYNC_UPLOAD_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    device(&p, dir.path(), "+8613800007702");
    // Letters only: no run of digits a PII rule could take for a number.
    let line = "the quick brown fox jumps over the lazy dog and keeps on running through the field\n";
    let file = dir.path().join("corpus.txt");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        let mut written = 0u64;
        while written < mb * 1024 * 1024 {
            w.write_all(line.as_bytes()).unwrap();
            written += line.len() as u64;
        }
    }
    let ds = json(dir.path(), &p.url, &["dataset", "import", file.to_str().unwrap()]);
    let length = ds["bytes"].as_u64().unwrap();
    assert_eq!(ds["pii"]["total"], 0, "the corpus holds no personal information");

    // Kill `awf sync` once the platform holds about half of the bytes.
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["sync", "--json"]).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        assert!(child.try_wait().unwrap().is_none(), "awf sync ended before it was killed half-way");
        assert!(Instant::now() < deadline, "the upload did not reach half-way");
        if sync_stats(&p)["upload_bytes_received"].as_u64().unwrap() >= length / 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = sync_stats(&p)["upload_bytes_received"].as_u64().unwrap();
    assert!(at_kill < length, "killed before the end ({at_kill} of {length})");

    let r = json(dir.path(), &p.url, &["sync"]);
    assert_eq!(r["pushed"], 1, "{r}");
    let stats = sync_stats(&p);
    let received = stats["upload_bytes_received"].as_u64().unwrap();
    assert_eq!(stats["uploads_completed"], 1, "{stats}");
    assert!(received >= length, "{stats}");
    assert!(
        received - length <= CHUNK,
        "re-sent {} bytes after the kill, more than one {CHUNK}-byte chunk ({stats})",
        received - length
    );
    let history = json(dir.path(), &p.url, &["sync", "status"])["history"].clone();
    let uploaded =
        history.as_array().unwrap().iter().find(|h| h["event"] == "uploaded").expect("an upload event").clone();
    assert!(!uploaded["detail"].as_str().unwrap().ends_with("resumed at byte 0"), "it resumed: {uploaded}");
}

/// Writes a letters-only corpus of about `mb` MiB and imports it as a dataset; its id and bytes.
fn corpus(p: &Platform, dir: &Path, mb: u64) -> (String, String, u64) {
    let line = "the quick brown fox jumps over the lazy dog and keeps on running through the field\n";
    let file = dir.join("corpus.txt");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        let mut written = 0u64;
        while written < mb * 1024 * 1024 {
            w.write_all(line.as_bytes()).unwrap();
            written += line.len() as u64;
        }
    }
    let ds = json(dir, &p.url, &["dataset", "import", file.to_str().unwrap()]);
    assert_eq!(ds["pii"]["total"], 0, "the corpus holds no personal information");
    (ds["id"].as_str().unwrap().to_string(), ds["name"].as_str().unwrap().to_string(), ds["bytes"].as_u64().unwrap())
}

#[test]
fn an_upload_shows_its_progress_and_a_cancelled_one_resumes_where_it_stopped() {
    use awf_core::sync::{ItemKind, ItemStatus};
    let mb: u64 = std::env::var("AWF_SYNC_CANCEL_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(48);
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    device(&p, dir.path(), "+8613800007703");
    let (id, name, length) = corpus(&p, dir.path(), mb);

    // The command surface in this process (the registry of uploads is in-process, as in the app).
    // No other test of this file reads the variable in-process (their `awf` children set it).
    std::env::set_var("AWF_PLATFORM_URL", &p.url);
    let api = std::sync::Arc::new(awf_api::Api::open(awf_api::ApiConfig::new(dir.path())));
    assert!(api.sync_uploads().is_empty());
    let err = api.sync_cancel_upload(ItemKind::Dataset, &id).unwrap_err();
    assert_eq!(err.code, awf_api::ErrorCode::NotFound, "no upload runs yet");

    let pass = {
        let api = api.clone();
        std::thread::spawn(move || api.sync_once())
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    let seen = loop {
        assert!(Instant::now() < deadline, "no upload progress was listed");
        let list = api.sync_uploads();
        if let Some(u) = list.iter().find(|u| u.id == id && u.sent > 0) {
            break u.clone();
        }
        assert!(!pass.is_finished(), "the pass ended before any progress was listed: {list:?}");
        std::thread::sleep(Duration::from_millis(1));
    };
    assert_eq!((seen.kind, seen.name.as_str(), seen.total), (ItemKind::Dataset, name.as_str(), length), "{seen:?}");
    assert!(seen.sent < length && !seen.cancelling, "{seen:?}");
    api.sync_cancel_upload(ItemKind::Dataset, &id).expect("the running upload takes the cancel");
    let report = pass.join().unwrap().expect("the pass returns");
    assert_eq!(report.pushed, 0, "{report:?}");
    assert!(api.sync_uploads().is_empty(), "a stopped upload is no longer listed");
    let err = api.sync_cancel_upload(ItemKind::Dataset, &id).unwrap_err();
    assert_eq!(err.code, awf_api::ErrorCode::NotFound);

    let stats = sync_stats(&p);
    let at_cancel = stats["upload_bytes_received"].as_u64().unwrap();
    assert!(at_cancel >= seen.sent && at_cancel < length, "stopped part-way ({at_cancel} of {length}): {stats}");
    // Before its next chunk: the one in flight when the cancel came may finish (two allow for a
    // slow scheduler), not the rest.
    assert!(
        at_cancel <= seen.sent + 2 * CHUNK,
        "the cancel came at {} bytes and the upload went on to {at_cancel} of {length}",
        seen.sent
    );
    assert_eq!(stats["uploads_completed"], 0, "{stats}");
    let status = api.sync_status().unwrap();
    let item = status.items.iter().find(|i| i.id == id).expect("the dataset is listed");
    assert_eq!(item.status, ItemStatus::Off, "{item:?}");
    let reason = item.reason.clone().unwrap_or_default();
    assert!(
        reason.starts_with(&format!("upload cancelled at {at_cancel} of {length} bytes")),
        "the reason names where it stopped: {reason}"
    );
    assert!(status.history.iter().any(|h| h.event == "cancelled" && h.id == id), "{:?}", status.history);

    // Parked: the next pass does not start it again.
    let report = api.sync_once().unwrap();
    assert_eq!(report.pushed, 0, "{report:?}");
    assert_eq!(sync_stats(&p)["upload_bytes_received"].as_u64().unwrap(), at_cancel, "nothing more was sent");

    // Turned on again, it resumes at the platform's offset.
    api.sync_item_set(ItemKind::Dataset, &id, true).unwrap();
    let report = api.sync_once().unwrap();
    assert_eq!(report.pushed, 1, "{report:?}");
    let stats = sync_stats(&p);
    let received = stats["upload_bytes_received"].as_u64().unwrap();
    assert_eq!(stats["uploads_completed"], 1, "{stats}");
    assert!(
        received >= length && received - length <= CHUNK,
        "re-sent {} bytes after the cancel, more than one {CHUNK}-byte chunk ({stats})",
        received.saturating_sub(length)
    );
    let status = api.sync_status().unwrap();
    assert!(status.items.iter().all(|i| i.id != id), "synced: {:?}", status.items);
    let uploaded = status.history.iter().find(|h| h.event == "uploaded").expect("an upload event");
    assert!(uploaded.detail.ends_with(&format!("resumed at byte {at_cancel}")), "{uploaded:?}");
}
