//! A sequence of named steps: a banner before each, its time after, fail-fast, and a plain
//! summary line (`N passed, M failed`) at the end, which scripts and people can grep.

use std::time::{Duration, Instant};

use crate::proc::{paint, Result};

pub struct Steps {
    task: &'static str,
    started: Instant,
    done: Vec<(String, Duration)>,
    skipped: Vec<(String, String)>,
}

impl Steps {
    pub fn new(task: &'static str) -> Self {
        Steps { task, started: Instant::now(), done: Vec::new(), skipped: Vec::new() }
    }

    /// Runs one step. On failure prints the failure banner and the summary, and returns the
    /// error so the caller stops.
    pub fn step(&mut self, name: &str, f: impl FnOnce() -> Result) -> Result {
        let n = self.done.len() + 1;
        println!("\n{}", paint("1;34", &format!("==> [{}:{n}] {name}", self.task)));
        let t = Instant::now();
        match f() {
            Ok(()) => {
                let took = t.elapsed();
                println!("{}", paint("1;32", &format!("<== [{}:{n}] ok: {name} ({})", self.task, fmt_duration(took))));
                self.done.push((name.to_string(), took));
                Ok(())
            }
            Err(e) => {
                let took = t.elapsed();
                println!(
                    "\n{}",
                    paint("1;31", &format!("!!! [{}:{n}] FAILED: {name} ({})", self.task, fmt_duration(took)))
                );
                self.print_table();
                println!("{} passed, 1 failed", self.done.len());
                Err(format!("step `{name}` failed: {e}"))
            }
        }
    }

    /// Records a step that was not run, and why.
    pub fn skip(&mut self, name: &str, why: &str) {
        println!("\n{}", paint("1;33", &format!("--- [{}] skipped: {name} ({why})", self.task)));
        self.skipped.push((name.to_string(), why.to_string()));
    }

    pub fn finish(self) {
        println!(
            "\n{}",
            paint("1;32", &format!("=== {}: all steps passed in {}", self.task, fmt_duration(self.started.elapsed())))
        );
        self.print_table();
        println!("{} passed, 0 failed", self.done.len());
    }

    fn print_table(&self) {
        for (name, took) in &self.done {
            println!("  ok    {:>8}  {name}", fmt_duration(*took));
        }
        for (name, why) in &self.skipped {
            println!("  skip            {name} ({why})");
        }
    }
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
