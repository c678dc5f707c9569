//! Linux desktop sessions for tests: a private D-Bus session bus with a real, unlocked
//! gnome-keyring (the Secret Service the keyring crate talks to), optionally on a virtual X
//! display (Xvfb). Each session gets a fresh `XDG_DATA_HOME`, so every run starts with an empty
//! keyring, and its temporary directories are removed afterwards.

use std::path::PathBuf;

use crate::proc::{Cmd, Result};

/// Runs inside `dbus-run-session`: unlocks a new login keyring with a throwaway password,
/// exports whatever the daemon prints (`NAME=value` lines; gnome-keyring 42+ prints nothing
/// when only the secrets component runs), waits until `org.freedesktop.secrets` is owned on the
/// bus, then runs the command given as arguments.
const KEYRING_SESSION: &str = r#"set -euo pipefail
out="$(printf awf-test-keyring | gnome-keyring-daemon --unlock --components=secrets)"
while IFS= read -r line; do
  case "$line" in *=*) export "$line" ;; esac
done <<<"$out"
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; then
    break
  fi
  sleep 0.1
done
"$@"
"#;

/// What the command should run on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// No display: the command has no window.
    None,
    /// A virtual 1280×800 X display from `xvfb-run`.
    Xvfb,
}

/// Runs `cmd` with `args` inside a fresh D-Bus session with an unlocked gnome-keyring.
pub fn with_keyring(display: Display, env: &[(&str, String)], cmd: &str, args: &[String]) -> Result {
    if !cfg!(target_os = "linux") {
        // macOS Keychain and Windows Credential Manager need no session of their own.
        return env.iter().fold(Cmd::new(cmd).args(args), |c, (k, v)| c.env(k, v)).run();
    }
    let dir = SessionDir::create()?;
    let runtime = dir.0.join("runtime");
    let data = dir.0.join("data");
    for d in [&runtime, &data] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
    }
    let mut c = match display {
        Display::None => Cmd::new("dbus-run-session"),
        Display::Xvfb => Cmd::new("xvfb-run").args(["-a", "-s", "-screen 0 1280x800x24", "dbus-run-session"]),
    };
    c = c
        .args(["--", "bash", "-c"])
        .arg_shown(KEYRING_SESSION, "<unlock a fresh gnome-keyring, then run>")
        .args(["bash", cmd])
        .args(args);
    c = c.env("XDG_RUNTIME_DIR", &runtime).env("XDG_DATA_HOME", &data);
    // A keyring of the surrounding desktop must not leak in.
    c = c.env_remove("GNOME_KEYRING_CONTROL").env_remove("SSH_AUTH_SOCK");
    for (k, v) in env {
        c = c.env(k, v);
    }
    c.run()
}

/// A private temporary directory, removed on drop.
struct SessionDir(PathBuf);

impl SessionDir {
    fn create() -> Result<Self> {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("awf-session-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(SessionDir(dir))
    }
}

impl Drop for SessionDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
