//! Runs the real `awf` binary against a temporary data directory.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn awf(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_awf"));
    c.arg("--data-dir").arg(dir).env_remove("AWF_PASSPHRASE").env_remove("AWF_DATA_DIR");
    c
}

pub fn ok(mut c: Command) -> String {
    let out = c.output().expect("awf runs");
    assert!(
        out.status.success(),
        "awf failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn fails(mut c: Command) -> Output {
    let out = c.output().expect("awf runs");
    assert!(!out.status.success(), "awf should have failed: {}", String::from_utf8_lossy(&out.stdout));
    out
}

/// Every file under `dir`, recursively.
pub fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
pub mod platform;
