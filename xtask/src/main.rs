//! `cargo xtask`: every developer chore of AiWellFlow Studio behind one entry point, in the
//! manner of rust-analyzer. Plain Rust with no dependencies; no product logic lives here.
//!
//! - `setup`    install what is missing (system packages, npm packages, the UI build, tauri-driver)
//! - `run`      set up, build the UI, build and start the desktop app
//! - `test`     the one command that runs every test (what CI runs through `.ci/run`)
//! - `check`    fast pre-commit checks: fmt, clippy, UI lint and type check
//! - `codegen`  regenerate the TypeScript bindings of the command surface
//! - `bench`    the store benchmark
//! - `dist`     the release build and the packages (.deb and .rpm on Linux)
//! - `fuzz`     the cargo-fuzz targets (OpenAPI, CSV, bundle readers) from the committed corpus

mod bench_pii;
mod bench_rights;
mod bench_sync;
mod dist;
mod fuzz;
mod proc;
mod schemathesis;
mod session;
mod setup;
mod startup;
mod steps;

use std::process::ExitCode;

use proc::{debug_bin, npm, root, which, Cmd, Result};
use session::Display;
use steps::Steps;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  setup            install what is missing: system packages (Debian/Ubuntu), npm packages,
                   the UI build, tauri-driver
  run [ARGS...]    set up, build the UI, build and start the desktop app; ARGS go to the app
                   (e.g. `cargo xtask run --data-dir /tmp/awf`)
  test [--quick]   run every test, in CI's order, failing fast; --quick skips the end-to-end suites
  check            cargo fmt --check, clippy -D warnings, UI lint and type check
  codegen          regenerate ui/src/lib/api/bindings.ts from the command surface
  bench            run the store benchmark (cargo bench -p awf-core --bench store)
  bench startup [--runs N] [--agents N] [--no-build]
                   Studio's start-up time and idle memory against a blank Tauri window
                   under Xvfb (release build; default 10 launches each, 1,000 agents)
  dist [--bundles LIST] [--check] [--no-build]
                   the release build, then the packages (.deb and .rpm on Linux);
                   --check: list their files, install the .deb, start it under Xvfb, remove it
  icons            regenerate assets/icons/ from assets/icon.svg
  fuzz [--secs N] [openapi|csv|bundle]...
                   run the cargo-fuzz targets from the committed corpus (default 60 s each)
  bench pii [--mb N]
                   the PII scanner against grep on an N MB corpus (default 100)
  bench sync [--changes N] [--debug] [--passphrase] [--no-build]
                   the sync engine pushing N pending changes (default 10,000) to the
                   reference platform on loopback, against a plain HTTP loop (release
                   binaries of awf and awf-platform; --debug: the debug ones;
                   --passphrase: a passphrase-mode profile instead of keyring mode)
  bench export [--mb N] [--runs N] [--debug] [--no-build]
                   `awf export` of N MB of datasets (default 1,024) against cp of the same
                   files, its peak memory, and the crypto-shred time of that profile
  session [--xvfb] -- CMD [ARGS...]
                   run a command inside the tests' D-Bus session with a fresh, unlocked
                   gnome-keyring (and a virtual X display with --xvfb), e.g.
                   `cargo xtask session -- cargo test -p awf-cli`
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, r)) => (t.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match task {
        "setup" => no_args(rest).and_then(|()| setup::setup(setup::FULL)),
        "run" => run(rest),
        "test" => test(rest),
        "check" => no_args(rest).and_then(|()| check()),
        "codegen" => no_args(rest).and_then(|()| codegen()),
        "bench" => bench(rest),
        "dist" => dist::dist(rest),
        "icons" => no_args(rest).and_then(|()| dist::icons()),
        "__startup" => startup::measure(rest),
        "__first-paint" => startup::first_paint(rest),
        "__sync" => bench_sync::measure(rest),
        "__export" => bench_rights::measure(rest),
        "fuzz" => fuzz::run(rest),
        "session" => session_cmd(rest),
        "schemathesis" => no_args(rest).and_then(|()| schemathesis::run(true)),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} {e}", proc::paint("1;31", "error:"));
            ExitCode::FAILURE
        }
    }
}

fn no_args(rest: &[String]) -> Result {
    match rest.first() {
        None => Ok(()),
        Some(a) => Err(format!("unexpected argument `{a}`\n\n{USAGE}")),
    }
}

/// `cargo`, the same one that started us when run through `cargo xtask`.
fn cargo() -> Cmd {
    Cmd::new(cargo_path()).shown_as("cargo")
}

fn cargo_path() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(app_args: &[String]) -> Result {
    let app_args = match app_args.first().map(String::as_str) {
        Some("--") => &app_args[1..],
        _ => app_args,
    };
    setup::setup(setup::Scope { system: true, tauri_driver: false, rebuild_stale_ui: false })?;
    println!("run: building the UI");
    setup::build_ui()?;
    let platform = start_reference_platform()?;
    cargo().args(["run", "-p", "aiwellflow-studio", "--"]).args(app_args).env("AWF_PLATFORM_URL", &platform.url).run()
}

/// The reference platform's port for `cargo xtask run` (also the app's built-in default).
const PLATFORM_PORT: u16 = 47800;

/// A reference platform started for the app; stopped when dropped (the app exited).
struct PlatformGuard {
    url: String,
    child: Option<std::process::Child>,
}

impl Drop for PlatformGuard {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts the reference platform on loopback (SPEC §3: sign-up works at once) with its own
/// persistent data directory (the per-user `ai.aiwellflow.platform`), in development mode so the
/// SMS codes of sign-up are printed in this console. A platform already listening on the port
/// (from an earlier run) is reused.
fn start_reference_platform() -> Result<PlatformGuard> {
    let url = format!("http://127.0.0.1:{PLATFORM_PORT}");
    if std::net::TcpStream::connect(("127.0.0.1", PLATFORM_PORT)).is_ok() {
        println!("run: something already listens on {url}; using it as the platform");
        return Ok(PlatformGuard { url, child: None });
    }
    println!("run: building and starting the reference platform on {url}");
    cargo().args(["build", "-p", "awf-platform", "--bin", "awf-platform"]).run()?;
    let child = std::process::Command::new(debug_bin("awf-platform"))
        .args(["--dev", "--port", &PLATFORM_PORT.to_string()])
        .spawn()
        .map_err(|e| format!("starting awf-platform: {e}"))?;
    let guard = PlatformGuard { url: url.clone(), child: Some(child) };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", PLATFORM_PORT)).is_ok() {
            println!("run: the platform is up. Sign-up SMS codes appear in this console (\"SMS to …\").");
            return Ok(guard);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(format!("the reference platform did not start listening on {url} within 10 s"))
}

fn check() -> Result {
    setup::setup(setup::Scope { system: false, tauri_driver: false, rebuild_stale_ui: false })?;
    let mut s = Steps::new("check");
    s.step("cargo fmt --check", fmt_check)?;
    s.step("cargo clippy", clippy)?;
    s.step("ui: npm run lint", || npm_run("lint"))?;
    s.step("ui: npm run check", || npm_run("check"))?;
    s.finish();
    Ok(())
}

fn fmt_check() -> Result {
    cargo().args(["fmt", "--all", "--check"]).run()
}

fn clippy() -> Result {
    cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]).run()
}

fn npm_run(script: &str) -> Result {
    Cmd::new(npm()).args(["run", script]).dir("ui").run()
}

fn codegen() -> Result {
    cargo().args(["test", "-p", "awf-api", "--test", "bindings"]).env("AWF_UPDATE_BINDINGS", "1").run()?;
    println!("codegen: wrote ui/src/lib/api/bindings.ts");
    Ok(())
}

fn bench(rest: &[String]) -> Result {
    if rest.first().map(String::as_str) == Some("startup") {
        return startup::bench(&rest[1..]);
    }
    if rest.first().map(String::as_str) == Some("sync") {
        return bench_sync::bench(&rest[1..]);
    }
    if rest.first().map(String::as_str) == Some("export") {
        return bench_rights::bench(&rest[1..]);
    }
    if rest.first().map(String::as_str) == Some("pii") {
        return bench_pii::run_args(&rest[1..]);
    }
    if !root().join("crates/awf-core/benches").is_dir() {
        return Err("crates/awf-core has no benches/ yet: the `store` bench is not written".into());
    }
    // The bench prints its report (measured values, ratios, SPEC targets) and where it wrote
    // the JSON version.
    cargo().args(["bench", "-p", "awf-core", "--bench", "store"]).args(rest).run()
}

fn session_cmd(rest: &[String]) -> Result {
    let (xvfb, rest) = match rest.first().map(String::as_str) {
        Some("--xvfb") => (true, &rest[1..]),
        _ => (false, rest),
    };
    let rest = match rest.first().map(String::as_str) {
        Some("--") => &rest[1..],
        _ => rest,
    };
    let (cmd, args) = rest.split_first().ok_or_else(|| format!("session: which command?\n\n{USAGE}"))?;
    let display = if xvfb { Display::Xvfb } else { Display::None };
    session::with_keyring(display, &[], cmd, args)
}

/// Where test artifacts (screenshots, traces, logs) go: `test-artifacts/` at the root.
fn artifacts_dir() -> std::path::PathBuf {
    root().join("test-artifacts")
}

fn test(rest: &[String]) -> Result {
    let mut quick = false;
    for a in rest {
        match a.as_str() {
            "--quick" => quick = true,
            other => return Err(format!("unexpected argument `{other}`\n\n{USAGE}")),
        }
    }
    let mut s = Steps::new("test");
    s.step("setup", || setup::setup(setup::FULL))?;
    s.step("cargo fmt --all --check", fmt_check)?;
    s.step("cargo clippy --workspace --all-targets -- -D warnings", clippy)?;
    s.step("ui: npm run lint", || npm_run("lint"))?;
    s.step("ui: npm run check", || npm_run("check"))?;
    s.step("ui: npm run test (Vitest)", || npm_run("test"))?;
    s.step("ui: npm run build", setup::build_ui)?;
    s.step("cargo test --workspace (D-Bus session, gnome-keyring)", || {
        session::with_keyring(Display::None, &[], &cargo_path(), &strings(&["test", "--workspace"]))
    })?;
    s.step("schemathesis: the reference platform against its OpenAPI document", || schemathesis::run(false))?;
    if root().join("crates/awf-cli/tests/no_keyring.rs").is_file() {
        s.step("cargo test --workspace --test no_keyring (awf-cli; no D-Bus session)", no_keyring)?;
    } else {
        s.skip("no-keyring test", "crates/awf-cli/tests/no_keyring.rs does not exist yet");
    }
    s.step("fuzz: OpenAPI, CSV and bundle readers, 60 s each (cargo fuzz, libFuzzer)", || {
        fuzz::run(&strings(&["--secs", "60"]))
    })?;
    if quick {
        s.skip("end-to-end suites", "--quick");
    } else {
        s.step("cargo build --workspace --bins (for the end-to-end suites)", || {
            cargo().args(["build", "--workspace", "--bins"]).run()
        })?;
        s.step("browser e2e: npm run test:e2e (Playwright, Chromium, HTTP bridge)", e2e_web)?;
        s.step("desktop e2e: tauri-driver + WebKitWebDriver, Xvfb, gnome-keyring", e2e_desktop)?;
        if cfg!(target_os = "linux") {
            // On the debug binaries the end-to-end suites used (gnome-keyring session: Linux).
            s.step(
                "sync bench, short: 1,000 changes, debug binaries (figures printed, not asserted)",
                bench_sync::short,
            )?;
            s.step(
                "export bench, short: 32 MB against cp, peak memory, crypto-shred (printed, not asserted)",
                bench_rights::short,
            )?;
            // One release build (the shipped profile) serves the packages and the start-up bench.
            s.step("release build: Studio and the baseline (packages, start-up bench)", dist::release_build)?;
            s.step("dist: .deb and .rpm (tauri bundle)", || dist::bundle("deb,rpm"))?;
            s.step("packages: contents, dpkg -i, the installed app starts under Xvfb, dpkg -r", dist::check_packages)?;
            s.step("start-up bench, short: 3 launches each (ratios printed, not asserted)", startup::short)?;
        } else {
            s.skip("sync bench, packages and start-up bench", "they use gnome-keyring, dpkg, rpm and Xvfb (Linux)");
        }
    }
    s.finish();
    Ok(())
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The one test that must see no keyring service at all: no session bus address, no display
/// (so D-Bus cannot autolaunch one through X11).
fn no_keyring() -> Result {
    cargo()
        // `--workspace` keeps the feature set of the workspace test build: `-p awf-cli` alone
        // would unify features differently and rebuild half the dependency tree.
        .args(["test", "--workspace", "--test", "no_keyring"])
        .env("AWF_TEST_NO_KEYRING", "1")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .run()
}

fn e2e_web() -> Result {
    let awf = debug_bin("awf");
    if !awf.is_file() {
        return Err(format!("{} was not built", awf.display()));
    }
    let env = [
        ("AWF_BIN", awf.display().to_string()),
        ("AWF_ARTIFACTS_DIR", artifacts_dir().join("e2e-web").display().to_string()),
    ];
    session::with_keyring(Display::None, &env, npm(), &strings(&["--prefix", "ui", "run", "test:e2e"]))
}

fn e2e_desktop() -> Result {
    let app = debug_bin("aiwellflow-studio");
    if !app.is_file() {
        return Err(format!("{} was not built", app.display()));
    }
    let driver = which("tauri-driver").ok_or("tauri-driver is not installed: run `cargo xtask setup`")?;
    let env = [
        ("AWF_DESKTOP_BIN", app.display().to_string()),
        ("AWF_TAURI_DRIVER", driver.display().to_string()),
        ("AWF_ARTIFACTS_DIR", artifacts_dir().join("e2e-desktop").display().to_string()),
    ];
    session::with_keyring(Display::Xvfb, &env, "node", &strings(&["tests/e2e-desktop/run.mjs"]))
}
