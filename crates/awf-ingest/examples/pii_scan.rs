//! Scans one UTF-8 file with the PII scanner, single-threaded, and prints one line of JSON:
//! `{"bytes":…,"findings":…,"seconds":…,"cpu_seconds":…,"mb_per_s":…,"cpu_mb_per_s":…,"counts":{…}}`.
//! The times cover the scan only (the file is read and checked first): `seconds` by the wall
//! clock, `cpu_seconds` the CPU time of the scanning thread (Linux `/proc/thread-self/schedstat`;
//! `null` elsewhere), which is what "per core" means on a machine busy with other work. Used by
//! `cargo xtask bench pii`.
//!
//! `cargo run --release -p awf-ingest --example pii_scan -- FILE [--list]`; `--list` also
//! prints every finding (kind, line, column, masked value) to stderr.

use std::time::Instant;

use awf_ingest::pii;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: pii_scan FILE [--list]");
        std::process::exit(2);
    };
    let list = args.any(|a| a == "--list");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("pii_scan: reading {path}: {e}");
            std::process::exit(1);
        }
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("pii_scan: {path} is not UTF-8: {e}");
            std::process::exit(1);
        }
    };
    let cpu_before = thread_cpu_seconds();
    let started = Instant::now();
    let findings = pii::scan(text);
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(thread_cpu_seconds()).map(|(a, b)| b - a);
    if list {
        for f in &findings {
            let value = text.get(f.start..f.end).unwrap_or("");
            eprintln!("{:?}\t{}:{}\t{}\t{}", f.kind, f.line, f.column, value, pii::mask(f.kind, value));
        }
    }
    let counts: Vec<String> =
        pii::counts(&findings).iter().map(|(k, n)| format!("\"{}\":{n}", kind_name(*k))).collect();
    let mb = bytes.len() as f64 / 1e6;
    let (cpu_seconds, cpu_mbps) = match cpu {
        Some(c) => (format!("{c:.6}"), format!("{:.1}", mb / c.max(1e-9))),
        None => ("null".into(), "null".into()),
    };
    println!(
        "{{\"bytes\":{},\"findings\":{},\"seconds\":{seconds:.6},\"cpu_seconds\":{cpu_seconds},\"mb_per_s\":{:.1},\"cpu_mb_per_s\":{cpu_mbps},\"counts\":{{{}}}}}",
        bytes.len(),
        findings.len(),
        mb / seconds.max(1e-9),
        counts.join(",")
    );
}

/// CPU time of the calling thread in seconds (Linux: the first field of
/// `/proc/thread-self/schedstat`, in nanoseconds).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

fn kind_name(kind: pii::PiiKind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
