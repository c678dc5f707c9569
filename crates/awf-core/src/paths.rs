//! Where a profile lives. `--data-dir` / `AWF_DATA_DIR` override the per-user default, which is
//! the OS's data directory for the app (`~/.local/share/aiwellflow-studio` on Linux,
//! `~/Library/Application Support/ai.aiwellflow.studio` on macOS, `%APPDATA%\AiWellFlow\Studio\data`
//! on Windows).

use std::path::PathBuf;

/// The environment variable that selects a profile directory.
pub const DATA_DIR_ENV: &str = "AWF_DATA_DIR";

/// Resolves the data directory: the explicit flag, else `AWF_DATA_DIR`, else the per-user default.
pub fn resolve_data_dir(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit
        .or_else(|| std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()).map(PathBuf::from))
        .or_else(default_data_dir)
}

/// The per-user default data directory, when the OS provides a home.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("ai", "AiWellFlow", "Studio").map(|d| d.data_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    #[test]
    fn explicit_dir_wins() {
        let p = std::path::PathBuf::from("/some/profile");
        assert_eq!(super::resolve_data_dir(Some(p.clone())), Some(p));
    }
}
