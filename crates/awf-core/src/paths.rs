//! Where a profile lives. `--data-dir` / `AWF_DATA_DIR` override the per-user default, which is
//! the OS's per-user data directory joined with the app identifier `ai.aiwellflow.studio`, the
//! same place Tauri uses for the app's data:
//! `$XDG_DATA_HOME/ai.aiwellflow.studio` (usually `~/.local/share/…`) on Linux,
//! `~/Library/Application Support/ai.aiwellflow.studio` on macOS, and
//! `%APPDATA%\ai.aiwellflow.studio` on Windows.

use std::path::PathBuf;

/// The environment variable that selects a profile directory.
pub const DATA_DIR_ENV: &str = "AWF_DATA_DIR";

/// The app identifier (as in `tauri.conf.json`), also the name of the default profile folder.
pub const APP_IDENTIFIER: &str = "ai.aiwellflow.studio";

/// Resolves the data directory: the explicit flag, else `AWF_DATA_DIR`, else the per-user default.
pub fn resolve_data_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()).map(PathBuf::from))
        .or_else(default_data_dir)
}

/// The per-user default data directory, when the OS provides a home.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.data_dir().join(APP_IDENTIFIER))
}

#[cfg(test)]
mod tests {
    #[test]
    fn explicit_dir_wins() {
        let p = std::path::PathBuf::from("/some/profile");
        assert_eq!(super::resolve_data_dir(Some(p.clone())), Some(p));
    }

    #[test]
    fn default_is_named_after_the_app() {
        let d = super::default_data_dir().expect("a home directory exists in tests");
        assert!(d.ends_with(super::APP_IDENTIFIER), "{}", d.display());
        #[cfg(target_os = "linux")]
        assert!(d.to_string_lossy().contains(".local/share") || std::env::var_os("XDG_DATA_HOME").is_some());
    }
}
