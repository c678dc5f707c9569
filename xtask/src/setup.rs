//! `cargo xtask setup`: installs what is missing, and only that. Safe to run again and again:
//! each part first checks, then acts, and says briefly what it did.

use std::path::Path;

use crate::proc::{cargo_bin_dir, mtime, newest_mtime, npm, root, which, Cmd, Result};

/// System packages the build and every test need on Debian/Ubuntu: WebKitGTK and friends for
/// Tauri, the Secret Service stack (D-Bus, gnome-keyring) for the keyring tests, Xvfb and
/// WebKitWebDriver for the desktop end-to-end tests, Chromium for the browser end-to-end tests.
pub const APT_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "libdbus-1-dev",
    "libsecret-1-dev",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "dbus",
    "dbus-x11",
    "gnome-keyring",
    "keyutils",
    "xdotool",
    "imagemagick",
    "rpm", // `rpm -qlp` lists the .rpm in the package check
    "chromium",
    "chromium-driver",
    "pkg-config",
    "python3", // schemathesis (in a venv) and the start-up report's JSON check
    "python3-venv",
    // Fonts for the zh-CN UI and emoji icons in the end-to-end screenshots.
    "fonts-noto-cjk",
    "fonts-noto-color-emoji",
];

/// Which parts of the setup a task needs.
#[derive(Clone, Copy)]
pub struct Scope {
    /// apt packages (Debian/Ubuntu).
    pub system: bool,
    /// `tauri-driver`, for the desktop end-to-end tests.
    pub tauri_driver: bool,
    /// Rebuild `ui/dist` when older than its sources (otherwise only when missing).
    pub rebuild_stale_ui: bool,
}

pub const FULL: Scope = Scope { system: true, tauri_driver: true, rebuild_stale_ui: true };

pub fn setup(scope: Scope) -> Result {
    if scope.system {
        system_packages()?;
    }
    rust_components()?;
    for dir in ["ui", "tests/e2e-web", "tests/e2e-desktop"] {
        npm_dependencies(dir)?;
    }
    ui_dist(scope.rebuild_stale_ui)?;
    if scope.tauri_driver {
        tauri_driver()?;
    }
    Ok(())
}

/// rustfmt and clippy: a minimal toolchain profile has neither.
fn rust_components() -> Result {
    let fmt = Cmd::new("cargo").args(["fmt", "--version"]).read().is_some();
    let clippy = Cmd::new("cargo").args(["clippy", "--version"]).read().is_some();
    if fmt && clippy {
        return Ok(());
    }
    if which("rustup").is_none() {
        return Err("cargo fmt / cargo clippy are missing and rustup is not available to add them".into());
    }
    println!("setup: adding the rustfmt and clippy components");
    Cmd::new("rustup").args(["component", "add", "rustfmt", "clippy"]).run()
}

fn is_debian_like() -> bool {
    let Ok(os) = std::fs::read_to_string("/etc/os-release") else {
        return false;
    };
    let ids = os
        .lines()
        .filter_map(|l| l.strip_prefix("ID=").or_else(|| l.strip_prefix("ID_LIKE=")))
        .map(|v| v.trim_matches('"').to_string())
        .collect::<Vec<_>>()
        .join(" ");
    (ids.contains("debian") || ids.contains("ubuntu")) && which("dpkg-query").is_some() && which("apt-get").is_some()
}

/// Whether dpkg considers the package installed. `dpkg-query -W -f='${Status}'` prints
/// `want flag status`, e.g. `install ok installed`, or `deinstall ok config-files` for a
/// removed package, and fails for a package it has never seen. A `Multi-Arch: same` package
/// installed for several architectures prints one status per architecture.
pub fn dpkg_installed(package: &str) -> bool {
    Cmd::new("dpkg-query")
        .args(["-W", "-f=${Status}\\n", package])
        .read()
        .is_some_and(|out| status_says_installed(&out))
}

fn status_says_installed(dpkg_status: &str) -> bool {
    dpkg_status.lines().any(|l| l.split_whitespace().nth(2) == Some("installed"))
}

fn is_root() -> bool {
    Cmd::new("id").arg("-u").read().is_some_and(|uid| uid.trim() == "0")
}

/// The apt packages, on Debian/Ubuntu. Installs the missing ones as root; otherwise prints the
/// exact command to run and stops.
fn system_packages() -> Result {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    if !is_debian_like() {
        println!("setup: not Debian/Ubuntu: install your distribution's equivalents of: {}", APT_PACKAGES.join(" "));
        return Ok(());
    }
    let missing: Vec<&str> = APT_PACKAGES.iter().copied().filter(|p| !dpkg_installed(p)).collect();
    if missing.is_empty() {
        println!("setup: system packages present ({})", APT_PACKAGES.len());
        return Ok(());
    }
    let install =
        format!("DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {}", missing.join(" "));
    if !is_root() {
        return Err(format!(
            "missing system packages: {}\ninstall them with:\n  sudo apt-get update && sudo {install}\nthen run this command again",
            missing.join(" ")
        ));
    }
    println!("setup: installing system packages: {}", missing.join(" "));
    Cmd::new("apt-get").arg("update").env("DEBIAN_FRONTEND", "noninteractive").run()?;
    Cmd::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
    let still: Vec<&str> = missing.into_iter().filter(|p| !dpkg_installed(p)).collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("apt-get finished but these packages are still not installed: {}", still.join(" ")))
    }
}

/// `npm ci` in `dir` when it has a package.json and its `node_modules` is missing or older than
/// the lock file (npm records each install in `node_modules/.package-lock.json`).
fn npm_dependencies(dir: &str) -> Result {
    let abs = root().join(dir);
    if !abs.join("package.json").is_file() {
        return Ok(());
    }
    if which(npm()).is_none() {
        return Err("npm is not installed: install Node.js 20 or newer (https://nodejs.org)".into());
    }
    let lock = abs.join("package-lock.json");
    let modules = abs.join("node_modules");
    let installed = mtime(&modules.join(".package-lock.json")).or_else(|| mtime(&modules));
    let needed = match (installed, mtime(&lock)) {
        (None, _) => true,
        (Some(done), Some(locked)) => locked > done,
        (Some(_), None) => false,
    };
    if !needed {
        return Ok(());
    }
    let verb = if lock.is_file() { "ci" } else { "install" };
    println!("setup: npm {verb} in {dir}/");
    Cmd::new(npm())
        .args([verb, "--no-audit", "--no-fund"])
        .dir(dir)
        // Playwright uses the system Chromium; it must not try to download browsers.
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .run()
}

/// `ui/dist`: the desktop shell embeds it, so it must exist before that crate compiles (which
/// includes `cargo clippy` and `cargo test`).
fn ui_dist(rebuild_stale: bool) -> Result {
    let ui = root().join("ui");
    if !ui.join("package.json").is_file() {
        println!("setup: ui/package.json not found; skipping the UI build");
        return Ok(());
    }
    let built = mtime(&ui.join("dist").join("index.html"));
    let reason = match built {
        None => Some("missing"),
        Some(built) if rebuild_stale && ui_sources_newest(&ui).is_some_and(|src| src > built) => {
            Some("older than its sources")
        }
        Some(_) => None,
    };
    if let Some(reason) = reason {
        println!("setup: building the UI (ui/dist {reason})");
        build_ui()?;
    }
    Ok(())
}

/// The newest source of the UI: everything under `src/` and `public/`, and the top-level files
/// (package.json, vite/svelte/ts configs, index.html).
fn ui_sources_newest(ui: &Path) -> Option<std::time::SystemTime> {
    let mut newest = newest_mtime(&ui.join("src")).max(newest_mtime(&ui.join("public")));
    for entry in std::fs::read_dir(ui).ok()?.flatten() {
        if entry.path().is_file() {
            newest = newest.max(mtime(&entry.path()));
        }
    }
    newest
}

pub fn build_ui() -> Result {
    Cmd::new(npm()).args(["run", "build"]).dir("ui").run()
}

/// `tauri-driver` drives the real desktop binary in the end-to-end tests (Linux and Windows;
/// macOS has no WebDriver for WKWebView).
fn tauri_driver() -> Result {
    if cfg!(target_os = "macos") || which("tauri-driver").is_some() {
        return Ok(());
    }
    println!("setup: installing tauri-driver into {}", cargo_bin_dir().display());
    Cmd::new("cargo").args(["install", "tauri-driver", "--locked", "--version", "^2"]).run()
}

#[cfg(test)]
mod tests {
    use super::status_says_installed;

    #[test]
    fn dpkg_status_lines() {
        assert!(status_says_installed("install ok installed\n"));
        assert!(status_says_installed("hold ok installed\n"));
        assert!(status_says_installed("install ok installed\ninstall ok installed\n"));
        assert!(!status_says_installed("deinstall ok config-files\n"));
        assert!(!status_says_installed("install ok half-configured\n"));
        assert!(!status_says_installed(""));
    }
}
