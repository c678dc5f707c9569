//! The start-up benchmark's hook (`cargo xtask bench startup`): the UI reports its first
//! interactive paint here (`ui/src/lib/perf.ts`), with the phases before it, and with
//! `AWF_PERF_MARK=1` in the environment both are printed to stdout for the harness. Otherwise
//! the command does nothing.

/// Prints `AWF_PAGE_PHASES=<name=ms,…>` (when the page sent phases) and then
/// `AWF_FIRST_PAINT_MS=<ms>` (the page's time since navigation start) when `AWF_PERF_MARK=1`.
#[tauri::command]
pub fn perf_mark(ms: f64, phases: Option<String>) {
    if std::env::var_os("AWF_PERF_MARK").is_some_and(|v| v == "1") {
        if let Some(phases) = phases.as_deref().map(printable).filter(|p| !p.is_empty()) {
            println!("AWF_PAGE_PHASES={phases}");
        }
        println!("AWF_FIRST_PAINT_MS={ms:.1}");
    }
}

/// The phases as one line of names, digits and separators (nothing the page sends can start
/// another line of the harness's protocol).
fn printable(phases: &str) -> String {
    phases
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | ',' | '.' | '-' | '_'))
        .take(1024)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn phases_stay_on_one_line_of_plain_characters() {
        assert_eq!(super::printable("script=40.5,profile-ready=150.0"), "script=40.5,profile-ready=150.0");
        assert_eq!(super::printable("a=1\nAWF_FIRST_PAINT_MS=0"), "a=1AWF_FIRST_PAINT_MS=0");
        assert_eq!(super::printable(&"x".repeat(5000)).len(), 1024);
    }
}
