//! `awf agents …` end to end on a real profile whose key is in the real OS keyring
//! (a Secret Service in CI: `cargo xtask test` runs this inside a D-Bus session with
//! gnome-keyring unlocked).

mod common;
use common::*;

#[test]
fn create_list_show_edit_history_over_one_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = awf(dir.path());
    c.args(["agents", "create", "--name", "Travel planner", "--instructions", "Plan trips.\nAsk for dates."]);
    let id = ok(c).trim().to_string();
    assert_eq!(id.len(), 26, "prints the new id");

    let mut c = awf(dir.path());
    c.args(["agents", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&ok(c)).unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["name"], "Travel planner");

    let mut c = awf(dir.path());
    c.args(["agents", "edit", &id, "--instructions", "Plan trips.\nAsk for dates and budget."]);
    assert!(ok(c).contains("revision 2"));

    let mut c = awf(dir.path());
    c.args(["agents", "history", &id, "--json"]);
    let hist: serde_json::Value = serde_json::from_str(&ok(c)).unwrap();
    let seqs: Vec<u64> = hist.as_array().unwrap().iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![2, 1]);

    let mut c = awf(dir.path());
    c.args(["agents", "show", &id]);
    let shown = ok(c);
    assert!(shown.contains("Ask for dates and budget."), "{shown}");

    let mut c = awf(dir.path());
    c.args(["agents", "list", "--filter", "nothing-matches-this"]);
    assert_eq!(ok(c).trim(), "No agents.");
}

#[test]
fn errors_are_coded_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = awf(dir.path());
    c.args(["agents", "create", "--name", "   "]);
    let out = fails(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error[invalid_input]: name: must not be empty"), "{err}");
    assert!(err.contains("hint:"), "{err}");

    let mut c = awf(dir.path());
    c.args(["agents", "create", "--name", "Keeper", "--instructions", "keep me"]);
    let id = ok(c).trim().to_string();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, "x".repeat(1024 * 1024)).unwrap();
    let mut c = awf(dir.path());
    c.args(["agents", "edit", &id, "--instructions-file"]).arg(&big);
    let out = fails(c);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[too_large]: instructions is too large"));

    let mut c = awf(dir.path());
    c.args(["agents", "show", &id, "--json"]);
    let a: serde_json::Value = serde_json::from_str(&ok(c)).unwrap();
    assert_eq!(a["instructions"], "keep me");

    let mut c = awf(dir.path());
    c.args(["agents", "show", "01AAAAAAAAAAAAAAAAAAAAAAAA"]);
    assert!(String::from_utf8_lossy(&fails(c).stderr).starts_with("error[not_found]"));
}

#[test]
fn nothing_on_disk_contains_the_plaintext_and_the_key_is_in_the_keyring() {
    const MARKER: &str = "ZEBRA-MARKER-7f3a91";
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        let mut c = awf(dir.path());
        c.args([
            "agents",
            "create",
            "--name",
            &format!("{MARKER} agent {i}"),
            "--instructions",
            &format!("{MARKER} instructions {i}").repeat(50),
        ]);
        ok(c);
    }
    let files = files(dir.path());
    assert!(files.iter().any(|p| p.starts_with(dir.path().join("store"))), "the store exists: {files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
            "{} contains the plaintext marker",
            f.display()
        );
    }
    // The key is in the OS keyring, under the profile id recorded in key.json (which holds no key).
    let key_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("key.json")).unwrap()).unwrap();
    assert_eq!(key_file["mode"], "keyring");
    assert_eq!(key_file.as_object().unwrap().len(), 3, "mode, version, profile_id only: {key_file}");
    use awf_core::KeyVault;
    let name = format!("store-key/{}", key_file["profile_id"].as_str().unwrap());
    assert!(awf_core::OsKeyring.get(&name).unwrap().is_some(), "the store key is in the OS keyring");
    // Without the key the store cannot be read: the same error a lost keyring gives.
    awf_core::OsKeyring.delete(&name).unwrap();
    let mut c = awf(dir.path());
    c.args(["agents", "list"]);
    assert!(String::from_utf8_lossy(&fails(c).stderr).starts_with("error[key_missing]"));
}

#[test]
fn a_second_process_on_the_same_profile_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut holder = KillOnDrop(
        awf(dir.path())
            .args(["bridge"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait until the bridge has opened the profile (it prints its URL after).
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(holder.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("AWF_BRIDGE_URL=http://127.0.0.1:"), "{line}");
    let mut c = awf(dir.path());
    c.args(["agents", "list"]);
    let out = fails(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[profile_locked]") && err.contains(&format!("pid {}", holder.0.id())), "{err}");
    assert!(err.contains("hint:"));
    drop(holder);
    let mut c = awf(dir.path());
    c.args(["agents", "list"]);
    assert_eq!(ok(c).trim(), "No agents.", "the lock is released when the holder dies");
}

#[test]
fn passphrase_mode_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = awf(dir.path());
    c.env("AWF_PASSPHRASE", "a sturdy passphrase").args(["agents", "create", "--name", "Locked"]);
    ok(c);
    let mut c = awf(dir.path());
    c.args(["agents", "list"]);
    assert!(String::from_utf8_lossy(&fails(c).stderr).starts_with("error[passphrase_required]"));
    let mut c = awf(dir.path());
    c.env("AWF_PASSPHRASE", "not the passphrase").args(["agents", "list"]);
    assert!(String::from_utf8_lossy(&fails(c).stderr).starts_with("error[wrong_passphrase]"));
    let mut c = awf(dir.path());
    c.args(["--passphrase-stdin", "agents", "list"]).stdin(std::process::Stdio::piped());
    let mut child = c.stdout(std::process::Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"a sturdy passphrase\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Locked"));
}
