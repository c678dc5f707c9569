//! Release builds and packages.
//!
//! - `cargo xtask dist [--bundles LIST] [--check] [--no-build]`: the release build, then the Tauri bundler's packages
//!   for this OS (Linux: .deb and .rpm; macOS: .app and .dmg; Windows: NSIS and MSI). The
//!   AppImage is configured in `tauri.conf.json` but not built by default: its tooling
//!   (linuxdeploy, AppRun) is downloaded by the bundler at build time (`--bundles appimage` on a
//!   machine with network access). `--check` (Linux) runs the test command's package checks.
//! - `cargo xtask icons`: regenerates `assets/icons/` from `assets/icon.svg`.
//! - the test command's package checks ([`check_packages`]): contents of both packages, install
//!   of the .deb, a start of the installed binary under Xvfb, removal.
//!
//! One release build ([`release_build`]) serves the packages and the start-up benchmark: Studio
//! and the benchmark's baseline (`crates/awf-baseline`) are built by one cargo invocation, with
//! the same profile and features, and `tauri bundle` packages the binary that is already there
//! (it does not build).
//!
//! The Tauri CLI expects its configuration file beside the app crate's `Cargo.toml`; here the
//! configuration is at the repository root and the crate in `src-tauri/`. [`bundle`] therefore
//! points the CLI (`TAURI_APP_PATH`) at a small staging directory under the target directory
//! holding links to the root configuration and `assets/`, and a package manifest naming the
//! binary (see [`stage_bundle_project`]).

use std::path::{Path, PathBuf};

use crate::proc::{root, target_dir, Cmd, Result};
use crate::session::{self, Display};

/// The shipped binary (`mainBinaryName` in `tauri.conf.json`).
pub const STUDIO_BIN: &str = "aiwellflow-studio";
/// The start-up benchmark's blank Tauri window.
pub const BASELINE_BIN: &str = "awf-baseline";

/// SPEC §4: the release binary's size limit, in bytes (20 MB).
pub const SIZE_TARGET_BYTES: u64 = 20_000_000;

/// The path of a release binary built from this workspace.
pub fn release_bin(name: &str) -> PathBuf {
    target_dir().join("release").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Builds Studio and the baseline in release mode, in one cargo invocation (so both link the
/// same dependency builds, with the workspace's `[profile.release]` and Tauri's
/// `custom-protocol`, as `tauri build` would), and prints their sizes. `ui/dist` must be built.
pub fn release_build() -> Result {
    crate::cargo()
        .args(["build", "--release", "-p", "aiwellflow-studio", "-p", "awf-baseline", "--features"])
        .arg("aiwellflow-studio/custom-protocol,awf-baseline/custom-protocol")
        .run()?;
    for name in [STUDIO_BIN, BASELINE_BIN] {
        let bin = release_bin(name);
        let size = file_size(&bin)?;
        println!("release: {} is {} ({size} bytes)", bin.display(), human_bytes(size));
    }
    Ok(())
}

pub fn file_size(path: &Path) -> Result<u64> {
    path.metadata().map(|m| m.len()).map_err(|e| format!("{}: {e}", path.display()))
}

/// `12.3 MB (11.7 MiB)`.
pub fn human_bytes(n: u64) -> String {
    format!("{:.1} MB ({:.1} MiB)", n as f64 / 1e6, n as f64 / (1024.0 * 1024.0))
}

/// The bundles `cargo xtask dist` builds on this OS by default.
fn default_bundles() -> &'static str {
    if cfg!(target_os = "linux") {
        "deb,rpm"
    } else if cfg!(target_os = "macos") {
        "app,dmg"
    } else {
        "nsis,msi"
    }
}

const DIST_USAGE: &str = "cargo xtask dist [--bundles LIST] [--check] [--no-build]";

/// `cargo xtask dist [--bundles LIST]`.
pub fn dist(rest: &[String]) -> Result {
    let mut bundles = default_bundles().to_string();
    let mut check = false;
    let mut build = true;
    let mut args = rest.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bundles" => bundles = args.next().ok_or("--bundles needs a list, e.g. deb,rpm")?.clone(),
            "--check" if cfg!(target_os = "linux") => check = true,
            // Packages the release binaries already built (after a test-command run, say).
            "--no-build" => build = false,
            other => return Err(format!("dist: unexpected argument `{other}` (usage: {DIST_USAGE})")),
        }
    }
    if build {
        crate::setup::setup(crate::setup::Scope { system: true, tauri_driver: false, rebuild_stale_ui: true })?;
        release_build()?;
    }
    bundle(&bundles)?;
    if check {
        check_packages()?;
    }
    Ok(())
}

/// Where the Tauri bundler writes its packages.
fn bundle_dir() -> PathBuf {
    target_dir().join("release").join("bundle")
}

/// The Tauri CLI from `ui/node_modules` (the version pinned with the crates).
fn tauri_cli() -> Result<Cmd> {
    let js = root().join("ui/node_modules/@tauri-apps/cli/tauri.js");
    if !js.is_file() {
        return Err(format!("{} is missing: run `cargo xtask setup`", js.display()));
    }
    Ok(Cmd::new("node").arg(js).shown_as("tauri"))
}

/// Packages the release binary that [`release_build`] left (`tauri bundle` does not build),
/// and lists what it wrote. `bundles` is the bundler's comma-separated list.
pub fn bundle(bundles: &str) -> Result {
    let bin = release_bin(STUDIO_BIN);
    if !bin.is_file() {
        return Err(format!("{} was not built (run the release build first)", bin.display()));
    }
    let staging = stage_bundle_project()?;
    let out = bundle_dir();
    for kind in bundles.split(',') {
        // Only this build's packages are listed and checked afterwards.
        let _ = std::fs::remove_dir_all(out.join(kind.trim()));
    }
    tauri_cli()?
        // No updater: the binary is packaged exactly as cargo built it (and measured).
        .args(["bundle", "--ci", "--no-sign", "--no-binary-patching", "--bundles", bundles])
        .env("TAURI_APP_PATH", &staging)
        .env("CARGO_TARGET_DIR", target_dir())
        .run()?;
    for kind in bundles.split(',') {
        for p in files_in(&out.join(kind.trim())) {
            if p.is_file() {
                println!("dist: {} ({})", p.display(), human_bytes(file_size(&p)?));
            }
        }
    }
    Ok(())
}

/// The staging directory the Tauri CLI treats as the app project: `tauri.conf.json` and
/// `assets` (the configuration's relative paths) linked from the root, and a manifest whose
/// package and binary are Studio's, carrying the workspace's metadata (the CLI reads the
/// package's version, description, authors and license from it). It is its own workspace,
/// so `cargo metadata` stays inside it; the CLI finds the binary through `CARGO_TARGET_DIR`.
fn stage_bundle_project() -> Result<PathBuf> {
    let dir = target_dir().join("tauri-bundle-project");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for name in ["tauri.conf.json", "assets"] {
        link_or_copy(&root().join(name), &dir.join(name))?;
    }
    let workspace = read(&root().join("Cargo.toml"))?;
    let shell = read(&root().join("src-tauri/Cargo.toml"))?;
    let field = |text: &str, key: &str| -> Result<String> {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key).and_then(|r| r.trim_start().strip_prefix('=')).map(|v| v.trim().to_string())
            })
            .ok_or_else(|| format!("no `{key} = …` line found"))
    };
    let manifest = format!(
        "# Generated by `cargo xtask dist` for the Tauri CLI; see xtask/src/dist.rs.\n\
         [package]\nname = \"{STUDIO_BIN}\"\nversion = {}\nedition = {}\ndescription = {}\nlicense = {}\n\
         authors = {}\nrepository = {}\npublish = false\n\n[workspace]\n\n[[bin]]\nname = \"{STUDIO_BIN}\"\npath = \"main.rs\"\n",
        field(&workspace, "version")?,
        field(&workspace, "edition")?,
        field(&shell, "description")?,
        field(&workspace, "license")?,
        field(&workspace, "authors")?,
        field(&workspace, "repository")?,
    );
    write(&dir.join("Cargo.toml"), &manifest)?;
    write(&dir.join("main.rs"), "// Never built: the CLI packages the workspace's release binary.\nfn main() {}\n")?;
    Ok(dir)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(unix)]
fn link_or_copy(from: &Path, to: &Path) -> Result {
    std::os::unix::fs::symlink(from, to).map_err(|e| format!("linking {}: {e}", to.display()))
}

/// Windows needs a privilege for symbolic links: copy instead.
#[cfg(not(unix))]
fn link_or_copy(from: &Path, to: &Path) -> Result {
    fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
        if from.is_dir() {
            std::fs::create_dir_all(to)?;
            for e in std::fs::read_dir(from)? {
                let e = e?;
                copy(&e.path(), &to.join(e.file_name()))?;
            }
            Ok(())
        } else {
            std::fs::copy(from, to).map(|_| ())
        }
    }
    copy(from, to).map_err(|e| format!("copying {}: {e}", from.display()))
}

/// The entries of a directory, sorted; empty when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    v.sort();
    v
}

/// The single package of `kind` (`deb`, `rpm`) in the bundle directory.
fn package(kind: &str) -> Result<PathBuf> {
    let found: Vec<PathBuf> =
        files_in(&bundle_dir().join(kind)).into_iter().filter(|p| p.extension().is_some_and(|e| e == kind)).collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no .{kind} in {} (run `cargo xtask dist`)", bundle_dir().join(kind).display())),
        many => Err(format!("several .{kind} files in {}: {many:?}", bundle_dir().join(kind).display())),
    }
}

/// The files every Linux package must install: the binary, the desktop entry, the icons.
const REQUIRED_FILES: &[&str] = &[
    "/usr/bin/aiwellflow-studio",
    "/usr/share/applications/AiWellFlow Studio.desktop",
    "/usr/share/icons/hicolor/32x32/apps/aiwellflow-studio.png",
    "/usr/share/icons/hicolor/64x64/apps/aiwellflow-studio.png",
    "/usr/share/icons/hicolor/128x128/apps/aiwellflow-studio.png",
    "/usr/share/icons/hicolor/256x256@2/apps/aiwellflow-studio.png",
    "/usr/share/icons/hicolor/512x512/apps/aiwellflow-studio.png",
];

/// The paths listed by `dpkg-deb --contents` (`./usr/bin/x` → `/usr/bin/x`; names may contain
/// spaces, so everything after the fifth column is the path).
fn deb_paths(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| {
            let mut rest = l;
            for _ in 0..5 {
                rest = rest.trim_start().split_once(char::is_whitespace)?.1;
            }
            let path = rest.trim_start();
            let path = path.split(" -> ").next().unwrap_or(path);
            Some(format!("/{}", path.trim_start_matches("./").trim_end_matches('/')))
        })
        .collect()
}

fn require_files(what: &str, listed: &[String]) -> Result {
    let missing: Vec<&str> = REQUIRED_FILES.iter().copied().filter(|f| !listed.iter().any(|l| l == f)).collect();
    if missing.is_empty() {
        println!("packages: {what} lists the binary, the desktop entry and {} icons", REQUIRED_FILES.len() - 2);
        Ok(())
    } else {
        Err(format!("{what} does not list {missing:?}; it lists:\n  {}", listed.join("\n  ")))
    }
}

fn output(cmd: Cmd, what: &str) -> Result<String> {
    println!("{}", crate::proc::paint("2", &format!("$ {cmd}")));
    cmd.read().ok_or_else(|| format!("{what} failed"))
}

/// The test command's package checks: `dpkg-deb --contents` and `rpm -qlp` list the binary,
/// the desktop entry and the icons; `dpkg -i` installs the .deb; the installed binary reaches
/// its first interactive paint under Xvfb (in a D-Bus session with a fresh keyring, on an
/// empty profile); `dpkg -r` removes it again, also when a check fails.
pub fn check_packages() -> Result {
    let deb = package("deb")?;
    let rpm = package("rpm")?;
    let listing = output(Cmd::new("dpkg-deb").arg("--contents").arg(&deb), "dpkg-deb --contents")?;
    require_files("dpkg-deb --contents", &deb_paths(&listing))?;
    let listing = output(Cmd::new("rpm").arg("-qlp").arg(&rpm), "rpm -qlp")?;
    require_files("rpm -qlp", &listing.lines().map(str::to_string).collect::<Vec<_>>())?;

    if !is_root() {
        println!("packages: not root: skipping `dpkg -i` and the start of the installed binary (CI runs as root)");
        return Ok(());
    }
    let name =
        output(Cmd::new("dpkg-deb").args(["--field"]).arg(&deb).arg("Package"), "dpkg-deb --field")?.trim().to_string();
    if crate::setup::dpkg_installed(&name) {
        return Err(format!("{name} is already installed on this machine; remove it first (dpkg -r {name})"));
    }
    // Removed afterwards whatever happens, also after a half-finished install.
    let installed = Installed(name);
    Cmd::new("dpkg").arg("-i").arg(&deb).env("DEBIAN_FRONTEND", "noninteractive").run()?;
    let bin = Path::new(REQUIRED_FILES[0]);
    if !bin.is_file() {
        return Err(format!("dpkg -i succeeded but {} does not exist", bin.display()));
    }
    let result = smoke_under_xvfb(bin);
    drop(installed);
    result
}

/// Removes the installed package when dropped.
struct Installed(String);

impl Drop for Installed {
    fn drop(&mut self) {
        if let Err(e) = Cmd::new("dpkg").args(["-r", &self.0]).env("DEBIAN_FRONTEND", "noninteractive").run() {
            eprintln!("packages: removing {} failed: {e}", self.0);
        }
    }
}

fn is_root() -> bool {
    Cmd::new("id").arg("-u").read().is_some_and(|uid| uid.trim() == "0")
}

/// Starts `bin` under Xvfb inside a fresh keyring session (through `xtask __first-paint`) and
/// waits for its first interactive paint.
pub fn smoke_under_xvfb(bin: &Path) -> Result {
    let me = std::env::current_exe().map_err(|e| format!("where is xtask? {e}"))?;
    let args = vec!["__first-paint".to_string(), bin.display().to_string()];
    session::with_keyring(Display::Xvfb, &[], &me.display().to_string(), &args)
}

/// `cargo xtask icons`: regenerates the icon set from `assets/icon.svg` with `tauri icon`,
/// keeping the desktop sizes the bundles use (the CLI also writes Android, iOS and Windows
/// Store tiles, which Studio does not ship).
pub fn icons() -> Result {
    const KEEP: &[&str] =
        &["32x32.png", "64x64.png", "128x128.png", "128x128@2x.png", "icon.png", "icon.icns", "icon.ico"];
    let tmp = target_dir().join("icons-generated");
    let _ = std::fs::remove_dir_all(&tmp);
    tauri_cli()?.arg("icon").arg(root().join("assets/icon.svg")).arg("-o").arg(&tmp).run()?;
    let dest = root().join("assets/icons");
    std::fs::create_dir_all(&dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    for p in files_in(&dest) {
        if p.is_file() && !KEEP.iter().any(|k| p.file_name().is_some_and(|n| n == *k)) {
            std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    for name in KEEP {
        std::fs::copy(tmp.join(name), dest.join(name)).map_err(|e| format!("copying {name}: {e}"))?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    println!("icons: wrote {} files to {}", KEEP.len(), dest.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dpkg_listing_paths() {
        let listing = "drwxr-xr-x 0/0               0 2026-11-29 19:28 usr/share\n\
                       -rw-r--r-- 0/0             239 2026-11-29 19:28 ./usr/share/applications/AiWellFlow Studio.desktop\n";
        assert_eq!(
            super::deb_paths(listing),
            vec!["/usr/share".to_string(), "/usr/share/applications/AiWellFlow Studio.desktop".to_string()]
        );
    }
}
