//! The proxy against a real upstream (axum) that counts the requests it received, with reqwest
//! as the client.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use awf_faultproxy::{FaultConfig, FaultKind, FaultProxy};
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;

/// The upstream: `POST /echo` answers the body it got, `GET /big` answers 1 MiB, `GET /hello` a
/// short text; every request is counted.
struct Upstream {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Upstream {
    async fn start() -> Upstream {
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/echo",
                post(|State(h): State<Arc<AtomicUsize>>, body: Bytes| async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    body
                }),
            )
            .route(
                "/big",
                get(|State(h): State<Arc<AtomicUsize>>| async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    big_body()
                }),
            )
            .route(
                "/hello",
                get(|State(h): State<Arc<AtomicUsize>>| async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    "hello from upstream"
                }),
            )
            .with_state(hits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Upstream { addr, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn big_body() -> Vec<u8> {
    (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

fn only(kind: FaultKind) -> FaultConfig {
    FaultConfig {
        seed: 1,
        rate: 1.0,
        kinds: vec![kind],
        delay: Duration::from_millis(300),
        hold: Duration::from_secs(30),
    }
}

/// Walks an error's sources into one string, for asserting on what kind of failure it was.
fn chain(e: &reqwest::Error) -> String {
    let mut s = format!("{e}");
    let mut src = std::error::Error::source(e);
    while let Some(x) = src {
        s.push_str(" / ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_zero_passes_everything_unchanged_over_keep_alive() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, FaultConfig { seed: 9, rate: 0.0, ..FaultConfig::default() }).unwrap();
    let c = client(Duration::from_secs(30));

    // 1 MiB up and back down, byte for byte.
    let big = big_body();
    let echoed = c.post(format!("{}/echo", proxy.url())).body(big.clone()).send().await.unwrap();
    assert_eq!(echoed.status(), 200);
    assert_eq!(echoed.bytes().await.unwrap().as_ref(), big.as_slice());
    let down = c.get(format!("{}/big", proxy.url())).send().await.unwrap();
    assert_eq!(down.status(), 200);
    assert_eq!(down.bytes().await.unwrap().as_ref(), big.as_slice());

    // A chunked request body, sent by hand on its own connection, is forwarded whole.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              b;ext=1\r\nchunk one, \r\n9\r\nchunk two\r\n0\r\n\r\n",
        )
        .await
        .unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        let got = String::from_utf8(got).unwrap();
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
        assert!(got.ends_with("\r\n\r\nchunk one, chunk two"), "{got}");
    }

    for i in 0..20 {
        let r = c.post(format!("{}/echo", proxy.url())).body(format!("request {i}")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), format!("request {i}"));
    }
    let stats = proxy.stats();
    assert_eq!(up.hits(), 23);
    assert_eq!((stats.requests, stats.forwarded, stats.passed, stats.total_faults()), (23, 23, 23, 0));
    // The client kept its connection: far fewer connections than requests.
    assert!(stats.connections < 10, "{} connections for 23 requests", stats.connections);
    assert_eq!(proxy.decisions(), vec![None; 23]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_closes_before_forwarding() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::Drop)).unwrap();
    let e = client(Duration::from_secs(10)).get(format!("{}/hello", proxy.url())).send().await.unwrap_err();
    assert!(!e.is_timeout(), "{}", chain(&e));
    assert_eq!(up.hits(), 0, "the upstream must not see a dropped request");
    let s = proxy.stats();
    assert_eq!((s.requests, s.forwarded, s.count(FaultKind::Drop)), (1, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_after_forward_lets_the_upstream_apply_it() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::DropAfterForward)).unwrap();
    let e = client(Duration::from_secs(10)).post(format!("{}/echo", proxy.url())).body("x").send().await.unwrap_err();
    assert!(!e.is_timeout(), "{}", chain(&e));
    assert_eq!(up.hits(), 1, "the upstream applied the request");
    let s = proxy.stats();
    assert_eq!((s.forwarded, s.passed, s.count(FaultKind::DropAfterForward)), (1, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_answers_correctly_but_late() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::Delay)).unwrap();
    let started = Instant::now();
    let r = client(Duration::from_secs(10)).get(format!("{}/hello", proxy.url())).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "hello from upstream");
    assert!(started.elapsed() >= Duration::from_millis(300), "answered after {:?}", started.elapsed());
    assert_eq!(up.hits(), 1);
    assert_eq!(proxy.stats().count(FaultKind::Delay), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_cuts_the_answer_after_the_upstream_applied_it() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::Truncate)).unwrap();
    let r = client(Duration::from_secs(10)).get(format!("{}/big", proxy.url())).send().await.unwrap();
    // The head arrives whole, announcing 1 MiB; the body stops half-way.
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_length(), Some(1024 * 1024));
    let e = r.bytes().await.unwrap_err();
    assert!(e.is_body() || e.is_decode(), "{}", chain(&e));
    assert_eq!(up.hits(), 1);
    assert_eq!(proxy.stats().count(FaultKind::Truncate), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_answers_503_without_forwarding() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::ServerError)).unwrap();
    let c = client(Duration::from_secs(10));
    for _ in 0..3 {
        let r = c.post(format!("{}/echo", proxy.url())).body("x").send().await.unwrap();
        assert_eq!(r.status(), 503);
        let _ = r.bytes().await.unwrap();
    }
    assert_eq!(up.hits(), 0);
    let s = proxy.stats();
    assert_eq!((s.requests, s.forwarded, s.count(FaultKind::ServerError)), (3, 0, 3));

    // The connection stays usable after a 503: two requests on one socket, two answers.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    sock.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = sock.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 503"));
    sock.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    sock.read_to_end(&mut rest).await.unwrap();
    assert!(rest.starts_with(b"HTTP/1.1 503"), "{}", String::from_utf8_lossy(&rest));
    assert_eq!(up.hits(), 0);
    assert_eq!(proxy.stats().count(FaultKind::ServerError), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_after_forward_answers_502_after_the_upstream_applied_it() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::ServerErrorAfterForward)).unwrap();
    let r = client(Duration::from_secs(10)).post(format!("{}/echo", proxy.url())).body("x").send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(up.hits(), 1);
    let s = proxy.stats();
    assert_eq!((s.forwarded, s.passed, s.count(FaultKind::ServerErrorAfterForward)), (1, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_never_answers_until_the_client_gives_up() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::Timeout)).unwrap();
    let started = Instant::now();
    let e = client(Duration::from_millis(700)).get(format!("{}/hello", proxy.url())).send().await.unwrap_err();
    assert!(e.is_timeout(), "{}", chain(&e));
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(up.hits(), 0);
    assert_eq!(proxy.stats().count(FaultKind::Timeout), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_holds_at_most_the_configured_time() {
    let up = Upstream::start().await;
    let proxy =
        FaultProxy::start(up.addr, FaultConfig { hold: Duration::from_millis(300), ..only(FaultKind::Timeout) })
            .unwrap();
    let started = Instant::now();
    let e = client(Duration::from_secs(20)).get(format!("{}/hello", proxy.url())).send().await.unwrap_err();
    assert!(!e.is_timeout(), "{}", chain(&e));
    assert!(started.elapsed() >= Duration::from_millis(300) && started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_closes_with_rst() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::Reset)).unwrap();
    let e = client(Duration::from_secs(10)).get(format!("{}/hello", proxy.url())).send().await.unwrap_err();
    assert!(!e.is_timeout(), "{}", chain(&e));
    assert_eq!(up.hits(), 0);
    assert_eq!(proxy.stats().count(FaultKind::Reset), 1);

    // Seen from a raw socket: the read fails with ECONNRESET rather than a clean end of stream.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let err = s.read(&mut buf).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

/// With a raw socket, tell a clean close (Drop) from a reset, and check a truncated answer's bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_socket_view_of_drop_and_truncate() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = Upstream::start().await;
    let drop = FaultProxy::start(up.addr, only(FaultKind::Drop)).unwrap();
    let mut s = tokio::net::TcpStream::connect(drop.addr()).await.unwrap();
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).await.unwrap();
    assert!(got.is_empty());

    let trunc = FaultProxy::start(up.addr, only(FaultKind::Truncate)).unwrap();
    let mut s = tokio::net::TcpStream::connect(trunc.addr()).await.unwrap();
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).await.unwrap();
    let text = String::from_utf8(got).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-length: 19"), "{head}");
    assert_eq!(body, &"hello from upstream"[..9]);
}

/// The same seed gives the same faults to the same requests; another seed does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_fault_sequence() {
    let up = Upstream::start().await;
    async fn run(up: &Upstream, seed: u64) -> (Vec<Option<FaultKind>>, Vec<String>) {
        let config = FaultConfig {
            seed,
            rate: 0.5,
            kinds: vec![FaultKind::Drop, FaultKind::ServerError, FaultKind::ServerErrorAfterForward, FaultKind::Reset],
            ..FaultConfig::default()
        };
        let proxy = FaultProxy::start(up.addr, config.clone()).unwrap();
        let c = client(Duration::from_secs(10));
        let mut seen = Vec::new();
        for i in 0..40 {
            let outcome = match c.post(format!("{}/echo", proxy.url())).body(format!("{i}")).send().await {
                Ok(r) => r.status().as_str().to_string(),
                Err(_) => "error".to_string(),
            };
            seen.push(outcome);
        }
        let decisions = proxy.decisions();
        assert_eq!(decisions, (0..40).map(|s| config.decide(s, 0.5)).collect::<Vec<_>>());
        (decisions, seen)
    }
    let (d1, seen1) = run(&up, 5).await;
    let (d2, seen2) = run(&up, 5).await;
    assert_eq!(d1, d2);
    assert_eq!(seen1, seen2);
    // What the client saw follows from the decisions.
    for (d, s) in d1.iter().zip(&seen1) {
        let expected = match d {
            None => "200",
            Some(FaultKind::ServerError) => "503",
            Some(FaultKind::ServerErrorAfterForward) => "502",
            Some(_) => "error",
        };
        assert_eq!(s, expected);
    }
    assert!(d1.iter().any(|d| d.is_none()) && d1.iter().any(|d| d.is_some()));
    let (d3, _) = run(&up, 6).await;
    assert_ne!(d1, d3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_rate_switches_faults_off_and_on() {
    let up = Upstream::start().await;
    let proxy = FaultProxy::start(up.addr, only(FaultKind::ServerError)).unwrap();
    let c = client(Duration::from_secs(10));
    assert_eq!(c.get(format!("{}/hello", proxy.url())).send().await.unwrap().status(), 503);
    proxy.set_rate(0.0);
    assert_eq!(proxy.rate(), 0.0);
    assert_eq!(c.get(format!("{}/hello", proxy.url())).send().await.unwrap().status(), 200);
    proxy.set_rate(1.0);
    assert_eq!(c.get(format!("{}/hello", proxy.url())).send().await.unwrap().status(), 503);
    assert_eq!(up.hits(), 1);
}

/// A synchronous caller (no runtime of its own) can start, use and drop the proxy.
#[test]
fn works_from_sync_code() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(Upstream::start());
    let proxy = FaultProxy::start(up.addr, FaultConfig::default()).unwrap();
    let url = proxy.url();
    let body = std::thread::spawn(move || {
        // A plain blocking client over std's TcpStream.
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
        s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).unwrap();
        got
    })
    .join()
    .unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.ends_with("hello from upstream"));
    drop(proxy);
    assert_eq!(up.hits(), 1);
}

/// The program prints its URL first and forwards through it; it runs until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_its_url_and_proxies() {
    use std::io::BufRead;
    let up = Upstream::start().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_awf-faultproxy"))
        .args(["--upstream", &up.addr.to_string(), "--seed", "3", "--rate", "1", "--kinds", "server-error,reset"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let config = FaultConfig {
        seed: 3,
        rate: 1.0,
        kinds: vec![FaultKind::ServerError, FaultKind::Reset],
        ..FaultConfig::default()
    };
    let c = client(Duration::from_secs(10));
    for seq in 0..6 {
        let got = c.get(format!("{url}/hello")).send().await.map(|r| r.status().as_u16());
        match config.decide(seq, 1.0) {
            Some(FaultKind::ServerError) => assert_eq!(got.unwrap(), 503),
            _ => assert!(got.is_err()),
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(up.hits(), 0);
}
