//! `awf-faultproxy`: the fault-injection proxy as a program, to put in front of the reference
//! platform by hand. Prints `listening on http://HOST:PORT` as its first line of stdout, then the
//! counts on stderr every few seconds while they change; runs until killed (Ctrl-C).

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use awf_faultproxy::{FaultConfig, FaultKind, FaultProxy};
use clap::Parser;

/// A fault-injection HTTP/1.1 proxy: drops, delays, truncates, answers 5xx, times out and resets
/// a seeded share of the requests it forwards.
#[derive(Parser, Debug)]
#[command(name = "awf-faultproxy", version)]
struct Cli {
    /// The server to forward to, HOST:PORT (e.g. the reference platform on 127.0.0.1:47800).
    #[arg(long, value_name = "HOST:PORT")]
    upstream: String,
    /// Address to listen on; port 0 picks a free one (see the printed URL).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Seed of the fault decisions: the same seed gives the same fault to the same request number.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Probability, 0..=1, that a request gets a fault.
    #[arg(long, default_value_t = 0.3)]
    rate: f64,
    /// Comma-separated fault kinds to choose from: drop, drop_after_forward, delay, truncate,
    /// server_error, server_error_after_forward, timeout, reset. Default: all.
    #[arg(long, value_delimiter = ',')]
    kinds: Vec<FaultKind>,
    /// How long the delay fault waits, in milliseconds.
    #[arg(long, default_value_t = 500)]
    delay_ms: u64,
    /// The longest the timeout fault holds a connection, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    hold_ms: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let upstream = match cli.upstream.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(addr)) => addr,
        Ok(None) | Err(_) => {
            eprintln!("awf-faultproxy: cannot resolve --upstream {}", cli.upstream);
            return ExitCode::from(2);
        }
    };
    if !(0.0..=1.0).contains(&cli.rate) {
        eprintln!("awf-faultproxy: --rate must be between 0 and 1");
        return ExitCode::from(2);
    }
    let config = FaultConfig {
        seed: cli.seed,
        rate: cli.rate,
        kinds: if cli.kinds.is_empty() { FaultKind::ALL.to_vec() } else { cli.kinds },
        delay: Duration::from_millis(cli.delay_ms),
        hold: Duration::from_millis(cli.hold_ms),
    };
    let proxy = match FaultProxy::start_on(cli.listen, upstream, config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("awf-faultproxy: cannot listen on {}: {e}", cli.listen);
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", proxy.url());
    eprintln!("awf-faultproxy: forwarding to {upstream}, seed {}, rate {}", cli.seed, cli.rate);
    let mut last = proxy.stats();
    loop {
        std::thread::sleep(Duration::from_secs(5));
        let now = proxy.stats();
        if now != last {
            let faults: Vec<String> = now.faults.iter().map(|(k, n)| format!("{k}={n}")).collect();
            eprintln!(
                "awf-faultproxy: {} requests, {} forwarded, {} passed, {} upstream errors; faults: {}",
                now.requests,
                now.forwarded,
                now.passed,
                now.upstream_errors,
                if faults.is_empty() { "none".to_string() } else { faults.join(" ") }
            );
            last = now;
        }
    }
}
