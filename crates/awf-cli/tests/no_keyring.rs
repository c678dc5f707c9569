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

/// Without a keyring service, a passphrase profile still signs in: the tokens are sealed in the
/// store under the passphrase-derived key, never in plaintext, and log-out removes them.
#[test]
fn passphrase_profile_signs_in_without_a_keyring_and_keeps_no_plaintext_token() {
    use std::io::Write;
    let pdata = tempfile::tempdir().unwrap();
    let platform = common::platform::Platform::start(pdata.path(), 0, &[]);
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut c = without_keyring(&profile, dir.path());
        c.env("AWF_PASSPHRASE", "explicit passphrase mode").env("AWF_PLATFORM_URL", &platform.url).args(args);
        c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let phone = "+8613800000009";
    run(&["signup", "code", "--phone", phone, "--accept-policy"], None);
    let code = platform.sms_code(phone);
    let create = ["signup", "create", "--account-name", "nokeyring", "--phone", phone, "--sms-code", &code];
    run(&[&create[..], &["--date-of-birth", "1985-03-03", "--password-stdin"]].concat(), Some("a-fine-password\n"));
    let me = run(&["whoami", "--json"], None);
    assert!(me.contains("\"nokeyring\""), "{me}");
    for f in files(&profile) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(5).any(|w| w == b"awfa_" || w == b"awfr_"), "a token in clear in {}", f.display());
        assert!(!bytes.windows(15).any(|w| w == b"a-fine-password"), "the password in {}", f.display());
    }
    run(&["logout"], None);
    let mut c = without_keyring(&profile, dir.path());
    c.env("AWF_PASSPHRASE", "explicit passphrase mode").env("AWF_PLATFORM_URL", &platform.url).arg("whoami");
    let out = fails(c);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[not_signed_in]"));
}
