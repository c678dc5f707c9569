use std::path::Path;

fn main() {
    // tauri-build needs frontendDist to exist even for `cargo check`/`clippy`. When the UI has
    // not been built yet, leave a page that says how to build it (xtask rebuilds it over this).
    let dist = Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist).expect("create ui/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>AiWellFlow Studio</title><p>The UI has not been built. Run <code>cargo xtask run</code>.</p>\n",
        )
        .expect("write placeholder ui/dist/index.html");
    }
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json").app_manifest(
        tauri_build::AppManifest::new().commands(&["api_call", "perf_mark", "dialog_open", "dialog_save"]),
    ))
    .expect("tauri-build");
}
