//! Seeds a signed-in profile with N agents (N pending sync changes), for the sync benchmark
//! (`cargo xtask bench sync`), and writes the very `PUT /v1/items/agent/{id}` bodies the sync
//! engine will send for them, so the benchmark can count the payload bytes and replay the same
//! bodies as its plain-HTTP baseline:
//!
//! ```sh
//! cargo run -p awf-api --example sync_bench_seed -- --data-dir DIR --count 10000 --out bodies.tsv
//! cargo run -p awf-api --example sync_bench_seed -- --data-dir DIR --wire-after SEQ
//! ```
//!
//! The profile must exist (the benchmark signs it up with `awf signup` first); it is opened as the
//! CLI opens it: with the passphrase in `AWF_PASSPHRASE` when set (passphrase mode), else in
//! keyring mode. Each agent is like the start-up benchmark's (about 1 KiB of
//! instructions). Each line of `--out` is `ID<TAB>CHANGE<TAB>ITEM_BODY_BYTES<TAB>REQUEST_BODY`:
//! the agent's id, its outbox entry's change id (the idempotency key), the length of the item
//! body (`SyncedAgent`, the payload), and the request body (`ItemWrite`: that body, its PII
//! count and its origin `<device>/<change>`), exactly as `Api::sync_once` builds them.
//!
//! With `--wire-after SEQ` it seeds nothing and sums the profile's transmission log (what the
//! egress gate recorded for every request: bytes up with request line, headers and body, bytes
//! down with status line, headers and body) over the records after sequence number SEQ, printed
//! as one line of `key=value` pairs; `last_seq` is the newest record's number (`--wire-after 0`
//! before a run gives the starting point). `awf log` shows at most 5,000 records, too few here.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use awf_core::agents::SyncedAgent;
use awf_core::sync::{ItemKind, SyncOp};
use awf_core::transmissions::Outcome;
use awf_core::{AgentDraft, LogQuery, OpenOptions, Profile, SecretString};
use awf_platform_api::ItemWrite;

const USAGE: &str = "usage: sync_bench_seed --data-dir DIR (--count N --out FILE | --wire-after SEQ)";

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

fn draft(n: usize) -> AgentDraft {
    let topic = TOPICS[n % TOPICS.len()];
    let mut d = AgentDraft::named(format!("Agent {n:05}: {topic}"));
    d.description = format!("Helps with {topic}; seeded for the sync benchmark (#{n}).");
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

fn open(data_dir: &std::path::Path) -> Result<Profile, String> {
    let passphrase = std::env::var("AWF_PASSPHRASE").ok().filter(|p| !p.is_empty()).map(SecretString::new);
    Profile::open(OpenOptions::new(data_dir).passphrase(passphrase))
        .map_err(|e| format!("opening {}: {e}", data_dir.display()))
}

fn run() -> Result<(), String> {
    let (mut data_dir, mut count, mut out, mut wire_after) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            "--count" => count = Some(value()?.parse::<usize>().map_err(|e| format!("--count: {e}"))?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--wire-after" => wire_after = Some(value()?.parse::<u64>().map_err(|e| format!("--wire-after: {e}"))?),
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let Some(data_dir) = data_dir else { return Err(USAGE.into()) };
    if let Some(after) = wire_after {
        return wire(&data_dir, after);
    }
    let (Some(count), Some(out)) = (count, out) else { return Err(USAGE.into()) };
    let started = Instant::now();
    let profile = open(&data_dir)?;
    for n in 1..=count {
        profile.agents().create(draft(n)).map_err(|e| format!("creating agent {n}: {e}"))?;
    }
    let seeded = started.elapsed();
    let device = profile.installation_id().map_err(|e| e.to_string())?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?);
    let mut lines = 0;
    for entry in profile.sync().outbox().map_err(|e| e.to_string())? {
        if entry.kind != ItemKind::Agent || entry.op != SyncOp::Upsert || entry.parked {
            continue;
        }
        let agent = profile.agents().get(&entry.id).map_err(|e| e.to_string())?;
        let body = SyncedAgent::of(&agent).to_value();
        let body_bytes = serde_json::to_vec(&body).expect("serialises").len();
        let write =
            ItemWrite { body, pii_findings: 0, attestation: None, origin: Some(format!("{device}/{}", entry.change)) };
        let request = serde_json::to_string(&write).expect("serialises");
        writeln!(file, "{}\t{}\t{body_bytes}\t{request}", entry.id, entry.change).map_err(|e| e.to_string())?;
        lines += 1;
    }
    file.flush().map_err(|e| e.to_string())?;
    println!(
        "seeded {count} agents in {:.1} s; {lines} pending changes written to {}",
        seeded.as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Sums the transmission log after record `after`.
fn wire(data_dir: &std::path::Path, after: u64) -> Result<(), String> {
    let profile = open(data_dir)?;
    let (mut last_seq, mut requests, mut up, mut down, mut failed, mut refused, mut errors) = (0, 0, 0, 0, 0, 0, 0);
    let (mut puts, mut put_up, mut put_down) = (0u64, 0u64, 0u64);
    let mut before = None;
    'pages: loop {
        let q = LogQuery { before_seq: before, limit: Some(5_000), ..LogQuery::default() };
        let page = profile.transmissions().list(&q).map_err(|e| e.to_string())?;
        let Some(oldest) = page.last().map(|r| r.seq) else { break };
        for r in &page {
            last_seq = last_seq.max(r.seq);
            if r.seq <= after {
                break 'pages;
            }
            requests += 1;
            up += r.bytes_up;
            down += r.bytes_down;
            match r.outcome {
                Outcome::Sent if r.status.is_some_and(|s| s >= 400) => errors += 1,
                Outcome::Sent => {}
                Outcome::Refused => refused += 1,
                Outcome::Failed => failed += 1,
            }
            // Item writes: one `PUT` each, or many in a `POST /v1/items/batch`.
            if (r.method == "PUT" && r.path.starts_with("/v1/items/")) || r.path == "/v1/items/batch" {
                puts += 1;
                put_up += r.bytes_up;
                put_down += r.bytes_down;
            }
        }
        if oldest <= 1 {
            break;
        }
        before = Some(oldest);
    }
    println!(
        "last_seq={last_seq} requests={requests} bytes_up={up} bytes_down={down} item_puts={puts} \
         item_put_bytes_up={put_up} item_put_bytes_down={put_down} status_4xx_5xx={errors} refused={refused} failed={failed}"
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sync_bench_seed: {e}");
            ExitCode::FAILURE
        }
    }
}
