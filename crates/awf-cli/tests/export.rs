//! `awf export` as a real process: the export of 256 MB of datasets keeps the exporting
//! process's peak memory (its max RSS, read exactly with `wait4`) under 150 MB; `--verify`
//! passes on the file and fails, naming the file, once one byte is flipped. Passphrase-mode
//! profiles (AWF_PASSPHRASE), so no keyring service is needed.
//!
//! A child's max RSS starts from its parent's: `Command` spawns with vfork (or fork), and exec
//! keeps the old address space's high-water mark in the child's `maxrss`. So whatever takes memory
//! (importing 256 MB, the passphrase KDF) runs in `awf` processes of its own, and the test checks
//! that its own peak stays small before it measures `awf export`.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use awf_core::{OpenOptions, Profile, SecretString};
use common::{awf, fails, ok};

const PASSPHRASE: &str = "export test passphrase";
const MB: usize = 1024 * 1024;

fn cli(dir: &Path) -> Command {
    let mut c = awf(dir);
    c.env("AWF_PASSPHRASE", PASSPHRASE);
    c
}

fn open(dir: &Path) -> Profile {
    Profile::open(OpenOptions::new(dir).passphrase(Some(SecretString::new(PASSPHRASE.into())))).unwrap()
}

/// Writes `size` bytes of plain text lines (no personal information), starting with `marker`,
/// to `path`, a line at a time (this process stays small; see the module documentation).
fn write_text(path: &Path, marker: &str, size: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "{marker}").unwrap();
    let (mut i, mut written) = (0u64, marker.len() + 1);
    while written < size {
        let line = format!("{i:09} the quick brown fox jumps over the lazy dog, again and again\n");
        out.write_all(line.as_bytes()).unwrap();
        written += line.len();
        i += 1;
    }
    out.flush().unwrap();
}

/// This process's own peak RSS in bytes (`VmHWM`).
#[cfg(target_os = "linux")]
fn own_peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/self/status");
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// Runs `cmd` to the end and returns (exit code, stdout, stderr, peak RSS in bytes).
#[cfg(target_os = "linux")]
fn run_measured(mut cmd: Command) -> (i32, String, String, u64) {
    let out_dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (out_dir.path().join("stdout"), out_dir.path().join("stderr"));
    cmd.stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()));
    cmd.stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()));
    let child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for; both pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child); // already reaped; Child's drop does not wait
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    let read = |p: &Path| {
        let mut s = String::new();
        std::fs::File::open(p).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    // ru_maxrss is in kilobytes on Linux.
    (code, read(&out_path), read(&err_path), usage.ru_maxrss as u64 * 1024)
}

#[cfg(target_os = "linux")]
#[test]
fn exporting_256_mb_of_datasets_stays_under_150_mb_and_verify_catches_one_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let sources = tempfile::tempdir().unwrap();
    ok({
        let mut c = cli(dir.path());
        c.args(["agents", "create", "--name", "memory test"]);
        c
    });
    for i in 0..4 {
        let file = sources.path().join(format!("part {i}.txt"));
        write_text(&file, &format!("dataset-{i}-tamper-target"), 64 * MB);
        ok({
            let mut c = cli(dir.path());
            c.args(["dataset", "import"]).arg(&file);
            c
        });
        std::fs::remove_file(&file).unwrap();
    }
    let own = own_peak_rss();
    assert!(own < 64 * MB as u64, "this test's own peak RSS ({own} bytes) would be charged to awf export");

    let zip = out.path().join("all my data.zip");
    let mut cmd = cli(dir.path());
    cmd.args(["export", "--out"]).arg(&zip);
    let (code, stdout, stderr, peak) = run_measured(cmd);
    assert_eq!(code, 0, "awf export failed:\n{stderr}\n{stdout}");
    eprintln!(
        "awf export of 256 MB of datasets: peak RSS {:.1} MB (this test's own peak before it: {:.1} MB)",
        peak as f64 / MB as f64,
        own as f64 / MB as f64
    );
    assert!(peak < 150 * MB as u64, "peak RSS {peak} bytes is not under 150 MB");
    {
        let p = open(dir.path());
        let total: u64 = p.datasets().list().unwrap().iter().map(|d| d.bytes).sum();
        assert!(total >= 256 * MB as u64, "{total}");
    }
    assert!(stderr.contains("exporting") && stderr.contains("datasets"), "progress on stderr: {stderr}");
    assert!(stdout.contains("Exported"), "{stdout}");
    let size = std::fs::metadata(&zip).unwrap().len();
    assert!(size > 256 * MB as u64, "datasets are stored as they are: {size}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1, "no temporary file left");

    let verified = ok({
        let mut c = awf(dir.path());
        c.args(["export", "--verify"]).arg(&zip);
        c
    });
    assert!(verified.starts_with("OK:"), "{verified}");

    // Flip one byte inside the first dataset's stored text.
    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(&zip).unwrap();
    let (at, byte) = {
        use std::io::{Seek, SeekFrom};
        let marker = b"dataset-0-tamper-target";
        let mut buf = vec![0u8; 8 * MB];
        let mut base = 0u64;
        loop {
            f.seek(SeekFrom::Start(base)).unwrap();
            let n = f.read(&mut buf).unwrap();
            assert!(n > marker.len(), "marker not found");
            if let Some(pos) = buf[..n].windows(marker.len()).position(|w| w == marker) {
                let at = base + pos as u64 + 1000;
                f.seek(SeekFrom::Start(at)).unwrap();
                let mut b = [0u8];
                f.read_exact(&mut b).unwrap();
                break (at, b[0]);
            }
            base += (n - marker.len()) as u64;
        }
    };
    {
        use std::io::{Seek, SeekFrom, Write};
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&[byte ^ 0x20]).unwrap();
        f.sync_all().unwrap();
    }
    let failed = fails({
        let mut c = awf(dir.path());
        c.args(["export", "--verify"]).arg(&zip);
        c
    });
    assert_eq!(failed.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&failed.stdout);
    assert!(printed.contains("problem[") && printed.contains("/part 0.txt"), "{printed}");
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("error[invalid_file]"), "{err}");
}

#[test]
fn platform_data_is_said_to_be_not_asked_when_signed_out_or_left_out() {
    let dir = tempfile::tempdir().unwrap();
    ok({
        let mut c = cli(dir.path());
        c.args(["agents", "create", "--name", "exported"]);
        c
    });
    let read_zip = |zip: &Path| -> (serde_json::Value, String) {
        let mut z = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
        let mut status = String::new();
        z.by_name("platform/status.json").unwrap().read_to_string(&mut status).unwrap();
        let mut index = String::new();
        z.by_name("index.html").unwrap().read_to_string(&mut index).unwrap();
        (serde_json::from_str(&status).unwrap(), index)
    };
    // Signed out: the platform is not asked, and the export says so.
    let signed_out = dir.path().join("a.zip");
    let stdout = ok({
        let mut c = cli(dir.path());
        c.args(["export", "--out"]).arg(&signed_out);
        c
    });
    assert!(stdout.contains("platform") && stdout.contains("Not signed in"), "{stdout}");
    let (status, index) = read_zip(&signed_out);
    assert_eq!((status["asked"].as_bool(), status["reason"].as_str()), (Some(false), Some("not_signed_in")));
    assert!(index.contains("Not signed in"));
    // --no-platform: left out at the user's request, said in the index.
    let left_out = dir.path().join("b.zip");
    let json = ok({
        let mut c = cli(dir.path());
        c.args(["export", "--no-platform", "--json", "--out"]).arg(&left_out);
        c
    });
    let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(summary["categories"].as_array().unwrap().iter().any(|c| c["name"] == "agents" && c["count"] == 1));
    let (status, index) = read_zip(&left_out);
    assert_eq!(status["reason"], "left_out_at_your_request");
    assert!(index.contains("Left out at your request"));
    let report = ok({
        let mut c = awf(dir.path());
        c.args(["export", "--json", "--verify"]).arg(&left_out);
        c
    });
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["ok"], true);
}

#[test]
fn verify_of_what_is_not_an_export_fails_with_a_coded_message() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.zip");
    std::fs::write(&bogus, b"not a zip").unwrap();
    let out = fails({
        let mut c = awf(dir.path());
        c.args(["export", "--verify"]).arg(&bogus);
        c
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[invalid_file]") && err.contains("not a ZIP"), "{err}");
    let out = fails({
        let mut c = awf(dir.path());
        c.args(["export", "--verify"]).arg(dir.path().join("missing.zip"));
        c
    });
    assert!(String::from_utf8_lossy(&out.stderr).contains("error["));
    // Neither --out nor --verify: a usage error from clap.
    let out = fails({
        let mut c = awf(dir.path());
        c.arg("export");
        c
    });
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
}
