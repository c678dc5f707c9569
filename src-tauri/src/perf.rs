//! The start-up benchmark's hook (`cargo xtask bench startup`): the UI reports its first
//! interactive paint here (`ui/src/lib/perf.ts`), and with `AWF_PERF_MARK=1` in the environment
//! the mark is printed to stdout for the harness. Otherwise the command does nothing.

/// Prints `AWF_FIRST_PAINT_MS=<ms>` (the page's time since navigation start) when
/// `AWF_PERF_MARK=1`.
#[tauri::command]
pub fn perf_mark(ms: f64) {
    if std::env::var_os("AWF_PERF_MARK").is_some_and(|v| v == "1") {
        println!("AWF_FIRST_PAINT_MS={ms:.1}");
    }
}
