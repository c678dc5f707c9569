//! Consented sync on the reference platform as a real process: revisions and preconditions,
//! idempotent replays (counted on the server), concurrent writes, the change feed, tombstones
//! with signed receipts, consent and attestation rules, resumable uploads across a restart, and
//! erasure and cancellation removing all of it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use awf_platform_api::sync::BatchAnswer;
use awf_platform_api::{
    Changes, DeletionReceipt, DeletionScope, ErrorBody, HeldData, ItemDeleted, ItemState, PlatformErrorCode,
    ReceiptKeys, SessionGrant, SmsMessage, SyncConflict, SyncStats, UploadState,
};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PASSWORD: &str = "correct horse battery";
const HOSTING: &str = "developer_data_hosting";

struct Platform {
    child: Child,
    url: String,
    _lines: std::sync::Mutex<Receiver<String>>,
    http: Client,
}

impl Platform {
    fn start(dir: &Path, region: &str) -> Platform {
        let mut child = Command::new(env!("CARGO_BIN_EXE_awf-platform"))
            .args(["--dev", "--port", "0", "--region", region, "--data-dir"])
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
        Platform { child, url, _lines: std::sync::Mutex::new(lines), http }
    }

    fn req(&self, method: &str, path: &str, token: &str, purpose: &str) -> RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.http.request(method, format!("{}{path}", self.url)).header("x-awf-purpose", purpose).bearer_auth(token)
    }

    fn register(&self, name: &str, phone: &str) -> SessionGrant {
        let r = self
            .http
            .post(format!("{}/v1/auth/sms-code", self.url))
            .header("x-awf-purpose", "account_operation")
            .json(&json!({ "phone": phone }))
            .send()
            .unwrap();
        assert_eq!(r.status(), 202);
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
        let r = self
            .http
            .post(format!("{}/v1/auth/register", self.url))
            .header("x-awf-purpose", "account_operation")
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().unwrap()
    }

    fn grant(&self, token: &str, purpose: &str, seq: u64) {
        let receipt = json!({
            "receipt_id": format!("r-{purpose}-{seq}"), "purpose": purpose, "granted": true,
            "at": "2026-03-01T08:00:00Z", "policy_version": 1, "method": "test", "ledger_seq": seq,
            "ledger_hash": "0".repeat(64),
        });
        let r = self.req("POST", "/v1/consents", token, "account_operation").json(&receipt).send().unwrap();
        assert_eq!(r.status(), 201);
    }

    /// A signed-in account that granted developer-data hosting.
    fn hosting_account(&self, name: &str, phone: &str) -> SessionGrant {
        let g = self.register(name, phone);
        self.grant(&g.tokens.access_token, HOSTING, 1);
        g
    }

    fn put(
        &self,
        token: &str,
        kind: &str,
        id: &str,
        if_match: Option<u64>,
        key: Option<&str>,
        body: Value,
    ) -> Response {
        let mut r = self.req("PUT", &format!("/v1/items/{kind}/{id}"), token, HOSTING).json(&body);
        match if_match {
            Some(0) => r = r.header("if-none-match", "*"),
            Some(n) => r = r.header("if-match", format!("\"{n}\"")),
            None => {}
        }
        if let Some(k) = key {
            r = r.header("idempotency-key", k);
        }
        r.send().unwrap()
    }

    fn delete(&self, token: &str, kind: &str, id: &str, if_match: u64, key: Option<&str>) -> Response {
        let mut r = self
            .req("DELETE", &format!("/v1/items/{kind}/{id}"), token, HOSTING)
            .header("if-match", if_match.to_string());
        if let Some(k) = key {
            r = r.header("idempotency-key", k);
        }
        r.send().unwrap()
    }

    fn changes(&self, token: &str, after: u64, limit: u32) -> Changes {
        let r = self.req("GET", &format!("/v1/changes?after={after}&limit={limit}"), token, HOSTING).send().unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }

    fn stats(&self) -> SyncStats {
        self.http.get(format!("{}/v1/dev/sync-stats", self.url)).send().unwrap().json().unwrap()
    }

    fn held(&self, token: &str) -> HeldData {
        let r = self.req("GET", "/v1/account/data", token, "account_operation").send().unwrap();
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }

    fn keys(&self) -> ReceiptKeys {
        self.http
            .get(format!("{}/v1/receipt-keys", self.url))
            .header("x-awf-purpose", "service_information")
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    fn create_upload(&self, token: &str, content: &[u8], dataset: &str) -> UploadState {
        let body =
            json!({ "length": content.len(), "sha256": hex::encode(Sha256::digest(content)), "dataset_id": dataset });
        let r = self.req("POST", "/v1/uploads", token, HOSTING).json(&body).send().unwrap();
        assert_eq!(r.status(), 201);
        r.json().unwrap()
    }

    fn chunk(&self, token: &str, upload: &str, offset: u64, bytes: &[u8]) -> Response {
        self.req("PATCH", &format!("/v1/uploads/{upload}"), token, HOSTING)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset.to_string())
            .body(bytes.to_vec())
            .send()
            .unwrap()
    }

    fn offset(&self, token: &str, upload: &str) -> Option<u64> {
        let r = self.req("HEAD", &format!("/v1/uploads/{upload}"), token, HOSTING).send().unwrap();
        if r.status() == 404 {
            return None;
        }
        assert_eq!(r.status(), 200);
        Some(r.headers()["upload-offset"].to_str().unwrap().parse().unwrap())
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn error(r: Response, status: u16, code: PlatformErrorCode) -> ErrorBody {
    assert_eq!(r.status().as_u16(), status);
    let body: ErrorBody = r.json().expect("an ErrorBody");
    assert_eq!(body.code, code, "{body:?}");
    body
}

fn state(r: Response, status: u16) -> ItemState {
    assert_eq!(r.status().as_u16(), status);
    r.json().unwrap()
}

fn agent(instructions: &str) -> Value {
    json!({ "body": { "name": "Helper", "instructions": instructions } })
}

fn count(data: &HeldData, category: &str) -> u64 {
    data.categories.iter().find(|c| c.category == category).unwrap_or_else(|| panic!("no {category}")).count
}

#[test]
fn revisions_preconditions_idempotency_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let g = p.hosting_account("syncer", "+8613855550001");
    let t = g.tokens.access_token.as_str();

    // No precondition: 428, nothing stored.
    error(p.put(t, "agent", "A1", None, None, agent("v1")), 428, PlatformErrorCode::RevisionRequired);
    // Create, then update with the right revision.
    let s1 = state(p.put(t, "agent", "A1", Some(0), Some("k1"), agent("v1")), 201);
    assert_eq!((s1.revision, s1.deleted, s1.cursor), (1, false, 1));
    assert_eq!(s1.body.as_ref().unwrap()["instructions"], "v1");
    let s2 = state(p.put(t, "agent", "A1", Some(1), Some("k2"), agent("v2")), 200);
    assert_eq!((s2.revision, s2.cursor), (2, 2));
    // A stale revision: 412 with the current state; If-None-Match on an existing item too.
    let r = p.put(t, "agent", "A1", Some(1), Some("k3"), agent("v2-other"));
    assert_eq!(r.status(), 412);
    let c: SyncConflict = r.json().unwrap();
    assert_eq!(
        (c.error.as_str(), c.expected, c.current.as_ref().map(|s| s.revision)),
        ("revision_mismatch", 1, Some(2))
    );
    assert_eq!(c.current.unwrap().body.unwrap()["instructions"], "v2");
    assert_eq!(p.put(t, "agent", "A1", Some(0), None, agent("x")).status(), 412);
    // Expecting a revision of an item that does not exist: 412 without a current state.
    let c: SyncConflict = p.put(t, "agent", "NOPE", Some(3), None, agent("x")).json().unwrap();
    assert_eq!((c.expected, c.current), (3, None));

    // A replay returns the first answer (status and body) and writes nothing.
    let before = p.stats();
    let r = p.put(t, "agent", "A1", Some(1), Some("k2"), agent("v2"));
    assert_eq!(r.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(state(r, 200), s2);
    let replay_of_create = state(p.put(t, "agent", "A1", Some(0), Some("k1"), agent("v1")), 201);
    assert_eq!(replay_of_create, s1);
    let after = p.stats();
    assert_eq!(after.writes_applied, before.writes_applied);
    assert_eq!(after.idempotent_replays, before.idempotent_replays + 2);
    assert_eq!(after.writes_applied, 2);
    assert!(after.conflicts >= 3);
    // The same key with another request: 422.
    let e =
        error(p.put(t, "agent", "A1", Some(2), Some("k2"), agent("v3")), 422, PlatformErrorCode::IdempotencyKeyReused);
    assert_eq!(e.field.as_deref(), Some("idempotency-key"));
    // Keys are per account: another account's "k2" is a new write.
    let other = p.hosting_account("other", "+8613855550002");
    let o = state(p.put(&other.tokens.access_token, "agent", "A1", Some(0), Some("k2"), agent("mine")), 201);
    assert_eq!(o.revision, 1);
    let got: ItemState = p.req("GET", "/v1/items/agent/A1", t, HOSTING).send().unwrap().json().unwrap();
    assert_eq!(got, s2, "accounts do not see each other's items");

    // Malformed: unknown kind (404), body not an object, unknown field (a plugin's secret).
    assert_eq!(p.put(t, "agents", "A1", Some(0), None, agent("x")).status(), 404);
    error(p.put(t, "agent", "A2", Some(0), None, json!({ "body": [1] })), 400, PlatformErrorCode::InvalidInput);
    let e = error(
        p.put(t, "plugin", "P1", Some(0), None, json!({ "body": {}, "api_key": "sk-1" })),
        400,
        PlatformErrorCode::InvalidInput,
    );
    assert!(e.message.contains("api_key"), "{e:?}");
    assert_eq!(p.stats().writes_applied, 3);
}

#[test]
fn concurrent_writes_with_the_same_revision_exactly_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let g = p.hosting_account("racer", "+8613855550003");
    let t = g.tokens.access_token.clone();
    state(p.put(&t, "agent", "R", Some(0), None, agent("base")), 201);
    for round in 1..=5u64 {
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (p, t) = (&p, &t);
                    s.spawn(move || {
                        p.put(t, "agent", "R", Some(round), None, agent(&format!("r{round}-{i}"))).status().as_u16()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "round {round}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 7, "round {round}: {statuses:?}");
    }
    let got: ItemState = p.req("GET", "/v1/items/agent/R", &t, HOSTING).send().unwrap().json().unwrap();
    assert_eq!(got.revision, 6);
    assert_eq!(p.stats().writes_applied, 6);
}

#[test]
fn the_change_feed_dedups_pages_and_carries_tombstones_with_signed_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let g = p.hosting_account("feeder", "+8613855550004");
    let t = g.tokens.access_token.as_str();
    for i in 0..5 {
        state(p.put(t, "agent", &format!("F{i}"), Some(0), None, agent("v1")), 201);
    }
    // F1 changes twice more: it appears once, at its latest cursor, last.
    state(p.put(t, "agent", "F1", Some(1), None, agent("v2")), 200);
    state(p.put(t, "agent", "F1", Some(2), None, agent("v3")), 200);
    let all = p.changes(t, 0, 1000);
    let ids: Vec<_> = all.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["F0", "F2", "F3", "F4", "F1"]);
    assert_eq!((all.next, all.more), (7, false));
    assert_eq!(all.changes[4].revision, 3);

    // Paging: two at a time, `next` chains, `more` says when to stop.
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let page = p.changes(t, after, 2);
        assert!(page.changes.len() <= 2);
        seen.extend(page.changes.iter().map(|c| c.id.clone()));
        after = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(seen, ids);
    assert_eq!(p.changes(t, 7, 10).changes, vec![]);
    assert_eq!(p.changes(t, 7, 10).next, 7);
    let bad = p.req("GET", "/v1/changes?limit=0", t, HOSTING).send().unwrap();
    error(bad, 400, PlatformErrorCode::InvalidInput);

    // Delete: 428 without a precondition, 412 when stale, then a tombstone and a receipt.
    let r = p.req("DELETE", "/v1/items/agent/F0", t, HOSTING).send().unwrap();
    error(r, 428, PlatformErrorCode::RevisionRequired);
    assert_eq!(p.delete(t, "agent", "F0", 5, None).status(), 412);
    let r = p.delete(t, "agent", "F0", 1, Some("del-F0"));
    assert_eq!(r.status(), 200);
    let deleted: ItemDeleted = r.json().unwrap();
    assert_eq!((deleted.state.deleted, deleted.state.revision, deleted.state.body.clone()), (true, 2, None));
    assert_eq!(deleted.receipt.scope, DeletionScope::Item { kind: "agent".into(), id: "F0".into() });
    assert_eq!(deleted.receipt.deleted["items:agent"], 1);
    assert_eq!(deleted.receipt.account_id, g.account.account_id);
    let keys = p.keys();
    assert_eq!(keys.verify(&deleted.receipt), Ok(()));
    let mut forged = deleted.receipt.clone();
    forged.deleted.insert("items:agent".into(), 2);
    assert!(keys.verify(&forged).is_err());
    // The replay is the same answer, the same receipt.
    let again: ItemDeleted = p.delete(t, "agent", "F0", 1, Some("del-F0")).json().unwrap();
    assert_eq!(again, deleted);
    // Deleting a tombstone: 404; the tombstone is in the feed for other devices.
    error(p.delete(t, "agent", "F0", 2, None), 404, PlatformErrorCode::NotFound);
    let page = p.changes(t, 7, 10);
    assert_eq!(page.changes, vec![deleted.state.clone()]);
    let stats = p.stats();
    assert_eq!((stats.live_items, stats.tombstones), (4, 1));
    // A tombstone can be written over with its revision (the item comes back).
    let back = state(p.put(t, "agent", "F0", Some(2), None, agent("again")), 200);
    assert_eq!((back.revision, back.deleted), (3, false));
    let held = p.held(t);
    assert_eq!((count(&held, "items:agent"), count(&held, "item_tombstones")), (5, 0));
}

#[test]
fn consent_region_and_attestation_rules() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let g = p.register("careful", "+8613855550005");
    let t = g.tokens.access_token.clone();
    // Without the hosting consent: 403 and nothing stored; wrong purpose header: 400.
    error(p.put(&t, "agent", "C1", Some(0), None, agent("x")), 403, PlatformErrorCode::ConsentRequired);
    let r = p
        .req("PUT", "/v1/items/agent/C1", &t, "account_operation")
        .header("if-none-match", "*")
        .json(&agent("x"))
        .send()
        .unwrap();
    error(r, 400, PlatformErrorCode::InvalidInput);
    let r = p
        .req("POST", "/v1/uploads", &t, HOSTING)
        .json(&json!({ "length": 1, "sha256": "0".repeat(64), "dataset_id": "D" }))
        .send()
        .unwrap();
    error(r, 403, PlatformErrorCode::ConsentRequired);
    let stats = p.stats();
    assert_eq!((stats.writes_applied, stats.live_items), (0, 0));
    assert_eq!(count(&p.held(&t), "items:agent"), 0);

    p.grant(&t, HOSTING, 1);
    // A dataset with PII findings: 422 without an attestation (or one covering fewer findings).
    let pii = json!({ "body": { "name": "patients" }, "pii_findings": 3 });
    let e = error(p.put(&t, "dataset", "D1", Some(0), None, pii.clone()), 422, PlatformErrorCode::AttestationRequired);
    assert_eq!(e.field.as_deref(), Some("attestation"));
    let attestation =
        json!({ "ledger_seq": 7, "ledger_hash": "a".repeat(64), "attested_at": "2026-03-01T08:00:00Z", "findings": 2 });
    let mut short = pii.clone();
    short["attestation"] = attestation.clone();
    error(p.put(&t, "dataset", "D1", Some(0), None, short), 422, PlatformErrorCode::AttestationRequired);
    let mut attested = pii.clone();
    attested["attestation"] = attestation;
    attested["attestation"]["findings"] = json!(3);
    state(p.put(&t, "dataset", "D1", Some(0), None, attested), 201);
    assert_eq!(p.stats().writes_applied, 1);
    // The attestation is stored with the revision (in the store: checked after the platform stops).
    p.stop();
    {
        let db = sled::open(dir.path().join("store")).unwrap();
        let items = db.open_tree("sync_items").unwrap();
        let (k, v) = items.iter().next().unwrap().unwrap();
        // Sealed with the account's key.
        assert!(awf_platform::sealed::is_sealed(&v));
        let plain = awf_platform::sealed::open(dir.path(), &g.account.account_id, "sync_items", &k, &v).unwrap();
        let stored: Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(stored["attestation"]["ledger_seq"], 7);
        assert_eq!(stored["pii_findings"], 3);
    }

    // The same store under another region: the account's region is `local`, so cross-border
    // transfer consent is needed too.
    let p = Platform::start(dir.path(), "cn-north-1");
    let e = error(p.put(&t, "agent", "C2", Some(0), None, agent("x")), 403, PlatformErrorCode::ConsentRequired);
    assert!(e.message.contains("cross_border_transfer"), "{e:?}");
    p.grant(&t, "cross_border_transfer", 2);
    state(p.put(&t, "agent", "C2", Some(0), None, agent("x")), 201);
}

#[test]
fn uploads_resume_across_a_restart_and_check_their_digest() {
    let dir = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (token, upload) = {
        let p = Platform::start(dir.path(), "local");
        let g = p.hosting_account("uploader", "+8613855550006");
        let t = g.tokens.access_token.clone();
        let u = p.create_upload(&t, &content, "DS1");
        assert_eq!((u.offset, u.complete, u.length), (0, false, 300_000));
        assert!(u.upload_id.starts_with("upl_"));
        let r = p.chunk(&t, &u.upload_id, 0, &content[..100_000]);
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<UploadState>().unwrap().offset, 100_000);
        // A chunk at the wrong offset: 409 with the current offset.
        let r = p.chunk(&t, &u.upload_id, 50_000, &content[50_000..60_000]);
        assert_eq!(r.headers()["upload-offset"], "100000");
        error(r, 409, PlatformErrorCode::UploadOffsetMismatch);
        // Not the chunk media type: 415; over the length: 400.
        let r = p
            .req("PATCH", &format!("/v1/uploads/{}", u.upload_id), &t, HOSTING)
            .header("upload-offset", "100000")
            .body("x")
            .send()
            .unwrap();
        assert_eq!(r.status(), 415);
        assert_eq!(p.chunk(&t, &u.upload_id, 100_000, &vec![0; 200_001]).status(), 400);
        // A chunk over 8 MiB: 413, nothing appended.
        let big = vec![0; awf_platform_api::sync::MAX_UPLOAD_CHUNK_BYTES + 1];
        error(p.chunk(&t, &u.upload_id, 100_000, &big), 413, PlatformErrorCode::PayloadTooLarge);
        assert_eq!(p.offset(&t, &u.upload_id), Some(100_000));
        p.stop();
        (t, u.upload_id)
    };
    // After a restart the offset is where it was; the rest completes it.
    let p = Platform::start(dir.path(), "local");
    assert_eq!(p.offset(&token, &upload), Some(100_000));
    let r = p.chunk(&token, &upload, 100_000, &content[100_000..]);
    let done: UploadState = r.json().unwrap();
    assert_eq!((done.offset, done.complete), (300_000, true));
    assert_eq!(p.stats().upload_bytes_received, 200_000, "only the missing bytes were sent again");
    p.stop();
    let file = dir
        .path()
        .join("uploads")
        .join(std::fs::read_dir(dir.path().join("uploads")).unwrap().next().unwrap().unwrap().file_name())
        .join(&upload);
    // The file is encrypted with the account's key (no expansion: its length is the offset).
    let mut bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes.len(), content.len());
    assert_ne!(bytes, content);
    let account = file.parent().unwrap().file_name().unwrap().to_str().unwrap().to_string();
    {
        let db = sled::Config::new().path(dir.path().join("store")).open().unwrap();
        let uploads = db.open_tree("sync_uploads").unwrap();
        let (k, v) = uploads.iter().next().unwrap().unwrap();
        assert!(awf_platform::sealed::is_sealed(&v));
        let record = awf_platform::sealed::open(dir.path(), &account, "sync_uploads", &k, &v).unwrap();
        let record: Value = serde_json::from_slice(&record).unwrap();
        let nonce = record["file_nonce"].as_str().unwrap();
        awf_platform::sealed::decrypt_upload_file(dir.path(), &account, nonce, &mut bytes).unwrap();
    }
    assert_eq!(bytes, content);
    let p = Platform::start(dir.path(), "local");
    assert_eq!(p.offset(&token, &upload), Some(300_000), "a finished upload survives a restart");

    // A digest mismatch discards the upload.
    let u = p.create_upload(&token, b"the right bytes", "DS2");
    let r = p.chunk(&token, &u.upload_id, 0, b"the wrong bytes");
    error(r, 422, PlatformErrorCode::DigestMismatch);
    assert_eq!(p.offset(&token, &u.upload_id), None);
    assert_eq!(count(&p.held(&token), "uploads"), 1);

    // Deleting the dataset item deletes its uploads.
    state(p.put(&token, "dataset", "DS1", Some(0), None, json!({ "body": { "upload": upload } })), 201);
    let deleted: ItemDeleted = p.delete(&token, "dataset", "DS1", 1, None).json().unwrap();
    assert_eq!(deleted.receipt.deleted["uploads"], 1);
    assert_eq!(p.offset(&token, &upload), None);
    assert!(!file.exists());
}

#[test]
fn a_finished_upload_is_served_to_its_account_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let g = p.hosting_account("owner", "+8613855550031");
    let t = g.tokens.access_token.clone();
    // Over several serving pieces and two chunks, not a multiple of either.
    let content: Vec<u8> = (0..3_000_017u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let u = p.create_upload(&t, &content, "DSC");
    let content_path = format!("/v1/uploads/{}/content", u.upload_id);
    // Not finished: 409 `upload_incomplete`.
    assert_eq!(p.chunk(&t, &u.upload_id, 0, &content[..2_000_000]).status(), 200);
    error(p.req("GET", &content_path, &t, HOSTING).send().unwrap(), 409, PlatformErrorCode::UploadIncomplete);
    assert_eq!(p.chunk(&t, &u.upload_id, 2_000_000, &content[2_000_000..]).status(), 200);

    // The owner gets the bytes back, identical (the file on disk is encrypted).
    let r = p.req("GET", &content_path, &t, HOSTING).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    assert_eq!(r.headers()["content-length"], content.len().to_string().as_str());
    assert_eq!(r.headers()["upload-sha256"], hex::encode(Sha256::digest(&content)).as_str());
    let got = r.bytes().unwrap();
    assert!(got[..] == content[..], "the served content differs");

    // A Range resumes from a byte; past the end or another form is 416.
    let r = p.req("GET", &content_path, &t, HOSTING).header("range", "bytes=1234567-").send().unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 1234567-3000016/{}", content.len()).as_str());
    assert!(r.bytes().unwrap()[..] == content[1_234_567..]);
    for bad in ["bytes=3000017-", "bytes=0-10", "lines=1-"] {
        let r = p.req("GET", &content_path, &t, HOSTING).header("range", bad).send().unwrap();
        assert_eq!(r.status(), 416, "{bad}");
    }

    // Another purpose: 400; another account, an unknown or malformed id: 404.
    error(p.req("GET", &content_path, &t, "telemetry").send().unwrap(), 400, PlatformErrorCode::InvalidInput);
    let other = p.hosting_account("other", "+8613855550032");
    let ot = other.tokens.access_token.clone();
    error(p.req("GET", &content_path, &ot, HOSTING).send().unwrap(), 404, PlatformErrorCode::NotFound);
    let unknown = format!("/v1/uploads/upl_{}/content", "0".repeat(32));
    error(p.req("GET", &unknown, &t, HOSTING).send().unwrap(), 404, PlatformErrorCode::NotFound);
    error(p.req("GET", "/v1/uploads/nope/content", &t, HOSTING).send().unwrap(), 404, PlatformErrorCode::NotFound);
    // Without the hosting consent: 403, nothing served.
    let bare = p.register("bare", "+8613855550033");
    error(
        p.req("GET", &content_path, &bare.tokens.access_token, HOSTING).send().unwrap(),
        403,
        PlatformErrorCode::ConsentRequired,
    );
    // Unauthenticated: 401.
    let r = p.http.get(format!("{}{content_path}", p.url)).header("x-awf-purpose", HOSTING).send().unwrap();
    assert_eq!(r.status(), 401);
    // The content survives a restart.
    p.stop();
    let p = Platform::start(dir.path(), "local");
    let r = p.req("GET", &content_path, &t, HOSTING).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().unwrap()[..] == content[..]);
}

#[test]
fn erasure_and_cancellation_remove_items_feed_replays_and_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let g = p.hosting_account("eraser", "+8613855550007");
    let t = g.tokens.access_token.clone();
    let fill = |prefix: &str| {
        state(
            p.put(&t, "agent", &format!("{prefix}A"), Some(0), Some(&format!("{prefix}k1")), agent("secret-marker")),
            201,
        );
        state(
            p.put(
                &t,
                "table",
                &format!("{prefix}T"),
                Some(0),
                Some(&format!("{prefix}k2")),
                json!({ "body": { "rows": 1 } }),
            ),
            201,
        );
        state(p.put(&t, "plugin", &format!("{prefix}P"), Some(0), None, json!({ "body": {} })), 201);
        p.delete(&t, "plugin", &format!("{prefix}P"), 1, None);
        let u = p.create_upload(&t, b"upload-marker", &format!("{prefix}D"));
        assert_eq!(p.chunk(&t, &u.upload_id, 0, b"upload-marker").status(), 200);
    };
    fill("e");
    let held = p.held(&t);
    for (category, n) in [
        ("items:agent", 1),
        ("items:table", 1),
        ("items:plugin", 0),
        ("item_tombstones", 1),
        ("uploads", 1),
        ("sync_replays", 2),
    ] {
        assert_eq!(count(&held, category), n, "{category}");
    }
    let r = p.req("POST", "/v1/account/data/erase", &t, "account_operation").send().unwrap();
    assert_eq!(r.status(), 200);
    let receipt: DeletionReceipt = r.json().unwrap();
    assert_eq!(p.keys().verify(&receipt), Ok(()));
    for (category, n) in
        [("items:agent", 1), ("items:table", 1), ("item_tombstones", 1), ("uploads", 1), ("sync_replays", 2)]
    {
        assert_eq!(receipt.deleted[category], n, "{category}");
    }
    let held = p.held(&t);
    for category in ["items:agent", "items:table", "item_tombstones", "uploads", "sync_replays"] {
        assert_eq!(count(&held, category), 0, "{category}");
    }
    // The feed is empty; the cursor goes on (a device with an older cursor sees new changes).
    assert_eq!(p.changes(&t, 0, 100).changes, vec![]);
    let s = state(p.put(&t, "agent", "eA", Some(0), Some("ek1"), agent("new")), 201);
    assert_eq!((s.revision, s.cursor), (1, 5), "the key was forgotten too; the cursor continued");

    // Cancellation: every sync tree and the upload directory are empty afterwards.
    fill("c");
    let account = g.account.account_id.clone();
    let r = p
        .req("POST", "/v1/account/cancel", &t, "account_operation")
        .json(&json!({ "password": PASSWORD, "account_name": "eraser" }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let receipt: DeletionReceipt = r.json().unwrap();
    assert_eq!(receipt.deleted["items:agent"], 2);
    assert_eq!(receipt.deleted["uploads"], 1);
    p.stop();
    let db = sled::open(dir.path().join("store")).unwrap();
    for tree in ["sync_items", "sync_feed", "sync_cursors", "sync_replays", "sync_replay_ages", "sync_uploads"] {
        let tree = db.open_tree(tree).unwrap();
        for entry in tree.iter() {
            let (k, _) = entry.unwrap();
            assert!(!k.starts_with(account.as_bytes()), "{:?} left in the store", String::from_utf8_lossy(&k));
        }
    }
    assert!(!dir.path().join("uploads").join(&account).exists());
}

// Many writes in one request: `POST /v1/items/batch`.

fn batch_write(kind: &str, id: &str, expected: u64, key: &str, write: Value) -> Value {
    json!({ "kind": kind, "id": id, "expected_revision": expected, "idempotency_key": key, "write": write })
}

fn post_batch(p: &Platform, token: &str, writes: &[Value]) -> Response {
    p.req("POST", "/v1/items/batch", token, HOSTING).json(&json!({ "writes": writes })).send().unwrap()
}

fn batch_answer(r: Response) -> BatchAnswer {
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

fn get_item(p: &Platform, token: &str, kind: &str, id: &str) -> ItemState {
    state(p.req("GET", &format!("/v1/items/{kind}/{id}"), token, HOSTING).send().unwrap(), 200)
}

fn statuses(a: &BatchAnswer) -> Vec<u16> {
    a.results.iter().map(|r| r.status).collect()
}

#[test]
fn a_batch_applies_each_write_on_its_own_terms_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let g = p.hosting_account("batcher", "+8613855550101");
    let t = g.tokens.access_token.as_str();
    // An item at revision 2, which the batch's fourth write believes is at 1.
    state(p.put(t, "agent", "OLD", Some(0), Some("old-1"), agent("v1")), 201);
    let current = state(p.put(t, "agent", "OLD", Some(1), Some("old-2"), agent("v2")), 200);
    let before = p.stats();

    let writes = [
        batch_write("agent", "B1", 0, "b-1", agent("one")),
        batch_write("plugin", "B2", 0, "b-2", json!({ "body": { "name": "P" } })),
        batch_write("table", "B3", 0, "b-3", json!({ "body": { "rows": 3 } })),
        batch_write("agent", "OLD", 1, "b-4", agent("stale")),
        batch_write("agent", "bad id!", 0, "b-5", agent("x")),
        batch_write("agent", "B6", 0, "bad key!", agent("x")),
        batch_write("agent", "B7", 0, "b-7", json!({ "body": [1, 2] })),
    ];
    let a = batch_answer(post_batch(&p, t, &writes));
    assert_eq!(statuses(&a), [201, 201, 201, 412, 404, 400, 400]);
    for (i, (kind, id)) in [("agent", "B1"), ("plugin", "B2"), ("table", "B3")].into_iter().enumerate() {
        let r = &a.results[i];
        assert!(!r.replayed && r.conflict.is_none() && r.error.is_none(), "{r:?}");
        let item = r.item.clone().expect("the new state");
        assert_eq!((item.kind.as_str(), item.id.as_str(), item.revision), (kind, id, 1));
        // Applied in order: the cursors follow the writes.
        assert_eq!(item.cursor, current.cursor + 1 + i as u64);
        assert_eq!(get_item(&p, t, kind, id), item, "readable with GET");
    }
    assert_eq!(a.results[0].item.as_ref().unwrap().body.as_ref().unwrap()["instructions"], "one");
    let conflict = a.results[3].conflict.clone().expect("the conflict");
    assert_eq!((conflict.error.as_str(), conflict.expected), ("revision_mismatch", 1));
    assert_eq!(conflict.current.as_ref(), Some(&current));
    assert!(a.results[3].item.is_none() && a.results[3].error.is_none());
    let errors: Vec<_> = a.results[4..].iter().map(|r| r.error.clone().expect("why")).collect();
    assert_eq!(errors[0].code, PlatformErrorCode::NotFound);
    assert_eq!(errors[0].field.as_deref(), Some("id"));
    assert_eq!(errors[1].code, PlatformErrorCode::InvalidInput);
    assert_eq!(errors[1].field.as_deref(), Some("idempotency_key"));
    assert_eq!(errors[2].code, PlatformErrorCode::InvalidInput);
    assert_eq!(errors[2].field.as_deref(), Some("write.body"));
    // The stale write changed nothing; the refused ones wrote nothing.
    assert_eq!(get_item(&p, t, "agent", "OLD"), current);
    assert_eq!(p.req("GET", "/v1/items/agent/B6", t, HOSTING).send().unwrap().status(), 404);
    assert_eq!(p.req("GET", "/v1/items/agent/B7", t, HOSTING).send().unwrap().status(), 404);

    // The feed has the three new items after the old one, in the batch's order.
    let feed = p.changes(t, current.cursor, 100);
    let ids: Vec<_> = feed.changes.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["B1", "B2", "B3"]);
    let after = p.stats();
    assert_eq!(after.writes_applied, before.writes_applied + 3);
    assert_eq!(after.conflicts, before.conflicts + 1);
}

#[test]
fn a_batch_replays_across_routes_and_refuses_a_reused_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let g = p.hosting_account("replayer", "+8613855550102");
    let t = g.tokens.access_token.as_str();
    // A PUT's key, replayed by a batch.
    let by_put = state(p.put(t, "agent", "P1", Some(0), Some("put-1"), agent("by put")), 201);
    let writes = [
        batch_write("agent", "R1", 0, "r-1", agent("one")),
        batch_write("dataset", "R2", 0, "r-2", json!({ "body": { "upload": "none" }, "origin": "dev/2" })),
        batch_write("agent", "P1", 0, "put-1", agent("by put")),
    ];
    let first = batch_answer(post_batch(&p, t, &writes));
    assert_eq!(statuses(&first), [201, 201, 201]);
    assert_eq!(first.results.iter().map(|r| r.replayed).collect::<Vec<_>>(), [false, false, true]);
    assert_eq!(first.results[2].item.as_ref(), Some(&by_put));

    // The same batch again: the same answers, replayed, and nothing written.
    let before = p.stats();
    let again = batch_answer(post_batch(&p, t, &writes));
    assert_eq!(statuses(&again), [201, 201, 201]);
    for (r, f) in again.results.iter().zip(&first.results) {
        assert!(r.replayed, "{r:?}");
        assert_eq!(r.item, f.item);
    }
    let after = p.stats();
    assert_eq!(after.writes_applied, before.writes_applied);
    assert_eq!(after.idempotent_replays, before.idempotent_replays + 3);
    assert_eq!(after.duplicate_origins, 0);

    // A PUT with a batch write's key and the same write: the batch's answer, replayed.
    let r = p.put(t, "agent", "R1", Some(0), Some("r-1"), agent("one"));
    assert_eq!(r.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(Some(state(r, 201)), first.results[0].item);
    // The key with another write: that write is refused, the others apply.
    let a = batch_answer(post_batch(
        &p,
        t,
        &[batch_write("agent", "R1", 1, "r-1", agent("changed")), batch_write("agent", "R3", 0, "r-3", agent("three"))],
    ));
    assert_eq!(statuses(&a), [422, 201]);
    let e = a.results[0].error.clone().unwrap();
    assert_eq!((e.code, e.field.as_deref()), (PlatformErrorCode::IdempotencyKeyReused, Some("idempotency_key")));
    assert_eq!(get_item(&p, t, "agent", "R1").revision, 1);
    // And a PUT reusing a batch's key with another write: 422 too.
    error(p.put(t, "agent", "R3", Some(1), Some("r-3"), agent("other")), 422, PlatformErrorCode::IdempotencyKeyReused);
    assert_eq!(p.stats().writes_applied, after.writes_applied + 1);
}

#[test]
fn a_batch_is_refused_as_a_whole_without_consent_sign_in_or_within_size() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path(), "local");
    let caps: Value = p
        .http
        .get(format!("{}/v1/capabilities", p.url))
        .header("x-awf-purpose", "service_information")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(caps["features"].as_array().unwrap().iter().any(|f| f == "batch_writes"), "{caps}");

    let one = [batch_write("agent", "N1", 0, "n-1", agent("x"))];
    // No hosting consent: 403 for the whole batch, nothing written.
    let g = p.register("noconsent", "+8613855550103");
    let t = g.tokens.access_token.as_str();
    let e = error(post_batch(&p, t, &one), 403, PlatformErrorCode::ConsentRequired);
    assert_eq!(e.field.as_deref(), Some("x-awf-purpose"));
    assert!(p.changes(t, 0, 100).changes.is_empty());
    // Another purpose than hosting: 400.
    let r = p.req("POST", "/v1/items/batch", t, "account_operation").json(&json!({ "writes": one })).send().unwrap();
    error(r, 400, PlatformErrorCode::InvalidInput);
    // Not signed in: 401.
    let r = p
        .http
        .post(format!("{}/v1/items/batch", p.url))
        .header("x-awf-purpose", HOSTING)
        .json(&json!({ "writes": one }))
        .send()
        .unwrap();
    error(r, 401, PlatformErrorCode::Unauthorized);

    // Consented, but no write or too many: 400 for the whole, nothing written.
    p.grant(t, HOSTING, 1);
    let e = error(post_batch(&p, t, &[]), 400, PlatformErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("writes"));
    let many: Vec<_> =
        (0..201).map(|i| batch_write("agent", &format!("M{i}"), 0, &format!("m-{i}"), agent("x"))).collect();
    let e = error(post_batch(&p, t, &many), 400, PlatformErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("writes"));
    assert!(p.changes(t, 0, 100).changes.is_empty());
    assert_eq!(p.stats().writes_applied, 0);
    // 200 writes are taken.
    let a = batch_answer(post_batch(&p, t, &many[..200]));
    assert!(a.results.iter().all(|r| r.status == 201));
    assert_eq!(p.changes(t, 0, 1000).changes.len(), 200);
    assert_eq!(p.stats().writes_applied, 200);

    // Five writes of 900 KiB each are within an item's limit but over the batch's: 413 for the
    // whole, naming the batch's limit (not the 1 MiB of other requests), nothing written.
    let wide = "x".repeat(900 * 1024);
    let heavy: Vec<_> =
        (0..5).map(|i| batch_write("agent", &format!("H{i}"), 0, &format!("h-{i}"), agent(&wide))).collect();
    let e = error(post_batch(&p, t, &heavy), 413, PlatformErrorCode::PayloadTooLarge);
    let limit = awf_platform_api::sync::MAX_BATCH_BYTES + 64 * 1024;
    assert!(e.message.contains(&format!("at most {limit} bytes")), "{}", e.message);
    assert_eq!(p.stats().writes_applied, 200);
}
