//! `cargo xtask bench export [--mb N] [--runs N] [--debug] [--no-build]`: the rights figures of
//! SPEC §4: export throughput beside `cp` of the same files to the same disk (target ≥ 70 %),
//! the exporting process's peak memory, and the crypto-shred time of the profile (< 1 s).
//!
//! In a D-Bus session with a fresh, unlocked gnome-keyring (the harness re-runs itself there as
//! `xtask __export`), with a temporary directory under the target directory (so every file is on
//! the same disk):
//!
//! 1. `rights_bench seed` (`crates/awf-core/examples/rights_bench.rs`) writes N MB of text files
//!    (default 1,024, in 128 MB files) and imports each into a keyring-mode profile;
//! 2. `--runs` times (default 3), alternating which goes first: **cp** copies the source files
//!    into an empty directory and `sync`s them (the export `fsync`s its ZIP, so the copy is made
//!    durable too); **export** runs `awf export --out FILE` on the profile, from spawn to exit,
//!    its peak resident memory read from `/proc/<pid>/status` (`VmHWM`, sampled every 5 ms);
//!    the copy and the ZIP are removed after each run;
//! 3. **shred**: `rights_bench shred` destroys the profile (key first, then keyring entries,
//!    then files) and reports when the key was gone and when everything was.
//!
//! Throughputs are the dataset bytes over the median times; the ratio is export/cp. Reported,
//! never asserted: it fails only when the harness cannot measure. Writes
//! `<target>/bench/export.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::dist::release_bin;
use crate::proc::{debug_bin, target_dir, Result};
use crate::session::{self, Display};

const DEFAULT_MB: usize = 1024;
const DEFAULT_RUNS: usize = 3;
/// The test command's short run: 32 MB, 1 run, debug binaries (it keeps the harness working;
/// debug figures say nothing about the targets).
const SHORT_MB: usize = 32;
const SHORT_RUNS: usize = 1;
/// SPEC §4: export at least 70 % of `cp`'s throughput; shred of a 1 GB profile under 1 s.
const TARGET_RATIO: f64 = 0.70;
const TARGET_SHRED_SECS: f64 = 1.0;

#[derive(Debug, PartialEq)]
struct Opts {
    mb: usize,
    runs: usize,
    release: bool,
}

impl Opts {
    fn parse(rest: &[String]) -> Result<Opts> {
        let mut o = Opts { mb: DEFAULT_MB, runs: DEFAULT_RUNS, release: true };
        let mut args = rest.iter();
        while let Some(a) = args.next() {
            let mut number = |name: &str| -> Result<usize> {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("{name} needs a number ≥ 1"))
            };
            match a.as_str() {
                "--mb" => o.mb = number("--mb")?,
                "--runs" => o.runs = number("--runs")?,
                "--debug" => o.release = false,
                "--release" => o.release = true,
                other => {
                    return Err(format!(
                    "bench export: unexpected argument `{other}` (usage: [--mb N] [--runs N] [--debug] [--no-build])"
                ))
                }
            }
        }
        Ok(o)
    }

    fn args(&self) -> Vec<String> {
        let mut a = vec!["--mb".to_string(), self.mb.to_string(), "--runs".to_string(), self.runs.to_string()];
        if !self.release {
            a.push("--debug".into());
        }
        a
    }

    fn awf(&self) -> PathBuf {
        if self.release {
            release_bin("awf")
        } else {
            debug_bin("awf")
        }
    }

    fn helper(&self) -> PathBuf {
        let profile = if self.release { "release" } else { "debug" };
        target_dir().join(profile).join("examples").join(format!("rights_bench{}", std::env::consts::EXE_SUFFIX))
    }
}

/// `cargo xtask bench export …`.
pub fn bench(rest: &[String]) -> Result {
    let build = !rest.iter().any(|a| a == "--no-build");
    let rest: Vec<String> = rest.iter().filter(|a| *a != "--no-build").cloned().collect();
    let opts = Opts::parse(&rest)?;
    if build {
        build_bins(&opts)?;
    }
    run(&opts)
}

/// The test command's short mode, on the debug binaries its end-to-end step built (the helper
/// example is built with `--workspace`, so nothing else is rebuilt for it).
pub fn short() -> Result {
    let opts = Opts { mb: SHORT_MB, runs: SHORT_RUNS, release: false };
    crate::cargo().args(["build", "--workspace", "--example", "rights_bench"]).run()?;
    run(&opts)
}

fn build_bins(opts: &Opts) -> Result {
    let mut c =
        crate::cargo().args(["build", "-p", "awf-cli", "--bin", "awf", "-p", "awf-core", "--example", "rights_bench"]);
    if opts.release {
        c = c.arg("--release");
    }
    c.run()
}

fn run(opts: &Opts) -> Result {
    for bin in [opts.awf(), opts.helper()] {
        if !bin.is_file() {
            return Err(format!("{} was not built", bin.display()));
        }
    }
    let me = std::env::current_exe().map_err(|e| format!("where is xtask? {e}"))?;
    let mut args = vec!["__export".to_string()];
    args.extend(opts.args());
    session::with_keyring(Display::None, &[], &me.display().to_string(), &args)
}

/// A temporary directory under the target directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let dir = target_dir().join("tmp").join(format!("bench-export-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn output(mut c: Command, what: &str) -> Result<String> {
    let out = c.stdin(Stdio::null()).output().map_err(|e| format!("{what}: cannot start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `VmHWM` of a live process, in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `c` to its end, sampling its peak RSS; (seconds, peak bytes).
fn timed_with_peak(mut c: Command, what: &str) -> Result<(f64, u64)> {
    let started = Instant::now();
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    let mut peak = 0u64;
    let status = loop {
        if let Some(p) = peak_rss(child.id()) {
            peak = peak.max(p);
        }
        match child.try_wait().map_err(|e| format!("{what}: {e}"))? {
            Some(status) => break status,
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        return Err(format!("{what} failed ({status}):\n{err}"));
    }
    if peak == 0 {
        return Err(format!("{what}: its peak memory could not be read from /proc"));
    }
    Ok((secs, peak))
}

fn timed(mut c: Command, what: &str) -> Result<f64> {
    let started = Instant::now();
    let status = c.stdin(Stdio::null()).status().map_err(|e| format!("{what}: cannot start: {e}"))?;
    if !status.success() {
        return Err(format!("{what} failed ({status})"));
    }
    Ok(started.elapsed().as_secs_f64())
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn json_number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = json[at..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e')).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

/// `xtask __export …`, inside the keyring session.
pub fn measure(rest: &[String]) -> Result {
    let opts = Opts::parse(rest)?;
    let tmp = TempDir::new()?;
    let (src, profile, copy, zip) =
        (tmp.0.join("src"), tmp.0.join("profile"), tmp.0.join("copy"), tmp.0.join("export.zip"));
    println!(
        "export: {} binaries; {} MB of datasets; {} run(s); in {}",
        if opts.release { "release" } else { "debug" },
        opts.mb,
        opts.runs,
        tmp.0.display()
    );
    let mut seed = Command::new(opts.helper());
    seed.arg("seed").arg("--data-dir").arg(&profile).arg("--src").arg(&src).arg("--mb").arg(opts.mb.to_string());
    let seeded = output(seed, "rights_bench seed")?;
    let bytes = json_number(&seeded, "bytes").ok_or_else(|| format!("rights_bench seed printed {seeded:?}"))? as u64;
    println!("  seeded: {}", seeded.trim());
    let sources = files_in(&src)?;

    let (mut cp_secs, mut export_secs, mut peaks) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..opts.runs {
        for first_cp in [run % 2 == 0, run % 2 != 0] {
            if first_cp {
                std::fs::create_dir_all(&copy).map_err(|e| format!("{}: {e}", copy.display()))?;
                let t = Instant::now();
                let mut cp = Command::new("cp");
                cp.args(&sources).arg(&copy);
                timed(cp, "cp")?;
                let mut sync = Command::new("sync");
                sync.args(files_in(&copy)?);
                timed(sync, "sync")?;
                cp_secs.push(t.elapsed().as_secs_f64());
                std::fs::remove_dir_all(&copy).map_err(|e| format!("{}: {e}", copy.display()))?;
            } else {
                let mut c = Command::new(opts.awf());
                c.arg("--data-dir").arg(&profile).arg("export").arg("--out").arg(&zip);
                let (secs, peak) = timed_with_peak(c, "awf export")?;
                let size = std::fs::metadata(&zip).map_err(|e| format!("{}: {e}", zip.display()))?.len();
                if size < bytes {
                    return Err(format!("the export ({size} bytes) is smaller than the datasets ({bytes} bytes)"));
                }
                export_secs.push(secs);
                peaks.push(peak as f64);
                std::fs::remove_file(&zip).map_err(|e| format!("{}: {e}", zip.display()))?;
            }
        }
    }

    let mut shred = Command::new(opts.helper());
    shred.arg("shred").arg("--data-dir").arg(&profile);
    let shredded = output(shred, "rights_bench shred")?;
    let key_us =
        json_number(&shredded, "key_destroyed_after_us").ok_or_else(|| format!("shred printed {shredded:?}"))?;
    let total_us = json_number(&shredded, "total_us").ok_or_else(|| format!("shred printed {shredded:?}"))?;
    let removed = json_number(&shredded, "bytes_removed").unwrap_or(0.0);
    if profile.exists() {
        return Err(format!("the shred left {}", profile.display()));
    }

    let mb = |secs: f64| bytes as f64 / 1e6 / secs;
    let (cp_m, ex_m, peak_m) = (median(&cp_secs), median(&export_secs), median(&peaks));
    let ratio = cp_m / ex_m;
    let peak_max = peaks.iter().cloned().fold(0.0, f64::max);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let mut out = String::new();
    let _ = writeln!(out, "\n{:<44} {:>12} {:>12} {:>12}", "", "median", "min", "max");
    let min = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "{:<44} {:>10.2} s {:>10.2} s {:>10.2} s",
        "cp + sync of the source files",
        cp_m,
        min(&cp_secs),
        max(&cp_secs)
    );
    let _ = writeln!(
        out,
        "{:<44} {:>10.2} s {:>10.2} s {:>10.2} s",
        "awf export (ZIP, manifest, fsync)",
        ex_m,
        min(&export_secs),
        max(&export_secs)
    );
    let _ = writeln!(out, "{:<44} {:>9.1} MB/s", "cp throughput", mb(cp_m));
    let _ = writeln!(out, "{:<44} {:>9.1} MB/s", "export throughput", mb(ex_m));
    let _ = writeln!(
        out,
        "{:<44} {:>11.1}%   target ≥ {:.0}%: {}",
        "export / cp",
        ratio * 100.0,
        TARGET_RATIO * 100.0,
        verdict(ratio >= TARGET_RATIO)
    );
    let _ = writeln!(out, "{:<44} {:>9.1} MB (max {:.1} MB)", "export peak RSS", peak_m / 1e6, peak_max / 1e6);
    let _ = writeln!(
        out,
        "{:<44} {:>10.1} ms   (all gone after {:.1} ms, {:.0} MB removed); target < {:.0} s: {}",
        "shred: data key destroyed after",
        key_us / 1000.0,
        total_us / 1000.0,
        removed / 1e6,
        TARGET_SHRED_SECS,
        verdict(total_us / 1e6 < TARGET_SHRED_SECS)
    );
    print!("{out}");

    let list = |v: &[f64]| v.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(",");
    let json = format!(
        "{{\"mb\":{},\"bytes\":{bytes},\"runs\":{},\"release\":{},\"cp_secs\":[{}],\"export_secs\":[{}],\"export_peak_rss_bytes\":[{}],\"ratio\":{:.4},\"shred\":{}}}\n",
        opts.mb,
        opts.runs,
        opts.release,
        list(&cp_secs),
        list(&export_secs),
        list(&peaks),
        ratio,
        shredded.trim()
    );
    let dir = target_dir().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("export.json");
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_round_trip() {
        let o = Opts::parse(&["--mb".into(), "64".into(), "--runs".into(), "2".into(), "--debug".into()]).unwrap();
        assert_eq!(o, Opts { mb: 64, runs: 2, release: false });
        assert_eq!(Opts::parse(&o.args()).unwrap(), o);
        assert!(Opts::parse(&["--mb".into(), "0".into()]).is_err());
        assert!(Opts::parse(&["--what".into()]).is_err());
    }

    #[test]
    fn medians_and_numbers() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        let j = r#"{"profile_id":"x","key_destroyed_after_us":1234,"total_us":56789,"bytes_removed":10}"#;
        assert_eq!(json_number(j, "key_destroyed_after_us"), Some(1234.0));
        assert_eq!(json_number(j, "total_us"), Some(56789.0));
        assert_eq!(json_number(j, "nothing"), None);
    }
}
