//! A fault-injection HTTP/1.1 proxy, for testing the sync engine (issue 6) against an unreliable
//! network: it sits between a client and the platform and, for a chosen share of the requests,
//! drops the connection, delays, truncates the answer, answers 5xx, never answers, or resets the
//! connection. Which request gets which fault is a pure function of the seed and the request's
//! sequence number ([`FaultConfig::decide`]), so a failing run can be replayed.
//!
//! ```no_run
//! use awf_faultproxy::{FaultConfig, FaultKind, FaultProxy};
//! # fn platform_addr() -> std::net::SocketAddr { unimplemented!() }
//! let proxy = FaultProxy::start(
//!     platform_addr(),
//!     FaultConfig { seed: 7, rate: 0.3, kinds: FaultKind::ALL.to_vec(), ..FaultConfig::default() },
//! )?;
//! // Point the client at proxy.url() instead of the platform …
//! proxy.set_rate(0.0); // … then switch faults off to let everything converge.
//! println!("{:?}", proxy.stats());
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The proxy owns its runtime (a thread with a small tokio runtime), so it works the same from
//! synchronous tests and from `#[tokio::test]`s; dropping it stops it.
//!
//! What it understands of HTTP/1.1: a request head, then a body framed by `Content-Length` or
//! `Transfer-Encoding: chunked`; several requests per client connection (keep-alive), a fault
//! decided for each. Every request goes to the upstream on a fresh connection (`Connection:
//! close`); the answer is read whole, its hop-by-hop `Connection` header replaced, and relayed.
//! No TLS, no `Expect: 100-continue`, no upgrades, no pipelining beyond reading requests in order.
//!
//! In front of the reference platform, by hand:
//!
//! ```text
//! cargo run -p awf-platform -- --dev --ephemeral --port 47800
//! cargo run -p awf-faultproxy -- --upstream 127.0.0.1:47800 --listen 127.0.0.1:47801 --seed 1 --rate 0.3
//! # then point the client (settings' platform address) at http://127.0.0.1:47801
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// What can happen to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// Close the client connection after reading the request, before forwarding it: the
    /// upstream never sees it.
    Drop,
    /// Forward the request, let the upstream apply it and answer, then close the client
    /// connection without answering: the case idempotency keys exist for.
    DropAfterForward,
    /// Wait [`FaultConfig::delay`], then forward and answer normally.
    Delay,
    /// Forward, then send the answer's head and only half its body (half the head if the body
    /// is empty), and close.
    Truncate,
    /// Answer `503 Service Unavailable` without forwarding.
    ServerError,
    /// Forward, let the upstream apply it, then answer `502 Bad Gateway` instead of its answer.
    ServerErrorAfterForward,
    /// Never answer and never forward: hold the connection until the client gives up (closes
    /// it) or [`FaultConfig::hold`] passes, then close.
    Timeout,
    /// Close the client connection with a TCP RST (`SO_LINGER` 0) without forwarding.
    Reset,
}

impl FaultKind {
    /// Every kind, in declaration order.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::Drop,
        FaultKind::DropAfterForward,
        FaultKind::Delay,
        FaultKind::Truncate,
        FaultKind::ServerError,
        FaultKind::ServerErrorAfterForward,
        FaultKind::Timeout,
        FaultKind::Reset,
    ];

    /// The kind's name as the command line spells it (`drop_after_forward`; `-` is accepted too).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Drop => "drop",
            FaultKind::DropAfterForward => "drop_after_forward",
            FaultKind::Delay => "delay",
            FaultKind::Truncate => "truncate",
            FaultKind::ServerError => "server_error",
            FaultKind::ServerErrorAfterForward => "server_error_after_forward",
            FaultKind::Timeout => "timeout",
            FaultKind::Reset => "reset",
        }
    }

    /// Whether the upstream receives the request under this fault.
    pub fn forwards(self) -> bool {
        matches!(
            self,
            FaultKind::DropAfterForward | FaultKind::Delay | FaultKind::Truncate | FaultKind::ServerErrorAfterForward
        )
    }

    fn index(self) -> usize {
        FaultKind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        FaultKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let names: Vec<_> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown fault kind {s:?} (known: {})", names.join(", "))
        })
    }
}

/// How the proxy misbehaves.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Seeds the decisions; the same seed gives the same fault for the same sequence number.
    pub seed: u64,
    /// The probability, 0..=1, that a request gets a fault. Changeable later with
    /// [`FaultProxy::set_rate`].
    pub rate: f64,
    /// The kinds to choose from (uniformly). Empty: no faults.
    pub kinds: Vec<FaultKind>,
    /// How long [`FaultKind::Delay`] waits.
    pub delay: Duration,
    /// The longest [`FaultKind::Timeout`] holds a connection before closing it.
    pub hold: Duration,
}

impl Default for FaultConfig {
    /// Seed 0, rate 0, every kind, 500 ms delay, 30 s hold.
    fn default() -> Self {
        FaultConfig {
            seed: 0,
            rate: 0.0,
            kinds: FaultKind::ALL.to_vec(),
            delay: Duration::from_millis(500),
            hold: Duration::from_secs(30),
        }
    }
}

/// splitmix64: a small, well-mixed PRNG step (Steele, Lea, Flood 2014).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl FaultConfig {
    /// The fault for the request numbered `seq` (0-based, in the order the proxy finished
    /// reading requests) at fault rate `rate`: a pure function of the seed, `seq`, `rate` and
    /// `kinds`. For a fixed seed and `seq` the draw is fixed, so raising the rate only adds faults.
    pub fn decide(&self, seq: u64, rate: f64) -> Option<FaultKind> {
        let x = splitmix64(self.seed ^ splitmix64(seq));
        let u = (x >> 11) as f64 / (1u64 << 53) as f64;
        if self.kinds.is_empty() || u >= rate {
            return None;
        }
        Some(self.kinds[(splitmix64(x) % self.kinds.len() as u64) as usize])
    }
}

/// Counts since the proxy started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Client connections accepted.
    pub connections: u64,
    /// Complete requests read from clients (each got a sequence number and a decision).
    pub requests: u64,
    /// Requests sent to the upstream (whether or not the client then got the answer).
    pub forwarded: u64,
    /// Requests answered with the upstream's answer, unaltered and without delay.
    pub passed: u64,
    /// Requests the upstream could not be reached for (answered 502).
    pub upstream_errors: u64,
    /// Faults injected, by kind (kinds never injected are absent).
    pub faults: BTreeMap<FaultKind, u64>,
}

impl FaultStats {
    /// How many requests got `kind`.
    pub fn count(&self, kind: FaultKind) -> u64 {
        self.faults.get(&kind).copied().unwrap_or(0)
    }

    /// How many requests got any fault.
    pub fn total_faults(&self) -> u64 {
        self.faults.values().sum()
    }
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
    forwarded: AtomicU64,
    passed: AtomicU64,
    upstream_errors: AtomicU64,
    faults: [AtomicU64; 8],
}

struct Shared {
    upstream: SocketAddr,
    config: FaultConfig,
    rate_bits: AtomicU64,
    seq: AtomicU64,
    counters: Counters,
    /// (sequence number, decision) of every request, in the order decided.
    log: Mutex<Vec<(u64, Option<FaultKind>)>>,
}

impl Shared {
    fn rate(&self) -> f64 {
        f64::from_bits(self.rate_bits.load(Ordering::Relaxed))
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

/// A running proxy. Dropping it stops it (open connections are cut).
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1` (a free port) in front of `upstream`.
    pub fn start(upstream: SocketAddr, config: FaultConfig) -> io::Result<FaultProxy> {
        FaultProxy::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), upstream, config)
    }

    /// Starts a proxy listening on `listen` in front of `upstream`.
    pub fn start_on(listen: SocketAddr, upstream: SocketAddr, config: FaultConfig) -> io::Result<FaultProxy> {
        let listener = StdTcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("awf-faultproxy")
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared {
            upstream,
            rate_bits: AtomicU64::new(clamp_rate(config.rate).to_bits()),
            config,
            seq: AtomicU64::new(0),
            counters: Counters::default(),
            log: Mutex::new(Vec::new()),
        });
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(listener)?
        };
        let (tx, rx) = oneshot::channel();
        let state = shared.clone();
        let thread = std::thread::Builder::new().name("awf-faultproxy-accept".into()).spawn(move || {
            runtime.block_on(async move {
                tokio::select! {
                    _ = rx => {}
                    _ = accept_loop(listener, state) => {}
                }
            });
            runtime.shutdown_background();
        })?;
        Ok(FaultProxy { addr, shared, shutdown: Some(tx), thread: Some(thread) })
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the fault rate for the requests decided from now on (clamped to 0..=1).
    pub fn set_rate(&self, rate: f64) {
        self.shared.rate_bits.store(clamp_rate(rate).to_bits(), Ordering::Relaxed);
    }

    /// The current fault rate.
    pub fn rate(&self) -> f64 {
        self.shared.rate()
    }

    /// The counts so far.
    pub fn stats(&self) -> FaultStats {
        let c = &self.shared.counters;
        let faults = FaultKind::ALL
            .into_iter()
            .map(|k| (k, c.faults[k.index()].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        FaultStats {
            connections: c.connections.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            forwarded: c.forwarded.load(Ordering::Relaxed),
            passed: c.passed.load(Ordering::Relaxed),
            upstream_errors: c.upstream_errors.load(Ordering::Relaxed),
            faults,
        }
    }

    /// The decision taken for every request so far, indexed by sequence number.
    pub fn decisions(&self) -> Vec<Option<FaultKind>> {
        let mut log = self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).clone();
        log.sort_by_key(|(seq, _)| *seq);
        log.into_iter().map(|(_, d)| d).collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                shared.counters.connections.fetch_add(1, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, shared.clone()));
            }
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

const MAX_HEAD: usize = 64 * 1024;

/// A client connection with the bytes read but not yet consumed.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn bad_data(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

impl Conn {
    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The next request head (through the blank line), or `None` at a clean end of the
    /// connection between requests.
    async fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..end + 4).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad_data("request head too large"));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() { Ok(None) } else { Err(io::ErrorKind::UnexpectedEof.into()) };
            }
        }
    }

    async fn read_exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                return Ok(self.buf.drain(..end + 2).collect());
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad_data("chunk line too long"));
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// A chunked body, raw (sizes, data, trailers), through its final blank line.
    async fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut raw = Vec::new();
        loop {
            let line = self.read_line().await?;
            let size_text = std::str::from_utf8(&line).map_err(|_| bad_data("bad chunk size"))?;
            let size_text = size_text.trim_end().split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| bad_data("bad chunk size"))?;
            raw.extend_from_slice(&line);
            if size == 0 {
                loop {
                    let trailer = self.read_line().await?;
                    raw.extend_from_slice(&trailer);
                    if trailer == b"\r\n" {
                        return Ok(raw);
                    }
                }
            }
            raw.extend_from_slice(&self.read_exact(size + 2).await?);
        }
    }

    /// Waits until the client closes the connection (or errors), discarding what it sends.
    async fn until_closed(&mut self) {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = self.stream.read(&mut chunk).await {
            if n == 0 {
                break;
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A parsed message head: the start line and the header lines, as text.
struct Head {
    start: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(raw: &[u8]) -> io::Result<Head> {
        let text = String::from_utf8_lossy(raw);
        let mut lines = text.split("\r\n");
        let start = lines.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').ok_or_else(|| bad_data("bad header line"))?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        Ok(Head { start, headers })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .any(|(_, v)| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// The head again, without the hop-by-hop connection headers, plus `extra` header lines.
    fn render(&self, extra: &[&str]) -> Vec<u8> {
        let mut out = String::with_capacity(256);
        out.push_str(&self.start);
        out.push_str("\r\n");
        for (n, v) in &self.headers {
            if ["connection", "keep-alive", "proxy-connection"].iter().any(|h| n.eq_ignore_ascii_case(h)) {
                continue;
            }
            out.push_str(n);
            out.push_str(": ");
            out.push_str(v);
            out.push_str("\r\n");
        }
        for e in extra {
            out.push_str(e);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

/// Serves one client connection: request after request, a decision for each.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let mut conn = Conn { stream, buf: Vec::new() };
    // Any error (client gone, malformed request) ends the connection.
    let _ = async {
        while let Some(raw_head) = conn.read_head().await? {
            let head = Head::parse(&raw_head)?;
            let body = if head.has_token("transfer-encoding", "chunked") {
                conn.read_chunked().await?
            } else if let Some(len) = head.get("content-length") {
                let len: usize = len.parse().map_err(|_| bad_data("bad content-length"))?;
                conn.read_exact(len).await?
            } else {
                Vec::new()
            };
            let http10 = head.start.ends_with("HTTP/1.0");
            let client_close =
                head.has_token("connection", "close") || (http10 && !head.has_token("connection", "keep-alive"));
            let is_head = head.start.starts_with("HEAD ");

            let seq = shared.seq.fetch_add(1, Ordering::Relaxed);
            let fault = shared.config.decide(seq, shared.rate());
            shared.log.lock().unwrap_or_else(|e| e.into_inner()).push((seq, fault));
            shared.counters.requests.fetch_add(1, Ordering::Relaxed);
            if let Some(kind) = fault {
                shared.counters.faults[kind.index()].fetch_add(1, Ordering::Relaxed);
            }

            match fault {
                Some(FaultKind::Drop) => return Ok(()),
                Some(FaultKind::Reset) => {
                    conn.stream.set_zero_linger()?;
                    return Ok(());
                }
                Some(FaultKind::Timeout) => {
                    let _ = tokio::time::timeout(shared.config.hold, conn.until_closed()).await;
                    return Ok(());
                }
                Some(FaultKind::ServerError) => {
                    write_error(&mut conn.stream, "503 Service Unavailable", client_close).await?;
                    if client_close {
                        return Ok(());
                    }
                    continue;
                }
                Some(FaultKind::Delay) => tokio::time::sleep(shared.config.delay).await,
                _ => {}
            }

            let answer = match forward(&shared, &head, &body).await {
                Ok(answer) => answer,
                Err(_) => {
                    shared.counters.upstream_errors.fetch_add(1, Ordering::Relaxed);
                    write_error(&mut conn.stream, "502 Bad Gateway", client_close).await?;
                    if client_close {
                        return Ok(());
                    }
                    continue;
                }
            };
            match fault {
                Some(FaultKind::DropAfterForward) => return Ok(()),
                Some(FaultKind::ServerErrorAfterForward) => {
                    write_error(&mut conn.stream, "502 Bad Gateway", client_close).await?;
                    if client_close {
                        return Ok(());
                    }
                    continue;
                }
                _ => {}
            }
            let Some(end) = find(&answer, b"\r\n\r\n") else {
                // Not a valid answer: relay what came and close.
                conn.stream.write_all(&answer).await?;
                return Ok(());
            };
            let resp = Head::parse(&answer[..end + 4])?;
            let resp_body = &answer[end + 4..];
            let status: u16 = resp.start.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            let delimited = resp.has_token("transfer-encoding", "chunked")
                || resp.get("content-length").is_some()
                || is_head
                || (100..200).contains(&status)
                || status == 204
                || status == 304;
            let close = client_close || !delimited;
            let out_head = resp.render(if close { &["Connection: close"] } else { &[] });
            if fault == Some(FaultKind::Truncate) {
                if resp_body.is_empty() {
                    conn.stream.write_all(&out_head[..out_head.len() / 2]).await?;
                } else {
                    conn.stream.write_all(&out_head).await?;
                    conn.stream.write_all(&resp_body[..resp_body.len() / 2]).await?;
                }
                conn.stream.flush().await?;
                conn.stream.shutdown().await?;
                return Ok(());
            }
            // Counted before it is sent, so a client that has its answer sees it counted.
            if fault.is_none() {
                shared.counters.passed.fetch_add(1, Ordering::Relaxed);
            }
            conn.stream.write_all(&out_head).await?;
            conn.stream.write_all(resp_body).await?;
            conn.stream.flush().await?;
            if close {
                conn.stream.shutdown().await?;
                return Ok(());
            }
        }
        Ok::<(), io::Error>(())
    }
    .await;
}

/// Sends the request upstream on a fresh connection and reads the whole answer.
async fn forward(shared: &Shared, head: &Head, body: &[u8]) -> io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(shared.upstream).await?;
    let _ = up.set_nodelay(true);
    let mut request = head.render(&["Connection: close"]);
    request.extend_from_slice(body);
    up.write_all(&request).await?;
    shared.counters.forwarded.fetch_add(1, Ordering::Relaxed);
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    Ok(answer)
}

async fn write_error(stream: &mut TcpStream, status: &str, close: bool) -> io::Result<()> {
    let body = format!("awf-faultproxy: injected {status}\n");
    let connection = if close { "Connection: close\r\n" } else { "" };
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n{connection}\r\n{body}",
        body.len()
    );
    stream.write_all(msg.as_bytes()).await?;
    stream.flush().await?;
    if close {
        stream.shutdown().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_follow_the_seed_and_the_rate() {
        let config = FaultConfig { seed: 42, rate: 0.3, ..FaultConfig::default() };
        let a: Vec<_> = (0..1000).map(|s| config.decide(s, 0.3)).collect();
        let b: Vec<_> = (0..1000).map(|s| config.decide(s, 0.3)).collect();
        assert_eq!(a, b);
        let faults = a.iter().filter(|d| d.is_some()).count();
        assert!((230..370).contains(&faults), "{faults} faults in 1000 at 30 %");
        // Every kind gets chosen.
        for k in FaultKind::ALL {
            assert!(a.contains(&Some(k)), "{k} never chosen");
        }
        let other = FaultConfig { seed: 43, ..config.clone() };
        assert_ne!(a, (0..1000).map(|s| other.decide(s, 0.3)).collect::<Vec<_>>());
        assert!((0..1000).all(|s| config.decide(s, 0.0).is_none()));
        assert!((0..1000).all(|s| config.decide(s, 1.0).is_some()));
        // Raising the rate only adds faults.
        for s in 0..1000 {
            if let Some(k) = config.decide(s, 0.3) {
                assert_eq!(config.decide(s, 0.6), Some(k));
            }
        }
        let none = FaultConfig { kinds: vec![], ..config };
        assert!((0..100).all(|s| none.decide(s, 1.0).is_none()));
    }

    #[test]
    fn kinds_parse_by_name() {
        for k in FaultKind::ALL {
            assert_eq!(k.as_str().parse::<FaultKind>(), Ok(k));
        }
        assert_eq!("drop-after-forward".parse::<FaultKind>(), Ok(FaultKind::DropAfterForward));
        assert!("explode".parse::<FaultKind>().is_err());
    }
}
