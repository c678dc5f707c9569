//! The rights benchmark's helper (`cargo xtask bench export`): builds the source files and the
//! profile the export is measured on, and crypto-shreds a profile for the shred figure.
//!
//! ```sh
//! cargo run -p awf-core --example rights_bench -- seed --data-dir DIR --src DIR --mb N [--file-mb M]
//! cargo run -p awf-core --example rights_bench -- shred --data-dir DIR
//! ```
//!
//! `seed` writes N MB of plain-text dataset files of M MB each (default 128) into `--src`,
//! imports each into the profile (created in keyring mode when the directory holds none), and
//! prints one JSON line: `{"files":…,"bytes":…,"seconds":…}`. The text is varied prose with
//! numbers in it, so the PII scanner and the sealing do real work, and it holds no finding.
//!
//! `shred` opens the profile and destroys it ([`Profile::shred`]: key first, then keyring
//! entries, then files) and prints the [`ShredReport`](awf_core::shred::ShredReport) as JSON.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use awf_core::{OpenOptions, Profile};
use awf_ingest::dataset::ChunkOptions;

const USAGE: &str =
    "usage: rights_bench seed --data-dir DIR --src DIR --mb N [--file-mb M]\n       rights_bench shred --data-dir DIR";
const MB: usize = 1024 * 1024;

const WORDS: &[&str] = &[
    "agent",
    "dataset",
    "consent",
    "ledger",
    "export",
    "platform",
    "revision",
    "instructions",
    "model",
    "table",
    "plugin",
    "search",
    "privacy",
    "policy",
    "receipt",
    "chunk",
    "answer",
    "question",
    "summary",
    "invoice",
];

/// `bytes` of text: lines of words and small numbers, deterministic for a seed.
fn text(seed: u64, bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 128);
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut line = 0u64;
    while out.len() < bytes {
        line += 1;
        write!(out, "{line:08} ").ok();
        for _ in 0..12 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(WORDS[(x % WORDS.len() as u64) as usize].as_bytes());
            out.push(b' ');
            if x.is_multiple_of(5) {
                write!(out, "{} ", x % 1000).ok();
            }
        }
        out.push(b'\n');
    }
    out.truncate(bytes);
    if let Some(last) = out.last_mut() {
        *last = b'\n';
    }
    out
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn open(data_dir: &std::path::Path) -> Result<Profile, String> {
    Profile::open(OpenOptions::new(data_dir)).map_err(|e| format!("opening {}: {e}", data_dir.display()))
}

fn seed(args: &[String]) -> Result<(), String> {
    let data_dir = PathBuf::from(flag(args, "--data-dir").ok_or("--data-dir is required")?);
    let src = PathBuf::from(flag(args, "--src").ok_or("--src is required")?);
    let mb: usize = flag(args, "--mb").ok_or("--mb is required")?.parse().map_err(|e| format!("--mb: {e}"))?;
    let file_mb: usize =
        flag(args, "--file-mb").map(|v| v.parse()).transpose().map_err(|e| format!("--file-mb: {e}"))?.unwrap_or(128);
    if mb == 0 || file_mb == 0 {
        return Err("--mb and --file-mb must be at least 1".into());
    }
    std::fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    let started = Instant::now();
    let profile = open(&data_dir)?;
    let (mut files, mut bytes, mut left, mut n) = (0u64, 0u64, mb, 0u64);
    while left > 0 {
        let size = left.min(file_mb);
        left -= size;
        n += 1;
        let name = format!("part-{n:03}.txt");
        let body = text(n, size * MB);
        let path = src.join(&name);
        std::fs::write(&path, &body).map_err(|e| format!("{}: {e}", path.display()))?;
        profile
            .datasets()
            .import(&name, &body, ChunkOptions::default(), &mut |_, _| {})
            .map_err(|e| format!("importing {name}: {e}"))?;
        files += 1;
        bytes += body.len() as u64;
    }
    println!(r#"{{"files":{files},"bytes":{bytes},"seconds":{:.3}}}"#, started.elapsed().as_secs_f64());
    Ok(())
}

fn shred(args: &[String]) -> Result<(), String> {
    let data_dir = PathBuf::from(flag(args, "--data-dir").ok_or("--data-dir is required")?);
    let profile = open(&data_dir)?;
    let report = profile.shred(&[]).map_err(|e| format!("shredding {}: {e}", data_dir.display()))?;
    println!("{}", serde_json::to_string(&report).map_err(|e| e.to_string())?);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("seed") => seed(&args[1..]),
        Some("shred") => shred(&args[1..]),
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rights_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
