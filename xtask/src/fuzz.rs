//! `cargo xtask fuzz [--secs N] [TARGET…]`: runs the cargo-fuzz targets under `fuzz/` (the
//! OpenAPI importer, the CSV importer, the bundle reader), each for N seconds (default 60),
//! starting from the committed seed corpus in `fuzz/corpus/<target>`.
//!
//! Fuzzing runs without a sanitizer (`--sanitizer none`), which builds on the stable
//! toolchain: the targets are safe Rust, so the sanitizers would add little, and a panic,
//! overflow check (`-Cdebug-assertions`) or assertion in a target is what fails the run. New
//! inputs go to `target/fuzz-corpus/<target>`, so the committed corpus stays as it is; a
//! crashing input is written to `fuzz/artifacts/<target>/` and reported.

use crate::proc::{root, which, Cmd, Result};

pub const TARGETS: [&str; 3] = ["openapi", "csv", "bundle"];

fn ensure_cargo_fuzz() -> Result {
    if which("cargo-fuzz").is_some() {
        return Ok(());
    }
    println!("fuzz: installing cargo-fuzz (first run only)");
    Cmd::new("cargo").args(["install", "cargo-fuzz", "--locked", "--version", "^0.13"]).run()
}

pub fn run(rest: &[String]) -> Result {
    let mut secs: u64 = 60;
    let mut targets: Vec<String> = Vec::new();
    let mut args = rest.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--secs" => {
                secs = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--secs needs a number of seconds (e.g. --secs 60)")?;
            }
            t if TARGETS.contains(&t) => targets.push(t.to_string()),
            other => return Err(format!("unknown fuzz target or option `{other}` (targets: {})", TARGETS.join(", "))),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    ensure_cargo_fuzz()?;
    let fuzz_dir = root().join("fuzz");
    for t in &targets {
        let work = root().join("target").join("fuzz-corpus").join(t);
        std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
        let seeds = fuzz_dir.join("corpus").join(t);
        if !seeds.is_dir() || std::fs::read_dir(&seeds).map(|mut d| d.next().is_none()).unwrap_or(true) {
            return Err(format!("{} has no seed inputs: the committed corpus is missing", seeds.display()));
        }
        println!("fuzz: {t} for {secs} s");
        Cmd::new(which("cargo").unwrap_or_else(|| "cargo".into()))
            .shown_as("cargo")
            .args(["fuzz", "run", "--sanitizer", "none", "--debug-assertions", t])
            .arg(&work)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={secs}"))
            .arg("-rss_limit_mb=2048")
            .arg("-timeout=10")
            .arg("-print_final_stats=1")
            .run()
            .map_err(|e| {
                format!("fuzz target `{t}` failed: {e}\n  the input that failed is in fuzz/artifacts/{t}/; reproduce with `cargo fuzz run --sanitizer none {t} fuzz/artifacts/{t}/<file>`")
            })?;
    }
    Ok(())
}
