//! Accounts through the egress gate, against the reference platform running as a real process
//! on loopback, with tokens in the real OS keyring (run inside the test command's D-Bus session
//! with gnome-keyring).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::platform::Platform;
use common::{awf, fails, files, ok};

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

fn code_of(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    err.split_once("error[").and_then(|(_, r)| r.split_once(']')).map(|(c, _)| c.to_string()).unwrap_or_default()
}

fn log_json(dir: &Path, url: &str) -> Vec<serde_json::Value> {
    let mut c = awf_at(dir, url);
    c.args(["log", "--json", "--limit", "1000"]);
    serde_json::from_str(&ok(c)).unwrap()
}

fn profile_id(dir: &Path) -> String {
    let key: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("key.json")).unwrap()).unwrap();
    key["profile_id"].as_str().unwrap().to_string()
}

fn keyring_tokens(dir: &Path) -> Option<String> {
    use awf_core::KeyVault;
    awf_core::OsKeyring
        .get_secret(&format!("platform-tokens/{}", profile_id(dir)))
        .unwrap()
        .map(|s| s.expose().to_string())
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

#[test]
fn refused_without_consent_never_reaches_the_platform_and_is_logged() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();

    let mut c = awf_at(dir.path(), &p.url);
    c.args(["login", "--login", "someone", "--password-stdin"]);
    let out = with_stdin(c, "whatever-password\n");
    assert_eq!(code_of(&out), "consent_required", "{}", String::from_utf8_lossy(&out.stderr));
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["signup", "code", "--phone", "+8613800000001"]);
    assert_eq!(code_of(&fails(c)), "consent_required");

    assert_eq!(p.received("POST /v1/auth/login"), 0, "a refused request reached the platform");
    assert_eq!(p.received("POST /v1/auth/sms-code"), 0);
    let log = log_json(dir.path(), &p.url);
    let refused: Vec<_> = log.iter().filter(|r| r["outcome"] == "refused").collect();
    assert_eq!(refused.len(), 2, "{log:#?}");
    assert!(refused.iter().all(|r| r["purpose"] == "account_operation" && r["bytes_up"] == 0));
    assert!(refused.iter().any(|r| r["path"] == "/v1/auth/login"));
}

#[test]
fn full_session_with_tokens_in_the_keyring_and_no_secret_on_disk() {
    let pdata = tempfile::tempdir().unwrap();
    // Access tokens live 1 s, so the session below has to refresh by itself.
    let p = Platform::start(pdata.path(), 0, &["--access-ttl-secs", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let phone = "+8613800000002";

    // Wrong SMS code, then the right one.
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["signup", "code", "--phone", phone, "--accept-policy"]);
    ok(c);
    let code = p.sms_code(phone);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["signup", "create", "--account-name", "ada", "--phone", phone, "--sms-code", wrong]);
    c.args(["--date-of-birth", "1990-05-17", "--password-stdin"]);
    let out = with_stdin(c, &format!("{PASSWORD}\n"));
    assert_eq!(code_of(&out), "sms_code_invalid", "{}", String::from_utf8_lossy(&out.stderr));
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["signup", "create", "--account-name", "ada", "--phone", phone, "--sms-code", &code]);
    c.args(["--date-of-birth", "1990-05-17", "--password-stdin"]);
    let out = with_stdin(c, &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Tokens are in the real Secret Service, and nowhere on disk.
    let tokens: serde_json::Value =
        serde_json::from_str(&keyring_tokens(dir.path()).expect("tokens in keyring")).unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    assert!(access.starts_with("awfa_") && refresh.starts_with("awfr_"));

    // The access token expires; whoami refreshes and succeeds.
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["whoami", "--json"]);
    let me: serde_json::Value = serde_json::from_str(&ok(c)).unwrap();
    assert_eq!(me["account_name"], "ada");
    assert!(p.received("POST /v1/auth/refresh") >= 1, "the expired token was not refreshed");
    let rotated: serde_json::Value = serde_json::from_str(&keyring_tokens(dir.path()).unwrap()).unwrap();
    assert_ne!(rotated["refresh_token"].as_str().unwrap(), refresh, "refresh rotates the pair");

    // Log out: tokens leave the keyring; whoami then says so.
    let mut c = awf_at(dir.path(), &p.url);
    c.arg("logout");
    ok(c);
    assert!(keyring_tokens(dir.path()).is_none(), "logout must delete the tokens");
    let mut c = awf_at(dir.path(), &p.url);
    c.arg("whoami");
    assert_eq!(code_of(&fails(c)), "not_signed_in");

    // Wrong password, then the right one.
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["login", "--login", "ada", "--password-stdin"]);
    assert_eq!(code_of(&with_stdin(c, "not-the-password\n")), "invalid_credentials");
    let mut c = awf_at(dir.path(), &p.url);
    c.args(["login", "--login", phone, "--password-stdin"]);
    let out = with_stdin(c, &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let last: serde_json::Value = serde_json::from_str(&keyring_tokens(dir.path()).unwrap()).unwrap();

    // No password, SMS code or token in any file of the data directory or in the log.
    let log_text = serde_json::to_string(&log_json(dir.path(), &p.url)).unwrap();
    assert!(log_text.contains("/v1/auth/register") && log_text.contains("<redacted>"));
    let secrets = [
        PASSWORD.to_string(),
        code.clone(),
        access,
        refresh,
        rotated["access_token"].as_str().unwrap().to_string(),
        last["access_token"].as_str().unwrap().to_string(),
        last["refresh_token"].as_str().unwrap().to_string(),
    ];
    for s in &secrets {
        assert!(!log_text.contains(s.as_str()), "a secret is in the transmission log");
    }
    for f in files(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        for s in &secrets {
            assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "a secret is in {}", f.display());
        }
    }
}

#[test]
fn coded_errors_for_duplicates_minors_and_too_many_attempts() {
    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    sign_up(dir.path(), &p, "grace", "+8613800000003");

    // Same account name from another machine.
    let other = tempfile::tempdir().unwrap();
    let mut c = awf_at(other.path(), &p.url);
    c.args(["signup", "code", "--phone", "+8613800000004", "--accept-policy"]);
    ok(c);
    let code = p.sms_code("+8613800000004");
    let mut c = awf_at(other.path(), &p.url);
    c.args(["signup", "create", "--account-name", "grace", "--phone", "+8613800000004", "--sms-code", &code]);
    c.args(["--date-of-birth", "1990-01-01", "--password-stdin"]);
    assert_eq!(code_of(&with_stdin(c, &format!("{PASSWORD}\n"))), "account_exists");

    // Under 18 without a guardian: refused before anything is sent.
    let before = p.received("POST /v1/auth/register");
    let today = time::OffsetDateTime::now_utc().date();
    let dob = format!("{}-01-01", today.year() - 16);
    let mut c = awf_at(other.path(), &p.url);
    c.args(["signup", "create", "--account-name", "teen", "--phone", "+8613800000005", "--sms-code", "123456"]);
    c.args(["--date-of-birth", &dob, "--password-stdin"]);
    let out = with_stdin(c, &format!("{PASSWORD}\n"));
    assert_eq!(code_of(&out), "guardian_required");
    assert!(String::from_utf8_lossy(&out.stderr).contains("guardian"));
    assert_eq!(p.received("POST /v1/auth/register"), before);

    // Five failed log-ins are answered; the sixth is rate limited with a time to wait.
    for _ in 0..5 {
        let mut c = awf_at(other.path(), &p.url);
        c.args(["login", "--login", "grace", "--password-stdin"]);
        assert_eq!(code_of(&with_stdin(c, "wrong-password-1\n")), "invalid_credentials");
    }
    let mut c = awf_at(other.path(), &p.url);
    c.args(["login", "--login", "grace", "--password-stdin"]);
    let out = with_stdin(c, &format!("{PASSWORD}\n"));
    assert_eq!(code_of(&out), "rate_limited");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Try again in ") && err.contains(" seconds"), "{err}");
}

#[test]
fn offline_authoring_works_and_the_app_reconnects_by_itself() {
    use awf_api::{Api, ApiConfig};
    // A free port, then nothing listening on it: the platform is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let api = Api::open(ApiConfig::new(dir.path()));
    api.set_platform_url(awf_api::dto::SetPlatformUrl { url: Some(url.clone()) }).unwrap();

    let status = api.platform_check().expect("a platform that is down is a status, not an error");
    assert!(!status.online && status.last_error.is_some());
    let draft = serde_json::to_value(awf_core::AgentDraft::named("Offline agent")).unwrap();
    let agent = api.call("agent_create", draft).expect("authoring works offline");
    assert_eq!(agent["name"], "Offline agent");

    let pdata = tempfile::tempdir().unwrap();
    let p = Platform::start(pdata.path(), port, &[]);
    let status = api.platform_check().unwrap();
    assert!(status.online, "{status:?}");
    assert_eq!(status.platform.expect("capabilities read").policy_version, 1);
    let log = api.profile().unwrap().transmissions().list(&Default::default()).unwrap();
    assert_eq!(log.iter().filter(|r| r.outcome == awf_core::Outcome::Failed).count(), 1);
    assert_eq!(log[0].outcome, awf_core::Outcome::Sent);
    drop(p);
}

#[test]
fn plain_http_to_another_host_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let api = awf_api::Api::open(awf_api::ApiConfig::new(dir.path()));
    let err = api
        .set_platform_url(awf_api::dto::SetPlatformUrl { url: Some("http://platform.example.com".into()) })
        .unwrap_err();
    assert_eq!(err.code, awf_api::ErrorCode::InsecureAddress);
    assert_eq!(err.field.as_deref(), Some("platform_url"));
    assert!(api
        .set_platform_url(awf_api::dto::SetPlatformUrl { url: Some("https://platform.example.com".into()) })
        .is_ok());
}
