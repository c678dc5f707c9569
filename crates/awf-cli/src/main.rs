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
    /// Create a platform account: `signup code` texts a code, `signup create` registers.
    #[command(subcommand)]
    Signup(SignupCmd),
    /// Log in to the platform (tokens go to the OS keyring).
    Login {
        /// Account name or phone.
        #[arg(long)]
        login: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        policy: AcceptPolicyFlag,
    },
    /// Show the signed-in account (asks the platform; falls back to the cached copy offline).
    Whoami {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Log out: the platform revokes the session; tokens are deleted from the keyring.
    Logout,
    /// Consent per purpose: list, grant, withdraw, and verify the ledger.
    #[command(subcommand)]
    Consent(ConsentCmd),
    /// The transmission log: every request to the platform, sent, refused or failed.
    Log {
        /// Only this purpose (e.g. account_operation, usage_analytics).
        #[arg(long)]
        purpose: Option<String>,
        /// Only this outcome: sent, refused or failed.
        #[arg(long)]
        outcome: Option<String>,
        /// At most this many records (newest first).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Plugins: import OpenAPI/Swagger documents, list and show them.
    #[command(subcommand)]
    Plugin(PluginCmd),
    /// Datasets: import txt, md, csv, json or jsonl files (scanned for PII), list them.
    #[command(subcommand)]
    Dataset(DatasetCmd),
    /// Tables: import CSV files (types inferred, PII scanned), list them.
    #[command(subcommand)]
    Table(TableCmd),
    /// Search agents, plugins and their tools, datasets and tables.
    Search {
        query: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Portable agent bundles: export, import, validate.
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// Export all your data to one ZIP (local and platform-held), or verify an export.
    Export(ExportArgs),
    /// Cancel your platform account (irreversible): the platform deletes everything it holds,
    /// then this profile is crypto-shredded. Offline, the profile is locked at once and the
    /// cancellation completes when the platform can be reached.
    CancelAccount(CancelArgs),
    /// Delete everything the platform holds for your account but keep the account; the
    /// platform's signed receipt goes into the deletion ledger.
    Delete {
        /// Everything the platform holds (the account, its sessions and consent receipts stay).
        #[arg(long, required = true)]
        platform_data: bool,
        /// Confirm without asking.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// The deletion ledger: every deletion with the platform's receipt; exits 1 if its chain
    /// does not hold.
    Deletions {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Rights requests and complaints (access, correction, deletion, portability, withdrawal,
    /// complaint): send one, follow their status.
    #[command(subcommand)]
    Requests(RequestsCmd),
    /// Sync consented data with the platform: push queued changes, pull other devices' changes.
    /// Without a subcommand: one pass with `--once`, else passes until nothing is due.
    Sync(SyncArgs),
    /// Sync conflicts: list them, or settle one (keep mine, keep theirs, or merged text).
    #[command(subcommand)]
    Conflicts(ConflictsCmd),
}

#[derive(Args)]
struct SyncArgs {
    #[command(subcommand)]
    cmd: Option<SyncCmd>,
    /// One pass, then exit.
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    out: JsonFlag,
}

#[derive(Subcommand)]
enum SyncCmd {
    /// Overall status, every item not synced with its reason, and the recent history.
    Status {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Attest that the people whose personal information a dataset or table holds consented to
    /// its hosting (policy §1.5 4.4): recorded in the consent ledger and sent with the item.
    Attest {
        /// The dataset's or table's id.
        dataset: String,
        /// Confirm the attestation.
        #[arg(long)]
        yes: bool,
    },
    /// Turn sync on or off for one agent.
    Agent {
        id: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Turn sync on or off for one item: an agent, plugin, dataset or table.
    Item {
        #[arg(value_parser = ["agent", "plugin", "dataset", "table"])]
        kind: String,
        id: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Subcommand)]
enum ConflictsCmd {
    /// Every conflict with the three instructions texts' merge.
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Settle the conflict of one item (an agent, plugin or table).
    Resolve {
        /// The item's id.
        id: String,
        /// Send this device's version over the platform's.
        #[arg(long, group = "choice")]
        mine: bool,
        /// Take the platform's version here.
        #[arg(long, group = "choice")]
        theirs: bool,
        /// Use the instructions text in FILE (`-` for stdin) over the platform's version.
        #[arg(long, group = "choice", value_name = "FILE")]
        merged: Option<PathBuf>,
    },
}

#[derive(Args)]
struct CancelArgs {
    /// The account name, typed exactly.
    #[arg(long, required_unless_present = "status")]
    account_name: Option<String>,
    #[command(flatten)]
    password: PasswordArgs,
    /// Confirm that cancellation is irreversible (required).
    #[arg(long)]
    yes: bool,
    /// Save the platform's signed receipt to FILE when the cancellation completes.
    #[arg(long, value_name = "FILE")]
    receipt: Option<PathBuf>,
    /// Only show where a cancellation stands (a pending one is retried).
    #[arg(long, conflicts_with_all = ["account_name", "yes"])]
    status: bool,
    #[command(flatten)]
    out: JsonFlag,
}

#[derive(Subcommand)]
enum RequestsCmd {
    /// Your requests with their status and answers.
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Send a request or complaint.
    New {
        /// access, correction, deletion, portability, withdrawal or complaint.
        #[arg(long)]
        category: String,
        #[arg(long)]
        text: String,
        /// Attach a file (up to 5, 2 MiB each).
        #[arg(long, value_name = "FILE")]
        attach: Vec<PathBuf>,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Args)]
struct ExportArgs {
    /// Write the export to FILE (replaced if it exists; progress on standard error).
    #[arg(long, value_name = "FILE", required_unless_present = "verify", conflicts_with = "verify")]
    out: Option<PathBuf>,
    /// Check FILE against its manifest: every missing, extra, resized, changed or damaged file is
    /// printed, and the exit status is 1 if there is any.
    #[arg(long, value_name = "FILE")]
    verify: Option<PathBuf>,
    /// Leave out the data the platform holds for your account (the platform is not asked).
    #[arg(long)]
    no_platform: bool,
    #[command(flatten)]
    json: JsonFlag,
}

#[derive(Subcommand)]
enum PluginCmd {
    /// Import an OpenAPI 3.x or Swagger 2.0 document (JSON or YAML).
    Import {
        file: PathBuf,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List plugins.
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Show one plugin with its tools.
    Show {
        id: String,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Store the plugin's secret (API key, token or client secret) in the OS keyring, read
    /// from stdin; `--clear` removes it.
    Secret {
        id: String,
        #[arg(long)]
        clear: bool,
    },
    /// Delete a plugin and its secret, and detach it from every agent.
    Delete {
        id: String,
        /// Confirm without asking.
        #[arg(long, required = true)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum DatasetCmd {
    /// Import a dataset file.
    Import {
        file: PathBuf,
        /// Make the file the new content of this dataset (same id, name and chunking).
        #[arg(long, value_name = "ID")]
        replace: Option<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Write a dataset's stored text (UTF-8) to a file.
    Text {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Delete a dataset (and its text).
    Delete { id: String },
    /// List datasets.
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Subcommand)]
enum TableCmd {
    /// Create a table from a CSV file.
    Import {
        file: PathBuf,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// List tables.
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// A table's rows (at most 1000 from OFFSET).
    Rows {
        id: String,
        #[arg(long, default_value_t = 0)]
        offset: u32,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Set one cell: ROW counts from 1, COLUMN is the column's name; the value is checked
    /// against the column's type (empty: no value).
    SetCell { id: String, row: u64, column: String, value: String },
    /// Delete a table and detach it from every agent.
    Delete {
        id: String,
        /// Confirm without asking.
        #[arg(long, required = true)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum BundleCmd {
    /// Write an agent's bundle (agent, history, plugins without secrets, datasets, tables).
    Export {
        agent_id: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Import a bundle (items with the same ids are replaced; nothing is duplicated).
    Import {
        file: PathBuf,
        /// Check only: report every problem and write nothing.
        #[arg(long)]
        validate_only: bool,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Check a bundle and report every problem; writes nothing. Exits 1 when invalid.
    Validate {
        file: PathBuf,
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Subcommand)]
enum ConsentCmd {
    /// Every purpose with its clause, whether it is required, and its state.
    List {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Grant a purpose (e.g. usage_analytics).
    Grant { purpose: String },
    /// Withdraw a purpose: its queue is purged and the platform is asked to delete its data.
    Withdraw { purpose: String },
    /// Walk the ledger's hash chain; exits 1 naming the entry when it was tampered with.
    Verify {
        #[command(flatten)]
        out: JsonFlag,
    },
    /// The ledger, oldest first.
    Ledger {
        #[command(flatten)]
        out: JsonFlag,
    },
}

#[derive(Args)]
struct PasswordArgs {
    /// Read the account password from standard input (else AWF_PLATFORM_PASSWORD).
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Args)]
struct AcceptPolicyFlag {
    /// Accept the privacy policy shipped with this build (grants the account-operation purpose).
    #[arg(long)]
    accept_policy: bool,
}

#[derive(Subcommand)]
enum SignupCmd {
    /// Ask the platform to text a sign-up code to a phone.
    Code {
        #[arg(long)]
        phone: String,
        #[command(flatten)]
        policy: AcceptPolicyFlag,
    },
    /// Register with the code received.
    Create {
        #[arg(long)]
        account_name: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        sms_code: String,
        /// YYYY-MM-DD. Under 18 needs the guardian options.
        #[arg(long)]
        date_of_birth: String,
        #[arg(long)]
        guardian_name: Option<String>,
        #[arg(long)]
        guardian_phone: Option<String>,
        /// The guardian confirms they consent (required under 18).
        #[arg(long)]
        guardian_consents: bool,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        policy: AcceptPolicyFlag,
        #[command(flatten)]
        out: JsonFlag,
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
        /// Attach a plugin, dataset or table by id (repeatable).
        #[arg(long, value_name = "ID")]
        attach: Vec<String>,
        /// Detach a plugin, dataset or table by id (repeatable).
        #[arg(long, value_name = "ID")]
        detach: Vec<String>,
        #[command(flatten)]
        out: JsonFlag,
    },
    /// Delete an agent and its history here; once synced, at the platform too (its receipt goes
    /// into the deletion ledger).
    Delete {
        id: String,
        /// Confirm without asking.
        #[arg(long)]
        yes: bool,
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
    if let Command::Export(ExportArgs { verify: Some(file), json, .. }) = &cli.command {
        // Verifying needs no profile.
        return export_verify(file, json.json);
    }
    let api = open_api(&cli)?;
    // While a cancellation is pending the profile is locked: only the cancellation and export
    // still run (the desktop app and the bridge enforce the same in the command surface).
    if !matches!(cli.command, Command::CancelAccount(_) | Command::Export(_) | Command::Bridge { .. })
        && api.is_locked()
    {
        return Err(awf_api::rights::locked());
    }
    match cli.command {
        Command::Agents(cmd) => agents(&api, cmd),
        Command::Bridge { ui_dir, port } => bridge(api, ui_dir, port),
        Command::Signup(cmd) => signup(&api, cmd, cli.passphrase_stdin),
        Command::Login { login, password, policy } => {
            accept_policy(&api, &policy)?;
            let password = read_password(&password, cli.passphrase_stdin)?;
            let a = api.login(awf_api::dto::LoginForm { login, password })?;
            println!("Logged in as {} ({}).", a.account_name, a.account_id);
            Ok(())
        }
        Command::Whoami { out } => whoami(&api, out.json),
        Command::Logout => {
            let status = api.logout()?;
            if !status.signed_in {
                println!("Logged out; the tokens were deleted from this machine.");
            }
            Ok(())
        }
        Command::Log { purpose, outcome, limit, out } => log(&api, purpose, outcome, limit, out.json),
        Command::Consent(cmd) => consent(&api, cmd),
        Command::Plugin(cmd) => plugin(&api, cmd),
        Command::Dataset(cmd) => dataset(&api, cmd),
        Command::Table(cmd) => table(&api, cmd),
        Command::Search { query, out } => {
            let hits = api.call("search", serde_json::json!({ "query": query, "limit": 100 }))?;
            api.call("search_record", serde_json::json!({ "query": query, "limit": null }))?;
            if out.json {
                print_json(&hits);
            } else {
                for h in hits.as_array().into_iter().flatten() {
                    println!(
                        "{:<8} {:<28} {:<40} {}",
                        h["kind"].as_str().unwrap_or(""),
                        h["id"].as_str().unwrap_or(""),
                        h["title"].as_str().unwrap_or(""),
                        h["snippet"].as_str().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
        Command::Bundle(cmd) => bundle(&api, cmd),
        Command::Export(args) => export(&api, args),
        Command::CancelAccount(args) => cancel_account(&api, args, cli.passphrase_stdin),
        Command::Delete { platform_data: _, yes, out } => {
            if !yes {
                return Err(usage("Deleting everything the platform holds cannot be undone: pass --yes to confirm."));
            }
            let entry = api.erase_platform_data()?;
            if out.json {
                print_json(&entry);
            } else {
                let r = entry.platform.as_ref();
                println!("Deleted everything the platform held (the account is kept).");
                if let Some(r) = r {
                    for (category, n) in &r.deleted {
                        println!("  {category:<28} {n}");
                    }
                    println!(
                        "Receipt {} (signed by key {}), entry {} of the deletion ledger.",
                        r.receipt_id, r.key_id, entry.seq
                    );
                }
            }
            Ok(())
        }
        Command::Deletions { out } => {
            let view = api.deletions()?;
            if out.json {
                print_json(&view);
            } else {
                for e in &view.entries {
                    let receipt = e.platform.as_ref().map(|r| r.receipt_id.as_str()).unwrap_or("-");
                    println!("{:>4}  {}  {}  receipt {}", e.seq, e.at, e.what, receipt);
                }
                if view.entries.is_empty() {
                    println!("No deletions yet.");
                }
            }
            match view.problem {
                None => Ok(()),
                Some(p) => {
                    Err(ApiError::new(ErrorCode::StoreCorrupt, format!("The deletion ledger does not hold: {p}.")))
                }
            }
        }
        Command::Requests(cmd) => requests(&api, cmd),
        Command::Sync(args) => sync(&api, args),
        Command::Conflicts(cmd) => conflicts(&api, cmd),
    }
}

/// The most passes `awf sync` makes without `--once` (each drains what is due, then it waits for
/// the earliest retry).
const SYNC_PASSES: usize = 20;

/// `awf sync [--once] [status | agent ID on|off]`.
fn sync(api: &Api, args: SyncArgs) -> Result<(), ApiError> {
    use awf_core::sync::ItemKind;
    match args.cmd {
        Some(SyncCmd::Status { out }) => {
            let st = api.sync_status()?;
            if out.json {
                print_json(&st);
                return Ok(());
            }
            let o = &st.overview;
            println!(
                "{} pending, {} conflict(s), {} error(s), {} held back, {} synced; feed cursor {}.",
                o.pending, o.conflicts, o.errors, o.held_back, o.synced, o.cursor
            );
            // Uploads in progress of this process, in MiB as the UI shows them (the registry is
            // in-process: an upload another process runs is not seen here; a cancelled one is its
            // item's reason below).
            for u in api.sync_uploads() {
                println!(
                    "  uploading {} {} ({}): {:.1} of {:.1} MB{}",
                    u.kind.as_str(),
                    u.id,
                    u.name,
                    u.sent as f64 / 1048576.0,
                    u.total as f64 / 1048576.0,
                    if u.cancelling { ", cancelling" } else { "" }
                );
            }
            for i in &st.items {
                let status = serde_json::to_value(i.status).expect("statuses serialise");
                println!(
                    "  {:<8} {:<28} {:<10} {}",
                    i.kind.as_str(),
                    i.id,
                    status.as_str().unwrap_or(""),
                    i.reason.as_deref().unwrap_or("")
                );
            }
            for h in st.history.iter().take(10) {
                println!("  {}  {:<13} {} {}  {}", h.at, h.event, h.kind.as_str(), h.id, h.detail);
            }
            Ok(())
        }
        Some(SyncCmd::Attest { dataset, yes }) => {
            if !yes {
                return Err(usage(
                    "Attest only if the people whose personal information the dataset holds consented to its hosting: pass --yes to confirm.",
                ));
            }
            let kind = if api.profile()?.tables().get(&dataset).is_ok() { ItemKind::Table } else { ItemKind::Dataset };
            api.sync_attest(kind, &dataset)?;
            println!("Attestation recorded in the consent ledger; {} {dataset} syncs on the next pass.", kind.as_str());
            Ok(())
        }
        Some(SyncCmd::Item { kind, id, state }) => {
            let kind = ItemKind::parse(&kind).ok_or_else(|| usage("KIND is agent, plugin, dataset or table."))?;
            api.sync_item_set(kind, &id, state == "on")?;
            println!("Sync is {state} for {} {id}.", kind.as_str());
            Ok(())
        }
        Some(SyncCmd::Agent { id, state }) => {
            let profile = api.profile()?;
            profile.agents().get(&id).map_err(ApiError::from)?;
            profile.sync().set_enabled(ItemKind::Agent, &id, state == "on")?;
            println!("Sync is {state} for agent {id}.");
            Ok(())
        }
        None => {
            let mut total = awf_api::sync::SyncReport::default();
            for pass in 0..SYNC_PASSES {
                let r = api.sync_once()?;
                total.pushed += r.pushed;
                total.deleted += r.deleted;
                total.pulled += r.pulled;
                total.merged += r.merged;
                total.conflicts += r.conflicts;
                total.refused += r.refused;
                total.retrying += r.retrying;
                total.pending = r.pending;
                total.blocked = r.blocked.clone();
                total.offline = r.offline;
                let progressed = r.pushed + r.deleted + r.pulled + r.merged > 0;
                let stuck = r.blocked.is_some() && !progressed && !r.offline;
                if args.once || stuck || (r.pending == 0 && r.blocked.is_none()) || pass + 1 == SYNC_PASSES {
                    break;
                }
                if r.offline {
                    // The platform did not answer: wait a little, as the engine's own retries do.
                    std::thread::sleep(std::time::Duration::from_millis(200 * (pass as u64 + 1)));
                    continue;
                }
                let next = api.profile()?.sync().next_due()?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0);
                match next {
                    Some(at) if at > now => {
                        std::thread::sleep(std::time::Duration::from_millis((at - now).min(60_000)))
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            if args.out.json {
                print_json(&total);
            } else {
                println!(
                    "Pushed {}, deleted {}, pulled {}, merged {}; {} conflict(s), {} refused, {} still pending.",
                    total.pushed,
                    total.deleted,
                    total.pulled,
                    total.merged,
                    total.conflicts,
                    total.refused,
                    total.pending
                );
                if let Some(why) = &total.blocked {
                    println!("Not synced: {why}");
                }
            }
            Ok(())
        }
    }
}

/// `awf conflicts list|resolve`.
fn conflicts(api: &Api, cmd: ConflictsCmd) -> Result<(), ApiError> {
    use awf_api::sync::Resolution;
    use awf_core::sync::ItemKind;
    match cmd {
        ConflictsCmd::List { out } => {
            let list = api.sync_conflicts()?;
            if out.json {
                print_json(&list);
            } else if list.is_empty() {
                println!("No conflicts.");
            } else {
                for c in &list {
                    let merge = match (c.kind, c.merge_clean) {
                        (ItemKind::Agent, true) => "; the instructions merge cleanly",
                        (ItemKind::Agent, false) => "; the instructions need a hand merge",
                        _ => "; keep mine or theirs",
                    };
                    println!("{} {}  {}  {}{merge}", c.kind.as_str(), c.id, c.name, c.reason);
                }
            }
            Ok(())
        }
        ConflictsCmd::Resolve { id, mine, theirs, merged } => {
            let resolution = match (mine, theirs, merged) {
                (true, _, _) => Resolution::KeepMine,
                (_, true, _) => Resolution::KeepTheirs,
                (_, _, Some(file)) => {
                    let text = if file.as_os_str() == "-" {
                        let mut s = String::new();
                        std::io::stdin()
                            .read_to_string(&mut s)
                            .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading stdin: {e}")))?;
                        s
                    } else {
                        std::fs::read_to_string(&file)
                            .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading {}: {e}", file.display())))?
                    };
                    Resolution::Merged { instructions: text }
                }
                _ => return Err(usage("Choose one of --mine, --theirs or --merged FILE.")),
            };
            let kind = api.sync_conflicts()?.into_iter().find(|c| c.id == id).map_or(ItemKind::Agent, |c| c.kind);
            api.sync_resolve(kind, &id, resolution)?;
            println!("Conflict of {} {id} settled; run `awf sync` to send it.", kind.as_str());
            Ok(())
        }
    }
}

/// `awf cancel-account`.
fn cancel_account(api: &Api, args: CancelArgs, stdin_taken: bool) -> Result<(), ApiError> {
    use awf_api::rights::CancellationStatus as S;
    let status = if args.status {
        api.cancellation_status()?
    } else {
        let password = read_password(&args.password, stdin_taken)?;
        api.cancel_account(awf_api::rights::CancelAccountForm {
            password,
            account_name: args.account_name.unwrap_or_default(),
            confirm_irreversible: args.yes,
        })?
    };
    if let (S::Completed { receipt, .. }, Some(file)) = (&status, &args.receipt) {
        let json = serde_json::to_vec_pretty(receipt).expect("receipts serialise");
        std::fs::write(file, json)
            .map_err(|e| ApiError::new(ErrorCode::Io, format!("saving the receipt to {}: {e}", file.display())))?;
    }
    if args.out.json {
        print_json(&status);
        return Ok(());
    }
    match &status {
        S::None => println!("No cancellation was asked."),
        S::Pending { last_error, attempts, .. } => {
            println!("The account is being cancelled: this profile is locked.");
            println!("The platform has not confirmed yet ({attempts} attempt(s)); it is asked again whenever");
            println!("Studio or `awf cancel-account --status` runs with the platform reachable.");
            if let Some(e) = last_error {
                println!("Last answer: {e}");
            }
        }
        S::Completed { receipt, receipt_verified, verify_error, shred } => {
            println!("The account was cancelled and everything the platform held deleted.");
            println!("Receipt {} ({}).", receipt.receipt_id, receipt.completed_at);
            match (receipt_verified, verify_error) {
                (true, _) => println!("The receipt's signature verifies with the platform's key {}.", receipt.key_id),
                (false, e) => println!("WARNING: the receipt does not verify: {}", e.as_deref().unwrap_or("unknown")),
            }
            println!(
                "This profile was crypto-shredded: key destroyed after {} µs, {} keyring entries and {} files removed.",
                shred.key_destroyed_after_us, shred.keyring_entries_deleted, shred.files_removed
            );
            if let Some(f) = &args.receipt {
                println!("Receipt saved to {}.", f.display());
            }
        }
    }
    Ok(())
}

/// `awf requests list|new`.
fn requests(api: &Api, cmd: RequestsCmd) -> Result<(), ApiError> {
    match cmd {
        RequestsCmd::List { out } => {
            let list = api.rights_requests()?;
            if out.json {
                print_json(&list);
            } else if list.is_empty() {
                println!("No requests.");
            } else {
                for r in &list {
                    let status = serde_json::to_value(r.status).ok().and_then(|v| v.as_str().map(String::from));
                    let category = serde_json::to_value(r.category).ok().and_then(|v| v.as_str().map(String::from));
                    println!(
                        "{}  {:<12} {:<9} {}",
                        r.id,
                        category.unwrap_or_default(),
                        status.unwrap_or_default(),
                        r.created_at
                    );
                    if let Some(a) = &r.answer {
                        println!("    answer: {a}");
                    }
                }
            }
            Ok(())
        }
        RequestsCmd::New { category, text, attach, out } => {
            use base64::Engine;
            let mut attachments = Vec::new();
            for path in &attach {
                let bytes = std::fs::read(path)
                    .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading {}: {e}", path.display())))?;
                attachments.push(serde_json::json!({
                    "name": path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    "media_type": media_type(path),
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
                }));
            }
            let body = serde_json::json!({ "category": category, "text": text, "attachments": attachments });
            let request: awf_api::rights::NewRightsRequest = serde_json::from_value(body).map_err(|e| {
                usage(format!("{e}"))
                    .hint("Categories: access, correction, deletion, portability, withdrawal, complaint.")
            })?;
            let r = api.new_rights_request(request)?;
            if out.json {
                print_json(&r);
            } else {
                println!("Sent request {}; follow it with `awf requests list`.", r.id);
            }
            Ok(())
        }
    }
}

fn media_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("txt" | "md" | "log") => "text/plain",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// `awf export --out FILE`: progress on standard error; Ctrl-C cancels and leaves no file.
fn export(api: &Api, args: ExportArgs) -> Result<(), ApiError> {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};
    let out = args.out.ok_or_else(|| usage("Give --out FILE or --verify FILE."))?;
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        // Ctrl-C asks the export to stop, so its temporary file is removed.
        std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        });
    }
    let tty = std::io::stderr().is_terminal();
    let (mut last_category, mut last_pct) = (String::new(), u64::MAX);
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut progress = |p: &awf_api::export::ExportProgress| {
        let pct = (p.bytes_written * 100).checked_div(p.estimated_total).unwrap_or(0);
        if p.category == last_category && (pct / 5 == last_pct / 5 || (!tty && pct / 10 == last_pct / 10)) {
            return;
        }
        let line = format!(
            "exporting {:>3}%  {:.1} of ~{:.1} MB  {}",
            pct,
            mb(p.bytes_written),
            mb(p.estimated_total),
            p.category
        );
        if tty {
            eprint!("\r{line:<72}");
        } else {
            eprintln!("{line}");
        }
        last_category = p.category.clone();
        last_pct = pct;
    };
    let path = std::path::absolute(&out).unwrap_or(out);
    let outcome = api.export_run(&path.display().to_string(), !args.no_platform, &cancel, &mut progress);
    if tty {
        eprintln!();
    }
    match outcome? {
        awf_api::export::ExportOutcome::Cancelled => {
            eprintln!("Export cancelled: no file was written.");
            std::process::exit(130);
        }
        awf_api::export::ExportOutcome::Done(s) => {
            if args.json.json {
                print_json(&s);
            } else {
                for c in &s.categories {
                    let note = c.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
                    println!("{:<24} {:>8}{note}", c.name, c.count);
                }
                println!("Exported {} files ({} bytes; ZIP {} bytes) to {}.", s.files, s.bytes, s.zip_bytes, s.path);
                println!("Check it any time with: awf export --verify {}", s.path);
            }
            Ok(())
        }
    }
}

/// `awf export --verify FILE`: every problem printed; exit 1 if there is any.
fn export_verify(file: &std::path::Path, json: bool) -> Result<(), ApiError> {
    let report = awf_core::export::verify(file).map_err(|e| match e {
        awf_core::export::ExportError::Core(c) => ApiError::from(c),
        other => awf_api::export::export_error(other),
    })?;
    if json {
        print_json(&report);
    } else {
        for p in &report.problems {
            let kind = serde_json::to_value(p.kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            println!("problem[{kind}]: {}: {}", p.path, p.message);
        }
        if report.ok {
            println!(
                "OK: {} files ({} bytes) match manifest.json (profile {}, exported {}, format version {}).",
                report.files_checked, report.bytes_checked, report.profile_id, report.created_at, report.format_version
            );
        }
    }
    if report.ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidFile,
            format!("{} does not match its manifest: {} problem(s)", file.display(), report.problems.len()),
        )
        .hint("The file was changed or damaged after it was written; export again from Studio."))
    }
}

/// A file argument as the command surface takes it (by path).
fn file_input(path: &std::path::Path) -> serde_json::Value {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    serde_json::json!({ "name": name, "path": abs.display().to_string() })
}

fn print_pii(v: &serde_json::Value) {
    let total = v["pii"]["total"].as_u64().unwrap_or(0);
    if total == 0 {
        println!("PII: none found.");
        return;
    }
    let kinds: Vec<String> =
        v["pii"]["by_kind"].as_object().into_iter().flatten().map(|(k, n)| format!("{k} {n}")).collect();
    println!("PII: {total} finding(s): {}", kinds.join(", "));
    for f in v["pii"]["findings"].as_array().into_iter().flatten().take(20) {
        println!(
            "  {:<12} {:<28} {}",
            f["kind"].as_str().unwrap_or(""),
            f["location"].as_str().unwrap_or(""),
            f["masked"].as_str().unwrap_or("")
        );
    }
}

fn plugin(api: &Api, cmd: PluginCmd) -> Result<(), ApiError> {
    match cmd {
        PluginCmd::Import { file, out } => {
            let p = api.call("plugin_import", file_input(&file))?;
            if out.json {
                print_json(&p);
            } else {
                println!(
                    "Imported plugin {} ({}) with {} tool(s).",
                    p["name"].as_str().unwrap_or(""),
                    p["id"].as_str().unwrap_or(""),
                    p["spec"]["tools"].as_array().map_or(0, Vec::len)
                );
                for t in p["spec"]["tools"].as_array().into_iter().flatten() {
                    println!(
                        "  {:<32} {:<7} {}",
                        t["name"].as_str().unwrap_or(""),
                        t["method"].as_str().unwrap_or(""),
                        t["path"].as_str().unwrap_or("")
                    );
                }
            }
        }
        PluginCmd::List { out } => {
            let list = api.call("plugins_list", serde_json::Value::Null)?;
            if out.json {
                print_json(&list);
            } else {
                for p in list.as_array().into_iter().flatten() {
                    println!(
                        "{:<28} {:<32} {:>3} tool(s)  auth {}",
                        p["id"].as_str().unwrap_or(""),
                        p["name"].as_str().unwrap_or(""),
                        p["tool_count"],
                        p["auth"].as_str().unwrap_or("")
                    );
                }
            }
        }
        PluginCmd::Secret { id, clear } => {
            let secret = if clear {
                None
            } else {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading stdin: {e}")))?;
                Some(s.trim_end_matches(['\r', '\n']).to_string())
            };
            let set = secret.is_some();
            api.call("plugin_set_secret", serde_json::json!({ "id": id, "secret": secret }))?;
            println!(
                "{}",
                if set { "Secret stored in the OS keyring." } else { "Secret removed from the OS keyring." }
            );
        }
        PluginCmd::Delete { id, yes: _ } => {
            api.call("plugin_delete", serde_json::json!({ "id": id }))?;
            println!("Deleted plugin {id} and its secret.");
        }
        PluginCmd::Show { id, out } => {
            let p = api.call("plugin_get", serde_json::json!({ "id": id }))?;
            print_json_or(&p, out.json, || {
                println!("{} — {}", p["name"].as_str().unwrap_or(""), p["base_url"].as_str().unwrap_or(""));
                for t in p["spec"]["tools"].as_array().into_iter().flatten() {
                    println!(
                        "  {:<32} {:<7} {}",
                        t["name"].as_str().unwrap_or(""),
                        t["method"].as_str().unwrap_or(""),
                        t["path"].as_str().unwrap_or("")
                    );
                }
            });
        }
    }
    Ok(())
}

fn print_json_or(v: &serde_json::Value, json: bool, text: impl FnOnce()) {
    if json {
        print_json(v)
    } else {
        text()
    }
}

fn dataset(api: &Api, cmd: DatasetCmd) -> Result<(), ApiError> {
    match cmd {
        DatasetCmd::Import { file, replace: Some(id), out } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading {}: {e}", file.display())))?;
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let d = match api.profile()?.datasets().replace(&id, &name, &bytes, &mut |_, _| {}) {
                Ok(d) => d,
                Err(awf_core::datasets::DatasetImportError::Store(e)) => return Err(e.into()),
                Err(e) => return Err(ApiError::new(ErrorCode::InvalidFile, e.to_string())),
            };
            let d = serde_json::to_value(&d).expect("a dataset serialises");
            print_json_or(&d, out.json, || {
                println!("Replaced the text of dataset {id}: {} bytes, {} chunk(s).", d["bytes"], d["chunk_count"]);
            });
        }
        DatasetCmd::Text { id, out } => {
            use std::io::Write;
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(&out)
                    .map_err(|e| ApiError::new(ErrorCode::Io, format!("creating {}: {e}", out.display())))?,
            );
            api.profile()?.datasets().for_each_piece(&id, |piece| {
                f.write_all(piece).map_err(|e| awf_core::CoreError::io("writing the text", &out, e))
            })?;
            f.flush().map_err(|e| ApiError::new(ErrorCode::Io, format!("writing {}: {e}", out.display())))?;
        }
        DatasetCmd::Delete { id } => {
            api.profile()?.datasets().delete(&id)?;
            println!("Deleted dataset {id}.");
        }
        DatasetCmd::Import { file, replace: None, out } => {
            let d = api.call(
                "dataset_import",
                serde_json::json!({ "file": file_input(&file), "chunking": null, "job": null }),
            )?;
            print_json_or(&d, out.json, || {
                println!(
                    "Imported dataset {} ({}): {} bytes, {} chunk(s).",
                    d["name"].as_str().unwrap_or(""),
                    d["id"].as_str().unwrap_or(""),
                    d["bytes"],
                    d["chunk_count"]
                );
                print_pii(&d);
            });
        }
        DatasetCmd::List { out } => {
            let list = api.call("datasets_list", serde_json::Value::Null)?;
            print_json_or(&list, out.json, || {
                for d in list.as_array().into_iter().flatten() {
                    println!(
                        "{:<28} {:<32} {:>10} bytes  PII {}",
                        d["id"].as_str().unwrap_or(""),
                        d["name"].as_str().unwrap_or(""),
                        d["bytes"],
                        d["pii"]["total"]
                    );
                }
            });
        }
    }
    Ok(())
}

fn table(api: &Api, cmd: TableCmd) -> Result<(), ApiError> {
    match cmd {
        TableCmd::Import { file, out } => {
            let t = api.call("table_import_csv", serde_json::json!({ "file": file_input(&file), "columns": null }))?;
            print_json_or(&t, out.json, || {
                let cols: Vec<String> = t["columns"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| format!("{} ({})", c["name"].as_str().unwrap_or(""), c["type"].as_str().unwrap_or("")))
                    .collect();
                println!(
                    "Imported table {} ({}): {} row(s); columns: {}",
                    t["name"].as_str().unwrap_or(""),
                    t["id"].as_str().unwrap_or(""),
                    t["row_count"],
                    cols.join(", ")
                );
                print_pii(&t);
            });
        }
        TableCmd::Rows { id, offset, out } => {
            let page = api.call("table_rows", serde_json::json!({ "id": id, "offset": offset, "limit": 1000 }))?;
            print_json_or(&page, out.json, || {
                for r in page["rows"].as_array().into_iter().flatten() {
                    let cells: Vec<String> = r
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| c.as_str().map_or(c.to_string(), str::to_string))
                        .collect();
                    println!("{}", cells.join("\t"));
                }
            });
        }
        TableCmd::SetCell { id, row, column, value } => {
            let profile = api.profile()?;
            let t = profile.tables().get(&id).map_err(ApiError::from)?;
            let col = t
                .columns
                .iter()
                .position(|c| c.name == column)
                .ok_or_else(|| usage(format!("Table {id} has no column `{column}`.")))?;
            let mut rows = profile.tables().all_rows(&id).map_err(ApiError::from)?;
            let cell = rows
                .get_mut(usize::try_from(row).unwrap_or(usize::MAX).wrapping_sub(1))
                .and_then(|r| r.get_mut(col))
                .ok_or_else(|| usage(format!("Table {id} has {} row(s); rows count from 1.", t.row_count)))?;
            *cell = if value.is_empty() { serde_json::Value::Null } else { serde_json::Value::String(value) };
            let updated = api.call(
                "table_replace_rows",
                serde_json::json!({ "id": id, "columns": null, "rows": rows, "expected_version": t.version }),
            )?;
            println!("Table {id} saved (version {}).", updated["version"]);
        }
        TableCmd::Delete { id, yes: _ } => {
            api.call("table_delete", serde_json::json!({ "id": id }))?;
            println!("Deleted table {id}.");
        }
        TableCmd::List { out } => {
            let list = api.call("tables_list", serde_json::Value::Null)?;
            print_json_or(&list, out.json, || {
                for t in list.as_array().into_iter().flatten() {
                    println!(
                        "{:<28} {:<32} {:>8} row(s)  PII {}",
                        t["id"].as_str().unwrap_or(""),
                        t["name"].as_str().unwrap_or(""),
                        t["row_count"],
                        t["pii"]["total"]
                    );
                }
            });
        }
    }
    Ok(())
}

fn bundle(api: &Api, cmd: BundleCmd) -> Result<(), ApiError> {
    match cmd {
        BundleCmd::Export { agent_id, out } => {
            let abs = std::path::absolute(&out).unwrap_or(out);
            let r = api.call(
                "bundle_export",
                serde_json::json!({ "agent_id": agent_id, "path": abs.display().to_string() }),
            )?;
            let s = &r["summary"];
            println!("Wrote {}: agent {}, {} revision(s), {} plugin(s), {} dataset(s), {} table(s). No secrets are included.", abs.display(), s["agent_name"].as_str().unwrap_or(""), s["revisions"], s["plugins"], s["datasets"], s["tables"]);
        }
        BundleCmd::Validate { file, out } | BundleCmd::Import { file, validate_only: true, out } => {
            let c = api.call("bundle_check", file_input(&file))?;
            if out.json {
                print_json(&c);
            } else if c["ok"].as_bool() == Some(true) {
                let s = &c["summary"];
                println!(
                    "Valid bundle (format {}): agent {}, {} revision(s), {} plugin(s), {} dataset(s), {} table(s).{}",
                    s["format_version"],
                    s["agent_name"].as_str().unwrap_or(""),
                    s["revisions"],
                    s["plugins"],
                    s["datasets"],
                    s["tables"],
                    if c["replaces_existing"].as_bool() == Some(true) {
                        " Importing it would replace the agent already here."
                    } else {
                        ""
                    }
                );
            } else {
                for p in c["problems"].as_array().into_iter().flatten() {
                    println!("{}: {}", p["place"].as_str().unwrap_or(""), p["message"].as_str().unwrap_or(""));
                }
            }
            if c["ok"].as_bool() != Some(true) {
                let n = c["problems"].as_array().map_or(0, Vec::len);
                return Err(ApiError::new(
                    ErrorCode::InvalidFile,
                    format!(
                        "{} is not a valid bundle ({n} problem(s) listed above); nothing was written",
                        file.display()
                    ),
                ));
            }
        }
        BundleCmd::Import { file, validate_only: false, out } => {
            let r = api.call("bundle_import", file_input(&file))?;
            print_json_or(&r, out.json, || {
                let verb = if r["created"].as_bool() == Some(true) { "Imported" } else { "Updated" };
                println!(
                    "{verb} agent {} with {} plugin(s), {} dataset(s), {} table(s).",
                    r["agent_id"].as_str().unwrap_or(""),
                    r["plugins"],
                    r["datasets"],
                    r["tables"]
                );
                for n in r["secrets_needed"].as_array().into_iter().flatten() {
                    println!("  plugin {} needs its secret set on this machine", n.as_str().unwrap_or(""));
                }
            });
        }
    }
    Ok(())
}

fn consent(api: &Api, cmd: ConsentCmd) -> Result<(), ApiError> {
    match cmd {
        ConsentCmd::List { out } => {
            let list = api.consent_list()?;
            if out.json {
                print_json(&list);
                return Ok(());
            }
            for v in list {
                let state = if v.info.exempt {
                    "always (nothing personal)"
                } else if v.granted {
                    "granted"
                } else {
                    "off"
                };
                let kind = if v.info.required { "required" } else { "optional" };
                println!("{:<24} §{:<10} {:<9} {}", v.info.purpose.as_str(), v.info.clause, kind, state);
            }
        }
        ConsentCmd::Grant { purpose } | ConsentCmd::Withdraw { purpose } if purpose.is_empty() => {
            return Err(usage("Name a purpose.").field("purpose"));
        }
        ConsentCmd::Grant { purpose } => {
            let purpose = parse_enum("purpose", Some(purpose))?.expect("given");
            let c = api.consent_set(awf_api::dto::ConsentSetRequest {
                purpose,
                granted: true,
                method: Some(awf_core::ConsentMethod::Cli),
            })?;
            println!("Granted {} (ledger entry recorded; {} receipt(s) sent).", purpose.as_str(), c.receipts_sent);
            if let Some(n) = c.note {
                println!("{n}");
            }
        }
        ConsentCmd::Withdraw { purpose } => {
            let purpose = parse_enum("purpose", Some(purpose))?.expect("given");
            let c = api.consent_set(awf_api::dto::ConsentSetRequest {
                purpose,
                granted: false,
                method: Some(awf_core::ConsentMethod::Cli),
            })?;
            println!("Withdrawn {}: {} queued item(s) deleted here.", purpose.as_str(), c.queue_purged);
            if let Some(d) = c.platform_deleted {
                println!("The platform deleted {d} item(s) it held for this purpose.");
            }
            if let Some(n) = c.note {
                println!("{n}");
            }
        }
        ConsentCmd::Verify { out } => {
            let report = api.profile()?.consents().verify()?;
            if out.json {
                print_json(&report);
            } else if report.intact {
                println!("The consent ledger is intact ({} entries).", report.entries);
            }
            if !report.intact {
                return Err(ApiError::new(
                    ErrorCode::StoreCorrupt,
                    format!("The consent ledger was tampered with: {}.", report.message.unwrap_or_default()),
                )
                .hint("The platform keeps a receipt of every entry; compare with `awf consent ledger`."));
            }
        }
        ConsentCmd::Ledger { out } => {
            let view = api.consent_ledger()?;
            if out.json {
                print_json(&view);
                return Ok(());
            }
            for e in view.entries {
                let receipt = if e.seq <= view.acknowledged_upto { "receipt ✓" } else { "receipt pending" };
                println!(
                    "#{:<4} {}  {:<24} {:<9} policy v{}  {}  {}",
                    e.seq,
                    e.at,
                    e.purpose.as_str(),
                    if e.granted { "granted" } else { "withdrawn" },
                    e.policy_version,
                    receipt,
                    &e.hash[..12]
                );
            }
        }
    }
    Ok(())
}

fn accept_policy(api: &Api, flag: &AcceptPolicyFlag) -> Result<(), ApiError> {
    if flag.accept_policy {
        api.accept_policy(awf_api::dto::AcceptPolicyRequest {
            policy_version: api.policy_text().version,
            method: Some(awf_core::ConsentMethod::Cli),
        })?;
    }
    Ok(())
}

fn read_password(args: &PasswordArgs, stdin_taken: bool) -> Result<String, ApiError> {
    if args.password_stdin {
        if stdin_taken {
            return Err(usage("--password-stdin and --passphrase-stdin cannot both read standard input.")
                .hint("Pass the profile passphrase in AWF_PASSPHRASE instead."));
        }
        let mut s = String::new();
        std::io::stdin()
            .read_line(&mut s)
            .map_err(|e| ApiError::new(ErrorCode::Io, format!("reading the password: {e}")))?;
        return Ok(s.trim_end_matches(['\n', '\r']).to_string());
    }
    std::env::var("AWF_PLATFORM_PASSWORD").ok().filter(|p| !p.is_empty()).ok_or_else(|| {
        usage("No password given.")
            .field("password")
            .hint("Pipe it with --password-stdin, or set AWF_PLATFORM_PASSWORD.")
    })
}

fn signup(api: &Api, cmd: SignupCmd, stdin_taken: bool) -> Result<(), ApiError> {
    match cmd {
        SignupCmd::Code { phone, policy } => {
            accept_policy(api, &policy)?;
            let sent = api.request_sms_code(phone)?;
            println!(
                "Code sent; it is valid for {} s. (The development platform prints it in its console.)",
                sent.expires_in_secs
            );
        }
        SignupCmd::Create {
            account_name,
            phone,
            sms_code,
            date_of_birth,
            guardian_name,
            guardian_phone,
            guardian_consents,
            password,
            policy,
            out,
        } => {
            accept_policy(api, &policy)?;
            let password = read_password(&password, stdin_taken)?;
            let guardian = (guardian_name.is_some() || guardian_phone.is_some() || guardian_consents).then(|| {
                awf_api::dto::GuardianConsent {
                    name: guardian_name.unwrap_or_default(),
                    phone: guardian_phone.unwrap_or_default(),
                    attestation: guardian_consents,
                }
            });
            let a = api.register(awf_api::dto::RegisterForm {
                account_name,
                phone,
                password,
                sms_code,
                date_of_birth,
                guardian,
            })?;
            if out.json {
                print_json(&a);
            } else {
                println!("Registered and logged in as {} ({}).", a.account_name, a.account_id);
            }
        }
    }
    Ok(())
}

fn whoami(api: &Api, json: bool) -> Result<(), ApiError> {
    let (account, cached) = match api.platform()?.profile() {
        Ok(a) => (a, false),
        Err(awf_egress::EgressError::Unreachable { .. }) => match api.platform_status()?.account {
            Some(a) => (a, true),
            None => return Err(ApiError::from(awf_egress::EgressError::NotSignedIn)),
        },
        Err(e) => return Err(e.into()),
    };
    if json {
        print_json(&account);
        return Ok(());
    }
    println!("{} ({})", account.account_name, account.account_id);
    println!("phone: {}", account.phone);
    if let Some(n) = &account.display_name {
        println!("display name: {n}");
    }
    if let Some(e) = &account.email {
        println!("email: {e}");
    }
    println!("age band: {:?}; region: {}", account.age_band, account.region);
    if cached {
        println!("(the platform is unreachable: this is the copy saved at the last sign-in)");
    }
    Ok(())
}

fn parse_enum<T: serde::de::DeserializeOwned>(what: &str, value: Option<String>) -> Result<Option<T>, ApiError> {
    value
        .map(|v| {
            serde_json::from_value(serde_json::Value::String(v.clone()))
                .map_err(|_| usage(format!("`{v}` is not a known {what}.")).field(what.to_string()))
        })
        .transpose()
}

fn log(api: &Api, purpose: Option<String>, outcome: Option<String>, limit: u32, json: bool) -> Result<(), ApiError> {
    let q = awf_core::LogQuery {
        purpose: parse_enum("purpose", purpose)?,
        outcome: parse_enum("outcome", outcome)?,
        limit: Some(limit),
        ..Default::default()
    };
    let records = api.profile()?.transmissions().list(&q)?;
    if json {
        print_json(&records);
        return Ok(());
    }
    if records.is_empty() {
        println!("Nothing has been sent.");
    }
    for r in records {
        let status = r.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        println!(
            "{}  {:<7} {:<6} {} {}  {}  ↑{} ↓{}  {}",
            r.at,
            format!("{:?}", r.outcome).to_lowercase(),
            r.method,
            r.host,
            r.path,
            r.purpose.as_str(),
            r.bytes_up,
            r.bytes_down,
            status
        );
        if let Some(e) = r.error {
            println!("    {e}");
        }
    }
    Ok(())
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
        AgentsCmd::Delete { id, yes } => {
            if !yes {
                return Err(usage("Deleting an agent and its history cannot be undone: pass --yes to confirm."));
            }
            let name = agents.get(&id)?.draft.name;
            agents.delete(&id)?;
            println!("Deleted agent {id} ({name}); a synced copy is deleted at the platform on the next sync.");
        }
        AgentsCmd::Edit { id, instructions, instructions_file, name, attach, detach, out } => {
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
            let p = &profile;
            for item in attach {
                if p.plugins().get(&item).is_ok() {
                    if !draft.plugin_ids.contains(&item) {
                        draft.plugin_ids.push(item);
                    }
                } else if p.datasets().get(&item).is_ok() || p.tables().get(&item).is_ok() {
                    if !draft.dataset_ids.contains(&item) {
                        draft.dataset_ids.push(item);
                    }
                } else {
                    return Err(ApiError::new(
                        ErrorCode::NotFound,
                        format!("no plugin, dataset or table has the id `{item}`"),
                    )
                    .field("attach")
                    .hint("List them with `awf plugin list`, `awf dataset list` and `awf table list`."));
                }
            }
            draft.plugin_ids.retain(|i| !detach.contains(i));
            draft.dataset_ids.retain(|i| !detach.contains(i));
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
