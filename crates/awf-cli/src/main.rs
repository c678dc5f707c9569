//! `awf`: headless access to a Studio profile. Every command goes through the command surface
//! (`awf-api`) on the same data directory as the desktop app. Errors print as
//! `error[<code>]: <message>` with a `hint:` line and exit with status 1.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use awf_api::{Api, ApiConfig, ApiError, ErrorCode};
use awf_core::{AgentDraft, ListQuery, SecretString};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "awf",
    version,
    about = "AiWellFlow Studio on the command line: agents, sync, consent and privacy jobs."
)]
struct Cli {
    /// Profile directory (default: AWF_DATA_DIR, else the per-user data directory).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Read the profile passphrase from standard input (passphrase-mode profiles; also AWF_PASSPHRASE).
    #[arg(long, global = true)]
    passphrase_stdin: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create, list, show and edit agents.
    #[command(subcommand)]
    Agents(AgentsCmd),
    /// Serve the command surface and the web UI on 127.0.0.1 (browser tests, web mode).
    Bridge {
        /// The built web UI to serve (ui/dist).
        #[arg(long, value_name = "DIR")]
        ui_dir: Option<PathBuf>,
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

#[derive(Args)]
struct JsonFlag {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AgentsCmd {
    /// Create an agent.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        instructions: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List agents, most recently changed first.
    List {
        /// Only agents whose name or description contains this text.
        #[arg(long, default_value = "")]
        filter: String,
        /// Include archived agents.
        #[arg(long)]
        archived: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Show one agent.
    Show {
        id: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Show the revision history of an agent's instructions.
    History {
        id: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Edit an agent's instructions (a new revision) or name.
    Edit {
        id: String,
        #[arg(long, conflicts_with = "instructions_file")]
        instructions: Option<String>,
        /// Read the new instructions from a file (`-` for standard input).
        #[arg(long, value_name = "PATH")]
        instructions_file: Option<PathBuf>,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error[{}]: {}", e.code.as_str(), e.message);
        if let Some(h) = &e.hint {
            eprintln!("  hint: {h}");
        }
        std::process::exit(1);
    }
}

fn usage(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidInput, msg)
}

fn open_api(cli: &Cli) -> Result<Api, ApiError> {
    let dir = awf_core::paths::resolve_data_dir(cli.data_dir.clone()).ok_or_else(|| {
        usage("No data directory: this system reports no home directory.")
            .hint("Pass --data-dir DIR or set AWF_DATA_DIR.")
    })?;
    let passphrase = if cli.passphrase_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading the passphrase: {e}")))?;
        Some(SecretString::new(s.trim_end_matches(['\n', '\r']).to_string()))
    } else {
        std::env::var("AWF_PASSPHRASE").ok().filter(|p| !p.is_empty()).map(SecretString::new)
    };
    let mut cfg = ApiConfig::new(dir);
    cfg.passphrase = passphrase;
    Ok(Api::open(cfg))
}

fn print_json<T: serde::Serialize>(v: &T) {
    println!("{}", serde_json::to_string_pretty(v).expect("DTOs serialise"));
}

fn run(cli: Cli) -> Result<(), ApiError> {
    let api = open_api(&cli)?;
    match cli.command {
        Command::Agents(cmd) => agents(&api, cmd),
        Command::Bridge { ui_dir, port } => bridge(api, ui_dir, port),
    }
}

fn agents(api: &Api, cmd: AgentsCmd) -> Result<(), ApiError> {
    let profile = api.profile()?;
    let agents = profile.agents();
    match cmd {
        AgentsCmd::Create { name, instructions, out } => {
            let mut draft = AgentDraft::named(name);
            draft.instructions = instructions.unwrap_or_default();
            let a = agents.create(draft)?;
            if out.json {
                print_json(&a);
            } else {
                println!("{}", a.id);
            }
        }
        AgentsCmd::List { filter, archived, out } => {
            let list = agents.list(&ListQuery { filter, include_archived: archived })?;
            if out.json {
                print_json(&list);
            } else if list.is_empty() {
                println!("No agents.");
            } else {
                for a in list {
                    let flag = if a.archived { " [archived]" } else { "" };
                    println!("{}  {}  {}{}", a.id, a.updated_at, a.name, flag);
                }
            }
        }
        AgentsCmd::Show { id, out } => {
            let a = agents.get(&id)?;
            if out.json {
                print_json(&a);
            } else {
                let d = &a.draft;
                println!("{} {}  ({})", d.icon, d.name, a.id);
                println!(
                    "version {}, revision {}, updated {}{}",
                    a.version,
                    a.latest_revision,
                    a.updated_at,
                    if a.archived { ", archived" } else { "" }
                );
                if !d.description.is_empty() {
                    println!("\n{}", d.description);
                }
                println!(
                    "\nmodel: {} (temperature {}, top_p {}, max tokens {}, {:?})",
                    d.model.model, d.model.temperature, d.model.top_p, d.model.max_tokens, d.model.response_format
                );
                println!("\n--- instructions ---\n{}", d.instructions);
            }
        }
        AgentsCmd::History { id, out } => {
            let h = agents.history(&id)?;
            if out.json {
                print_json(&h);
            } else {
                for r in h {
                    let from = r.restored_from.map(|s| format!(" (restored from #{s})")).unwrap_or_default();
                    println!("#{:<4} {}  {} chars{}  {}", r.seq, r.created_at, r.chars, from, r.first_line);
                }
            }
        }
        AgentsCmd::Edit { id, instructions, instructions_file, name, out } => {
            let current = agents.get(&id)?;
            let mut draft = current.draft.clone();
            if let Some(text) = instructions {
                draft.instructions = text;
            }
            if let Some(path) = instructions_file {
                draft.instructions = if path.as_os_str() == "-" {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading standard input: {e}")))?;
                    s
                } else {
                    std::fs::read_to_string(&path).map_err(|e| {
                        ApiError::new(ErrorCode::Io, format!("reading {}: {e}", path.display()))
                            .hint("Check the path and that the file is UTF-8 text.")
                    })?
                };
            }
            if let Some(n) = name {
                draft.name = n;
            }
            let a = agents.update(&id, draft, Some(current.version))?;
            if out.json {
                print_json(&a);
            } else {
                println!("saved {} (version {}, revision {})", a.id, a.version, a.latest_revision);
            }
        }
    }
    Ok(())
}

fn bridge(api: Api, ui_dir: Option<PathBuf>, port: u16) -> Result<(), ApiError> {
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("starting the runtime: {e}")))?;
    rt.block_on(async move {
        let (bridge, server) = awf_bridge::bind(Arc::new(api), ui_dir, port).await.map_err(|e| {
            ApiError::new(ErrorCode::Io, format!("binding 127.0.0.1:{port}: {e}"))
                .hint("Choose another --port, or 0 for any free port.")
        })?;
        println!("AWF_BRIDGE_URL={}", bridge.url());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tokio::select! {
            r = server => r.map_err(|e| ApiError::new(ErrorCode::Io, format!("bridge stopped: {e}"))),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}
