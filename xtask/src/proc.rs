//! Running external programs: echo the command, inherit the terminal, turn a non-zero exit
//! into an error that names the command. Also the few filesystem facts the tasks need
//! (repository root, target directory, finding programs on `PATH`, modification times).

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Wraps `text` in an ANSI style (`"1;31"` bold red, …) when stdout is a terminal and
/// `NO_COLOR` is unset; CI logs get plain text.
pub fn paint(style: &str, text: &str) -> String {
    use std::io::IsTerminal;
    if std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal() {
        format!("\x1b[{style}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Every task fails with a message meant for a person; there is nothing to recover from.
pub type Result<T = ()> = std::result::Result<T, String>;

/// The repository root (the parent of this crate's directory).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().expect("xtask lives one level below the repository root").to_path_buf()
}

/// The Cargo target directory, honouring `CARGO_TARGET_DIR` (relative paths are taken from the
/// repository root, where every cargo command of the tasks runs). Default: `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root().join(dir)
            }
        }
        _ => root().join("target"),
    }
}

/// The path of a debug binary built from this workspace.
pub fn debug_bin(name: &str) -> PathBuf {
    target_dir().join("debug").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// `npm` is a script on Windows and must be called through its `.cmd` shim.
pub fn npm() -> &'static str {
    if cfg!(windows) {
        "npm.cmd"
    } else {
        "npm"
    }
}

/// Finds a program on `PATH`, then in Cargo's own bin directory (where `cargo install` puts
/// things, and which a fresh shell may not have on `PATH` yet).
pub fn which(program: &str) -> Option<PathBuf> {
    let file = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.push(cargo_bin_dir());
    dirs.into_iter().map(|d| d.join(&file)).find(|p| p.is_file())
}

/// `$CARGO_HOME/bin`, by default `~/.cargo/bin`.
pub fn cargo_bin_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home).join("bin");
    }
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).unwrap_or_default();
    PathBuf::from(home).join(".cargo").join("bin")
}

/// The modification time of a path, `None` when it does not exist.
pub fn mtime(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// The newest modification time of any file below `dir` (recursively), skipping `node_modules`.
pub fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return mtime(dir);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name() == Some(OsStr::new("node_modules")) {
            continue;
        }
        let t = if path.is_dir() { newest_mtime(&path) } else { mtime(&path) };
        newest = newest.max(t);
    }
    newest
}

/// A command about to run. Built like `std::process::Command`, but printed before it runs and
/// failing with a readable error.
pub struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let program = program.as_ref();
        let mut inner = Command::new(program);
        inner.current_dir(root());
        Cmd { inner, shown: program.to_string_lossy().into_owned() }
    }

    /// Displays the program under a shorter name (e.g. `cargo` for the full toolchain path).
    pub fn shown_as(mut self, name: &str) -> Self {
        self.shown = name.to_string();
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        let arg = arg.as_ref();
        self.shown.push(' ');
        self.shown.push_str(&shell_quote(&arg.to_string_lossy()));
        self.inner.arg(arg);
        self
    }

    /// Adds an argument shown as `shown` (for long scripts).
    pub fn arg_shown(mut self, arg: impl AsRef<OsStr>, shown: &str) -> Self {
        self.shown.push(' ');
        self.shown.push_str(shown);
        self.inner.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// Runs in `dir` (relative to the repository root when relative).
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        let dir = root().join(dir);
        if dir != root() {
            let rel = dir.strip_prefix(root()).unwrap_or(&dir).display().to_string();
            self.shown = format!("(cd {rel} && {})", self.shown);
        }
        self.inner.current_dir(dir);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.shown = format!("{key}={} {}", shell_quote(&value.as_ref().to_string_lossy()), self.shown);
        self.inner.env(key, value);
        self
    }

    /// Removes a variable from the child's environment.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.shown = format!("env -u {key} {}", self.shown);
        self.inner.env_remove(key);
        self
    }

    /// Runs to completion with the terminal inherited; a non-zero exit is an error.
    pub fn run(mut self) -> Result {
        println!("{}", paint("2", &format!("$ {}", self.shown)));
        let status = self.inner.status().map_err(|e| format!("could not start `{}`: {e}", self.shown))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{}` failed ({status})", self.shown))
        }
    }

    /// Runs silently and returns stdout, or `None` when the program is missing or fails.
    pub fn read(mut self) -> Option<String> {
        let out = self.inner.stderr(std::process::Stdio::null()).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Quotes a word for display the way a POSIX shell would need it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
