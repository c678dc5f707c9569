//! Rights end to end (D7–D9) against the reference platform as a real process, with the real
//! OS keyring (the test command's D-Bus session with gnome-keyring): deleting everything the
//! platform holds with a receipt in the deletion ledger, rights requests, and account
//! cancellation online and offline, down to the keyring and the files.
#![cfg(target_os = "linux")]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use awf_platform_api::{DeletionReceipt, ReceiptKeys};
use common::platform::Platform;
use common::{awf, fails, ok};

const PASSWORD: &str = "correct-horse-battery-42";
const MARKER: &str = "RIGHTS-MARKER-5b1e";

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

fn code_of(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    err.split_once("error[").and_then(|(_, r)| r.split_once(']')).map(|(c, _)| c.to_string()).unwrap_or_default()
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
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

fn profile_id(dir: &Path) -> String {
    let key: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("key.json")).unwrap()).unwrap();
    key["profile_id"].as_str().unwrap().to_string()
}

fn access_token(dir: &Path) -> String {
    use awf_core::KeyVault;
    let json = awf_core::OsKeyring
        .get_secret(&format!("platform-tokens/{}", profile_id(dir)))
        .unwrap()
        .expect("tokens in the keyring");
    let v: serde_json::Value = serde_json::from_str(json.expose()).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// These tests run one at a time: they create, list and delete keyring items, and
/// gnome-keyring-daemon once died on an internal glib assertion under such concurrent traffic
/// (see `crates/awf-core/tests/shred.rs`).
static KEYRING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    KEYRING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every Secret Service item of the app whose entry name ends with `/<profile id>`.
fn keyring_entries_of(profile_id: &str) -> Vec<String> {
    use dbus_secret_service::{EncryptionType, SecretService};
    let ss = SecretService::connect(EncryptionType::Plain).expect("a Secret Service in the session");
    let found = ss.search_items(HashMap::from([("service", awf_core::keys::KEYRING_SERVICE)])).unwrap();
    found
        .unlocked
        .iter()
        .chain(found.locked.iter())
        .filter_map(|item| item.get_attributes().ok()?.get("username").cloned())
        .filter(|user| user.split('#').next().is_some_and(|u| u.ends_with(&format!("/{profile_id}"))))
        .collect()
}

fn receipt_keys(p: &Platform) -> ReceiptKeys {
    reqwest::blocking::get(format!("{}/v1/receipt-keys", p.url)).unwrap().json().unwrap()
}

fn profile_status(p: &Platform, token: &str) -> u16 {
    reqwest::blocking::Client::new()
        .get(format!("{}/v1/account/profile", p.url))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn login_code(dir: &Path, p: &Platform, name: &str) -> String {
    let mut c = awf_at(dir, &p.url);
    c.args(["login", "--login", name, "--password-stdin", "--accept-policy"]);
    code_of(&with_stdin(c, &format!("{PASSWORD}\n")))
}

fn cancel(dir: &Path, p: &str, name: &str, password: &str, extra: &[&str]) -> std::process::Output {
    let mut c = awf_at(dir, p);
    c.args(["cancel-account", "--account-name", name, "--password-stdin", "--yes", "--json"]).args(extra);
    with_stdin(c, &format!("{password}\n"))
}

fn contains_bytes(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            contains_bytes(&p, needle)
        } else {
            std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        }
    })
}

#[test]
fn erasing_platform_data_keeps_the_account_and_records_a_receipt_that_verifies() {
    let _serial = one_at_a_time();
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    sign_up(dir.path(), &p, "eraser", "+8613800000201");

    let mut c = awf_at(dir.path(), &p.url);
    c.args([
        "requests",
        "new",
        "--category",
        "complaint",
        "--text",
        &format!("Please look at this. {MARKER}"),
        "--json",
    ]);
    let created = json_of(&c.output().unwrap());
    assert_eq!(created["status"], "open");
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["requests", "list", "--json"]);
    let list = json_of(&c.output().unwrap());
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], created["id"]);

    let mut c = awf_at(dir.path(), &p.url);
    c.args(["delete", "--platform-data", "--yes", "--json"]);
    let entry = json_of(&c.output().unwrap());
    let receipt: DeletionReceipt = serde_json::from_value(entry["platform"].clone()).unwrap();
    receipt_keys(&p).verify(&receipt).expect("the erase receipt verifies with the published key");
    assert_eq!(receipt.deleted.get("rights_requests"), Some(&1), "{receipt:?}");

    // The receipt is in the deletion ledger, whose chain holds; the account is still there.
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["deletions", "--json"]);
    let ledger = json_of(&c.output().unwrap());
    assert_eq!(ledger["entries"].as_array().unwrap().len(), 1, "{ledger}");
    assert_eq!(ledger["entries"][0]["platform"]["receipt_id"], receipt.receipt_id.as_str());
    assert!(ledger["problem"].is_null(), "{ledger}");
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["requests", "list", "--json"]);
    assert_eq!(json_of(&c.output().unwrap()), serde_json::json!([]), "the requests were deleted");
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["whoami"]);
    assert!(ok(c).contains("eraser"), "the account is kept");
}

#[test]
fn cancellation_destroys_the_account_the_keyring_entries_and_every_file() {
    let _serial = one_at_a_time();
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("profile");
    sign_up(&dir, &p, "leaver", "+8613800000202");
    let mut c = awf_at(&dir, &p.url);
    c.args(["agents", "create", "--name", "Doomed", "--instructions", &format!("Secret plans {MARKER}")]);
    ok(c);
    let id = profile_id(&dir);
    let token = access_token(&dir);
    assert!(keyring_entries_of(&id).len() >= 2, "the store key and the tokens are in the keyring");

    // Refusals change nothing and leave the profile unlocked.
    let out = cancel(&dir, &p.url, "Leaver", PASSWORD, &[]);
    assert_eq!(code_of(&out), "invalid_input", "{}", String::from_utf8_lossy(&out.stderr));
    let out = cancel(&dir, &p.url, "leaver", "not-the-password-1", &[]);
    assert_eq!(code_of(&out), "invalid_credentials", "{}", String::from_utf8_lossy(&out.stderr));
    let mut c = awf_at(&dir, &p.url);
    c.args(["agents", "list"]);
    assert!(ok(c).contains("Doomed"), "still unlocked and intact after the refusals");
    assert_eq!(profile_status(&p, &token), 200);

    let receipt_file = parent.path().join("receipt.json");
    let out = cancel(&dir, &p.url, "leaver", PASSWORD, &["--receipt", receipt_file.to_str().unwrap()]);
    let status = json_of(&out);
    assert_eq!(status["state"], "completed", "{status}");
    assert_eq!(status["receipt_verified"], true, "{status}");
    let receipt: DeletionReceipt =
        serde_json::from_slice(&std::fs::read(&receipt_file).expect("the receipt was saved")).unwrap();
    receipt_keys(&p).verify(&receipt).expect("the saved receipt verifies with the published key");
    assert_eq!(serde_json::to_value(&receipt.scope).unwrap()["type"], "account");

    // The platform: the old token is refused, the credentials no longer sign in.
    assert_eq!(profile_status(&p, &token), 401);
    let elsewhere = tempfile::tempdir().unwrap();
    assert_eq!(login_code(elsewhere.path(), &p, "leaver"), "invalid_credentials");
    // This machine: no keyring entry of the profile, no file, no trace of the marker.
    assert_eq!(keyring_entries_of(&id), Vec::<String>::new());
    assert!(!dir.exists(), "the data directory is gone: {:?}", std::fs::read_dir(&dir).map(|r| r.count()));
    assert!(!contains_bytes(parent.path(), MARKER.as_bytes()), "a file still holds the marker");
}

#[test]
fn cancellation_offline_locks_at_once_and_completes_when_the_platform_returns() {
    let _serial = one_at_a_time();
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let (url, port) = (p.url.clone(), p.port);
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("profile");
    sign_up(&dir, &p, "offline_leaver", "+8613800000203");
    let id = profile_id(&dir);
    let token = access_token(&dir);
    p.stop();

    let status = json_of(&cancel(&dir, &url, "offline_leaver", PASSWORD, &[]));
    assert_eq!(status["state"], "pending", "{status}");
    assert!(status["last_error"].as_str().is_some_and(|e| e.contains("cannot be reached")), "{status}");
    // Locked at once: authoring is refused, the status still answers.
    let mut c = awf_at(&dir, &url);
    c.args(["agents", "list"]);
    assert_eq!(code_of(&fails(c)), "account_locked");
    let mut c = awf_at(&dir, &url);
    c.args(["cancel-account", "--status", "--json"]);
    assert_eq!(json_of(&c.output().unwrap())["state"], "pending");

    // The bridge (what the desktop app runs) retries on its own; the platform comes back.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _bridge =
        KillOnDrop(awf_at(&dir, &url).args(["bridge"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    std::thread::sleep(Duration::from_secs(1));
    assert!(dir.join("key.json").exists(), "nothing is destroyed while the platform is away");
    let p = Platform::start(pdata.path(), port, &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!dir.exists(), "the cancellation did not complete within 60 s of the platform's return");
    assert_eq!(profile_status(&p, &token), 401);
    assert_eq!(keyring_entries_of(&id), Vec::<String>::new());
}
