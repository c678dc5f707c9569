//! The rights routes of the reference platform as a real process (D7–D9): erasure with a signed
//! receipt, account cancellation (refusals, deletion of every record, idempotent replay), and
//! rights requests with attachments answered through `awf-platform admin`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use awf_platform_api::{
    AdminRightsRequests, DeletionReceipt, DeletionScope, ErrorBody, HeldData, PlatformErrorCode, PurposeDataDeleted,
    ReceiptError, ReceiptKeys, RequestCategory, RequestStatus, RightsRequest, RightsRequests, SessionGrant, SmsMessage,
};
use base64::Engine;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";
const OP: &str = "account_operation";

struct Platform {
    child: Child,
    url: String,
    addr: String,
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
        let addr = url.trim_start_matches("http://").to_string();
        let http = Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        Platform { child, url, addr, _lines: lines, http }
    }

    fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut r = self.http.request(method, format!("{}{path}", self.url)).header("x-awf-purpose", OP);
        if let Some(token) = token {
            r = r.bearer_auth(token);
        }
        if let Some(body) = body {
            r = r.json(&body);
        }
        r.send().unwrap()
    }

    fn register(&self, name: &str, phone: &str) -> SessionGrant {
        assert_eq!(self.send("POST", "/v1/auth/sms-code", None, Some(json!({ "phone": phone }))).status(), 202);
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
        let r = self.send("POST", "/v1/auth/register", None, Some(body));
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().unwrap()
    }

    fn keys(&self) -> ReceiptKeys {
        let r = self.send("GET", "/v1/receipt-keys", None, None);
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }

    fn held(&self, token: &str) -> HeldData {
        let r = self.send("GET", "/v1/account/data", Some(token), None);
        assert_eq!(r.status(), 200);
        r.json().unwrap()
    }

    /// Grants usage analytics and sends one telemetry item whose data holds `marker`.
    fn telemetry(&self, token: &str, marker: &str) {
        let receipt = json!({
            "receipt_id": "r-ua", "purpose": "usage_analytics", "granted": true, "at": "2026-03-01T08:00:00Z",
            "policy_version": 1, "method": "test", "ledger_seq": 1, "ledger_hash": "0".repeat(64),
        });
        assert_eq!(self.send("POST", "/v1/consents", Some(token), Some(receipt)).status(), 201);
        let batch = json!({ "events": [{ "id": "e1", "kind": "k", "at": "", "data": { "note": marker } }] });
        let r = self
            .http
            .post(format!("{}/v1/telemetry/usage_analytics", self.url))
            .header("x-awf-purpose", "usage_analytics")
            .bearer_auth(token)
            .json(&batch)
            .send()
            .unwrap();
        assert_eq!(r.status(), 202);
    }

    fn submit(&self, token: &str, body: Value) -> Response {
        self.send("POST", "/v1/requests", Some(token), Some(body))
    }

    fn cancel(&self, token: &str, password: &str, name: &str, key: Option<&str>) -> Response {
        let mut r = self
            .http
            .post(format!("{}/v1/account/cancel", self.url))
            .header("x-awf-purpose", OP)
            .bearer_auth(token)
            .json(&json!({ "password": password, "account_name": name }));
        if let Some(key) = key {
            r = r.header("idempotency-key", key);
        }
        r.send().unwrap()
    }

    fn terminate(mut self) {
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

fn error(r: Response, status: u16, code: PlatformErrorCode) -> ErrorBody {
    assert_eq!(r.status().as_u16(), status);
    let body: ErrorBody = r.json().expect("an ErrorBody");
    assert_eq!(body.code, code, "{body:?}");
    body
}

fn count(data: &HeldData, category: &str) -> u64 {
    data.categories.iter().find(|c| c.category == category).unwrap_or_else(|| panic!("no {category}")).count
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A request with one small attachment, its text and file holding `marker`.
fn request_body(marker: &str) -> Value {
    json!({
        "category": "complaint",
        "text": format!("My data was shown to someone else. {marker}"),
        "attachments": [{ "name": "evidence.txt", "media_type": "text/plain", "content_base64": b64(marker.as_bytes()) }],
    })
}

fn tampered_fails(receipt: &DeletionReceipt, keys: &ReceiptKeys) {
    let mut t = receipt.clone();
    let first = t.deleted.keys().next().unwrap().clone();
    *t.deleted.get_mut(&first).unwrap() += 1;
    assert_eq!(keys.verify(&t), Err(ReceiptError::SignatureMismatch));
    let mut t = receipt.clone();
    t.account_id.push('0');
    assert_eq!(keys.verify(&t), Err(ReceiptError::SignatureMismatch));
}

#[test]
fn erasure_leaves_the_account_and_a_receipt_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path());
    let grant = p.register("eraser", "+8613811110001");
    let token = grant.tokens.access_token.as_str();
    p.telemetry(token, "erase-marker");
    assert_eq!(p.submit(token, request_body("erase-marker")).status(), 201);
    let before = p.held(token);
    assert_eq!((count(&before, "telemetry:usage_analytics"), count(&before, "rights_requests")), (1, 1));

    let r = p.send("POST", "/v1/account/data/erase", Some(token), None);
    assert_eq!(r.status(), 200);
    let receipt: DeletionReceipt = r.json().unwrap();
    assert_eq!(receipt.scope, DeletionScope::AllData);
    assert_eq!(receipt.account_id, grant.account.account_id);
    assert_eq!(receipt.deleted["telemetry:usage_analytics"], 1);
    assert_eq!(receipt.deleted["rights_requests"], 1);
    assert_eq!(receipt.deleted["telemetry:crash_reports"], 0, "every covered category is named");
    let keys = p.keys();
    assert_eq!(keys.verify(&receipt), Ok(()));
    tampered_fails(&receipt, &keys);

    // Nothing left but the account, its session and its consent receipts.
    let after = p.held(token);
    for c in &after.categories {
        let expected = match c.category.as_str() {
            "account" | "sessions" | "consent_receipts" => 1,
            _ => 0,
        };
        assert_eq!(c.count, expected, "{c:?}");
    }
    let list: RightsRequests = p.send("GET", "/v1/requests", Some(token), None).json().unwrap();
    assert!(list.requests.is_empty());
    assert_eq!(p.send("GET", "/v1/account/profile", Some(token), None).status(), 200);

    // Deleting one purpose's data is receipted too.
    let r = p.send("DELETE", "/v1/telemetry/usage_analytics", Some(token), None);
    let deleted: PurposeDataDeleted = r.json().unwrap();
    let purpose_receipt = deleted.receipt.expect("a receipt");
    assert!(matches!(purpose_receipt.scope, DeletionScope::PurposeData { .. }));
    assert_eq!(keys.verify(&purpose_receipt), Ok(()));

    // The key survives a restart: old receipts still verify with what is published.
    p.terminate();
    let p = Platform::start(dir.path());
    assert_eq!(p.keys(), keys);
    assert_eq!(p.keys().verify(&receipt), Ok(()));
    #[cfg(unix)]
    for file in [awf_platform::SIGNING_KEY_FILE, awf_platform::ADMIN_TOKEN_FILE] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

#[test]
fn cancellation_with_a_wrong_password_or_name_is_refused_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path());
    let grant = p.register("Keeper", "+8613811110002");
    let token = grant.tokens.access_token.as_str();
    p.telemetry(token, "keep-marker");
    assert_eq!(p.submit(token, request_body("keep-marker")).status(), 201);
    let before = p.held(token);

    error(p.cancel(token, "wrong password!", "Keeper", None), 401, PlatformErrorCode::InvalidCredentials);
    let e = error(p.cancel(token, PASSWORD, "keeper", None), 422, PlatformErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("account_name"), "the name is typed exactly, case included");
    let e = error(p.cancel(token, PASSWORD, "Keeper ", None), 422, PlatformErrorCode::InvalidInput);
    assert!(e.message.contains("does not match"), "{}", e.message);
    // Without a token: 401, nothing done.
    let r = p
        .http
        .post(format!("{}/v1/account/cancel", p.url))
        .json(&json!({"password": PASSWORD, "account_name": "Keeper"}))
        .send()
        .unwrap();
    error(r, 401, PlatformErrorCode::Unauthorized);
    let e = error(p.cancel(token, PASSWORD, "Keeper", Some("short")), 422, PlatformErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("idempotency-key"));

    assert_eq!(p.held(token), before);
    assert_eq!(
        p.send("POST", "/v1/auth/login", None, Some(json!({"login": "Keeper", "password": PASSWORD}))).status(),
        200
    );
    let before = p.held(token);

    // Wrong passwords are limited like failed log-ins.
    for _ in 0..4 {
        error(p.cancel(token, "wrong password!", "Keeper", None), 401, PlatformErrorCode::InvalidCredentials);
    }
    error(p.cancel(token, PASSWORD, "Keeper", None), 429, PlatformErrorCode::RateLimited);
    assert_eq!(p.held(token), before);
}

/// Every key and value of every tree of the platform's sled store, as text.
fn store_records(dir: &Path) -> Vec<(String, String, String)> {
    let db = sled::Config::new().path(dir.join("store")).open().unwrap();
    let mut out = Vec::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name).unwrap();
        for entry in tree.iter() {
            let (k, v) = entry.unwrap();
            out.push((
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&k).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            ));
        }
    }
    out
}

#[test]
fn cancellation_deletes_every_record_of_the_account_and_a_retry_gets_the_same_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path());
    let grant = p.register("leaver", "+8613811110003");
    let other = p.register("stayer", "+8613811110004");
    let token = grant.tokens.access_token.as_str();
    let account_id = grant.account.account_id.clone();
    let marker = "MARKER-7f3c-leaver";
    let r = p.send(
        "PATCH",
        "/v1/account/profile",
        Some(token),
        Some(json!({ "display_name": marker, "organisation": marker })),
    );
    assert_eq!(r.status(), 200);
    p.telemetry(token, marker);
    assert_eq!(p.submit(token, request_body(marker)).status(), 201);
    // A second session, by log-in.
    let login: SessionGrant =
        p.send("POST", "/v1/auth/login", None, Some(json!({"login": "leaver", "password": PASSWORD}))).json().unwrap();
    p.telemetry(other.tokens.access_token.as_str(), "other-marker");

    let key = "01JCANCEL0000000000000000A";
    let r = p.cancel(token, PASSWORD, "leaver", Some(key));
    assert_eq!(r.status(), 200);
    let receipt: DeletionReceipt = r.json().unwrap();
    assert_eq!(receipt.scope, DeletionScope::Account);
    assert_eq!(receipt.account_id, account_id);
    let keys = p.keys();
    assert_eq!(keys.verify(&receipt), Ok(()));
    tampered_fails(&receipt, &keys);
    for (category, n) in [
        ("account", 1),
        ("sessions", 2),
        ("consent_receipts", 1),
        ("telemetry:usage_analytics", 1),
        ("rights_requests", 1),
    ] {
        assert_eq!(receipt.deleted.get(category), Some(&n), "{category}: {:?}", receipt.deleted);
    }

    // Every token is dead, refresh fails, log-in answers as for an unknown account.
    for t in [token, login.tokens.access_token.as_str()] {
        error(p.send("GET", "/v1/account/profile", Some(t), None), 401, PlatformErrorCode::Unauthorized);
    }
    for refresh in [&grant.tokens.refresh_token, &login.tokens.refresh_token] {
        let r = p.send("POST", "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh })));
        error(r, 401, PlatformErrorCode::Unauthorized);
    }
    let gone = error(
        p.send("POST", "/v1/auth/login", None, Some(json!({"login": "leaver", "password": PASSWORD}))),
        401,
        PlatformErrorCode::InvalidCredentials,
    );
    let unknown = error(
        p.send("POST", "/v1/auth/login", None, Some(json!({"login": "nobody-at-all", "password": PASSWORD}))),
        401,
        PlatformErrorCode::InvalidCredentials,
    );
    assert_eq!(gone, unknown);

    // The retry whose first answer was lost: the same receipt, though the token is dead.
    let again = p.cancel(token, PASSWORD, "leaver", Some(key));
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<DeletionReceipt>().unwrap(), receipt);
    // Another key is another request: the account is gone.
    error(
        p.cancel(token, PASSWORD, "leaver", Some("01JCANCEL0000000000000000B")),
        401,
        PlatformErrorCode::Unauthorized,
    );
    // The other account is untouched.
    let other_token = other.tokens.access_token.as_str();
    assert_eq!(count(&p.held(other_token), "telemetry:usage_analytics"), 1);
    // The name and phone are free again.
    p.register("leaver", "+8613811110003");

    // Stopped, the store holds no record of the account and no trace of the marker; only the
    // replay of the cancellation (the receipt itself) names the account id.
    p.terminate();
    let records = store_records(dir.path());
    assert!(records
        .iter()
        .any(|(_, k, v)| k.contains(&other.account.account_id) || v.contains(&other.account.account_id)));
    for (tree, k, v) in &records {
        assert!(!k.contains(marker) && !v.contains(marker), "{tree}: {k} holds the marker");
        if k.contains(&account_id) || v.contains(&account_id) {
            assert_eq!(tree, "cancellations", "{tree}: {k} → {v} names the cancelled account");
            let replay: Value = serde_json::from_str(v).unwrap();
            assert_eq!(replay["receipt"], serde_json::to_value(&receipt).unwrap());
        }
    }
}

fn admin(dir: &Path, addr: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_awf-platform"))
        .arg("admin")
        .arg(args[0])
        .arg("--data-dir")
        .arg(dir)
        .args(["--addr", addr])
        .args(&args[1..])
        .output()
        .unwrap()
}

#[test]
fn rights_requests_are_private_to_their_account_and_answered_through_the_admin_command() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path());
    let a = p.register("asker", "+8613811110005");
    let b = p.register("bystander", "+8613811110006");
    let (ta, tb) = (a.tokens.access_token.as_str(), b.tokens.access_token.as_str());

    // The largest attachment (2 MiB) fits, over the 1 MiB limit of other bodies.
    let big = vec![7u8; 2 * 1024 * 1024];
    let body = json!({
        "category": "access",
        "text": "Please send me a copy of everything you hold about me.",
        "attachments": [
            { "name": "id card.png", "media_type": "image/png", "content_base64": b64(&big) },
            { "name": "letter.pdf", "media_type": "application/pdf", "content_base64": b64(b"%PDF-1.7") },
        ],
    });
    let r = p.submit(ta, body);
    assert_eq!(r.status(), 201);
    let created: RightsRequest = r.json().unwrap();
    assert_eq!((created.category, created.status), (RequestCategory::Access, RequestStatus::Open));
    assert_eq!(created.attachments[0].size, 2 * 1024 * 1024);
    assert_eq!(created.attachments[1].name, "letter.pdf");
    assert_eq!(created.attachments[1].sha256, sha256_hex(b"%PDF-1.7"));
    assert!(created.id.starts_with("req_") && created.answer.is_none());

    let list: RightsRequests = p.send("GET", "/v1/requests", Some(ta), None).json().unwrap();
    assert_eq!(list.requests, vec![created.clone()]);
    let one: RightsRequest = p.send("GET", &format!("/v1/requests/{}", created.id), Some(ta), None).json().unwrap();
    assert_eq!(one, created);
    // Another account: not found, and not listed.
    error(p.send("GET", &format!("/v1/requests/{}", created.id), Some(tb), None), 404, PlatformErrorCode::NotFound);
    let list: RightsRequests = p.send("GET", "/v1/requests", Some(tb), None).json().unwrap();
    assert!(list.requests.is_empty());
    error(p.send("GET", "/v1/requests/req_nope", Some(ta), None), 404, PlatformErrorCode::NotFound);

    // The admin routes take the admin token only.
    let answer = json!({ "text": "x", "close": false });
    let path = format!("/v1/admin/requests/{}/answer", created.id);
    error(p.send("POST", &path, Some(ta), Some(answer.clone())), 401, PlatformErrorCode::Unauthorized);
    error(p.send("GET", "/v1/admin/requests", None, None), 401, PlatformErrorCode::Unauthorized);

    // The operator lists and answers through the command, while the platform runs.
    let out = admin(dir.path(), &p.addr, &["list"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: AdminRightsRequests = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.requests.len(), 1);
    assert_eq!(
        (listed.requests[0].account_id.as_str(), &listed.requests[0].request),
        (a.account.account_id.as_str(), &created)
    );

    let text = "Here is everything we hold: see the attached export.";
    let out = admin(dir.path(), &p.addr, &["answer", "--request", &created.id, "--text", text]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answered: RightsRequest =
        p.send("GET", &format!("/v1/requests/{}", created.id), Some(ta), None).json().unwrap();
    assert_eq!(answered.status, RequestStatus::Answered);
    assert_eq!(answered.answer.as_deref(), Some(text));
    assert!(answered.answered_at.is_some());

    let out = admin(dir.path(), &p.addr, &["answer", "--request", &created.id, "--text", "Closed.", "--close"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let closed: RightsRequest = p.send("GET", &format!("/v1/requests/{}", created.id), Some(ta), None).json().unwrap();
    assert_eq!((closed.status, closed.answer.as_deref()), (RequestStatus::Closed, Some("Closed.")));

    // An unknown request, a blank answer, a non-loopback address: refused with a message.
    let out = admin(dir.path(), &p.addr, &["answer", "--request", "req_00", "--text", "x"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("404"));
    let out = admin(dir.path(), &p.addr, &["answer", "--request", &created.id, "--text", "   "]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("422"));
    let out = admin(dir.path(), "192.0.2.1:47800", &["list"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("loopback"));

    // One request deleted (D7, a single item): not by another account; by its own, receipted.
    let path = format!("/v1/requests/{}", created.id);
    error(p.send("DELETE", &path, Some(tb), None), 404, PlatformErrorCode::NotFound);
    let r = p.send("DELETE", &path, Some(ta), None);
    assert_eq!(r.status(), 200);
    let receipt: DeletionReceipt = r.json().unwrap();
    assert_eq!(receipt.scope, DeletionScope::Item { kind: "rights_request".into(), id: created.id.clone() });
    assert_eq!(receipt.deleted["rights_requests"], 1);
    assert_eq!(p.keys().verify(&receipt), Ok(()));
    error(p.send("GET", &path, Some(ta), None), 404, PlatformErrorCode::NotFound);
    error(p.send("DELETE", &path, Some(ta), None), 404, PlatformErrorCode::NotFound);
    let out = admin(dir.path(), &p.addr, &["list"]);
    let listed: AdminRightsRequests = serde_json::from_slice(&out.stdout).unwrap();
    assert!(listed.requests.is_empty(), "gone for the operator too");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn bad_rights_requests_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::start(dir.path());
    let t = p.register("picky", "+8613811110007").tokens.access_token;
    let attachment =
        |name: &str, content: String| json!({ "name": name, "media_type": "text/plain", "content_base64": content });
    let cases = [
        (json!({ "category": "gripe", "text": "x" }), "category"),
        (json!({ "category": "complaint", "text": "" }), "text"),
        (json!({ "category": "complaint", "text": "字".repeat(5001) }), "text"),
        (
            json!({ "category": "complaint", "text": "x", "attachments": vec![attachment("a.txt", b64(b"a")); 6] }),
            "attachments",
        ),
        (
            json!({ "category": "complaint", "text": "x", "attachments": [attachment("a.txt", b64(&vec![0u8; 2 * 1024 * 1024 + 1]))] }),
            "attachments[0].content_base64",
        ),
        (
            json!({ "category": "complaint", "text": "x", "attachments": [attachment("a.txt", "not base64!".into())] }),
            "attachments[0].content_base64",
        ),
        (
            json!({ "category": "complaint", "text": "x", "attachments": [attachment("../etc/passwd", b64(b"a"))] }),
            "attachments[0].name",
        ),
    ];
    for (body, field) in cases {
        let e = error(p.submit(&t, body), 422, PlatformErrorCode::InvalidInput);
        assert_eq!(e.field.as_deref(), Some(field), "{}", e.message);
    }
    // A body that is not the shape at all is a 400, as everywhere.
    error(p.submit(&t, json!({ "category": "complaint" })), 400, PlatformErrorCode::InvalidInput);
    let list: RightsRequests = p.send("GET", "/v1/requests", Some(&t), None).json().unwrap();
    assert!(list.requests.is_empty(), "nothing stored");
}
