//! `cargo xtask schemathesis`: checks the reference platform against its committed OpenAPI
//! document (`crates/awf-platform-api/openapi.json`) with schemathesis, a property-based API
//! tester: it generates valid and invalid requests from the document and fails on any server
//! error, undocumented status, header or content type, response that does not match its schema,
//! invalid data accepted or valid data refused.
//!
//! schemathesis is a Python tool, installed at a pinned version into a venv under the target
//! directory the first time (PyPI; no other download). The platform runs as the real binary
//! (`awf-platform --dev --port 0` on a fresh data directory), and two accounts are registered
//! first — through the dev SMS line on the platform's stdout — so that the authenticated routes
//! are exercised with real tokens: one for every operation but log-out, one for log-out alone
//! (which revokes the token it is called with). The first account then sends consent receipts
//! granting `usage_analytics` and `crash_reports` (and `developer_data_hosting`, so that sync
//! writes are accepted), so that telemetry of those purposes is
//! accepted (202) while the other two telemetry purposes are refused (403 `consent_required`,
//! as for any account without the consent): both answers are exercised. The grants sit at the
//! highest ledger position, so generated receipts (which may withdraw) rarely override them;
//! when one does, 403 is still a documented answer.
//!
//! Cancelling an account (`POST /v1/account/cancel`) would destroy the account the other
//! operations use, so it is excluded from the main phase and runs alone against a third account
//! of its own (`st_cancel`); schemathesis cannot guess its password, so the phase sees the
//! refusals (401 `invalid_credentials`, 422 for a name that does not match, 429 after five wrong
//! passwords) and never a cancellation. The operator's routes (`/v1/admin/…`) take the admin
//! token, not an account's: they run in their own phase with the token the platform wrote to
//! `<data dir>/admin-token`. Erasure (`POST /v1/account/data/erase`) runs in the main phase: it
//! keeps the account, its session and its consent receipts, so the grants above survive it.
//!
//! Publishing a policy version (`POST /v1/dev/policy`) changes the platform for every later
//! request (the version registration needs, the terms telemetry is checked against), so it runs
//! alone in a last phase, after the others: whatever version it publishes cannot turn a later
//! test's answer. `GET /v1/policy/{version}` runs in the main phase (version 1 exists, others 404).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::proc::{debug_bin, root, target_dir, Cmd, Result};

/// The schemathesis release this check is written against (its CLI flags and check names).
const VERSION: &str = "4.32.5";
/// Its test-case engine, pinned too: a new hypothesis release must not change a fixed-seed run.
const HYPOTHESIS: &str = "6.170.17";
const SPEC: &str = "crates/awf-platform-api/openapi.json";
/// Test cases per operation and phase: enough to cross every documented rule, small enough to
/// finish in a couple of minutes on two cores.
const MAX_EXAMPLES: &str = "100";
/// Fixed, so that a failure reproduces; change it to explore.
const SEED: &str = "20260101";

/// Registering needs a valid SMS code, an accepted policy and, under 18, a guardian: rules that
/// depend on server state or today's date, which JSON Schema cannot state. Generated "valid"
/// registrations therefore get a 400 (`sms_code_invalid`, `guardian_required`, `invalid_input`
/// for an impossible date such as 2001-02-29); the check still requires every other answer to
/// be a documented success or refusal. Likewise a publication must be exactly the next version
/// and must not lower a purpose's `since_version` below the previous version's, and its texts
/// must hold more than white space: generated "valid" publications therefore mostly get 400
/// `invalid_input`; and a generated text over its 256 KiB can take the body over the 1 MiB limit,
/// refused 413 `payload_too_large` (documented) rather than 400. A consent receipt cannot name a
/// policy version later than the one in force (it would cover wording nobody has seen), which
/// the schema cannot state either: generated "valid" receipts may get 400. Nothing else is relaxed.
const CONFIG: &str = r#"# Written by `cargo xtask schemathesis` (xtask/src/schemathesis.rs); edit it there.
[[operations]]
include-operation-id = "register"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]

[[operations]]
include-operation-id = "post_consent"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]

[[operations]]
include-operation-id = "submit_request"
checks.positive_data_acceptance.expected-statuses = ["2xx", "422"]
checks.negative_data_rejection.expected-statuses = ["400", "413", "415", "422"]

[[operations]]
include-operation-id = "get_request"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404"]

[[operations]]
include-operation-id = "delete_request"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404"]

[[operations]]
include-operation-id = "cancel_account"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "422", "429"]
checks.negative_data_rejection.expected-statuses = ["400", "401", "413", "415", "422", "429"]

[[operations]]
include-operation-id = "answer_request"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]
checks.negative_data_rejection.expected-statuses = ["400", "404", "413", "415", "422"]

# Sync: a write must name the current revision (412 with the platform's state otherwise) and send
# one of If-Match / If-None-Match (428 without) but not both (400): rules on server state and
# between two headers that JSON Schema cannot state. An item with PII findings needs an
# attestation covering that many (422 `attestation_required`), and an idempotency key reused with
# another request is 422: cross-field and stateful rules. Deleting an item that does not exist is
# 404, as are unknown uploads; a chunk must start at the upload's offset (409) and stay within its
# length (400). 403: a generated consent receipt may withdraw the hosting grant (as for telemetry).
[[operations]]
include-operation-id = "put_item"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "403", "412", "422", "428"]

[[operations]]
include-operation-id = "delete_item"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404", "412", "422", "428"]

[[operations]]
include-operation-id = "get_item"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404"]

[[operations]]
include-operation-id = "get_upload_offset"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404"]

[[operations]]
include-operation-id = "create_upload"
checks.positive_data_acceptance.expected-statuses = ["2xx", "403"]

[[operations]]
include-operation-id = "upload_chunk"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "403", "404", "409", "422"]

# A batch of writes: what concerns the request as a whole (sign-in, the hosting consent, 1 to 200
# writes) is refused as a whole; a write that its own `PUT` would refuse (a bad id, key, origin or
# attestation, a stale revision) is refused inside the 200 answer, in its own result, and the
# other writes still apply. So generated invalid writes inside a well-formed batch get 200 by
# contract, and the per-write refusals are checked by crates/awf-platform/tests/sync.rs instead.
[[operations]]
include-operation-id = "put_items"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "403"]
checks.negative_data_rejection.expected-statuses = ["2xx", "400", "413", "415", "422"]

# An upload's content: a generated upload id is no upload of the account (404); a real one that
# is unfinished is 409, and a Range past the end 416. 403: the hosting grant may be withdrawn.
[[operations]]
include-operation-id = "get_upload_content"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "403", "404", "409", "416"]

[[operations]]
include-operation-id = "post_dev_policy"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]
checks.negative_data_rejection.expected-statuses = ["400", "413", "415"]
"#;

/// The dev route that publishes a policy version: its own, last phase (see the module documentation).
const POLICY_PUBLISH: &str = "/v1/dev/policy";
/// Account cancellation: its own phase and account (see the module documentation).
const CANCEL: &str = "/v1/account/cancel";
/// The operator's routes: their own phase, with the admin token.
const ADMIN_PATHS: &str = "^/v1/admin/";

/// Purposes the main account grants before the run (see the module documentation): two
/// telemetry purposes, and developer-data hosting so that sync writes are accepted.
const GRANTED: [&str; 3] = ["usage_analytics", "crash_reports", "developer_data_hosting"];

/// Runs the check. With `build`, builds the platform binary first (the `test` task has just
/// built it in its `cargo test --workspace` step).
pub fn run(build: bool) -> Result {
    if build {
        Cmd::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .shown_as("cargo")
            .args(["build", "-p", "awf-platform", "--bin", "awf-platform"])
            .run()?;
    }
    let bin = debug_bin("awf-platform");
    if !bin.is_file() {
        return Err(format!("{} was not built", bin.display()));
    }
    let st = ensure_schemathesis()?;
    let out = root().join("test-artifacts").join("schemathesis");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let config = target_dir().join("schemathesis.toml");
    std::fs::write(&config, CONFIG).map_err(|e| format!("{}: {e}", config.display()))?;

    let data = target_dir().join("schemathesis-platform-data");
    let _ = std::fs::remove_dir_all(&data);
    let mut platform = Platform::start(&bin, &data, &out.join("platform.log"))?;
    let result = (|| {
        let main_token = platform.register("st_main", "+8613900000001")?;
        for (i, purpose) in GRANTED.iter().enumerate() {
            platform.grant(&main_token, purpose, i)?;
        }
        let logout_token = platform.register("st_logout", "+8613900000002")?;
        let cancel_token = platform.register("st_cancel", "+8613900000003")?;
        let main = [
            "--exclude-path",
            "/v1/auth/logout",
            "--exclude-path",
            POLICY_PUBLISH,
            "--exclude-path",
            CANCEL,
            "--exclude-path-regex",
            ADMIN_PATHS,
        ];
        schemathesis(&st, &config, &platform.url, &main_token, &main, &out, "main")?;
        let logout = ["--include-path", "/v1/auth/logout"];
        schemathesis(&st, &config, &platform.url, &logout_token, &logout, &out, "logout")?;
        schemathesis(&st, &config, &platform.url, &cancel_token, &["--include-path", CANCEL], &out, "cancel")?;
        let admin_token = std::fs::read_to_string(data.join("admin-token"))
            .map_err(|e| format!("the platform's admin token: {e}"))?;
        let admin = ["--include-path-regex", ADMIN_PATHS];
        schemathesis(&st, &config, &platform.url, admin_token.trim(), &admin, &out, "admin")?;
        schemathesis(&st, &config, &platform.url, &main_token, &["--include-path", POLICY_PUBLISH], &out, "policy")
    })();
    platform.stop();
    let _ = std::fs::remove_dir_all(&data);
    result
}

fn schemathesis(st: &Path, config: &Path, url: &str, token: &str, filter: &[&str], out: &Path, name: &str) -> Result {
    Cmd::new(st)
        .arg("--config-file")
        .arg(config)
        .args(["run", SPEC, "--url", url, "--checks", "all", "--max-examples", MAX_EXAMPLES, "--seed", SEED])
        // One worker: with two, schemathesis's threads share hypothesis's unsynchronised lambda
        // cache and a run can die of a `FlakyFailure` raised inside the tool (seen in CI on
        // `POST /v1/telemetry/crash_reports`), which says nothing about the platform.
        .args(["--workers", "1", "--request-timeout", "10"])
        .arg_shown(format!("--header=Authorization: Bearer {token}"), "--header='Authorization: Bearer <token>'")
        .args(filter)
        .args(["--report", "junit"])
        .arg("--report-junit-path")
        .arg(out.join(format!("junit-{name}.xml")))
        .env("NO_COLOR", "1")
        .run()
}

/// `<target>/schemathesis-venv/bin/schemathesis`, created and installed when missing.
fn ensure_schemathesis() -> Result<PathBuf> {
    let venv = target_dir().join("schemathesis-venv");
    let bin = if cfg!(windows) { venv.join("Scripts") } else { venv.join("bin") };
    let exe = |name: &str| bin.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let st = exe("schemathesis");
    let installed = Cmd::new(&st).arg("--version").read().is_some_and(|v| v.contains(VERSION));
    if installed {
        return Ok(st);
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Cmd::new(p).arg("--version").read().is_some())
        .ok_or("python3 is not installed: schemathesis needs Python 3.9 or newer")?;
    // A venv whose pip does not run (its interpreter path moved with a renamed target
    // directory, say) is made again.
    let pip_runs = Cmd::new(exe("pip")).arg("--version").read().is_some();
    if !pip_runs {
        if venv.exists() {
            println!("schemathesis: {} does not work; making it again", venv.display());
            std::fs::remove_dir_all(&venv).map_err(|e| format!("removing {}: {e}", venv.display()))?;
        }
        println!("schemathesis: creating {}", venv.display());
        Cmd::new(python).args(["-m", "venv"]).arg(&venv).run()?;
    }
    Cmd::new(exe("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("schemathesis=={VERSION}"))
        .arg(format!("hypothesis=={HYPOTHESIS}"))
        .run()?;
    Ok(st)
}

/// The platform process, its URL, and its stdout lines (the dev SMS messages).
struct Platform {
    child: Child,
    url: String,
    addr: String,
    lines: Receiver<String>,
}

impl Platform {
    fn start(bin: &Path, data: &Path, log: &Path) -> Result<Platform> {
        let log = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        println!(
            "schemathesis: starting {} --dev --port 0 (request log: test-artifacts/schemathesis/platform.log)",
            bin.display()
        );
        let mut child = Command::new(bin)
            .args(["--dev", "--port", "0", "--data-dir"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let (tx, lines) = mpsc::channel();
        // Drain stdout for the whole run: a full pipe would block the platform's SMS writes.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first =
            lines.recv_timeout(Duration::from_secs(30)).map_err(|_| "the platform printed no URL line".to_string());
        let url = match first.as_deref().map(|l| l.strip_prefix("AWF_PLATFORM_URL=")) {
            Ok(Some(url)) => url.to_string(),
            _ => {
                let _ = child.kill();
                return Err(format!("unexpected first line from the platform: {first:?}"));
            }
        };
        let addr = url.trim_start_matches("http://").to_string();
        Ok(Platform { child, url, addr, lines })
    }

    /// Registers an adult account through the dev SMS code; returns its access token.
    fn register(&self, name: &str, phone: &str) -> Result<String> {
        let (status, body) = post(&self.addr, "/v1/auth/sms-code", &format!(r#"{{"phone":"{phone}"}}"#), None)?;
        if status != 202 {
            return Err(format!("sms-code answered {status}: {body}"));
        }
        let prefix = format!("SMS to {phone}: your AiWellFlow verification code is ");
        let deadline = Instant::now() + Duration::from_secs(10);
        let code = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).map_err(|_| format!("no SMS line for {phone}"))?;
            if let Some(code) = line.strip_prefix(&prefix) {
                break code.trim().to_string();
            }
        };
        let register = format!(
            r#"{{"account_name":"{name}","phone":"{phone}","password":"schemathesis-password","sms_code":"{code}","date_of_birth":"1990-01-01","policy_version":1}}"#
        );
        let (status, body) = post(&self.addr, "/v1/auth/register", &register, None)?;
        if status != 201 {
            return Err(format!("register answered {status}: {body}"));
        }
        json_string_field(&body, "access_token").ok_or_else(|| format!("no access_token in {body}"))
    }

    /// Sends a receipt granting `purpose` at the highest ledger position (2^63 - 1, less `offset`).
    fn grant(&self, token: &str, purpose: &str, offset: usize) -> Result {
        let seq = i64::MAX as u64 - offset as u64;
        let receipt = format!(
            r#"{{"receipt_id":"st-grant-{purpose}","purpose":"{purpose}","granted":true,"at":"2026-01-01T00:00:00.000Z","policy_version":1,"method":"schemathesis","ledger_seq":{seq},"ledger_hash":"{}"}}"#,
            "0".repeat(64)
        );
        let (status, body) = post(&self.addr, "/v1/consents", &receipt, Some(token))?;
        if status != 201 {
            return Err(format!("consent receipt for {purpose} answered {status}: {body}"));
        }
        Ok(())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 POST over loopback (xtask has no dependencies), with a bearer token when
/// given: status and body.
fn post(addr: &str, path: &str, json: &str, token: Option<&str>) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nx-awf-purpose: account_operation\r\n\
         {auth}Content-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("POST {path}: {e}"))?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| format!("POST {path}: {e}"))?;
    let status =
        response.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("POST {path}: bad response"))?;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    Ok((status, body))
}

/// The string value of `"field":"…"` in a JSON text (tokens contain no escapes).
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let start = json.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let end = json[start..].find('"')?;
    Some(json[start..start + end].to_string())
}

#[cfg(test)]
mod tests {
    use super::json_string_field;

    #[test]
    fn finds_string_fields() {
        let body = r#"{"account":{},"tokens":{"access_token":"awfa_x-y","refresh_token":"awfr_z"}}"#;
        assert_eq!(json_string_field(body, "access_token").as_deref(), Some("awfa_x-y"));
        assert_eq!(json_string_field(body, "refresh_token").as_deref(), Some("awfr_z"));
        assert_eq!(json_string_field(body, "nope"), None);
    }
}
