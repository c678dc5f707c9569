//! The start-up benchmark's yardstick: a blank Tauri v2 window showing one static page
//! (`dist/index.html`), with Studio's window size, security settings, release profile and
//! features. Its page reports its first paint through `perf_mark`, as Studio's UI does.

// No console window on Windows release builds (as Studio).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod perf {
    /// Prints `AWF_FIRST_PAINT_MS=<ms>` (the page's time since navigation start) when the
    /// benchmark set `AWF_PERF_MARK=1`; otherwise does nothing.
    #[tauri::command]
    pub fn perf_mark(ms: f64) {
        if std::env::var_os("AWF_PERF_MARK").is_some_and(|v| v == "1") {
            println!("AWF_FIRST_PAINT_MS={ms:.1}");
        }
    }
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![perf::perf_mark])
        .run(tauri::generate_context!())
        .expect("the Tauri event loop failed to start");
}
