//! Crypto-shredding a profile (account cancellation, D8) on real sled and the real OS keyring
//! (gnome-keyring in a D-Bus session in CI; `cargo xtask test` provides one). Linux only: the
//! keyring is listed through the Secret Service, which the keyring crate cannot do.
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::path::Path;

use awf_core::shred::SHRED_MARKER;
use awf_core::{AgentDraft, CoreError, OpenOptions, Profile, SecretString};

const MARKER: &str = "shred-marker-7Q2ZK";

/// The keyring tests of this file run one at a time: gnome-keyring-daemon (glib 2.74) once died
/// on an internal assertion (`trap int3` in libglib) while these tests created, searched and
/// deleted items from three threads at once, and every later keyring call then failed.
static KEYRING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    KEYRING.lock().unwrap_or_else(|p| p.into_inner())
}

fn open(dir: &Path) -> Profile {
    Profile::open(OpenOptions::new(dir)).expect("profile opens with the OS keyring")
}

/// Every Secret Service item of the app whose entry name ends with `/<profile id>`.
fn keyring_entries_of(profile_id: &str) -> Vec<String> {
    use dbus_secret_service::{EncryptionType, SecretService};
    let ss = SecretService::connect(EncryptionType::Plain).expect("a Secret Service in the session");
    let found =
        ss.search_items(HashMap::from([("service", awf_core::keys::KEYRING_SERVICE)])).expect("searching the keyring");
    found
        .unlocked
        .iter()
        .chain(found.locked.iter())
        .filter_map(|item| item.get_attributes().ok()?.get("username").cloned())
        .filter(|user| user.split('#').next().is_some_and(|u| u.ends_with(&format!("/{profile_id}"))))
        .collect()
}

fn seed(p: &Profile) {
    let mut d = AgentDraft::named("Shred me");
    d.instructions = format!("Instructions holding {MARKER}.");
    p.agents().create(d).unwrap();
    p.put_secret("platform-tokens", &SecretString::new(format!("token-{MARKER}"))).unwrap();
    // Long enough to be split over several keyring entries (`name#1`, …).
    p.put_secret("plugin/long", &SecretString::new(MARKER.repeat(400))).unwrap();
}

#[test]
fn shred_destroys_the_key_every_keyring_entry_and_every_file() {
    let _serial = one_at_a_time();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("profile");
    let p = open(&dir);
    seed(&p);
    let id = p.profile_id().to_string();
    assert!(
        keyring_entries_of(&id).len() >= 3,
        "the key and both secrets are in the keyring: {:?}",
        keyring_entries_of(&id)
    );

    let report = p.shred(&[]).unwrap();
    assert_eq!(report.profile_id, id);
    assert!(!dir.exists(), "the data directory is gone");
    assert_eq!(keyring_entries_of(&id), Vec::<String>::new(), "no keyring entry of the profile remains");
    assert!(report.keyring_entries_deleted >= 3, "{report:?}");
    assert!(report.files_removed > 3 && report.bytes_removed > 0, "{report:?}");
    assert!(report.key_destroyed_after_us <= report.total_us);
    // The next open starts a new, empty profile.
    let fresh = open(&dir);
    assert_ne!(fresh.profile_id(), id);
    assert!(fresh.agents().list(&Default::default()).unwrap().is_empty());
}

/// Crypto-shredding: a copy of the store taken before (a backup, an undeleted block) is sealed
/// under a key that no longer exists.
#[test]
fn a_copy_of_the_store_taken_before_cannot_be_opened_after() {
    let _serial = one_at_a_time();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("profile");
    let backup = parent.path().join("backup");
    let p = open(&dir);
    seed(&p);
    drop(p);
    copy_dir(&dir, &backup);
    std::fs::remove_file(backup.join("studio.lock")).unwrap();
    open(&dir).shred(&[]).unwrap();
    match Profile::open(OpenOptions::new(&backup)) {
        Err(CoreError::KeyMissing) => {}
        other => panic!("expected KeyMissing for the backup, got {other:?}"),
    }
}

#[test]
fn an_interrupted_shred_is_finished_by_the_next_open() {
    let _serial = one_at_a_time();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("profile");
    let p = open(&dir);
    seed(&p);
    let id = p.profile_id().to_string();
    drop(p);
    // What a process killed right after writing the marker leaves (the format is documented in
    // `awf_core::shred`): the marker names the entries, nothing is deleted yet.
    let entries = [format!("store-key/{id}"), format!("platform-tokens/{id}"), format!("plugin/long/{id}")];
    let marker = serde_json::json!({ "profile_id": id, "keyring_entries": entries });
    std::fs::write(dir.join(SHRED_MARKER), marker.to_string()).unwrap();

    let fresh = open(&dir);
    assert_ne!(fresh.profile_id(), id, "a new profile, not the cancelled one");
    assert!(fresh.agents().list(&Default::default()).unwrap().is_empty());
    assert!(!dir.join(SHRED_MARKER).exists());
    assert_eq!(keyring_entries_of(&id), Vec::<String>::new());
    drop(fresh);
    assert!(!contains_bytes(&dir, MARKER.as_bytes()), "no file holds the marker");
}

#[test]
fn a_passphrase_profile_is_shredded_with_its_wrapped_key() {
    let _serial = one_at_a_time();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("profile");
    let pass = SecretString::new("correct horse battery staple".into());
    let p = Profile::open(OpenOptions::new(&dir).passphrase(Some(pass))).unwrap();
    p.put_secret("platform-tokens", &SecretString::new(MARKER.into())).unwrap();
    let report = p.shred(&["platform-tokens"]).unwrap();
    assert_eq!(report.keyring_entries_deleted, 0, "nothing of a passphrase profile is in the keyring");
    assert!(!dir.exists());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn contains_bytes(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            contains_bytes(&p, needle)
        } else {
            std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        }
    })
}
