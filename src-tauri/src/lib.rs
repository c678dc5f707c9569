//! AiWellFlow Studio's desktop shell. Wiring only: it opens the profile through the command
//! surface, registers the single IPC command and runs the window. No business logic lives here.

use std::path::PathBuf;
use std::sync::Arc;

use awf_api::{Api, ApiConfig};

mod dialog;
mod ipc;
mod perf;

/// Wires the command surface into a builder. `run` passes the real builder; the command tests
/// pass Tauri's mock builder.
pub fn wire<R: tauri::Runtime>(builder: tauri::Builder<R>, api: Arc<Api>) -> tauri::Builder<R> {
    builder.manage(api).invoke_handler(tauri::generate_handler![
        ipc::api_call,
        perf::perf_mark,
        dialog::dialog_open,
        dialog::dialog_save
    ])
}

/// `--data-dir DIR` (or `--data-dir=DIR`) from the command line, if given.
pub fn data_dir_arg(args: impl IntoIterator<Item = String>) -> Option<PathBuf> {
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// Starts the desktop app.
pub fn run() {
    let data_dir = awf_core::paths::resolve_data_dir(data_dir_arg(std::env::args().skip(1)))
        .unwrap_or_else(|| PathBuf::from("aiwellflow-studio-data"));
    let api = Arc::new(Api::open(ApiConfig::new(data_dir)));
    // A cancellation asked offline completes on its own once the platform answers.
    awf_api::rights::spawn_background(&api, std::time::Duration::from_secs(5));
    wire(tauri::Builder::default(), api)
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Tauri event loop failed to start");
}
