//! Seeds a profile with N agents, for the start-up benchmark (`cargo xtask bench startup`) and
//! for trying the app with a full list:
//!
//! ```sh
//! cargo run -p awf-core --example seed_agents -- --data-dir /tmp/awf-1000 [--count 1000] [--passphrase-env VAR]
//! ```
//!
//! The profile is created when the directory holds none, in keyring mode (its key goes to the OS
//! keyring, like the app's) unless `--passphrase-env VAR` names a variable holding a passphrase.
//! Agents are added to what is already there. Each agent has a name, a description, an icon and
//! about 1 KiB of instructions, like a hand-written one. Prints one line with the count and the
//! time taken; exits non-zero on any store error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use awf_core::{AgentDraft, OpenOptions, Profile, SecretString};

const USAGE: &str = "usage: seed_agents --data-dir DIR [--count N] [--passphrase-env VAR]";

const ICONS: &[&str] = &["🤖", "📚", "🧭", "🛠", "🧪", "📈", "🗂", "💬"];
const TOPICS: &[&str] = &[
    "customer support",
    "invoice checks",
    "meeting notes",
    "travel planning",
    "code review",
    "recipe ideas",
    "legal summaries",
    "sales follow-ups",
    "research digests",
    "onboarding questions",
];

struct Args {
    data_dir: PathBuf,
    count: usize,
    passphrase_env: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut data_dir = None;
    let mut count = 1_000;
    let mut passphrase_env = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            "--count" => count = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--passphrase-env" => passphrase_env = Some(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let data_dir = data_dir.ok_or_else(|| format!("--data-dir is required\n{USAGE}"))?;
    Ok(Args { data_dir, count, passphrase_env })
}

fn draft(n: usize) -> AgentDraft {
    let topic = TOPICS[n % TOPICS.len()];
    let mut d = AgentDraft::named(format!("Agent {n:04}: {topic}"));
    d.icon = ICONS[n % ICONS.len()].to_string();
    d.description = format!("Helps with {topic}; seeded for the start-up benchmark (#{n}).");
    d.instructions = format!(
        "You are a careful assistant for {topic}. Answer in the user's language, politely and briefly. \
         Ask one clarifying question when the request is ambiguous. Never invent facts; say what you do \
         not know and where to look it up. "
    )
    .repeat(3);
    d.opening_message = format!("Hello! What shall we do about {topic} today?");
    d.suggested_questions = vec![format!("What can you do for {topic}?"), "Where do I start?".into()];
    d
}

fn run() -> Result<(), String> {
    let args = parse()?;
    let passphrase = match &args.passphrase_env {
        Some(var) => Some(SecretString::new(std::env::var(var).map_err(|_| format!("{var} is not set"))?)),
        None => None,
    };
    let started = Instant::now();
    let profile = Profile::open(OpenOptions::new(&args.data_dir).passphrase(passphrase))
        .map_err(|e| format!("opening {}: {e}", args.data_dir.display()))?;
    let before = profile.agents().count();
    for n in before..before + args.count {
        profile.agents().create(draft(n + 1)).map_err(|e| format!("creating agent {}: {e}", n + 1))?;
    }
    let total = profile.agents().count();
    println!(
        "seeded {} agents into {} ({total} in the profile) in {:.1} s",
        args.count,
        args.data_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seed_agents: {e}");
            ExitCode::FAILURE
        }
    }
}
