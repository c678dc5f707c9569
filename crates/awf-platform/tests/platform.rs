//! The reference platform as a real process: each test starts `awf-platform` on port 0 with a
//! fresh data directory, reads its `AWF_PLATFORM_URL=` line, and talks HTTP to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use awf_platform_api::{
    AccountProfile, AgeBand, Capabilities, ConsentReceipts, ErrorBody, HeldData, IngestAck, PlatformErrorCode,
    PolicyDocument, PolicyPurposeTerms, Purpose, PurposeDataDeleted, ReceiptAck, RequestStats, SessionGrant,
    SmsMessage,
};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";
const NOW: &str = "2026-03-01T08:00:00.000Z";

/// A consent receipt as the client's ledger would send it.
fn receipt(id: &str, purpose: &str, granted: bool, seq: u64) -> Value {
    json!({
        "receipt_id": id, "purpose": purpose, "granted": granted, "at": NOW, "policy_version": 1,
        "method": "consent_centre", "ledger_seq": seq, "ledger_hash": format!("{seq:064x}"),
    })
}

/// The sample policy version 2 (`assets/policy/v2`), as files.
fn v2_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/policy/v2").join(name)
}

fn v2_terms() -> Vec<PolicyPurposeTerms> {
    serde_json::from_str(&std::fs::read_to_string(v2_file("terms.json")).unwrap()).unwrap()
}

/// The sample version 2 as a `PublishPolicy` body.
fn publish_v2() -> Value {
    json!({
        "version": 2,
        "zh_cn": std::fs::read_to_string(v2_file("zh-CN.txt")).unwrap(),
        "en": std::fs::read_to_string(v2_file("en.txt")).unwrap(),
        "purposes": v2_terms(),
        "material": true,
        "changes": ["§1.2(3): usage analytics now include feature-level interaction events"],
    })
}

struct Platform {
    child: Child,
    url: String,
    lines: Receiver<String>,
    http: Client,
}

impl Platform {
    fn start(dir: &Path, args: &[&str]) -> Platform {
        let mut child = Command::new(env!("CARGO_BIN_EXE_awf-platform"))
            .args(["--port", "0", "--data-dir"])
            .arg(dir)
            .args(args)
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
        let url = first.strip_prefix("AWF_PLATFORM_URL=http://127.0.0.1:").map(|port| {
            assert!(port.parse::<u16>().unwrap() > 0);
            format!("http://127.0.0.1:{port}")
        });
        let url = url.unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        let http = Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Platform { child, url, lines, http }
    }

    /// An authenticated request with a purpose header (none when `purpose` is empty).
    fn authed(&self, method: &str, path: &str, token: &str, purpose: &str, body: Option<Value>) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut r = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(token);
        if !purpose.is_empty() {
            r = r.header("x-awf-purpose", purpose);
        }
        if let Some(body) = body {
            r = r.json(&body);
        }
        r.send().unwrap()
    }

    fn receipt(&self, token: &str, receipt: Value) -> Response {
        self.authed("POST", "/v1/consents", token, "account_operation", Some(receipt))
    }

    fn telemetry(&self, token: &str, purpose: &str, ids: &[&str]) -> Response {
        let events: Vec<Value> =
            ids.iter().map(|id| json!({ "id": id, "kind": "agent_created", "at": NOW, "data": { "n": 1 } })).collect();
        self.authed("POST", &format!("/v1/telemetry/{purpose}"), token, purpose, Some(json!({ "events": events })))
    }

    /// The count of a category in the data summary.
    fn held(&self, token: &str, category: &str) -> u64 {
        let r = self.authed("GET", "/v1/account/data", token, "account_operation", None);
        assert_eq!(r.status(), StatusCode::OK);
        let data: HeldData = r.json().unwrap();
        data.categories.iter().find(|c| c.category == category).unwrap_or_else(|| panic!("no {category}")).count
    }

    fn dev(dir: &Path) -> Platform {
        Platform::start(dir, &["--dev"])
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(format!("{}{path}", self.url)).header("x-awf-purpose", "account_operation")
    }

    fn post(&self, path: &str, body: Value) -> Response {
        self.http
            .post(format!("{}{path}", self.url))
            .header("x-awf-purpose", "account_operation")
            .json(&body)
            .send()
            .unwrap()
    }

    /// Requests a code and reads it from the dev outbox.
    fn sms_code(&self, phone: &str) -> String {
        let r = self.post("/v1/auth/sms-code", json!({ "phone": phone }));
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let outbox: Vec<SmsMessage> =
            self.get("/v1/dev/sms-outbox").query(&[("phone", phone)]).send().unwrap().json().unwrap();
        outbox.last().expect("a message in the outbox").code.clone()
    }

    fn register_body(&self, name: &str, phone: &str, dob: &str, guardian: Option<Value>) -> Value {
        let code = self.sms_code(phone);
        json!({
            "account_name": name, "phone": phone, "password": PASSWORD, "sms_code": code,
            "date_of_birth": dob, "guardian": guardian, "policy_version": 1,
        })
    }

    /// Registers an adult, then logs in: the registration's grant and the log-in's response.
    fn register(&self, name: &str, phone: &str) -> (SessionGrant, Response) {
        let r = self.post("/v1/auth/register", self.register_body(name, phone, "1990-05-17", None));
        assert_eq!(r.status(), StatusCode::CREATED);
        let grant: SessionGrant = r.json().unwrap();
        let login = self.login(name, PASSWORD);
        assert_eq!(login.status(), StatusCode::OK);
        (grant, login)
    }

    fn login(&self, login: &str, password: &str) -> Response {
        self.post("/v1/auth/login", json!({ "login": login, "password": password }))
    }

    fn profile(&self, token: &str) -> Response {
        self.get("/v1/account/profile").bearer_auth(token).send().unwrap()
    }

    /// SIGTERM, and the exit status (graceful shutdown exits 0).
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_cookies(r: &Response) -> Vec<String> {
    r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

fn error(r: Response, status: StatusCode, code: PlatformErrorCode) -> ErrorBody {
    assert_eq!(r.status(), status);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: ErrorBody = r.json().expect("an ErrorBody");
    assert_eq!(body.code, code, "{body:?}");
    body
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A date of birth that makes someone `years` old today (birthday a week ago).
fn dob_for_age(years: i32) -> String {
    let today = time::OffsetDateTime::now_utc().date() - time::Duration::days(7);
    let d = today.replace_year(today.year() - years).unwrap_or(today);
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

#[test]
fn register_login_refresh_patch_logout() {
    let dir = temp();
    let p = Platform::dev(dir.path());

    let caps: Capabilities = p.get("/v1/capabilities").send().unwrap().json().unwrap();
    assert!(caps.dev_mode);
    assert_eq!(caps.api_version, "v1");
    assert!(caps.features.iter().any(|f| f == "auth"));
    assert_eq!(caps.region.code, "local");

    // The dev SMS line on stdout, exactly.
    let code = p.sms_code("+8613800000001");
    let line = p.lines.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(line, format!("SMS to +8613800000001: your AiWellFlow verification code is {code}"));
    assert_eq!(code.len(), 6);

    let r = p.post(
        "/v1/auth/register",
        json!({
            "account_name": "alice", "phone": "+8613800000001", "password": PASSWORD, "sms_code": code,
            "date_of_birth": "1990-05-17", "policy_version": 1, "unknown_field_is_ignored": true,
        }),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let cookies = set_cookies(&r);
    let session = cookies.iter().find(|c| c.starts_with("awf_session=")).expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/v1"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(cookies.iter().any(|c| c.starts_with("awf_anon=") && c.contains("Max-Age=31536000")));
    let grant: SessionGrant = r.json().unwrap();
    assert_eq!(grant.account.account_name, "alice");
    assert_eq!(grant.account.age_band, AgeBand::Adult);
    assert!(!grant.account.sensitive_personal_information);
    assert!(grant.account.guardian.is_none());
    assert!(grant.tokens.access_token.starts_with("awfa_"));
    assert!(grant.tokens.refresh_token.starts_with("awfr_"));
    assert_eq!(grant.tokens.token_type, "Bearer");

    // The code was consumed.
    let again = p.post(
        "/v1/auth/register",
        json!({
            "account_name": "alice2", "phone": "+8613800000009", "password": PASSWORD, "sms_code": code,
            "date_of_birth": "1990-05-17", "policy_version": 1,
        }),
    );
    error(again, StatusCode::BAD_REQUEST, PlatformErrorCode::SmsCodeInvalid);

    // Log in by name and by phone.
    let r = p.login("alice", PASSWORD);
    assert_eq!(r.status(), StatusCode::OK);
    let by_name: SessionGrant = r.json().unwrap();
    let r = p.login("+8613800000001", PASSWORD);
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = set_cookies(&r).into_iter().find(|c| c.starts_with("awf_session=")).unwrap();
    let cookie_value = cookie.split(';').next().unwrap().to_string();

    // Refresh rotates: the old refresh token and the old access token are revoked.
    let r = p.post("/v1/auth/refresh", json!({ "refresh_token": by_name.tokens.refresh_token }));
    assert_eq!(r.status(), StatusCode::OK);
    let refreshed: SessionGrant = r.json().unwrap();
    assert_ne!(refreshed.tokens.access_token, by_name.tokens.access_token);
    let reuse = p.post("/v1/auth/refresh", json!({ "refresh_token": by_name.tokens.refresh_token }));
    error(reuse, StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);
    error(p.profile(&by_name.tokens.access_token), StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);

    // Profile: view, supplement, correct, clear.
    let token = refreshed.tokens.access_token.clone();
    let r = p.profile(&token);
    assert_eq!(r.status(), StatusCode::OK);
    let profile: AccountProfile = r.json().unwrap();
    assert_eq!(profile.phone, "+8613800000001");
    let patch = |body: Value| {
        p.http.patch(format!("{}/v1/account/profile", p.url)).bearer_auth(&token).json(&body).send().unwrap()
    };
    let r = patch(json!({ "display_name": "Alice", "email": "alice@example.com", "organisation": "ACME" }));
    assert_eq!(r.status(), StatusCode::OK);
    let profile: AccountProfile = r.json().unwrap();
    assert_eq!(profile.display_name.as_deref(), Some("Alice"));
    assert_eq!(profile.email.as_deref(), Some("alice@example.com"));
    // serde would read a struct from an array of its fields; the platform wants an object.
    let r = patch(json!([null, "Mallory"]));
    error(r, StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput);
    let r = patch(json!({ "email": "not an email" }));
    assert_eq!(error(r, StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput).field.as_deref(), Some("email"));
    let r = patch(json!({ "email": "", "account_name": "alice_renamed" }));
    let profile: AccountProfile = r.json().unwrap();
    assert_eq!(profile.email, None);
    assert_eq!(profile.display_name.as_deref(), Some("Alice"), "absent fields are unchanged");
    assert_eq!(profile.account_name, "alice_renamed");
    assert_eq!(p.login("alice_renamed", PASSWORD).status(), StatusCode::OK);
    error(p.login("alice", PASSWORD), StatusCode::UNAUTHORIZED, PlatformErrorCode::InvalidCredentials);

    // The session cookie alone authenticates.
    let r = p.http.get(format!("{}/v1/account/profile", p.url)).header("cookie", &cookie_value).send().unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Log-out revokes the session and clears the cookie.
    let r = p.http.post(format!("{}/v1/auth/logout", p.url)).bearer_auth(&token).send().unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(set_cookies(&r).iter().any(|c| c.starts_with("awf_session=;") && c.contains("Max-Age=0")));
    error(p.profile(&token), StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);
    let r = p.post("/v1/auth/refresh", json!({ "refresh_token": refreshed.tokens.refresh_token }));
    error(r, StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);
    let r = p.http.get(format!("{}/v1/account/profile", p.url)).send().unwrap();
    error(r, StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);
}

#[test]
fn wrong_password_and_unknown_account_get_the_same_answer() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    p.register("bob", "+8613800000002");
    let wrong =
        error(p.login("bob", "wrong password!"), StatusCode::UNAUTHORIZED, PlatformErrorCode::InvalidCredentials);
    let unknown = error(p.login("nobody", PASSWORD), StatusCode::UNAUTHORIZED, PlatformErrorCode::InvalidCredentials);
    assert_eq!(wrong.message, unknown.message);
}

#[test]
fn expired_tokens_are_refused_as_expired() {
    let dir = temp();
    let p = Platform::start(dir.path(), &["--dev", "--access-ttl-secs", "1", "--refresh-ttl-secs", "2"]);
    let (grant, _) = p.register("carol", "+8613800000003");
    assert_eq!(grant.tokens.expires_in_secs, 1);
    std::thread::sleep(Duration::from_millis(2100));
    error(p.profile(&grant.tokens.access_token), StatusCode::UNAUTHORIZED, PlatformErrorCode::TokenExpired);
    let r = p.post("/v1/auth/refresh", json!({ "refresh_token": grant.tokens.refresh_token }));
    error(r, StatusCode::UNAUTHORIZED, PlatformErrorCode::TokenExpired);
}

#[test]
fn sms_codes_are_checked_throttled_voided_and_expire() {
    let dir = temp();
    let p = Platform::start(dir.path(), &["--dev", "--sms-code-ttl-secs", "2"]);
    let mut body = p.register_body("dave", "+8613800000004", "1990-01-01", None);
    let right = body["sms_code"].as_str().unwrap().to_string();
    let wrong = if right == "000000" { "111111" } else { "000000" };

    // A second code within 30 s is refused with Retry-After.
    let r = p.post("/v1/auth/sms-code", json!({ "phone": "+8613800000004" }));
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() <= 30);
    error(r, StatusCode::TOO_MANY_REQUESTS, PlatformErrorCode::RateLimited);

    // Five wrong codes void it: the right one then fails too.
    body["sms_code"] = json!(wrong);
    for _ in 0..5 {
        let e = error(
            p.post("/v1/auth/register", body.clone()),
            StatusCode::BAD_REQUEST,
            PlatformErrorCode::SmsCodeInvalid,
        );
        assert_eq!(e.field.as_deref(), Some("sms_code"));
    }
    body["sms_code"] = json!(right);
    error(p.post("/v1/auth/register", body), StatusCode::BAD_REQUEST, PlatformErrorCode::SmsCodeInvalid);

    // An expired code.
    let body = p.register_body("erin", "+8613800000005", "1990-01-01", None);
    std::thread::sleep(Duration::from_millis(2100));
    error(p.post("/v1/auth/register", body), StatusCode::BAD_REQUEST, PlatformErrorCode::SmsCodeExpired);
}

#[test]
fn duplicates_and_outdated_policy_conflict() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    p.register("frank", "+8613800000006");
    let body = p.register_body("FRANK", "+8613800000007", "1990-01-01", None);
    let e = error(p.post("/v1/auth/register", body.clone()), StatusCode::CONFLICT, PlatformErrorCode::AccountExists);
    assert_eq!(e.field.as_deref(), Some("account_name"));
    let mut same_phone = body.clone();
    same_phone["account_name"] = json!("frank2");
    same_phone["phone"] = json!("8613800000006");
    error(p.post("/v1/auth/register", same_phone), StatusCode::CONFLICT, PlatformErrorCode::PhoneInUse);
    let mut old_policy = body;
    old_policy["account_name"] = json!("frank3");
    old_policy["policy_version"] = json!(0);
    error(p.post("/v1/auth/register", old_policy), StatusCode::CONFLICT, PlatformErrorCode::PolicyOutdated);
}

#[test]
fn age_gate_needs_a_guardian_under_18_and_marks_children_sensitive() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let guardian = json!({ "name": "Grace Parent", "phone": "+8613911111111", "attestation": true });

    let body = p.register_body("minor_alone", "+8613800000010", &dob_for_age(16), None);
    let e =
        error(p.post("/v1/auth/register", body.clone()), StatusCode::BAD_REQUEST, PlatformErrorCode::GuardianRequired);
    assert_eq!(e.field.as_deref(), Some("guardian"));
    let mut unattested = body.clone();
    unattested["guardian"] = json!({ "name": "Grace Parent", "phone": "+8613911111111", "attestation": false });
    error(p.post("/v1/auth/register", unattested), StatusCode::BAD_REQUEST, PlatformErrorCode::GuardianRequired);
    // The refusals did not consume the code: the same request with a guardian registers.
    let mut with_guardian = body;
    with_guardian["guardian"] = guardian.clone();
    let r = p.post("/v1/auth/register", with_guardian);
    assert_eq!(r.status(), StatusCode::CREATED);
    let minor: SessionGrant = r.json().unwrap();
    assert_eq!(minor.account.age_band, AgeBand::Minor);
    assert!(!minor.account.sensitive_personal_information);

    let body = p.register_body("child13", "+8613800000011", &dob_for_age(13), Some(guardian));
    let r = p.post("/v1/auth/register", body);
    assert_eq!(r.status(), StatusCode::CREATED);
    let child: SessionGrant = r.json().unwrap();
    assert_eq!(child.account.age_band, AgeBand::Child);
    assert!(child.account.sensitive_personal_information);
    assert_eq!(child.account.guardian.as_ref().unwrap().name, "Grace Parent");

    // Adults' guardians are not stored.
    let adult = json!({ "name": "Nobody", "phone": "+8613911111112", "attestation": true });
    let r = p.post("/v1/auth/register", p.register_body("adult18", "+8613800000012", &dob_for_age(18), Some(adult)));
    let adult: SessionGrant = r.json().unwrap();
    assert_eq!(adult.account.age_band, AgeBand::Adult);
    assert!(adult.account.guardian.is_none());

    let body = p.register_body("future", "+8613800000013", "2999-01-01", None);
    let e = error(p.post("/v1/auth/register", body), StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("date_of_birth"));
}

#[test]
fn sixth_failed_login_within_a_minute_is_rate_limited() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    p.register("gina", "+8613800000014");
    for _ in 0..5 {
        error(p.login("gina", "wrong password"), StatusCode::UNAUTHORIZED, PlatformErrorCode::InvalidCredentials);
    }
    let r = p.login("gina", PASSWORD);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let body = error(r, StatusCode::TOO_MANY_REQUESTS, PlatformErrorCode::RateLimited);
    assert_eq!(body.retry_after_secs, Some(retry));
}

#[test]
fn dev_endpoints_are_not_served_without_dev_mode() {
    let dir = temp();
    let p = Platform::start(dir.path(), &[]);
    for path in ["/v1/dev/sms-outbox?phone=123456", "/v1/dev/stats", "/v1/dev/marketing-recipients"] {
        error(p.get(path).send().unwrap(), StatusCode::NOT_FOUND, PlatformErrorCode::NotFound);
    }
    error(p.post("/v1/dev/policy", publish_v2()), StatusCode::NOT_FOUND, PlatformErrorCode::NotFound);
    assert_eq!(p.get("/v1/policy").send().unwrap().json::<PolicyDocument>().unwrap().version, 1);
    let caps: Capabilities = p.get("/v1/capabilities").send().unwrap().json().unwrap();
    assert!(!caps.dev_mode);
    // Without a gateway the request is still accepted, and no code reaches stdout.
    assert_eq!(p.post("/v1/auth/sms-code", json!({ "phone": "123456" })).status(), StatusCode::ACCEPTED);
    assert!(p.lines.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn stats_count_every_request_by_purpose_and_route() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let caps = format!("{}/v1/capabilities", p.url);
    p.http.get(&caps).header("x-awf-purpose", "service_information").send().unwrap();
    p.http.get(&caps).header("x-awf-purpose", "service_information").send().unwrap();
    p.http.get(&caps).send().unwrap();
    p.http.get(format!("{}/v1/account/profile", p.url)).header("x-awf-purpose", "account_operation").send().unwrap();
    let r = p.http.get(&caps).header("x-awf-purpose", "spying").send().unwrap();
    assert_eq!(
        error(r, StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput).field.as_deref(),
        Some("x-awf-purpose")
    );
    p.http.get(format!("{}/v1/nowhere", p.url)).header("x-awf-purpose", "usage_analytics").send().unwrap();

    let stats: RequestStats = p.get("/v1/dev/stats").send().unwrap().json().unwrap();
    let stats_again: RequestStats = p.get("/v1/dev/stats").send().unwrap().json().unwrap();
    assert_eq!(stats, stats_again, "dev requests are not counted");
    assert_eq!(stats.total, 6);
    assert_eq!(stats.by_purpose["service_information"], 2);
    assert_eq!(stats.by_purpose["none"], 1);
    assert_eq!(stats.by_purpose["account_operation"], 1);
    assert_eq!(stats.by_purpose["invalid"], 1);
    assert_eq!(stats.by_purpose["usage_analytics"], 1);
    assert!(!stats.by_purpose.contains_key("crash_reports"));
    assert_eq!(stats.by_route["GET /v1/capabilities"], 4);
    assert_eq!(stats.by_route["GET /v1/account/profile"], 1);
    assert_eq!(stats.by_route["GET (no route)"], 1);
}

#[test]
fn anonymous_cookie_is_set_once_and_never_for_service_information() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let caps = format!("{}/v1/capabilities", p.url);
    let r = p.http.get(&caps).header("x-awf-purpose", "service_information").send().unwrap();
    assert!(set_cookies(&r).is_empty());
    let r = p.http.get(format!("{}/v1/policy", p.url)).header("x-awf-purpose", "service_information").send().unwrap();
    assert!(set_cookies(&r).is_empty());
    let r = p.http.get(&caps).header("x-awf-purpose", "account_operation").send().unwrap();
    let anon = set_cookies(&r).into_iter().find(|c| c.starts_with("awf_anon=")).expect("anon cookie");
    let pair = anon.split(';').next().unwrap().to_string();
    let r = p.http.get(&caps).header("x-awf-purpose", "account_operation").header("cookie", pair).send().unwrap();
    assert!(set_cookies(&r).is_empty());
}

#[test]
fn bad_input_gets_error_bodies_not_server_errors() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let url = |path: &str| format!("{}{path}", p.url);
    let raw = |path: &str, ct: &str, body: Vec<u8>| {
        p.http.post(url(path)).header("content-type", ct).body(body).send().unwrap()
    };
    error(
        raw("/v1/auth/login", "application/json", b"{not json".to_vec()),
        StatusCode::BAD_REQUEST,
        PlatformErrorCode::InvalidInput,
    );
    error(
        raw("/v1/auth/login", "application/json", b"[]".to_vec()),
        StatusCode::BAD_REQUEST,
        PlatformErrorCode::InvalidInput,
    );
    let e = error(
        raw("/v1/auth/login", "application/json", br#"{"login":"x"}"#.to_vec()),
        StatusCode::BAD_REQUEST,
        PlatformErrorCode::InvalidInput,
    );
    assert_eq!(e.field.as_deref(), Some("password"));
    error(
        raw("/v1/auth/login", "text/plain", br#"{"login":"x","password":"y"}"#.to_vec()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        PlatformErrorCode::InvalidInput,
    );
    let mut big = br#"{"phone":""#.to_vec();
    big.extend(std::iter::repeat_n(b'1', 1024 * 1024 + 10));
    big.extend(br#""}"#);
    error(
        raw("/v1/auth/sms-code", "application/json", big),
        StatusCode::PAYLOAD_TOO_LARGE,
        PlatformErrorCode::PayloadTooLarge,
    );
    let e = error(
        raw("/v1/auth/sms-code", "application/json", br#"{"phone":"12"}"#.to_vec()),
        StatusCode::BAD_REQUEST,
        PlatformErrorCode::InvalidInput,
    );
    assert_eq!(e.field.as_deref(), Some("phone"));
    error(p.http.get(url("/v1/nope")).send().unwrap(), StatusCode::NOT_FOUND, PlatformErrorCode::NotFound);
    error(
        p.http.delete(url("/v1/auth/login")).send().unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        PlatformErrorCode::InvalidInput,
    );
    let r = p.http.get(url("/v1/account/profile")).header("authorization", "Basic eDp5").send().unwrap();
    error(r, StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);
    let r = p.http.get(url("/v1/account/profile")).bearer_auth("awfa_unknown").send().unwrap();
    error(r, StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);
}

#[test]
fn accounts_survive_a_restart_and_sigterm_stops_cleanly() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    p.register("henry", "+8613800000015");
    let status = p.terminate();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");

    let p = Platform::dev(dir.path());
    let r = p.login("henry", PASSWORD);
    assert_eq!(r.status(), StatusCode::OK);
    let grant: SessionGrant = r.json().unwrap();
    assert_eq!(grant.account.account_name, "henry");
}

/// Every byte of every file below `dir`.
fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_secret_reaches_the_data_directory_in_clear() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let (grant, login) = p.register("iris", "+8613800000016");
    let cookie = set_cookies(&login).into_iter().find(|c| c.starts_with("awf_session=")).unwrap();
    let cookie_value = cookie.split(';').next().unwrap().trim_start_matches("awf_session=").to_string();
    let login: SessionGrant = login.json().unwrap();
    let r = p.post("/v1/auth/refresh", json!({ "refresh_token": login.tokens.refresh_token }));
    let refreshed: SessionGrant = r.json().unwrap();
    // An outstanding (unused) SMS code is stored too.
    let pending_code = p.sms_code("+8613800000017");
    let status = p.terminate();
    assert!(status.success());

    let files = all_bytes(dir.path());
    let account_id = grant.account.account_id.as_bytes();
    assert!(files.iter().any(|(_, b)| contains(b, account_id)), "the store was written where expected");
    // The phone is sealed in the account record and a keyed hash in the log-in indexes.
    assert!(!files.iter().any(|(_, b)| contains(b, b"8613800000016")), "the phone is in no file in clear");
    let mut secrets = vec![
        PASSWORD.to_string(),
        grant.tokens.access_token,
        grant.tokens.refresh_token,
        login.tokens.access_token,
        refreshed.tokens.access_token,
        refreshed.tokens.refresh_token,
        cookie_value,
    ];
    // A 6-digit code could occur by chance among digits, so look for it as a JSON string.
    secrets.push(format!("\"{pending_code}\""));
    for (path, bytes) in &files {
        for secret in &secrets {
            assert!(!contains(bytes, secret.as_bytes()), "{} holds a secret in clear", path.display());
        }
    }
}

#[test]
fn help_and_remote_bind_refusal() {
    let out = Command::new(env!("CARGO_BIN_EXE_awf-platform")).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--data-dir", "--port", "--dev", "--bind", "--access-ttl-secs", "--refresh-ttl-secs", "--region"] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let dir = temp();
    let out = Command::new(env!("CARGO_BIN_EXE_awf-platform"))
        .args(["--port", "0", "--bind", "0.0.0.0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));
    assert!(out.stdout.is_empty(), "no URL line when refusing");
}

#[test]
fn consent_receipts_are_stored_idempotently_and_listed_in_ledger_order() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let (grant, _) = p.register("jane", "+8613800000020");
    let token = &grant.tokens.access_token;
    assert_eq!(p.held(token, "consent_receipts"), 0);

    // The second ledger entry arrives first.
    let r = p.receipt(token, receipt("r2", "usage_analytics", false, 2));
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = p.receipt(token, receipt("r1", "usage_analytics", true, 1));
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: ReceiptAck = r.json().unwrap();
    assert_eq!(first.receipt_id, "r1");
    std::thread::sleep(Duration::from_millis(1100));
    // A repeat is acknowledged with the first storage time and stored once.
    let r = p.receipt(token, receipt("r1", "usage_analytics", true, 1));
    assert_eq!(r.status(), StatusCode::OK);
    let again: ReceiptAck = r.json().unwrap();
    assert_eq!(again, first);

    let r = p.authed("GET", "/v1/consents", token, "account_operation", None);
    assert_eq!(r.status(), StatusCode::OK);
    let list: ConsentReceipts = r.json().unwrap();
    let ids: Vec<_> = list.receipts.iter().map(|r| r.receipt_id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2"]);
    assert_eq!(list.receipts[0].purpose, Purpose::UsageAnalytics);
    assert!(list.receipts[0].granted && !list.receipts[1].granted);
    assert_eq!(list.receipts[1].ledger_hash, format!("{:064x}", 2));
    assert_eq!(p.held(token, "consent_receipts"), 2);

    // Receipts are per account.
    let (other, _) = p.register("kate", "+8613800000021");
    let list: ConsentReceipts = p.authed("GET", "/v1/consents", &other.tokens.access_token, "", None).json().unwrap();
    assert!(list.receipts.is_empty());

    // Invalid receipts are refused, naming the field, and not stored.
    for (field, key, value) in [
        ("purpose", "purpose", json!("service_information")),
        ("receipt_id", "receipt_id", json!("has space")),
        ("ledger_hash", "ledger_hash", json!("ABC")),
        ("ledger_seq", "ledger_seq", json!(0)),
        ("at", "at", json!("")),
        ("method", "method", json!("")),
        // A receipt cannot cover a policy version that has not been published.
        ("policy_version", "policy_version", json!(2)),
    ] {
        let mut bad = receipt("bad", "marketing", true, 3);
        bad[key] = value;
        let e = error(p.receipt(token, bad), StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput);
        assert_eq!(e.field.as_deref(), Some(field));
    }
    assert_eq!(p.held(token, "consent_receipts"), 2);

    // In JSON, 3.0 is the integer 3 (schema-valid, so accepted).
    let mut float_seq = receipt("r3", "marketing", true, 3);
    float_seq["ledger_seq"] = json!(3.0);
    assert_eq!(p.receipt(token, float_seq).status(), StatusCode::CREATED);
}

#[test]
fn telemetry_is_refused_without_consent_accepted_with_it_and_refused_after_withdrawal() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let (grant, _) = p.register("liam", "+8613800000022");
    let token = &grant.tokens.access_token;

    // No receipt: refused, nothing stored.
    let e = error(
        p.telemetry(token, "usage_analytics", &["e1"]),
        StatusCode::FORBIDDEN,
        PlatformErrorCode::ConsentRequired,
    );
    assert_eq!(e.field.as_deref(), Some("x-awf-purpose"));
    assert_eq!(p.held(token, "telemetry:usage_analytics"), 0);

    // A grant of another purpose does not help.
    assert_eq!(p.receipt(token, receipt("g0", "crash_reports", true, 1)).status(), StatusCode::CREATED);
    error(p.telemetry(token, "usage_analytics", &["e1"]), StatusCode::FORBIDDEN, PlatformErrorCode::ConsentRequired);
    assert_eq!(p.held(token, "telemetry:usage_analytics"), 0);

    // Granted: accepted; duplicates (in a batch and across batches) are stored and counted once.
    assert_eq!(p.receipt(token, receipt("g1", "usage_analytics", true, 2)).status(), StatusCode::CREATED);
    let r = p.telemetry(token, "usage_analytics", &["e1", "e2", "e1"]);
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<IngestAck>().unwrap().accepted, 2);
    let r = p.telemetry(token, "usage_analytics", &["e2", "e3"]);
    assert_eq!(r.json::<IngestAck>().unwrap().accepted, 1);
    assert_eq!(p.held(token, "telemetry:usage_analytics"), 3);
    assert_eq!(p.held(token, "telemetry:crash_reports"), 0);

    // Withdrawn (a later ledger entry): refused again, nothing more stored.
    assert_eq!(p.receipt(token, receipt("w1", "usage_analytics", false, 3)).status(), StatusCode::CREATED);
    error(p.telemetry(token, "usage_analytics", &["e4"]), StatusCode::FORBIDDEN, PlatformErrorCode::ConsentRequired);
    assert_eq!(p.held(token, "telemetry:usage_analytics"), 3);
    // An older grant arriving late does not undo the withdrawal: the ledger position decides.
    assert_eq!(p.receipt(token, receipt("g-old", "usage_analytics", true, 2)).status(), StatusCode::CREATED);
    error(p.telemetry(token, "usage_analytics", &["e4"]), StatusCode::FORBIDDEN, PlatformErrorCode::ConsentRequired);

    // Another account's consent is not this one's.
    let (other, _) = p.register("mona", "+8613800000023");
    error(
        p.telemetry(&other.tokens.access_token, "crash_reports", &["x"]),
        StatusCode::FORBIDDEN,
        PlatformErrorCode::ConsentRequired,
    );

    // Telemetry requests are counted in the stats like every other.
    let stats: RequestStats = p.get("/v1/dev/stats").send().unwrap().json().unwrap();
    assert_eq!(stats.by_route["POST /v1/telemetry/{purpose}"], 7);
    assert_eq!(stats.by_purpose["usage_analytics"], 6);
}

#[test]
fn deleting_a_purposes_data_removes_it_and_says_how_much() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let (grant, _) = p.register("nina", "+8613800000024");
    let token = &grant.tokens.access_token;
    p.receipt(token, receipt("g1", "crash_reports", true, 1));
    p.receipt(token, receipt("g2", "research", true, 2));
    assert_eq!(p.telemetry(token, "crash_reports", &["c1", "c2", "c3"]).status(), StatusCode::ACCEPTED);
    assert_eq!(p.telemetry(token, "research", &["r1"]).status(), StatusCode::ACCEPTED);
    assert_eq!(p.held(token, "telemetry:crash_reports"), 3);

    // Withdraw, then delete: deletion needs no consent, and the client sends it as account operation.
    p.receipt(token, receipt("w1", "crash_reports", false, 3));
    let r = p.authed("DELETE", "/v1/telemetry/crash_reports", token, "account_operation", None);
    assert_eq!(r.status(), StatusCode::OK);
    let deleted: PurposeDataDeleted = r.json().unwrap();
    assert_eq!((deleted.purpose, deleted.deleted), (Purpose::CrashReports, 3));
    assert_eq!(p.held(token, "telemetry:crash_reports"), 0);
    assert_eq!(p.held(token, "telemetry:research"), 1, "other purposes are untouched");
    let r = p.authed("DELETE", "/v1/telemetry/crash_reports", token, "", None);
    assert_eq!(r.json::<PurposeDataDeleted>().unwrap().deleted, 0);

    // After deletion, the same ids are new data again once consent is given again.
    p.receipt(token, receipt("g3", "crash_reports", true, 4));
    assert_eq!(p.telemetry(token, "crash_reports", &["c1"]).json::<IngestAck>().unwrap().accepted, 1);

    // The summary: one account, this session and the log-in's, the receipts, each purpose.
    let data: HeldData = p.authed("GET", "/v1/account/data", token, "account_operation", None).json().unwrap();
    let categories: Vec<_> = data.categories.iter().map(|c| (c.category.as_str(), c.count)).collect();
    assert_eq!(
        categories,
        [
            ("account", 1),
            ("sessions", 2),
            ("consent_receipts", 4),
            ("telemetry:security_device_info", 0),
            ("telemetry:usage_analytics", 0),
            ("telemetry:crash_reports", 1),
            ("telemetry:research", 1),
            ("rights_requests", 0),
            ("item_tombstones", 0),
            ("items:agent", 0),
            ("items:dataset", 0),
            ("items:plugin", 0),
            ("items:table", 0),
            ("sync_replays", 0),
            ("uploads", 0),
        ]
    );
    assert!(data.categories.iter().all(|c| !c.retention.is_empty()));
    assert!(data.categories[3].retention.starts_with("90 days"));
    assert!(data.categories[1].retention.contains("30 days"), "{}", data.categories[1].retention);
    // Logging out ends a session.
    p.http.post(format!("{}/v1/auth/logout", p.url)).bearer_auth(token).send().unwrap();
    let login = p.login("nina", PASSWORD).json::<SessionGrant>().unwrap();
    assert_eq!(p.held(&login.tokens.access_token, "sessions"), 2);
}

#[test]
fn telemetry_purpose_in_header_and_path_must_agree() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let (grant, _) = p.register("omar", "+8613800000025");
    let token = &grant.tokens.access_token;
    p.receipt(token, receipt("g1", "usage_analytics", true, 1));
    let body = json!({ "events": [{ "id": "e1", "kind": "k", "at": NOW, "data": null }] });
    for header in ["account_operation", "crash_reports", ""] {
        let r = p.authed("POST", "/v1/telemetry/usage_analytics", token, header, Some(body.clone()));
        let e = error(r, StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput);
        assert_eq!(e.field.as_deref(), Some("x-awf-purpose"), "header {header:?}");
    }
    // Only the telemetry purposes have a telemetry resource.
    for path in ["marketing", "account_operation", "spying", "usage%FFanalytics"] {
        let r = p.authed("POST", &format!("/v1/telemetry/{path}"), token, "usage_analytics", Some(body.clone()));
        error(r, StatusCode::NOT_FOUND, PlatformErrorCode::NotFound);
        let r = p.authed("DELETE", &format!("/v1/telemetry/{path}"), token, "account_operation", None);
        error(r, StatusCode::NOT_FOUND, PlatformErrorCode::NotFound);
    }
    // Bodies are checked once the purpose and consent are.
    let r = p.authed("POST", "/v1/telemetry/usage_analytics", token, "usage_analytics", Some(json!({ "events": [] })));
    assert_eq!(error(r, StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput).field.as_deref(), Some("events"));
    let big = json!({ "events": [{ "id": "e1", "kind": "k", "at": NOW, "data": "x".repeat(70_000) }] });
    let r = p.authed("POST", "/v1/telemetry/usage_analytics", token, "usage_analytics", Some(big));
    error(r, StatusCode::PAYLOAD_TOO_LARGE, PlatformErrorCode::PayloadTooLarge);
    assert_eq!(p.held(token, "telemetry:usage_analytics"), 0);
    let r = p.authed("POST", "/v1/telemetry/usage_analytics", token, "usage_analytics", Some(body));
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[test]
fn marketing_recipients_follow_grant_and_withdrawal_receipts() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let recipients = || -> Vec<String> { p.get("/v1/dev/marketing-recipients").send().unwrap().json().unwrap() };
    let (a, _) = p.register("pia", "+8613800000026");
    let (b, _) = p.register("quin", "+8613800000027");
    let (c, _) = p.register("rosa", "+8613800000028");
    let (a_id, b_id) = (a.account.account_id.clone(), b.account.account_id.clone());
    assert!(recipients().is_empty(), "nobody is on the list without a grant");

    p.receipt(&a.tokens.access_token, receipt("m1", "marketing", true, 1));
    p.receipt(&b.tokens.access_token, receipt("m1", "marketing", true, 1));
    // A withdrawal alone, or a grant of another purpose, puts nobody on the list.
    p.receipt(&c.tokens.access_token, receipt("m1", "marketing", false, 1));
    p.receipt(&c.tokens.access_token, receipt("u1", "usage_analytics", true, 2));
    let mut expected = vec![a_id.clone(), b_id.clone()];
    expected.sort();
    assert_eq!(recipients(), expected);

    // The opt-out is reflected at once.
    p.receipt(&a.tokens.access_token, receipt("m2", "marketing", false, 2));
    assert_eq!(recipients(), std::slice::from_ref(&b_id));
    p.receipt(&a.tokens.access_token, receipt("m3", "marketing", true, 3));
    assert_eq!(recipients(), expected);

    // The platform's marketing state is visible to the account in its receipts.
    let list: ConsentReceipts = p.authed("GET", "/v1/consents", &a.tokens.access_token, "", None).json().unwrap();
    let latest = list.receipts.iter().rfind(|r| r.purpose == Purpose::Marketing).unwrap();
    assert!(latest.granted && latest.ledger_seq == 3);
}

#[test]
fn privacy_endpoints_need_authentication() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    let cases: [(&str, &str, Option<Value>); 6] = [
        ("POST", "/v1/consents", Some(receipt("r1", "marketing", true, 1))),
        ("GET", "/v1/consents", None),
        (
            "POST",
            "/v1/telemetry/usage_analytics",
            Some(json!({ "events": [{ "id": "1", "kind": "k", "at": NOW, "data": 1 }] })),
        ),
        ("DELETE", "/v1/telemetry/usage_analytics", None),
        ("GET", "/v1/account/data", None),
        ("GET", "/v1/telemetry/usage_analytics", None),
    ];
    for (method, path, body) in cases {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let purpose = if path.starts_with("/v1/telemetry") { "usage_analytics" } else { "account_operation" };
        let mut r = p.http.request(m.clone(), format!("{}{path}", p.url)).header("x-awf-purpose", purpose);
        if let Some(body) = &body {
            r = r.json(body);
        }
        let response = r.send().unwrap();
        if method == "GET" && path.starts_with("/v1/telemetry") {
            // Not a route: no GET of telemetry.
            error(response, StatusCode::METHOD_NOT_ALLOWED, PlatformErrorCode::InvalidInput);
            continue;
        }
        error(response, StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);
        let r = p.authed(method, path, "awfa_unknown", purpose, body);
        error(r, StatusCode::UNAUTHORIZED, PlatformErrorCode::Unauthorized);
    }
}

impl Platform {
    fn policy(&self, path: &str) -> Response {
        self.http.get(format!("{}{path}", self.url)).header("x-awf-purpose", "service_information").send().unwrap()
    }

    fn policy_version_in_force(&self) -> u32 {
        let caps: Capabilities = self.policy("/v1/capabilities").json().unwrap();
        let current: PolicyDocument = self.policy("/v1/policy").json().unwrap();
        assert_eq!(caps.policy_version, current.version, "capabilities follow the policy in force");
        current.version
    }
}

#[test]
fn policy_versions_are_published_in_dev_mode_and_govern_registration_and_telemetry() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    assert_eq!(p.policy_version_in_force(), 1);
    let (grant, _) = p.register("nora", "+8613800000030");
    let token = &grant.tokens.access_token;
    for (i, purpose) in ["usage_analytics", "crash_reports"].into_iter().enumerate() {
        let r = p.receipt(token, receipt(&format!("g{i}"), purpose, true, i as u64 + 1));
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    assert_eq!(p.telemetry(token, "usage_analytics", &["u1"]).status(), StatusCode::ACCEPTED);

    // Invalid publications are refused with the field at fault, and change nothing.
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("version", Box::new(|b| b["version"] = json!(3))),
        ("version", Box::new(|b| b["version"] = json!(1))),
        ("zh_cn", Box::new(|b| b["zh_cn"] = json!("  "))),
        ("en", Box::new(|b| b["en"] = json!("x".repeat(256 * 1024 + 1)))),
        (
            "purposes[9].purpose",
            Box::new(|b| {
                b["purposes"].as_array_mut().unwrap().push(json!({"purpose": "marketing", "since_version": 2}))
            }),
        ),
        (
            "purposes[9].purpose",
            Box::new(|b| {
                b["purposes"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"purpose": "service_information", "since_version": 1}))
            }),
        ),
        ("purposes[0].since_version", Box::new(|b| b["purposes"][0]["since_version"] = json!(0))),
        ("purposes[0].since_version", Box::new(|b| b["purposes"][0]["since_version"] = json!(3))),
        ("changes", Box::new(|b| b["changes"] = json!(vec!["a change"; 51]))),
        ("changes[0]", Box::new(|b| b["changes"] = json!(["x".repeat(501)]))),
    ];
    for (field, mutate) in cases {
        let mut body = publish_v2();
        mutate(&mut body);
        let e = error(p.post("/v1/dev/policy", body), StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput);
        assert_eq!(e.field.as_deref(), Some(field), "{e:?}");
    }
    assert_eq!(p.policy_version_in_force(), 1);

    // Version 2 published: in force at once; version 1 still readable.
    let r = p.post("/v1/dev/policy", publish_v2());
    assert_eq!(r.status(), StatusCode::CREATED);
    let published: PolicyDocument = r.json().unwrap();
    assert_eq!((published.version, published.material), (2, true));
    assert_eq!(published.purposes, v2_terms());
    assert!(published.published_at.ends_with('Z') && published.published_at.starts_with("20"));
    let current: PolicyDocument = p.policy("/v1/policy").json().unwrap();
    assert_eq!(current, published);
    assert!(current.en.contains("feature-level interaction events"));
    assert_eq!(p.policy_version_in_force(), 2);
    let v1: PolicyDocument = p.policy("/v1/policy/1").json().unwrap();
    assert_eq!(v1.version, 1);
    assert!(!v1.en.contains("feature-level interaction events"));
    assert!(v1.purposes.iter().all(|t| t.since_version == 1) && v1.purposes.len() == 9);
    assert_eq!(p.policy("/v1/policy/2").json::<PolicyDocument>().unwrap(), published);
    for missing in ["/v1/policy/3", "/v1/policy/0", "/v1/policy/two", "/v1/policy/-1", "/v1/policy/99999999999"] {
        error(p.policy(missing), StatusCode::NOT_FOUND, PlatformErrorCode::NotFound);
    }
    // The same version again is refused.
    let e = error(p.post("/v1/dev/policy", publish_v2()), StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("version"));
    // A purpose's since_version cannot go back (version 3 lowering usage_analytics to 1).
    let mut v3 = publish_v2();
    v3["version"] = json!(3);
    let ua = v2_terms().iter().position(|t| t.purpose == Purpose::UsageAnalytics).unwrap();
    v3["purposes"][ua]["since_version"] = json!(1);
    let e = error(p.post("/v1/dev/policy", v3), StatusCode::BAD_REQUEST, PlatformErrorCode::InvalidInput);
    assert_eq!(e.field, Some(format!("purposes[{ua}].since_version")));

    // Registration must accept the version in force.
    let mut old = p.register_body("olga", "+8613800000031", "1990-01-01", None);
    let e = error(p.post("/v1/auth/register", old.clone()), StatusCode::CONFLICT, PlatformErrorCode::PolicyOutdated);
    assert_eq!(e.field.as_deref(), Some("policy_version"));
    old["policy_version"] = json!(2);
    old["sms_code"] = json!(p.last_sms_code("+8613800000031"));
    let r = p.post("/v1/auth/register", old);
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<SessionGrant>().unwrap().account.policy_version_accepted, 2);

    // A consent to usage analytics given under version 1 does not cover its version-2 wording;
    // crash reports kept their wording, so their version-1 consent still covers them.
    let e = error(
        p.telemetry(token, "usage_analytics", &["u2"]),
        StatusCode::FORBIDDEN,
        PlatformErrorCode::ConsentRequired,
    );
    assert_eq!(e.field.as_deref(), Some("x-awf-purpose"));
    assert!(e.message.contains("version 2"), "{}", e.message);
    assert_eq!(p.held(token, "telemetry:usage_analytics"), 1, "nothing stored");
    assert_eq!(p.telemetry(token, "crash_reports", &["c1"]).status(), StatusCode::ACCEPTED);
    // Asked again under version 2: covered.
    let mut again = receipt("g-v2", "usage_analytics", true, 3);
    again["policy_version"] = json!(2);
    assert_eq!(p.receipt(token, again).status(), StatusCode::CREATED);
    assert_eq!(p.telemetry(token, "usage_analytics", &["u2"]).status(), StatusCode::ACCEPTED);
}

impl Platform {
    /// The last code sent to a phone (still valid when no registration consumed it: a refusal
    /// such as 409 `policy_outdated` comes before the code is checked).
    fn last_sms_code(&self, phone: &str) -> String {
        let outbox: Vec<SmsMessage> =
            self.get("/v1/dev/sms-outbox").query(&[("phone", phone)]).send().unwrap().json().unwrap();
        outbox.last().unwrap().code.clone()
    }
}

fn publish_policy(dir: &Path, version: &str, terms: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_awf-platform"))
        .arg("publish-policy")
        .arg("--data-dir")
        .arg(dir)
        .args(["--version", version, "--zh"])
        .arg(v2_file("zh-CN.txt"))
        .arg("--en")
        .arg(v2_file("en.txt"))
        .arg("--terms")
        .arg(terms)
        .args(["--material", "--change", "§1.2(3) widened", "--change", "§6.3 narrowed"])
        .output()
        .unwrap()
}

#[test]
fn publish_policy_subcommand_writes_a_stopped_platforms_store_and_refuses_a_running_one() {
    let dir = temp();
    let p = Platform::dev(dir.path());
    p.register("pia", "+8613800000032");
    assert!(p.terminate().success());

    // Against the stopped platform's store.
    let out = publish_policy(dir.path(), "2", &v2_file("terms.json"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("published policy version 2"));
    // Again: version 2 is no longer the next.
    let out = publish_policy(dir.path(), "2", &v2_file("terms.json"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("version") && stderr.contains("next version is 3"), "{stderr}");
    // A terms file that is not a list of terms, and a directory without a store.
    let out = publish_policy(dir.path(), "3", &v2_file("README.md"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a JSON array"));
    let empty = temp();
    let out = publish_policy(empty.path(), "2", &v2_file("terms.json"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no platform store"));

    // The platform starts with version 2 in force (not in dev mode: the store is what counts).
    let p = Platform::start(dir.path(), &[]);
    assert_eq!(p.policy_version_in_force(), 2);
    let current: PolicyDocument = p.policy("/v1/policy").json().unwrap();
    assert_eq!(current.purposes, v2_terms());
    assert!(current.material);
    assert_eq!(current.changes, ["§1.2(3) widened", "§6.3 narrowed"]);
    assert_eq!(p.policy("/v1/policy/1").json::<PolicyDocument>().unwrap().version, 1);
    let login: SessionGrant = p.login("pia", PASSWORD).json().unwrap();
    assert_eq!(login.account.policy_version_accepted, 1, "accounts keep the version they accepted");

    // While the platform runs, its store is locked: a clear refusal, nothing published.
    let out = publish_policy(dir.path(), "3", &v2_file("terms.json"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("in use") && stderr.contains("stop the platform"), "{stderr}");
    assert!(stderr.contains("POST /v1/dev/policy"), "{stderr}");
    assert_eq!(p.policy_version_in_force(), 2);
}
