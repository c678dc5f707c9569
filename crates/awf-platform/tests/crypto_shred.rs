//! Crypto-shredding at the reference platform (issue 7): the account's content is sealed with
//! a key of its own kept outside sled, so that after cancellation (key destroyed) or erasure (key
//! replaced) nothing of the old content can be read from the data directory, although sled keeps
//! deleted records' bytes in its segment files until it rewrites them. Each test stops the
//! platform (so that sled has flushed) and reads every byte of every file under the data
//! directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use awf_platform_api::{AccountProfile, DeletionReceipt, ItemState, SessionGrant, SmsMessage, UploadState};
use base64::Engine;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PASSWORD: &str = "correct horse battery";
const OP: &str = "account_operation";
const HOSTING: &str = "developer_data_hosting";

struct Platform {
    child: Child,
    url: String,
    _lines: Receiver<String>,
    http: Client,
}

impl Platform {
    fn start(dir: &Path) -> Platform {
        let mut child = Command::new(env!("CARGO_BIN_EXE_awf-platform"))
            .args(["--dev", "--port", "0", "--data-dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start awf-platform");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(30)).expect("the platform prints its URL");
        let url = first.strip_prefix("AWF_PLATFORM_URL=").expect("the URL line").to_string();
        let http = Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        Platform { child, url, _lines: lines, http }
    }

    fn req(&self, method: &str, path: &str, token: Option<&str>, purpose: &str) -> RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = self.http.request(method, format!("{}{path}", self.url)).header("x-awf-purpose", purpose);
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    fn send(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> Response {
        self.req(method, path, token, OP).json(&body).send().unwrap()
    }

    fn register(&self, name: &str, phone: &str) -> SessionGrant {
        assert_eq!(self.send("POST", "/v1/auth/sms-code", None, json!({ "phone": phone })).status(), 202);
        let outbox: Vec<SmsMessage> = self
            .http
            .get(format!("{}/v1/dev/sms-outbox", self.url))
            .query(&[("phone", phone)])
            .send()
            .unwrap()
            .json()
            .unwrap();
        let body = json!({
            "account_name": name, "phone": phone, "password": PASSWORD, "sms_code": outbox.last().unwrap().code,
            "date_of_birth": "1990-05-17", "policy_version": 1,
        });
        let r = self.send("POST", "/v1/auth/register", None, body);
        assert_eq!(r.status(), 201);
        r.json().unwrap()
    }

    fn login(&self, name: &str) -> SessionGrant {
        let r = self.send("POST", "/v1/auth/login", None, json!({ "login": name, "password": PASSWORD }));
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }

    fn grant(&self, token: &str, purpose: &str) {
        let receipt = json!({
            "receipt_id": format!("r-{purpose}"), "purpose": purpose, "granted": true,
            "at": "2026-03-01T08:00:00Z", "policy_version": 1, "method": "test", "ledger_seq": 1,
            "ledger_hash": "0".repeat(64),
        });
        assert_eq!(self.send("POST", "/v1/consents", Some(token), receipt).status(), 201);
    }

    fn put_item(&self, token: &str, id: &str, instructions: &str, key: &str) -> Response {
        self.req("PUT", &format!("/v1/items/agent/{id}"), Some(token), HOSTING)
            .header("if-none-match", "*")
            .header("idempotency-key", key)
            .json(&json!({ "body": { "name": "Helper", "instructions": instructions } }))
            .send()
            .unwrap()
    }

    fn item(&self, token: &str, id: &str) -> ItemState {
        let r = self.req("GET", &format!("/v1/items/agent/{id}"), Some(token), HOSTING).send().unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }

    fn profile(&self, token: &str) -> AccountProfile {
        let r = self.req("GET", "/v1/account/profile", Some(token), OP).send().unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }

    /// Gives the account content that holds `marker` everywhere the platform keeps content: the
    /// profile's display name and organisation, a synced item's body (with an idempotency record
    /// of the write), a telemetry item's data, a rights request's text and attachment, and an
    /// unfinished upload's bytes.
    fn fill(&self, token: &str, marker: &str) {
        let r = self.send(
            "PATCH",
            "/v1/account/profile",
            Some(token),
            json!({ "display_name": marker, "organisation": marker }),
        );
        assert_eq!(r.status(), 200);
        self.grant(token, HOSTING);
        assert_eq!(self.put_item(token, "A1", marker, "01JSHRED00000000000000000A").status(), 201);
        self.grant(token, "usage_analytics");
        let batch = json!({ "events": [{ "id": "e1", "kind": "k", "at": "", "data": { "note": marker } }] });
        let r = self
            .req("POST", "/v1/telemetry/usage_analytics", Some(token), "usage_analytics")
            .json(&batch)
            .send()
            .unwrap();
        assert_eq!(r.status(), 202);
        let request = json!({
            "category": "complaint",
            "text": format!("My data was shown to someone else. {marker}"),
            "attachments": [{
                "name": "evidence.txt", "media_type": "text/plain",
                "content_base64": base64::engine::general_purpose::STANDARD.encode(marker.as_bytes()),
            }],
        });
        assert_eq!(self.send("POST", "/v1/requests", Some(token), request).status(), 201);
        let content = format!("{marker} {marker}").into_bytes();
        let upload =
            json!({ "length": content.len() * 2, "sha256": hex::encode(Sha256::digest(&content)), "dataset_id": "DS" });
        let r = self.req("POST", "/v1/uploads", Some(token), HOSTING).json(&upload).send().unwrap();
        assert_eq!(r.status(), 201);
        let u: UploadState = r.json().unwrap();
        let r = self
            .req("PATCH", &format!("/v1/uploads/{}", u.upload_id), Some(token), HOSTING)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", "0")
            .body(content)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// Stops the platform (SIGTERM: it flushes its store and exits).
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        assert!(self.child.wait().unwrap().success());
        std::mem::forget(self);
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// The files under `dir` whose bytes contain `needle` anywhere.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files(dir).into_iter().filter(|f| std::fs::read(f).unwrap().windows(needle.len()).any(|w| w == needle)).collect()
}

fn key_files(dir: &Path, account: &str) -> Vec<PathBuf> {
    files(&dir.join(awf_platform::sealed::KEY_DIR))
        .into_iter()
        .filter(|f| f.file_name().unwrap().to_str().unwrap().starts_with(&format!("{account}.")))
        .collect()
}

fn key_of(dir: &Path, account: &str) -> Vec<u8> {
    let key = std::fs::read(dir.join(awf_platform::sealed::KEY_DIR).join(format!("{account}.key"))).unwrap();
    assert_eq!(key.len(), 32);
    key
}

#[test]
fn after_cancellation_no_file_of_the_data_dir_holds_the_accounts_content_or_key() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "MARKER-5e1d-cancelled";
    let p = Platform::start(dir.path());
    let grant = p.register("shredded", "+8613822220001");
    let token = grant.tokens.access_token.as_str();
    let account = grant.account.account_id.clone();
    p.fill(token, marker);
    let other = p.register("survivor", "+8613822220002");
    p.fill(&other.tokens.access_token, "other-marker-survives");
    p.stop();

    // At rest, sealed: no file holds the content in clear (nor the phone: sealed in the profile,
    // a keyed hash in the log-in index), and the key is outside sled.
    assert_eq!(files_holding(dir.path(), marker.as_bytes()), Vec::<PathBuf>::new());
    assert_eq!(files_holding(dir.path(), b"8613822220001"), Vec::<PathBuf>::new());
    let key = key_of(dir.path(), &account);
    assert_eq!(key_files(dir.path(), &account).len(), 1);
    assert_eq!(files_holding(&dir.path().join("store"), &key), Vec::<PathBuf>::new());

    let p = Platform::start(dir.path());
    let r = p
        .req("POST", "/v1/account/cancel", Some(token), OP)
        .json(&json!({ "password": PASSWORD, "account_name": "shredded" }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let receipt: DeletionReceipt = r.json().unwrap();
    assert_eq!(receipt.deleted.get("account"), Some(&1));
    // The other account still reads its content (its key is untouched).
    let t = other.tokens.access_token.as_str();
    assert_eq!(p.item(t, "A1").body.unwrap()["instructions"], "other-marker-survives");
    p.stop();

    assert_eq!(files_holding(dir.path(), marker.as_bytes()), Vec::<PathBuf>::new());
    assert_eq!(files_holding(dir.path(), b"8613822220001"), Vec::<PathBuf>::new());
    assert_eq!(key_files(dir.path(), &account), Vec::<PathBuf>::new(), "no key file of the account remains");
    assert_eq!(files_holding(dir.path(), &key), Vec::<PathBuf>::new(), "the key's bytes are nowhere");
    assert!(!dir.path().join("uploads").join(&account).exists());
    // And a restart does not bring anything back: the other account works, the cancelled one is
    // unknown.
    let p = Platform::start(dir.path());
    assert_eq!(p.profile(t).display_name.as_deref(), Some("other-marker-survives"));
    let r = p.send("POST", "/v1/auth/login", None, json!({ "login": "shredded", "password": PASSWORD }));
    assert_eq!(r.status(), 401);
    p.stop();
    assert_eq!(key_files(dir.path(), &account), Vec::<PathBuf>::new());
}

#[test]
fn after_erasure_the_old_content_is_unreadable_and_the_account_works_under_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "MARKER-9b2a-erased";
    let p = Platform::start(dir.path());
    let grant = p.register("eraser", "+8613822220003");
    let account = grant.account.account_id.clone();
    p.fill(&grant.tokens.access_token, marker);
    p.stop();
    let old_key = key_of(dir.path(), &account);
    assert_eq!(files_holding(dir.path(), marker.as_bytes()), Vec::<PathBuf>::new());

    // What sled holds of the telemetry item before erasure, to try it after.
    let telemetry = {
        let db = sled::Config::new().path(dir.path().join("store")).open().unwrap();
        let tree = db.open_tree("telemetry").unwrap();
        let (k, v) = tree.iter().next().unwrap().unwrap();
        assert!(awf_platform::sealed::is_sealed(&v));
        let plain = awf_platform::sealed::open(dir.path(), &account, "telemetry", &k, &v).unwrap();
        assert!(String::from_utf8(plain).unwrap().contains(marker));
        (k.to_vec(), v.to_vec())
    };

    let p = Platform::start(dir.path());
    let token = grant.tokens.access_token.as_str();
    let r = p.send("POST", "/v1/account/data/erase", Some(token), json!({}));
    assert_eq!(r.status(), 200);
    // The account stays: its profile (sealed again with the new key) reads as before.
    assert_eq!(p.profile(token).display_name.as_deref(), Some(marker));
    p.stop();

    assert_eq!(files_holding(dir.path(), marker.as_bytes()), Vec::<PathBuf>::new());
    let new_key = key_of(dir.path(), &account);
    assert_ne!(new_key, old_key);
    assert_eq!(key_files(dir.path(), &account).len(), 1, "only the new key: {:?}", key_files(dir.path(), &account));
    assert_eq!(files_holding(dir.path(), &old_key), Vec::<PathBuf>::new(), "the old key's bytes are nowhere");
    // A copy of the store made before the erasure no longer opens: the old key is gone.
    let (k, v) = telemetry;
    assert!(awf_platform::sealed::open(dir.path(), &account, "telemetry", &k, &v).is_err());

    // The account still logs in, and writes new items that read back.
    let p = Platform::start(dir.path());
    let login = p.login("eraser");
    let t = login.tokens.access_token.as_str();
    assert_eq!(p.profile(t).display_name.as_deref(), Some(marker));
    assert_eq!(p.put_item(t, "A2", "written after erasure", "01JSHRED00000000000000000B").status(), 201);
    assert_eq!(p.item(t, "A2").body.unwrap()["instructions"], "written after erasure");
    let r = p.req("GET", "/v1/items/agent/A1", Some(t), HOSTING).send().unwrap();
    assert_eq!(r.status(), 404, "the erased item is gone");
    p.stop();
    assert_eq!(key_of(dir.path(), &account), new_key);
}
