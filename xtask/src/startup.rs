//! `cargo xtask bench startup [--runs N] [--agents N]`: Studio's start-up time and idle memory
//! against a blank Tauri v2 window built the same way (`crates/awf-baseline`), SPEC §4.
//!
//! Under Xvfb, in a D-Bus session with a fresh, unlocked gnome-keyring (the harness re-runs
//! itself there as `xtask __startup`), it seeds a keyring-mode profile with N agents (default
//! 1,000; `crates/awf-core/examples/seed_agents.rs`), launches each app once to warm the disk
//! cache (not counted), then launches Studio and the baseline alternately, `--runs` times each
//! (default 10). For every launch it measures:
//!
//! - **first interactive paint**: wall-clock time from just before the process is spawned to
//!   the line `AWF_FIRST_PAINT_MS=<ms>` on its stdout. Studio prints it (with `AWF_PERF_MARK=1`)
//!   when its UI reports that the agent list shows its rows and has been painted
//!   (`ui/src/lib/perf.ts` → the `perf_mark` command in `src-tauri/src/perf.rs`); the baseline's
//!   static page reports its own first paint the same way. The `<ms>` part (time since the
//!   page's navigation start) is kept as well, to split process + webview start from page work;
//! - **idle memory**: 5 s after the mark, the sum of RSS and of PSS (`/proc/<pid>/smaps_rollup`)
//!   over the process and all its descendants (WebKit's web and network processes).
//!
//! It prints medians, min/max and the Studio/baseline ratios of the medians, with the SPEC
//! targets, and writes the samples to `<target>/bench/startup.json`. Like every benchmark here
//! it reports and never asserts: it fails only when Studio never reaches its first interactive
//! paint, or the harness cannot measure (the baseline never does, /proc is unreadable, …). The
//! test command runs it with 3 launches each ([`short`]) after the release build it shares with
//! the packages.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::dist::{self, human_bytes, release_bin, BASELINE_BIN, SIZE_TARGET_BYTES, STUDIO_BIN};
use crate::proc::{target_dir, Result};
use crate::session::{self, Display};

const DEFAULT_RUNS: usize = 10;
const SHORT_RUNS: usize = 3;
const DEFAULT_AGENTS: usize = 1_000;
/// How long an app idles after its mark before its memory is read.
const IDLE: Duration = Duration::from_secs(5);
/// How long a launch may take to reach its mark before it counts as failed.
const MARK_TIMEOUT: Duration = Duration::from_secs(60);
/// SPEC §4: start-up and idle memory at most 1.25× the blank window's.
const TARGET_RATIO: f64 = 1.25;
/// The line both apps print at their first interactive paint.
const MARK_PREFIX: &str = "AWF_FIRST_PAINT_MS=";
/// The line Studio prints just before it: the page's start-up phases, `name=ms,…`.
const PHASES_PREFIX: &str = "AWF_PAGE_PHASES=";

struct Opts {
    runs: usize,
    agents: usize,
}

impl Opts {
    fn parse(rest: &[String]) -> Result<Opts> {
        let mut o = Opts { runs: DEFAULT_RUNS, agents: DEFAULT_AGENTS };
        let mut args = rest.iter();
        while let Some(a) = args.next() {
            let mut number = |min: usize| -> Result<usize> {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n >= min)
                    .ok_or_else(|| format!("{a} needs a number ≥ {min}"))
            };
            match a.as_str() {
                "--runs" => o.runs = number(1)?,
                "--agents" => o.agents = number(0)?,
                other => {
                    return Err(format!(
                        "bench startup: unexpected argument `{other}` (usage: [--runs N] [--agents N])"
                    ))
                }
            }
        }
        Ok(o)
    }

    fn args(&self) -> Vec<String> {
        vec!["--runs".into(), self.runs.to_string(), "--agents".into(), self.agents.to_string()]
    }
}

/// `cargo xtask bench startup [--runs N] [--agents N]`: release build, then the benchmark.
pub fn bench(rest: &[String]) -> Result {
    // `--no-build`: measure the release binaries already built.
    let build = !rest.iter().any(|a| a == "--no-build");
    let rest: Vec<String> = rest.iter().filter(|a| *a != "--no-build").cloned().collect();
    let opts = Opts::parse(&rest)?;
    if build {
        crate::setup::setup(crate::setup::Scope { system: true, tauri_driver: false, rebuild_stale_ui: true })?;
        dist::release_build()?;
    }
    run(&opts)
}

/// The test command's short mode: 3 launches each, on the release build already made.
pub fn short() -> Result {
    run(&Opts { runs: SHORT_RUNS, agents: DEFAULT_AGENTS })
}

fn run(opts: &Opts) -> Result {
    for name in [STUDIO_BIN, BASELINE_BIN] {
        if !release_bin(name).is_file() {
            return Err(format!("{} was not built (the release build comes first)", release_bin(name).display()));
        }
    }
    // `--workspace` keeps the test build's feature set (no rebuild of awf-core for the example).
    crate::cargo().args(["build", "--workspace", "--example", "seed_agents"]).run()?;
    let me = std::env::current_exe().map_err(|e| format!("where is xtask? {e}"))?;
    let mut args = vec!["__startup".to_string()];
    args.extend(opts.args());
    session::with_keyring(Display::Xvfb, &[], &me.display().to_string(), &args)
}

/// One app under test.
struct App {
    label: &'static str,
    bin: PathBuf,
    env: Vec<(&'static str, String)>,
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Result<TempDir> {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("awf-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback address nothing listens on, so Studio's platform checks fail at once, as they do
/// offline, instead of reaching a platform someone runs on the default port.
fn closed_loopback_url() -> Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))?
        .port();
    Ok(format!("http://127.0.0.1:{port}"))
}

fn logs_dir() -> PathBuf {
    crate::artifacts_dir().join("bench-startup")
}

/// `xtask __startup`: the measurement itself, inside the Xvfb + keyring session.
pub fn measure(rest: &[String]) -> Result {
    let opts = Opts::parse(rest)?;
    let tmp = TempDir::new("startup")?;
    let profile = tmp.0.join("profile");
    let seed = target_dir().join("debug/examples").join(format!("seed_agents{}", std::env::consts::EXE_SUFFIX));
    crate::proc::Cmd::new(&seed).arg("--data-dir").arg(&profile).arg("--count").arg(opts.agents.to_string()).run()?;
    std::fs::create_dir_all(logs_dir()).map_err(|e| format!("{}: {e}", logs_dir().display()))?;
    // The webviews' caches start empty for this run (the warm-up launch fills them).
    let cache = tmp.0.join("cache").display().to_string();
    let apps = [
        App {
            label: "Studio",
            bin: release_bin(STUDIO_BIN),
            env: vec![
                ("AWF_DATA_DIR", profile.display().to_string()),
                ("AWF_PLATFORM_URL", closed_loopback_url()?),
                ("XDG_CACHE_HOME", cache.clone()),
            ],
        },
        App { label: "baseline", bin: release_bin(BASELINE_BIN), env: vec![("XDG_CACHE_HOME", cache)] },
    ];

    println!(
        "startup: {} launches of each app, alternating, after one warm-up launch each; Studio opens {} agents",
        opts.runs, opts.agents
    );
    for app in &apps {
        match launch(app, None) {
            Ok(s) => println!("  warm-up {:<8} first interactive paint {:>6.0} ms", app.label, ms(s.wall)),
            Err(e) => println!("  warm-up {:<8} FAILED: {e}", app.label),
        }
    }
    let mut results: Vec<Vec<std::result::Result<Sample, String>>> = vec![Vec::new(), Vec::new()];
    for run in 1..=opts.runs {
        for (i, app) in apps.iter().enumerate() {
            let r = launch(app, Some(IDLE));
            match &r {
                Ok(s) => {
                    println!(
                        "  run {run:>2} {:<8} first interactive paint {:>6.0} ms (page {:>5.0} ms)  idle PSS {:>6.1} MiB  RSS {:>6.1} MiB  ({} processes)",
                        app.label,
                        ms(s.wall),
                        s.page_ms.unwrap_or(f64::NAN),
                        mib(s.pss_kib()),
                        mib(s.rss_kib()),
                        s.procs.len()
                    );
                    if let Some(p) = s.phases.as_deref() {
                        println!("         page phases (ms since navigation start): {}", phase_line(p));
                    }
                }
                Err(e) => println!("  run {run:>2} {:<8} FAILED: {e}", app.label),
            }
            results[i].push(r);
        }
    }
    let studio: Vec<&Sample> = results[0].iter().filter_map(|r| r.as_ref().ok()).collect();
    let baseline: Vec<&Sample> = results[1].iter().filter_map(|r| r.as_ref().ok()).collect();
    if studio.is_empty() {
        return Err(format!(
            "Studio never reached its first interactive paint in {} launches (logs in {})",
            opts.runs,
            logs_dir().display()
        ));
    }
    if baseline.is_empty() {
        return Err(format!(
            "the baseline never reported its first paint: nothing to compare with (logs in {})",
            logs_dir().display()
        ));
    }
    let report = Report::new(&opts, &studio, &baseline, [&results[0], &results[1]])?;
    report.print();
    report.write_json()?;
    Ok(())
}

/// `xtask __first-paint BIN`: the installed-package check. Starts `BIN` on an empty profile,
/// waits for its first interactive paint, and checks it is still running 3 s later.
pub fn first_paint(rest: &[String]) -> Result {
    let [bin] = rest else { return Err("usage: xtask __first-paint BIN".into()) };
    let tmp = TempDir::new("first-paint")?;
    std::fs::create_dir_all(logs_dir()).map_err(|e| format!("{}: {e}", logs_dir().display()))?;
    let app = App {
        label: "installed",
        bin: PathBuf::from(bin),
        env: vec![
            ("AWF_DATA_DIR", tmp.0.join("profile").display().to_string()),
            ("AWF_PLATFORM_URL", closed_loopback_url()?),
            ("XDG_CACHE_HOME", tmp.0.join("cache").display().to_string()),
        ],
    };
    let s = launch(&app, Some(Duration::from_secs(3)))?;
    println!(
        "packages: {bin} reached its first interactive paint after {:.0} ms and was still running 3 s later ({} processes, PSS {:.1} MiB)",
        ms(s.wall),
        s.procs.len(),
        mib(s.pss_kib())
    );
    Ok(())
}

/// `script=40.4,profile-ready=150.0` as `script 40 · profile-ready 150`.
fn phase_line(phases: &str) -> String {
    phases
        .split(',')
        .filter_map(|pair| {
            let (name, at) = pair.split_once('=')?;
            Some(format!("{name} {:.0}", at.parse::<f64>().ok()?))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One measured launch.
struct Sample {
    /// Spawn → mark line.
    wall: Duration,
    /// The page's own `performance.now()` at the mark.
    page_ms: Option<f64>,
    /// The page's start-up phases before the mark (`name=ms,…`), when it reports them.
    phases: Option<String>,
    /// Every process of the tree after the idle time (empty without one).
    procs: Vec<ProcMem>,
}

impl Sample {
    fn rss_kib(&self) -> u64 {
        self.procs.iter().map(|p| p.rss_kib).sum()
    }
    fn pss_kib(&self) -> u64 {
        self.procs.iter().map(|p| p.pss_kib).sum()
    }
}

struct ProcMem {
    pid: u32,
    comm: String,
    rss_kib: u64,
    pss_kib: u64,
}

/// Launches `app`, waits for its mark, then (with `idle`) waits that long, checks it still runs
/// and reads its process tree's memory; always stops the whole tree before returning.
fn launch(app: &App, idle: Option<Duration>) -> Result<Sample> {
    let log_path = logs_dir().join(format!("{}.log", app.label));
    let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut cmd = Command::new(&app.bin);
    cmd.env("AWF_PERF_MARK", "1").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log);
    for (k, v) in &app.env {
        cmd.env(k, v);
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", app.bin.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut phases = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(v) = line.trim().strip_prefix(PHASES_PREFIX) {
                phases = Some(v.trim().to_string());
            } else if let Some(v) = line.trim().strip_prefix(MARK_PREFIX) {
                let _ = tx.send(Some((t0.elapsed(), v.trim().parse::<f64>().ok(), phases.take())));
            }
        }
        let _ = tx.send(None);
    });
    let result = match rx.recv_timeout(MARK_TIMEOUT) {
        Ok(Some((wall, page_ms, phases))) => match idle {
            None => Ok(Sample { wall, page_ms, phases, procs: Vec::new() }),
            Some(idle) => {
                std::thread::sleep(idle);
                match child.try_wait() {
                    Ok(Some(status)) => Err(format!("exited ({status}) during the idle time")),
                    _ => tree_memory(child.id()).map(|procs| Sample { wall, page_ms, phases, procs }),
                }
            }
        },
        Ok(None) => {
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(format!("exited ({status}) without reporting its first paint"))
        }
        Err(_) => Err(format!("no first-paint mark within {} s", MARK_TIMEOUT.as_secs())),
    };
    stop(&mut child);
    result.map_err(|e| format!("{e}; stderr in {}", log_path.display()))
}

/// Stops a launched app and every process it started: SIGTERM to the app (WebKit's processes
/// exit with it), SIGKILL after 3 s, then SIGKILL to any descendant still there.
fn stop(child: &mut Child) {
    let tree = process_tree(child.id());
    signal("TERM", &[child.id()]);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        // Only the very processes seen before (same pid and name): a pid may be reused.
        let left: Vec<u32> =
            tree.iter().filter(|(pid, comm)| comm_of(*pid).as_deref() == Some(comm)).map(|p| p.0).collect();
        if left.is_empty() || Instant::now() > deadline {
            break;
        }
        signal("KILL", &left);
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(sig: &str, pids: &[u32]) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .args(pids.iter().map(u32::to_string))
        .stderr(Stdio::null())
        .status();
}

fn comm_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|s| s.trim().to_string())
}

/// `pid` and all its descendants, with their names.
fn process_tree(root: u32) -> Vec<(u32, String)> {
    let mut parent_of = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
            if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree.into_iter().filter_map(|pid| comm_of(pid).map(|c| (pid, c))).collect()
}

/// RSS and PSS of every process of the tree rooted at `root`.
fn tree_memory(root: u32) -> Result<Vec<ProcMem>> {
    let mut procs = Vec::new();
    for (pid, comm) in process_tree(root) {
        let path = format!("/proc/{pid}/smaps_rollup");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(_) if pid != root => continue, // exited meanwhile
            Err(e) => return Err(format!("cannot read {path}: {e}")),
        };
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        match (field("Rss:"), field("Pss:")) {
            (Some(rss_kib), Some(pss_kib)) => procs.push(ProcMem { pid, comm, rss_kib, pss_kib }),
            _ => return Err(format!("{path} has no Rss/Pss lines")),
        }
    }
    if procs.is_empty() {
        return Err(format!("process {root} has no readable memory figures"));
    }
    Ok(procs)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Median, min, max.
#[derive(Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(values: impl IntoIterator<Item = f64>) -> Stats {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Stats { median: f64::NAN, min: f64::NAN, max: f64::NAN };
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
        Stats { median, min: v[0], max: v[n - 1] }
    }

    fn show(&self, unit: &str, decimals: usize) -> String {
        format!("{:.d$} {unit} ({:.d$}–{:.d$})", self.median, self.min, self.max, d = decimals)
    }

    fn json(&self) -> String {
        format!(
            "{{\"median\": {}, \"min\": {}, \"max\": {}}}",
            json_number(self.median, 3),
            json_number(self.min, 3),
            json_number(self.max, 3)
        )
    }
}

/// The app process, WebKit's web process, its network process, anything else.
fn component(comm: &str) -> &'static str {
    if comm.starts_with("WebKitWebProces") {
        "WebKitWebProcess"
    } else if comm.starts_with("WebKitNetworkPr") {
        "WebKitNetworkProcess"
    } else if comm.starts_with("aiwellflow-stud") || comm.starts_with("awf-baseline") {
        "app process"
    } else {
        "other"
    }
}

const COMPONENTS: [&str; 4] = ["app process", "WebKitWebProcess", "WebKitNetworkProcess", "other"];

struct AppStats {
    wall: Stats,
    page: Stats,
    pss: Stats,
    rss: Stats,
    /// Median PSS per component, MiB.
    parts: Vec<(&'static str, f64)>,
    size: u64,
}

impl AppStats {
    fn new(samples: &[&Sample], bin: &Path) -> Result<AppStats> {
        let parts = COMPONENTS
            .iter()
            .map(|c| {
                let s = Stats::of(
                    samples
                        .iter()
                        .map(|s| mib(s.procs.iter().filter(|p| component(&p.comm) == *c).map(|p| p.pss_kib).sum())),
                );
                (*c, s.median)
            })
            .collect();
        Ok(AppStats {
            wall: Stats::of(samples.iter().map(|s| ms(s.wall))),
            page: Stats::of(samples.iter().map(|s| s.page_ms.unwrap_or(f64::NAN))),
            pss: Stats::of(samples.iter().map(|s| mib(s.pss_kib()))),
            rss: Stats::of(samples.iter().map(|s| mib(s.rss_kib()))),
            parts,
            size: dist::file_size(bin)?,
        })
    }
}

struct Report<'a> {
    opts: &'a Opts,
    studio: AppStats,
    baseline: AppStats,
    failures: [usize; 2],
    samples: [&'a [std::result::Result<Sample, String>]; 2],
}

impl<'a> Report<'a> {
    fn new(
        opts: &'a Opts,
        studio: &[&Sample],
        baseline: &[&Sample],
        samples: [&'a [std::result::Result<Sample, String>]; 2],
    ) -> Result<Report<'a>> {
        Ok(Report {
            opts,
            studio: AppStats::new(studio, &release_bin(STUDIO_BIN))?,
            baseline: AppStats::new(baseline, &release_bin(BASELINE_BIN))?,
            failures: [
                samples[0].iter().filter(|r| r.is_err()).count(),
                samples[1].iter().filter(|r| r.is_err()).count(),
            ],
            samples,
        })
    }

    fn print(&self) {
        let (s, b) = (&self.studio, &self.baseline);
        let verdict = |ratio: f64| if ratio <= TARGET_RATIO { "met" } else { "MISSED" };
        println!(
            "\nstart-up benchmark: Studio ({} agents) vs a blank Tauri v2 window, {} launches each (median (min–max))",
            self.opts.agents, self.opts.runs
        );
        println!("  {:<34} {:<28} {:<28} {:>7}  target", "", "Studio", "baseline", "ratio");
        let row = |name: &str, a: &Stats, b: &Stats, unit: &str, d: usize, target: bool| {
            let ratio = a.median / b.median;
            let t = if target { format!("≤ {TARGET_RATIO}×: {}", verdict(ratio)) } else { String::new() };
            println!("  {name:<34} {:<28} {:<28} {:>6.2}×  {t}", a.show(unit, d), b.show(unit, d), ratio);
        };
        row("first interactive paint", &s.wall, &b.wall, "ms", 0, true);
        row("  of which in the page", &s.page, &b.page, "ms", 0, false);
        row("idle memory, PSS (process tree)", &s.pss, &b.pss, "MiB", 1, true);
        row("idle memory, RSS (process tree)", &s.rss, &b.rss, "MiB", 1, false);
        for ((name, a), (_, bb)) in s.parts.iter().zip(&b.parts) {
            if *a > 0.0 || *bb > 0.0 {
                println!(
                    "  {:<34} {:<28} {:<28}",
                    format!("  PSS of {name}"),
                    format!("{a:.1} MiB"),
                    format!("{bb:.1} MiB")
                );
            }
        }
        println!(
            "  {:<34} {:<28} {:<28} {:>6.2}×  ≤ 20 MB: {}",
            "release binary",
            human_bytes(s.size),
            human_bytes(b.size),
            s.size as f64 / b.size as f64,
            if s.size <= SIZE_TARGET_BYTES { "met" } else { "MISSED" }
        );
        if self.failures.iter().any(|f| *f > 0) {
            println!(
                "  failed launches (not counted): Studio {}, baseline {} (stderr in {})",
                self.failures[0],
                self.failures[1],
                logs_dir().display()
            );
        }
        println!("  (reported, never asserted: SPEC §4 targets are ratios measured in one run)");
    }

    fn write_json(&self) -> Result {
        let path = target_dir().join("bench").join("startup.json");
        std::fs::create_dir_all(path.parent().expect("has a parent"))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(&path, self.json()).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("startup: wrote {}", path.display());
        Ok(())
    }

    /// The report as JSON (xtask has no dependencies, so it is written by hand: numbers that are
    /// not finite, e.g. a median of no samples, are `null`).
    fn json(&self) -> String {
        let mut j = String::from("{\n");
        let _ = writeln!(j, "  \"runs\": {},\n  \"agents\": {},", self.opts.runs, self.opts.agents);
        let _ = writeln!(j, "  \"idle_seconds\": {},", IDLE.as_secs());
        for (i, (name, a)) in [("studio", &self.studio), ("baseline", &self.baseline)].into_iter().enumerate() {
            let _ = writeln!(j, "  \"{name}\": {{");
            let _ = writeln!(j, "    \"first_interactive_paint_ms\": {},", a.wall.json());
            let _ = writeln!(j, "    \"page_ms\": {},", a.page.json());
            let _ = writeln!(j, "    \"idle_pss_mib\": {},", a.pss.json());
            let _ = writeln!(j, "    \"idle_rss_mib\": {},", a.rss.json());
            let _ = writeln!(j, "    \"binary_bytes\": {},", a.size);
            let _ = writeln!(j, "    \"failed_launches\": {},", self.failures[i]);
            let samples: Vec<String> = self.samples[i]
                .iter()
                .filter_map(|r| r.as_ref().ok())
                .map(|s| {
                    let procs: Vec<String> = s
                        .procs
                        .iter()
                        .map(|p| {
                            format!(
                                "{{\"pid\": {}, \"comm\": {}, \"rss_kib\": {}, \"pss_kib\": {}}}",
                                p.pid,
                                json_string(&p.comm),
                                p.rss_kib,
                                p.pss_kib
                            )
                        })
                        .collect();
                    format!(
                        "      {{\"wall_ms\": {}, \"page_ms\": {}, \"processes\": [{}]}}",
                        json_number(ms(s.wall), 1),
                        json_number(s.page_ms.unwrap_or(f64::NAN), 1),
                        procs.join(", ")
                    )
                })
                .collect();
            if samples.is_empty() {
                let _ = writeln!(j, "    \"samples\": []");
            } else {
                let _ = writeln!(j, "    \"samples\": [\n{}\n    ]", samples.join(",\n"));
            }
            // Both apps are followed by more members (the ratios come last).
            let _ = writeln!(j, "  }},");
        }
        let _ = writeln!(
            j,
            "  \"ratios\": {{\"first_interactive_paint\": {}, \"idle_pss\": {}, \"idle_rss\": {}}}",
            json_number(self.studio.wall.median / self.baseline.wall.median, 3),
            json_number(self.studio.pss.median / self.baseline.pss.median, 3),
            json_number(self.studio.rss.median / self.baseline.rss.median, 3)
        );
        j.push_str("}\n");
        j
    }
}

/// A JSON number with `decimals` places, or `null` when it is not finite (JSON has no NaN).
fn json_number(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "null".into()
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        let s = Stats::of([3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Stats::of([4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert!(Stats::of([]).median.is_nan());
    }

    #[test]
    fn options() {
        let o = Opts::parse(&["--runs".into(), "3".into()]).unwrap();
        assert_eq!((o.runs, o.agents), (3, DEFAULT_AGENTS));
        assert!(Opts::parse(&["--runs".into(), "0".into()]).is_err());
        assert!(Opts::parse(&["--what".into()]).is_err());
    }

    fn app(samples: &[&Sample]) -> AppStats {
        AppStats {
            wall: Stats::of(samples.iter().map(|s| ms(s.wall))),
            page: Stats::of(samples.iter().map(|s| s.page_ms.unwrap_or(f64::NAN))),
            pss: Stats::of(samples.iter().map(|s| mib(s.pss_kib()))),
            rss: Stats::of(samples.iter().map(|s| mib(s.rss_kib()))),
            parts: Vec::new(),
            size: 1234,
        }
    }

    /// The written report is valid JSON (checked by Python's parser, which refuses NaN as the
    /// standard does with `parse_constant`) with the members the docs name, including when one
    /// app has no sample at all.
    #[test]
    fn report_is_valid_json() {
        let opts = Opts { runs: 2, agents: 10 };
        let ok = Sample {
            wall: Duration::from_millis(812),
            page_ms: None,
            phases: None,
            procs: vec![ProcMem { pid: 7, comm: "Web\"Kit\\x\u{1}".into(), rss_kib: 2048, pss_kib: 1024 }],
        };
        let studio = [Ok(ok), Err("no mark".to_string())];
        let baseline: [std::result::Result<Sample, String>; 1] = [Err("crashed".to_string())];
        let ok_refs: Vec<&Sample> = studio.iter().filter_map(|r| r.as_ref().ok()).collect();
        let report = Report {
            opts: &opts,
            studio: app(&ok_refs),
            baseline: app(&[]),
            failures: [1, 1],
            samples: [&studio, &baseline],
        };
        let json = report.json();
        let mut child = Command::new("python3")
            .args([
                "-c",
                "import json,sys\n\
                 def bad(c): raise ValueError('not JSON: ' + c)\n\
                 d = json.load(sys.stdin, parse_constant=bad)\n\
                 assert d['studio']['samples'][0]['processes'][0]['comm'] == 'Web\"Kit\\\\x\\x01', d\n\
                 assert d['studio']['first_interactive_paint_ms']['median'] == 812.0, d\n\
                 assert d['baseline']['samples'] == [] and d['baseline']['idle_pss_mib']['median'] is None, d\n\
                 assert set(d['ratios']) == {'first_interactive_paint', 'idle_pss', 'idle_rss'}, d\n\
                 assert d['studio']['failed_launches'] == 1, d\n",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .expect("python3 (installed by the setup step) checks the JSON");
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(json.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "invalid report:\n{json}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_is_its_own_tree() {
        let me = std::process::id();
        let tree = process_tree(me);
        assert_eq!(tree.first().map(|t| t.0), Some(me));
        let mem = tree_memory(me).unwrap();
        assert!(mem[0].rss_kib > 0);
    }

    #[test]
    fn phases_print_as_names_and_whole_milliseconds_and_skip_what_does_not_parse() {
        assert_eq!(
            super::phase_line("script=40.4,profile-ready=150.04,agent-list=x,bad"),
            "script 40 · profile-ready 150"
        );
        assert_eq!(super::phase_line(""), "");
    }
}
