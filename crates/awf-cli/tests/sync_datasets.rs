//! A dataset synced from one device arrives on the other (C1), against the reference platform
//! as a real process and two `awf` profiles signed in to one account: a 10 MB dataset imported
//! on A reaches B with byte-identical text, the same name, format and chunking, and PII findings
//! computed on B; new content imported on A reaches B; deleting it on A removes it on B; and
//! without the hosting consent B downloads nothing.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::platform::Platform;
use common::{awf, ok};

const PASSWORD: &str = "correct-horse-battery-42";
const CONTENT_ROUTE: &str = "GET /v1/uploads/{id}/content";

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

fn json(dir: &Path, p: &Platform, args: &[&str]) -> serde_json::Value {
    let mut c = awf_at(dir, &p.url);
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

fn datasets(dir: &Path, p: &Platform) -> Vec<serde_json::Value> {
    json(dir, p, &["dataset", "list"]).as_array().unwrap().clone()
}

fn text(dir: &Path, p: &Platform, id: &str) -> Vec<u8> {
    let out = dir.join("text-out.txt");
    run(dir, p, &["dataset", "text", id, "--out", out.to_str().unwrap()]);
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

/// About `bytes` of lines of letters (no run of digits a PII rule could take for a number),
/// with `extra` at the end.
fn corpus(path: &Path, bytes: usize, word: &str, extra: &str) -> Vec<u8> {
    let line = format!("the {word} brown fox jumps over the lazy dog and keeps on running through the field\n");
    let mut t = String::with_capacity(bytes + extra.len() + line.len());
    while t.len() < bytes {
        t.push_str(&line);
    }
    t.push_str(extra);
    std::fs::write(path, &t).unwrap();
    t.into_bytes()
}

#[test]
fn a_dataset_imported_on_one_device_arrives_changes_and_goes_on_the_other() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path(), b.path());
    sign_up(a, &p, "dsync01", "+8613800007801");
    run(a, &p, &["consent", "grant", "developer_data_hosting"]);
    log_in(b, &p, "dsync01");

    // A: 10 MB with two findings of personal information, attested, synced.
    let file = a.join("corpus.txt");
    let original = corpus(&file, 10 * 1024 * 1024, "quick", "write to li.lei@example.com or han.meimei@example.org\n");
    let ds = json(a, &p, &["dataset", "import", file.to_str().unwrap()]);
    let id = ds["id"].as_str().unwrap().to_string();
    assert!(ds["pii"]["total"].as_u64().unwrap() >= 2, "{}", ds["pii"]);
    run(a, &p, &["sync", "attest", &id, "--yes"]);
    assert_eq!(json(a, &p, &["sync"])["pushed"], 1);

    // B without the hosting consent: nothing downloaded, nothing stored.
    let mut c = awf_at(b, &p.url);
    c.args(["sync", "--json"]);
    let _ = c.output().unwrap();
    assert_eq!(p.received(CONTENT_ROUTE), 0, "no content was asked for without the consent");
    assert!(datasets(b, &p).is_empty());

    // With it, the dataset arrives: the same text, description and chunking; findings computed on B.
    run(b, &p, &["consent", "grant", "developer_data_hosting"]);
    let writes = p.item_requests();
    let r = json(b, &p, &["sync"]);
    assert!(r["pulled"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(p.received(CONTENT_ROUTE), 1);
    assert_eq!(p.item_requests(), writes, "a pulled dataset is not sent back");
    let on_b = datasets(b, &p);
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    let got = &on_b[0];
    for field in ["id", "name", "format", "chunking", "bytes", "sha256", "chunk_count", "source_name"] {
        assert_eq!(got[field], ds[field], "{field}");
    }
    assert_eq!(got["pii"]["total"], ds["pii"]["total"], "findings recomputed on B: {}", got["pii"]);
    assert!(text(b, &p, &id) == original, "B's text is byte-identical to the file imported on A");
    let left: Vec<_> = std::fs::read_dir(b.join("sync-downloads")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "the download's temporary file is removed: {left:?}");
    let status = json(b, &p, &["sync", "status"]);
    assert!(status["items"].as_array().unwrap().iter().all(|i| i["id"] != id.as_str()), "nothing queued: {status}");
    let pulled = status["history"].as_array().unwrap().iter().find(|h| h["event"] == "pulled").cloned();
    let pulled = pulled.unwrap_or_else(|| panic!("a pull event: {status}"));
    assert!(pulled.to_string().contains(&id) && pulled["detail"].as_str().unwrap().contains("bytes"), "{pulled}");
    // Nothing new: a second pass downloads nothing.
    json(b, &p, &["sync"]);
    assert_eq!(p.received(CONTENT_ROUTE), 1);

    // New content on A (no findings: no attestation needed) reaches B.
    let newer = a.join("corpus-2.txt");
    let second = corpus(&newer, 3 * 1024 * 1024 + 7, "slow", "");
    let replaced = json(a, &p, &["dataset", "import", newer.to_str().unwrap(), "--replace", &id]);
    assert_eq!(replaced["id"], id.as_str());
    assert_eq!(json(a, &p, &["sync"])["pushed"], 1);
    json(b, &p, &["sync"]);
    assert_eq!(p.received(CONTENT_ROUTE), 2);
    let got = datasets(b, &p).into_iter().next().expect("still there");
    assert_eq!((&got["sha256"], &got["bytes"]), (&replaced["sha256"], &replaced["bytes"]));
    assert_eq!(got["pii"]["total"], 0);
    assert!(text(b, &p, &id) == second, "B has the new text");

    // Deleted on A: gone on B, its text files too.
    run(a, &p, &["dataset", "delete", &id]);
    json(a, &p, &["sync"]);
    json(b, &p, &["sync"]);
    assert!(datasets(b, &p).is_empty());
    assert!(!b.join("datasets").join(&id).exists(), "its text files are removed");
}

#[test]
fn a_download_that_does_not_match_its_digest_marks_the_dataset_as_failed_and_stores_nothing() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path(), b.path());
    sign_up(a, &p, "dsync02", "+8613800007802");
    run(a, &p, &["consent", "grant", "developer_data_hosting"]);
    log_in(b, &p, "dsync02");
    run(b, &p, &["consent", "grant", "developer_data_hosting"]);
    let file = a.join("small.txt");
    corpus(&file, 200_000, "quick", "");
    let id = json(a, &p, &["dataset", "import", file.to_str().unwrap()])["id"].as_str().unwrap().to_string();
    assert_eq!(json(a, &p, &["sync"])["pushed"], 1);

    // One byte of the platform's (encrypted) upload file changed: what it serves no longer
    // matches the SHA-256 it states.
    let account = std::fs::read_dir(pdata.path().join("uploads")).unwrap().next().unwrap().unwrap().path();
    let upload = std::fs::read_dir(&account).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&upload).unwrap();
    bytes[1000] ^= 0x20;
    std::fs::write(&upload, &bytes).unwrap();

    let mut c = awf_at(b, &p.url);
    c.env("AWF_SYNC_BACKOFF_CAP_MS", "20").args(["sync", "--json"]);
    let _ = c.output().unwrap();
    assert!(p.received(CONTENT_ROUTE) >= 1, "B asked for the content");
    assert!(datasets(b, &p).is_empty(), "nothing stored from a content that does not match");
    let left: Vec<_> = std::fs::read_dir(b.join("sync-downloads")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "the failed download's file is removed: {left:?}");
    let status = json(b, &p, &["sync", "status"]);
    let error = status["history"].as_array().unwrap().iter().find(|h| h["event"] == "error").cloned();
    let error = error.unwrap_or_else(|| panic!("an error event: {status}"));
    assert!(error.to_string().contains(&id), "{error}");
    assert!(error["detail"].as_str().unwrap().contains("SHA-256"), "the reason names the digest: {error}");
    let item = status["items"].as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).cloned();
    let item = item.unwrap_or_else(|| panic!("the failed dataset is listed: {status}"));
    assert_eq!(item["status"], "error", "{item}");
    assert!(item["reason"].as_str().unwrap().contains("SHA-256"), "{item}");
}

#[test]
fn keeping_theirs_in_a_dataset_conflict_downloads_the_platforms_text() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (a.path(), b.path());
    sign_up(a, &p, "dsync03", "+8613800007803");
    run(a, &p, &["consent", "grant", "developer_data_hosting"]);
    log_in(b, &p, "dsync03");
    run(b, &p, &["consent", "grant", "developer_data_hosting"]);
    let file = a.join("base.txt");
    corpus(&file, 100_000, "quick", "");
    let id = json(a, &p, &["dataset", "import", file.to_str().unwrap()])["id"].as_str().unwrap().to_string();
    json(a, &p, &["sync"]);
    json(b, &p, &["sync"]);
    assert_eq!(datasets(b, &p).len(), 1);

    // Both change the content; A's reaches the platform first, B's push is a conflict.
    let theirs = corpus(&a.join("a.txt"), 120_000, "red", "");
    run(a, &p, &["dataset", "import", a.join("a.txt").to_str().unwrap(), "--replace", &id]);
    json(a, &p, &["sync"]);
    corpus(&b.join("b.txt"), 130_000, "blue", "");
    run(b, &p, &["dataset", "import", b.join("b.txt").to_str().unwrap(), "--replace", &id]);
    let mut c = awf_at(b, &p.url);
    c.args(["sync", "--json"]);
    let _ = c.output().unwrap();
    let conflicts = json(b, &p, &["conflicts", "list"]);
    assert!(conflicts.to_string().contains(&id), "a conflict: {conflicts}");

    run(b, &p, &["conflicts", "resolve", &id, "--theirs"]);
    assert!(text(b, &p, &id) == theirs, "B took the platform's text");
    let writes = p.item_requests();
    json(b, &p, &["sync"]);
    assert_eq!(p.item_requests(), writes, "keeping theirs sends nothing");
    assert!(text(b, &p, &id) == theirs);
}
