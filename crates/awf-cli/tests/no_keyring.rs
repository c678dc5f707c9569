//! With no keyring service reachable, `awf` must say so with the coded error and a hint, write
//! no key anywhere, and work in the explicit passphrase mode. The child gets a D-Bus address
//! that leads nowhere, so this holds whatever the surrounding session has.

mod common;
use common::*;

fn without_keyring(profile: &std::path::Path, scratch: &std::path::Path) -> std::process::Command {
    let mut c = awf(profile);
    c.env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}", scratch.join("no-such-bus").display()))
        .env_remove("DISPLAY")
        .env("XDG_RUNTIME_DIR", scratch);
    c
}

#[test]
fn no_keyring_service_gives_the_coded_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let mut c = without_keyring(&profile, dir.path());
    c.args(["agents", "create", "--name", "x"]);
    let out = fails(c);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error[keyring_unavailable]"), "{err}");
    assert!(
        err.contains("gnome-keyring") && err.contains("passphrase"),
        "the hint says what to install and the alternative: {err}"
    );
    assert!(!profile.join("key.json").exists(), "no key file without a key holder");
    assert!(!profile.join("store").exists(), "nothing stored in plaintext");

    let mut c = without_keyring(&profile, dir.path());
    c.env("AWF_PASSPHRASE", "explicit passphrase mode").args(["agents", "create", "--name", "works"]);
    ok(c);
    let key_file = std::fs::read_to_string(profile.join("key.json")).unwrap();
    assert!(key_file.contains("\"mode\": \"passphrase\""), "{key_file}");
}
