//! `cargo xtask bench sync [--changes N] [--debug] [--no-build]`: the sync engine pushing N
//! pending changes (default 10,000) to the reference platform on loopback, SPEC §4 (< 10 s).
//!
//! In a D-Bus session with a fresh, unlocked gnome-keyring (the harness re-runs itself there as
//! `xtask __sync`, as the start-up benchmark does), with a temporary directory for everything:
//!
//! 1. starts `awf-platform --dev` on a free loopback port;
//! 2. signs up two accounts with `awf signup code/create` (the SMS code from the platform's dev
//!    outbox) and grants each `developer_data_hosting` with `awf consent grant`: device A is the
//!    one measured, account B receives the baseline's writes;
//! 3. seeds device A with N agents in process (`crates/awf-api/examples/sync_bench_seed.rs`,
//!    about 1.5 KiB of JSON each; each creation commits the agent and its outbox entry in one
//!    durable batch, as the app does), which also writes out the very request bodies the engine
//!    will send;
//! 4. **engine**: times `awf sync --json` on device A, from spawn to exit (process start, profile
//!    open, the consent and session checks, the pull, the push of every change, the outcomes
//!    recorded; the engine sends the writes in `POST /v1/items/batch` requests of up to 200),
//!    and checks that it pushed all N and left none pending;
//! 5. **baseline**: the same N request bodies `PUT` to the same routes with the same headers
//!    (`If-None-Match: *`, the idempotency key, the purpose, a bearer token) into account B, one
//!    after the other over one keep-alive connection by a plain HTTP/1.1 loop in this process:
//!    the platform's own cost plus loopback for one request per change, the floor of an engine
//!    that sends one request per change (the engine's batches go under it).
//!
//! Requests counted by the platform (`GET /v1/dev/stats`, `by_route`, and `GET /v1/dev/sync-stats`
//! for the writes applied); bytes on the wire as the egress gate's transmission log recorded them
//! (request line, headers and body up; status line, headers and body down; summed in process by
//! the example, since `awf log` shows at most 5,000 records), the baseline's counted as written
//! and read; payload bytes are the item bodies (the agents' JSON). Reported, never asserted: it
//! fails only when the harness cannot measure (a build, the platform, sign-up or seeding fails,
//! or the engine did not push every change). Writes `<target>/bench/sync.json`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::dist::release_bin;
use crate::proc::{debug_bin, target_dir, Result};
use crate::session::{self, Display};

const DEFAULT_CHANGES: usize = 10_000;
/// The test command's short run.
const SHORT_CHANGES: usize = 1_000;
/// SPEC §4: 10,000 pending changes synced in under 10 s.
const TARGET_SECS: f64 = 10.0;
const TARGET_CHANGES: usize = 10_000;
const PASSWORD: &str = "bench-sync-horse-battery-42";
/// The platform's routes of item writes, as `/v1/dev/stats` names them.
const PUT_ROUTE: &str = "PUT /v1/items/{kind}/{id}";
const BATCH_ROUTE: &str = "POST /v1/items/batch";

#[derive(Debug, PartialEq)]
struct Opts {
    changes: usize,
    release: bool,
    /// Device A's profile in passphrase mode: its secrets (the platform tokens among them) in
    /// the store instead of the OS keyring.
    passphrase: bool,
}

impl Opts {
    fn parse(rest: &[String]) -> Result<Opts> {
        let mut o = Opts { changes: DEFAULT_CHANGES, release: true, passphrase: false };
        let mut args = rest.iter();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--changes" => {
                    o.changes = args
                        .next()
                        .and_then(|v| v.parse().ok())
                        .filter(|n| *n >= 1)
                        .ok_or("--changes needs a number ≥ 1")?
                }
                "--debug" => o.release = false,
                "--release" => o.release = true,
                "--passphrase" => o.passphrase = true,
                other => {
                    return Err(format!(
                        "bench sync: unexpected argument `{other}` (usage: [--changes N] [--debug] [--passphrase] [--no-build])"
                    ))
                }
            }
        }
        Ok(o)
    }

    fn args(&self) -> Vec<String> {
        let mut a = vec!["--changes".to_string(), self.changes.to_string()];
        if !self.release {
            a.push("--debug".into());
        }
        if self.passphrase {
            a.push("--passphrase".into());
        }
        a
    }

    fn bin(&self, name: &str) -> PathBuf {
        if self.release {
            release_bin(name)
        } else {
            debug_bin(name)
        }
    }
}

fn seed_bin() -> PathBuf {
    target_dir().join("debug/examples").join(format!("sync_bench_seed{}", std::env::consts::EXE_SUFFIX))
}

/// `cargo xtask bench sync [--changes N] [--debug] [--no-build]`.
pub fn bench(rest: &[String]) -> Result {
    let build = !rest.iter().any(|a| a == "--no-build");
    let rest: Vec<String> = rest.iter().filter(|a| *a != "--no-build").cloned().collect();
    let opts = Opts::parse(&rest)?;
    if build {
        let mut c = crate::cargo().args(["build", "-p", "awf-cli", "-p", "awf-platform", "--bin", "awf", "--bin"]);
        c = c.arg("awf-platform");
        if opts.release {
            c = c.arg("--release");
        }
        c.run()?;
    }
    run(&opts, build)
}

/// The test command's short mode: 1,000 changes with the debug binaries its end-to-end step
/// built. Fails only when the harness cannot measure.
pub fn short() -> Result {
    run(&Opts { changes: SHORT_CHANGES, release: false, passphrase: false }, true)
}

fn run(opts: &Opts, build: bool) -> Result {
    for name in ["awf", "awf-platform"] {
        if !opts.bin(name).is_file() {
            return Err(format!("{} was not built", opts.bin(name).display()));
        }
    }
    // The seeding helper is never timed: a debug build (`--workspace` keeps the test build's
    // feature set, so nothing of the workspace is rebuilt for it). `--no-build` uses the one
    // there is, if any.
    if build || !seed_bin().is_file() {
        crate::cargo().args(["build", "--workspace", "--example", "sync_bench_seed"]).run()?;
    }
    let me = std::env::current_exe().map_err(|e| format!("where is xtask? {e}"))?;
    let mut args = vec!["__sync".to_string()];
    args.extend(opts.args());
    session::with_keyring(Display::None, &[], &me.display().to_string(), &args)
}

fn logs_dir() -> PathBuf {
    crate::artifacts_dir().join("bench-sync")
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("awf-bench-sync-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The platform process; killed on drop.
struct Platform {
    addr: String,
    child: Child,
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Platform {
    fn start(bin: &Path, data: &Path) -> Result<Platform> {
        std::fs::create_dir_all(logs_dir()).map_err(|e| format!("{}: {e}", logs_dir().display()))?;
        let log_path = logs_dir().join("platform.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let mut child = Command::new(bin)
            .args(["--dev", "--port", "0", "--data-dir"])
            .arg(data)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if let Some(u) = line.strip_prefix("AWF_PLATFORM_URL=") {
                    let _ = tx.send(u.trim().to_string());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("awf-platform printed no URL within 30 s (stderr in {})", log_path.display()));
            }
        };
        let addr = url.strip_prefix("http://").ok_or_else(|| format!("unexpected platform URL {url}"))?.to_string();
        Ok(Platform { addr, child })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn get(&self, path: &str) -> Result<String> {
        let mut h = Http::connect(&self.addr)?;
        let (status, body) = h.request("GET", path, &[], b"")?;
        if status != 200 {
            return Err(format!("GET {path}: HTTP {status}"));
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// (item-write requests received: `PUT`s and batches, writes applied).
    fn counters(&self) -> Result<(u64, u64)> {
        let stats = self.get("/v1/dev/stats")?;
        let puts = json_u64(&stats, PUT_ROUTE).unwrap_or(0) + json_u64(&stats, BATCH_ROUTE).unwrap_or(0);
        let sync = self.get("/v1/dev/sync-stats")?;
        let applied = json_u64(&sync, "writes_applied").ok_or_else(|| format!("no writes_applied in {sync}"))?;
        Ok((puts, applied))
    }
}

/// A plain HTTP/1.1 client on one keep-alive connection, counting the bytes it writes and reads.
struct Http {
    host: String,
    write: TcpStream,
    read: BufReader<TcpStream>,
    up: u64,
    down: u64,
}

impl Http {
    fn connect(addr: &str) -> Result<Http> {
        let s = TcpStream::connect(addr).map_err(|e| format!("connecting to {addr}: {e}"))?;
        let _ = s.set_nodelay(true);
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let r = s.try_clone().map_err(|e| e.to_string())?;
        Ok(Http { host: addr.to_string(), write: s, read: BufReader::new(r), up: 0, down: 0 })
    }

    fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(u16, Vec<u8>)> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\n", self.host);
        for (k, v) in headers {
            let _ = write!(req, "{k}: {v}\r\n");
        }
        if !body.is_empty() || method != "GET" {
            let _ = write!(req, "content-length: {}\r\n", body.len());
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.write.write_all(&bytes).map_err(|e| format!("{method} {path}: {e}"))?;
        self.up += bytes.len() as u64;
        self.response().map_err(|e| format!("{method} {path}: {e}"))
    }

    fn line(&mut self) -> Result<String> {
        let mut line = String::new();
        let n = self.read.read_line(&mut line).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed".into());
        }
        self.down += n as u64;
        Ok(line)
    }

    fn response(&mut self) -> Result<(u16, Vec<u8>)> {
        let status_line = self.line()?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let (mut length, mut chunked) = (None, false);
        loop {
            let line = self.line()?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    length = v.parse::<usize>().ok();
                } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let size_line = self.line()?;
                let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| format!("bad chunk size {size_line:?}"))?;
                let mut chunk = vec![0; size + 2];
                self.read.read_exact(&mut chunk).map_err(|e| e.to_string())?;
                self.down += chunk.len() as u64;
                body.extend_from_slice(&chunk[..size]);
                if size == 0 {
                    break;
                }
            }
        } else {
            let n = length.unwrap_or(0);
            body.resize(n, 0);
            self.read.read_exact(&mut body).map_err(|e| e.to_string())?;
            self.down += n as u64;
        }
        Ok((status, body))
    }
}

/// The number after `"key":` in a JSON text (enough for the flat answers read here).
fn json_u64(text: &str, key: &str) -> Option<u64> {
    let at = text.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The string after `"key":` in a JSON text (no escapes in the values read here).
fn json_str(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// `key=value` pairs of one line.
fn kv(line: &str, key: &str) -> Result<u64> {
    line.split_whitespace()
        .find_map(|p| p.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no {key} in {line:?}"))
}

/// Runs a program to completion, with `stdin`; its stdout, or an error with its stderr.
fn output(mut c: Command, stdin: Option<&str>) -> Result<String> {
    let shown = format!("{c:?}");
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().map_err(|e| format!("{shown}: {e}"))?;
    let mut pipe = child.stdin.take().expect("piped");
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).map_err(|e| format!("{shown}: {e}"))?;
    }
    drop(pipe);
    let out = child.wait_with_output().map_err(|e| format!("{shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{shown} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

struct Device<'a> {
    awf: &'a Path,
    dir: PathBuf,
    url: String,
    /// The profile's passphrase (passphrase mode), or keyring mode.
    passphrase: Option<&'static str>,
}

impl Device<'_> {
    fn awf(&self, args: &[&str]) -> Command {
        self.awf_under(&[], args)
    }

    /// `awf` run by `wrapper` (a profiler), if any.
    fn awf_under(&self, wrapper: &[String], args: &[&str]) -> Command {
        let mut c = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(self.awf);
                c
            }
            None => Command::new(self.awf),
        };
        c.arg("--data-dir").arg(&self.dir).args(args);
        c.env("AWF_PLATFORM_URL", &self.url).env_remove("AWF_PASSPHRASE").env_remove("AWF_DATA_DIR");
        if let Some(p) = self.passphrase {
            c.env("AWF_PASSPHRASE", p);
        }
        c.env_remove("AWF_PLATFORM_PASSWORD");
        c
    }

    /// Sign-up (SMS code from the dev outbox) and the hosting consent.
    fn sign_up(&self, p: &Platform, name: &str, phone: &str) -> Result {
        output(self.awf(&["signup", "code", "--phone", phone, "--accept-policy"]), None)?;
        let outbox = p.get(&format!("/v1/dev/sms-outbox?phone={}", phone.replace('+', "%2B")))?;
        let code = outbox
            .rfind("\"code\"")
            .and_then(|i| json_str(&outbox[i..], "code"))
            .ok_or_else(|| format!("no SMS code for {phone} in {outbox}"))?;
        output(
            self.awf(&[
                "signup",
                "create",
                "--account-name",
                name,
                "--phone",
                phone,
                "--sms-code",
                &code,
                "--date-of-birth",
                "1990-05-17",
                "--password-stdin",
            ]),
            Some(&format!("{PASSWORD}\n")),
        )?;
        output(self.awf(&["consent", "grant", "developer_data_hosting"]), None)?;
        Ok(())
    }

    /// The seeding helper on this profile.
    fn seed(&self) -> Command {
        let mut c = Command::new(seed_bin());
        c.arg("--data-dir").arg(&self.dir).env_remove("AWF_PASSPHRASE");
        if let Some(p) = self.passphrase {
            c.env("AWF_PASSPHRASE", p);
        }
        c
    }

    /// The transmission log's sums after record `after` (see the example).
    fn wire(&self, after: u64) -> Result<String> {
        let mut c = self.seed();
        c.arg("--wire-after").arg(after.to_string());
        Ok(output(c, None)?.trim().to_string())
    }
}

/// One pending change as the engine will send it.
struct Change {
    id: String,
    key: String,
    item_bytes: u64,
    request: String,
}

fn read_changes(path: &Path) -> Result<Vec<Change>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .map(|l| {
            let mut f = l.splitn(4, '\t');
            match (f.next(), f.next(), f.next().and_then(|n| n.parse().ok()), f.next()) {
                (Some(id), Some(key), Some(item_bytes), Some(request)) => {
                    Ok(Change { id: id.into(), key: key.into(), item_bytes, request: request.into() })
                }
                _ => Err(format!("bad line in {}: {l:?}", path.display())),
            }
        })
        .collect()
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
struct Report {
    changes: usize,
    release: bool,
    passphrase: bool,
    seed_secs: f64,
    engine_secs: f64,
    pushed: u64,
    pending_after: u64,
    /// Item writes the platform received (by route).
    engine_puts_received: u64,
    engine_writes_applied: u64,
    /// Every request of the pass, from the transmission log.
    engine_requests: u64,
    engine_up: u64,
    engine_down: u64,
    engine_put_requests: u64,
    engine_put_up: u64,
    engine_put_down: u64,
    payload_bytes: u64,
    request_body_bytes: u64,
    baseline_secs: f64,
    baseline_puts_received: u64,
    baseline_writes_applied: u64,
    baseline_up: u64,
    baseline_down: u64,
}

/// `xtask __sync`: the measurement itself, inside the keyring session.
pub fn measure(rest: &[String]) -> Result {
    let opts = Opts::parse(rest)?;
    let tmp = TempDir::new()?;
    let awf = opts.bin("awf");
    let p = Platform::start(&opts.bin("awf-platform"), &tmp.0.join("platform"))?;
    println!(
        "sync: {} binaries; platform on {}; {} changes; profile in {} mode",
        if opts.release { "release" } else { "debug" },
        p.url(),
        opts.changes,
        if opts.passphrase { "passphrase" } else { "keyring" }
    );
    let passphrase = opts.passphrase.then_some("bench-sync-profile-passphrase");
    let a = Device { awf: &awf, dir: tmp.0.join("device-a"), url: p.url(), passphrase };
    let b = Device { awf: &awf, dir: tmp.0.join("device-b"), url: p.url(), passphrase: None };
    a.sign_up(&p, "bench-sync-a", "+8613800009901")?;
    b.sign_up(&p, "bench-sync-b", "+8613800009902")?;

    let bodies = tmp.0.join("bodies.tsv");
    let t = Instant::now();
    let mut c = a.seed();
    c.arg("--count").arg(opts.changes.to_string()).arg("--out").arg(&bodies);
    println!("  {}", output(c, None)?.trim());
    let mut r = Report {
        changes: opts.changes,
        release: opts.release,
        passphrase: opts.passphrase,
        seed_secs: t.elapsed().as_secs_f64(),
        ..Report::default()
    };
    let changes = read_changes(&bodies)?;
    if changes.len() != opts.changes {
        return Err(format!("{} pending changes after seeding {}", changes.len(), opts.changes));
    }
    r.payload_bytes = changes.iter().map(|c| c.item_bytes).sum();
    r.request_body_bytes = changes.iter().map(|c| c.request.len() as u64).sum();

    // The engine.
    let log_start = kv(&a.wire(0)?, "last_seq")?;
    let (puts0, applied0) = p.counters()?;
    // A profiler to run the timed command under, e.g. `AWF_BENCH_SYNC_WRAP='strace -f -c -w -o
    // /tmp/sync.strace'` (the wall time then includes the profiler's overhead).
    let wrapper: Vec<String> =
        std::env::var("AWF_BENCH_SYNC_WRAP").unwrap_or_default().split_whitespace().map(String::from).collect();
    if !wrapper.is_empty() {
        println!("  the timed `awf sync` runs under `{}`", wrapper.join(" "));
    }
    let t = Instant::now();
    let out = output(a.awf_under(&wrapper, &["sync", "--json"]), None)?;
    r.engine_secs = t.elapsed().as_secs_f64();
    let (puts1, applied1) = p.counters()?;
    r.pushed = json_u64(&out, "pushed").ok_or_else(|| format!("awf sync printed no report: {out}"))?;
    r.pending_after = json_u64(&out, "pending").unwrap_or(u64::MAX);
    if r.pushed != opts.changes as u64 || r.pending_after != 0 {
        return Err(format!("the engine did not drain the outbox: {}", out.trim()));
    }
    r.engine_puts_received = puts1 - puts0;
    r.engine_writes_applied = applied1 - applied0;
    let wire = a.wire(log_start)?;
    r.engine_requests = kv(&wire, "requests")?;
    r.engine_up = kv(&wire, "bytes_up")?;
    r.engine_down = kv(&wire, "bytes_down")?;
    r.engine_put_requests = kv(&wire, "item_puts")?;
    r.engine_put_up = kv(&wire, "item_put_bytes_up")?;
    r.engine_put_down = kv(&wire, "item_put_bytes_down")?;

    // The baseline: the same bodies, one keep-alive connection, account B.
    let mut h = Http::connect(&p.addr)?;
    let login = format!("{{\"login\":\"bench-sync-b\",\"password\":\"{PASSWORD}\"}}");
    let json_headers = [("x-awf-purpose", "account_operation"), ("content-type", "application/json")];
    let (status, body) = h.request("POST", "/v1/auth/login", &json_headers, login.as_bytes())?;
    let body = String::from_utf8_lossy(&body);
    let token = json_str(&body, "access_token").ok_or_else(|| format!("log-in of account B: HTTP {status} {body}"))?;
    let bearer = format!("Bearer {token}");
    let mut h = Http::connect(&p.addr)?;
    let t = Instant::now();
    for c in &changes {
        let headers = [
            ("x-awf-purpose", "developer_data_hosting"),
            ("content-type", "application/json"),
            ("if-none-match", "*"),
            ("idempotency-key", c.key.as_str()),
            ("authorization", bearer.as_str()),
        ];
        let (status, answer) =
            h.request("PUT", &format!("/v1/items/agent/{}", c.id), &headers, c.request.as_bytes())?;
        if !(200..300).contains(&status) {
            return Err(format!("baseline PUT of {}: HTTP {status} {}", c.id, String::from_utf8_lossy(&answer)));
        }
    }
    r.baseline_secs = t.elapsed().as_secs_f64();
    let (puts2, applied2) = p.counters()?;
    r.baseline_puts_received = puts2 - puts1;
    r.baseline_writes_applied = applied2 - applied1;
    r.baseline_up = h.up;
    r.baseline_down = h.down;

    r.print();
    write_json(&r)
}

fn per_sec(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

impl Report {
    fn mode(&self) -> &'static str {
        if self.passphrase {
            "passphrase"
        } else {
            "keyring"
        }
    }

    fn engine_wire(&self) -> u64 {
        self.engine_up + self.engine_down
    }
    fn baseline_wire(&self) -> u64 {
        self.baseline_up + self.baseline_down
    }
    /// The engine's time scaled to SPEC's 10,000 changes (linear), for runs of another size.
    fn secs_at_target(&self) -> f64 {
        self.engine_secs * TARGET_CHANGES as f64 / self.changes as f64
    }

    fn print(&self) {
        let n = self.changes;
        let mb = |b: u64| format!("{:.2} MB", b as f64 / 1e6);
        println!(
            "\nsync benchmark: {n} pending changes pushed to the reference platform on loopback ({} binaries, profile in {} mode)",
            if self.release { "release" } else { "debug" },
            self.mode()
        );
        println!("  {:<38} {:>14} {:>14} {:>8}", "", "engine", "baseline", "ratio");
        println!(
            "  {:<38} {:>12.2} s {:>12.2} s {:>7.1}×",
            "wall time",
            self.engine_secs,
            self.baseline_secs,
            self.engine_secs / self.baseline_secs
        );
        println!(
            "  {:<38} {:>14.0} {:>14.0}",
            "changes/s",
            per_sec(n, self.engine_secs),
            per_sec(n, self.baseline_secs)
        );
        println!(
            "  {:<38} {:>14} {:>14}",
            "item-write requests (platform)", self.engine_puts_received, self.baseline_puts_received
        );
        println!(
            "  {:<38} {:>14} {:>14}",
            "writes applied (platform)", self.engine_writes_applied, self.baseline_writes_applied
        );
        println!("  {:<38} {:>14} {:>14}", "requests sent", self.engine_requests, n);
        println!(
            "  {:<38} {:>14} {:>14} {:>7.2}×",
            "bytes on the wire (up + down)",
            mb(self.engine_wire()),
            mb(self.baseline_wire()),
            self.engine_wire() as f64 / self.baseline_wire() as f64
        );
        println!("  {:<38} {:>14} {:>14}", "  up", mb(self.engine_up), mb(self.baseline_up));
        println!("  {:<38} {:>14} {:>14}", "  down", mb(self.engine_down), mb(self.baseline_down));
        println!("  {:<38} {:>14} {:>14}", "payload (item bodies)", mb(self.payload_bytes), mb(self.payload_bytes));
        println!(
            "  {:<38} {:>13.2}× {:>13.2}×",
            "wire / payload",
            self.engine_wire() as f64 / self.payload_bytes as f64,
            self.baseline_wire() as f64 / self.payload_bytes as f64
        );
        println!(
            "  seeding (not timed in the figures above): {:.1} s; request bodies {} (item body + origin)",
            self.seed_secs,
            mb(self.request_body_bytes)
        );
        let verdict = if self.secs_at_target() < TARGET_SECS { "met" } else { "MISSED" };
        if self.changes == TARGET_CHANGES {
            println!("  SPEC §4: 10,000 changes in < {TARGET_SECS} s: {:.2} s, {verdict}", self.engine_secs);
        } else {
            println!(
                "  SPEC §4: 10,000 changes in < {TARGET_SECS} s: {:.2} s scaled linearly from {n}, {verdict} (indicative)",
                self.secs_at_target()
            );
        }
        println!("  (reported, never asserted)");
    }

    /// The report as JSON, written by hand (xtask has no dependencies); non-finite numbers are
    /// `null`.
    fn json(&self) -> String {
        let f = |x: f64, d: usize| if x.is_finite() { format!("{x:.d$}") } else { "null".into() };
        let mut j = String::from("{\n");
        let _ = writeln!(j, "  \"changes\": {},", self.changes);
        let _ = writeln!(j, "  \"binaries\": \"{}\",", if self.release { "release" } else { "debug" });
        let _ = writeln!(j, "  \"profile_mode\": \"{}\",", self.mode());
        let _ = writeln!(j, "  \"seed_seconds\": {},", f(self.seed_secs, 3));
        let _ = writeln!(j, "  \"payload_bytes\": {},", self.payload_bytes);
        let _ = writeln!(j, "  \"request_body_bytes\": {},", self.request_body_bytes);
        let _ = writeln!(j, "  \"engine\": {{");
        let _ = writeln!(j, "    \"wall_seconds\": {},", f(self.engine_secs, 3));
        let _ = writeln!(j, "    \"changes_per_second\": {},", f(per_sec(self.changes, self.engine_secs), 1));
        let _ = writeln!(j, "    \"pushed\": {},", self.pushed);
        let _ = writeln!(j, "    \"pending_after\": {},", self.pending_after);
        let _ = writeln!(j, "    \"item_writes_received\": {},", self.engine_puts_received);
        let _ = writeln!(j, "    \"writes_applied\": {},", self.engine_writes_applied);
        let _ = writeln!(j, "    \"requests\": {},", self.engine_requests);
        let _ = writeln!(j, "    \"item_put_requests\": {},", self.engine_put_requests);
        let _ = writeln!(j, "    \"bytes_up\": {},", self.engine_up);
        let _ = writeln!(j, "    \"bytes_down\": {},", self.engine_down);
        let _ = writeln!(j, "    \"item_put_bytes_up\": {},", self.engine_put_up);
        let _ = writeln!(j, "    \"item_put_bytes_down\": {},", self.engine_put_down);
        let _ = writeln!(j, "    \"bytes_on_wire\": {},", self.engine_wire());
        let _ =
            writeln!(j, "    \"wire_per_payload\": {}", f(self.engine_wire() as f64 / self.payload_bytes as f64, 3));
        let _ = writeln!(j, "  }},");
        let _ = writeln!(j, "  \"baseline\": {{");
        let _ = writeln!(j, "    \"wall_seconds\": {},", f(self.baseline_secs, 3));
        let _ = writeln!(j, "    \"changes_per_second\": {},", f(per_sec(self.changes, self.baseline_secs), 1));
        let _ = writeln!(j, "    \"item_writes_received\": {},", self.baseline_puts_received);
        let _ = writeln!(j, "    \"writes_applied\": {},", self.baseline_writes_applied);
        let _ = writeln!(j, "    \"requests\": {},", self.changes);
        let _ = writeln!(j, "    \"bytes_up\": {},", self.baseline_up);
        let _ = writeln!(j, "    \"bytes_down\": {},", self.baseline_down);
        let _ = writeln!(j, "    \"bytes_on_wire\": {},", self.baseline_wire());
        let _ =
            writeln!(j, "    \"wire_per_payload\": {}", f(self.baseline_wire() as f64 / self.payload_bytes as f64, 3));
        let _ = writeln!(j, "  }},");
        let _ = writeln!(
            j,
            "  \"ratios\": {{\"wall_time\": {}, \"bytes_on_wire\": {}}},",
            f(self.engine_secs / self.baseline_secs, 3),
            f(self.engine_wire() as f64 / self.baseline_wire() as f64, 3)
        );
        let _ = writeln!(
            j,
            "  \"target\": {{\"seconds\": {TARGET_SECS}, \"changes\": {TARGET_CHANGES}, \"seconds_at_target\": {}, \"met\": {}}}",
            f(self.secs_at_target(), 3),
            self.secs_at_target() < TARGET_SECS
        );
        j.push_str("}\n");
        j
    }
}

fn write_json(r: &Report) -> Result {
    let path = target_dir().join("bench").join("sync.json");
    std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::write(&path, r.json()).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("sync: wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        assert_eq!(Opts::parse(&[]).unwrap(), Opts { changes: DEFAULT_CHANGES, release: true, passphrase: false });
        let o = Opts::parse(&["--changes".into(), "50".into(), "--debug".into(), "--passphrase".into()]).unwrap();
        assert_eq!(o, Opts { changes: 50, release: false, passphrase: true });
        assert_eq!(Opts::parse(&o.args()).unwrap(), o);
        assert!(Opts::parse(&["--changes".into(), "0".into()]).is_err());
        assert!(Opts::parse(&["--what".into()]).is_err());
    }

    #[test]
    fn json_members() {
        let t = r#"{"by_route": {"GET /x": 3, "PUT /v1/items/{kind}/{id}": 42}, "pushed": 7, "access_token": "ab.c"}"#;
        assert_eq!(json_u64(t, PUT_ROUTE), Some(42));
        assert_eq!(json_u64(t, "pushed"), Some(7));
        assert_eq!(json_u64(t, "missing"), None);
        assert_eq!(json_str(t, "access_token").as_deref(), Some("ab.c"));
        assert_eq!(kv("last_seq=9 requests=12", "requests"), Ok(12));
        assert!(kv("requests=x", "requests").is_err());
    }

    /// The written report is valid JSON (Python's parser, refusing NaN) with the members the
    /// docs name, also when a division had nothing to divide.
    #[test]
    fn report_is_valid_json() {
        let r = Report { changes: 10, release: true, engine_secs: 1.5, payload_bytes: 0, ..Report::default() };
        let json = r.json();
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import json,sys\n\
                 def bad(c): raise ValueError('not JSON: ' + c)\n\
                 d = json.load(sys.stdin, parse_constant=bad)\n\
                 assert d['changes'] == 10 and d['binaries'] == 'release' and d['profile_mode'] == 'keyring', d\n\
                 assert d['engine']['wall_seconds'] == 1.5, d\n\
                 assert d['engine']['wire_per_payload'] is None, d\n\
                 assert d['ratios']['wall_time'] is None, d\n\
                 assert d['target']['seconds_at_target'] == 1500.0 and d['target']['met'] is False, d\n",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .expect("python3 (installed by the setup step) checks the JSON");
        child.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "invalid report:\n{json}");
    }
}
