//! `awf-platform`: the reference platform's binary. Parses flags, opens the store, binds, prints
//! `AWF_PLATFORM_URL=http://HOST:PORT` as its one line of stdout (dev-mode SMS lines follow),
//! and serves until SIGINT or SIGTERM. `awf-platform publish-policy …` instead publishes a policy
//! version into a stopped platform's store and exits; `awf-platform admin list|answer …` reads
//! and answers rights requests through a running platform's admin routes over loopback.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use awf_platform::{local_region, App, PlatformConfig};
use awf_platform_api::{PolicyPurposeTerms, PublishPolicy};
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "awf-platform",
    version,
    about = "The AiWellFlow reference platform: the platform API over an embedded sled store.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Admin>,
    /// Directory of the platform's store. Default: the per-user data directory
    /// (`…/ai.aiwellflow.platform`).
    #[arg(long, value_name = "DIR", conflicts_with = "ephemeral")]
    data_dir: Option<PathBuf>,
    /// Keep the store in a temporary directory deleted at exit.
    #[arg(long)]
    ephemeral: bool,
    /// Port to listen on; 0 picks a free one (see the printed URL).
    #[arg(long, default_value_t = 47800)]
    port: u16,
    /// Address to bind. Only loopback addresses unless --allow-remote.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Allow binding a non-loopback address (self-hosting behind TLS termination).
    #[arg(long)]
    allow_remote: bool,
    /// Development mode: SMS codes are printed and kept in the dev outbox; /v1/dev/… is served.
    #[arg(long)]
    dev: bool,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..))]
    access_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds.
    #[arg(long, default_value_t = 30 * 24 * 3600, value_parser = clap::value_parser!(u64).range(1..))]
    refresh_ttl_secs: u64,
    /// Lifetime of SMS codes, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    sms_code_ttl_secs: u64,
    /// The storage region this platform declares.
    #[arg(long, value_name = "CODE", default_value = "local")]
    region: String,
}

/// Administration of a platform's store (the platform must be stopped: its store is locked).
#[derive(Subcommand, Debug)]
enum Admin {
    /// Publish a new privacy policy version into a stopped platform's store. It is in force at the
    /// platform's next start. (A platform in development mode also takes new versions by
    /// POST /v1/dev/policy while it runs.)
    PublishPolicy(PublishArgs),
    /// Rights requests and complaints, through a running platform (its store is locked to it):
    /// reads the admin token from `<data dir>/admin-token` and calls the admin routes over
    /// loopback.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// List every account's rights requests, oldest first (JSON).
    List(AdminTarget),
    /// Answer a rights request (and close it with --close).
    Answer {
        #[command(flatten)]
        target: AdminTarget,
        /// The request's id (`req_…`).
        #[arg(long, value_name = "ID")]
        request: String,
        /// The answer, 1 to 5000 characters.
        #[arg(long, value_name = "TEXT")]
        text: String,
        /// Close the request with this answer.
        #[arg(long)]
        close: bool,
    },
}

#[derive(Args, Debug)]
struct AdminTarget {
    /// The running platform's data directory (its `--data-dir`), where `admin-token` is.
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// The running platform's address, `HOST:PORT` on loopback (as in its AWF_PLATFORM_URL line).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:47800")]
    addr: String,
}

#[derive(Args, Debug)]
struct PublishArgs {
    /// The platform's data directory (its `--data-dir`).
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// The new version: exactly the version in force plus one.
    #[arg(long, value_name = "N")]
    version: u32,
    /// The policy in Simplified Chinese (the authoritative text), UTF-8, at most 256 KiB.
    #[arg(long, value_name = "FILE")]
    zh: PathBuf,
    /// The policy in English, UTF-8, at most 256 KiB.
    #[arg(long, value_name = "FILE")]
    en: PathBuf,
    /// The purposes this version covers: a JSON array of {"purpose", "since_version"}.
    #[arg(long, value_name = "FILE")]
    terms: PathBuf,
    /// The change is material (§8: notified prominently, re-consent asked).
    #[arg(long)]
    material: bool,
    /// One line of what changed (repeat for several; at most 50 lines of 500 characters).
    #[arg(long = "change", value_name = "TEXT")]
    changes: Vec<String>,
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let result = match cli.command.take() {
        Some(Admin::PublishPolicy(args)) => publish(args),
        Some(Admin::Admin { command }) => admin(command),
        None => run(cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("awf-platform: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn publish(args: PublishArgs) -> Result<(), String> {
    let read =
        |path: &PathBuf| std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let terms = read(&args.terms)?;
    let purposes: Vec<PolicyPurposeTerms> = serde_json::from_str(&terms).map_err(|e| {
        format!("{}: not a JSON array of {{\"purpose\": …, \"since_version\": …}}: {e}", args.terms.display())
    })?;
    let req = PublishPolicy {
        version: args.version,
        zh_cn: read(&args.zh)?,
        en: read(&args.en)?,
        purposes,
        material: args.material,
        changes: args.changes,
    };
    let document = awf_platform::publish_policy(&args.data_dir, &req).map_err(|e| e.to_string())?;
    println!(
        "published policy version {} ({} purposes{}) in {}; it is in force when the platform starts",
        document.version,
        document.purposes.len(),
        if document.material { ", material" } else { "" },
        args.data_dir.display()
    );
    Ok(())
}

fn admin(command: AdminCommand) -> Result<(), String> {
    let (target, method, path, body) = match command {
        AdminCommand::List(target) => (target, "GET", "/v1/admin/requests".to_string(), None),
        AdminCommand::Answer { target, request, text, close } => {
            if request.is_empty() || !request.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("{request:?} is not a request id (req_ and hex digits)"));
            }
            let body = serde_json::json!({ "text": text, "close": close }).to_string();
            (target, "POST", format!("/v1/admin/requests/{request}/answer"), Some(body))
        }
    };
    let token_path = target.data_dir.join(awf_platform::ADMIN_TOKEN_FILE);
    let token = std::fs::read_to_string(&token_path).map_err(|e| {
        format!("cannot read {}: {e} (pass the --data-dir of a platform that has started once)", token_path.display())
    })?;
    let (status, answer) = loopback_request(&target.addr, method, &path, token.trim(), body.as_deref())?;
    let pretty = serde_json::from_str::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(answer);
    if !(200..300).contains(&status) {
        return Err(format!("the platform answered {status}: {pretty}"));
    }
    println!("{pretty}");
    Ok(())
}

/// One HTTP/1.1 request to a loopback address (the admin token never leaves this computer):
/// status and body.
fn loopback_request(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    use std::io::Read;
    use std::net::{TcpStream, ToSocketAddrs};
    let resolved: Vec<SocketAddr> =
        addr.to_socket_addrs().map_err(|e| format!("{addr} is not HOST:PORT: {e}"))?.collect();
    let Some(target) = resolved.iter().find(|a| a.ip().is_loopback()) else {
        return Err(format!("{addr} is not a loopback address: the admin token is sent only to this computer"));
    };
    let mut stream = TcpStream::connect_timeout(target, std::time::Duration::from_secs(5))
        .map_err(|e| format!("cannot reach the platform at {addr}: {e} (is it running?)"))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    let content = if body.is_empty() { String::new() } else { "Content-Type: application/json\r\n".to_string() };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{content}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("cannot send to {addr}: {e}"))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| format!("no answer from {addr}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("the platform's answer has no header end")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {head}"))?;
    Ok((status, body.to_string()))
}

fn run(cli: Cli) -> Result<(), String> {
    if !cli.bind.is_loopback() && !cli.allow_remote {
        return Err(format!("refusing to bind {}: not a loopback address (pass --allow-remote to allow it)", cli.bind));
    }
    let mut _temp = None;
    let data_dir = match (cli.data_dir, cli.ephemeral) {
        (Some(dir), _) => dir,
        (None, true) => {
            let t = tempfile::Builder::new()
                .prefix("awf-platform-")
                .tempdir()
                .map_err(|e| format!("temporary directory: {e}"))?;
            let path = t.path().to_path_buf();
            _temp = Some(t);
            path
        }
        (None, false) => directories::BaseDirs::new()
            .map(|b| b.data_dir().join("ai.aiwellflow.platform"))
            .ok_or("no per-user data directory on this system: pass --data-dir DIR")?,
    };
    std::fs::create_dir_all(&data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;

    let mut config = PlatformConfig::new(data_dir);
    config.dev = cli.dev;
    config.access_ttl_secs = cli.access_ttl_secs;
    config.refresh_ttl_secs = cli.refresh_ttl_secs;
    config.sms_code_ttl_secs = cli.sms_code_ttl_secs;
    config.region = local_region(&cli.region);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let app = App::open(config).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(cli.bind, cli.port))
            .await
            .map_err(|e| format!("cannot listen on {}:{}: {e}", cli.bind, cli.port))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "AWF_PLATFORM_URL=http://{addr}").map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
        }
        if cli.dev {
            eprintln!("awf-platform: development mode: SMS codes are printed and kept in /v1/dev/sms-outbox");
        }
        app.serve(listener, shutdown_signal()).await.map_err(|e| e.to_string())
    })?;
    eprintln!("awf-platform: stopped");
    Ok(())
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
