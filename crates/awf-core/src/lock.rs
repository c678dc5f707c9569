//! One process per profile. The lock is an OS advisory lock on `studio.lock` in the data
//! directory, released by the OS when the process ends, even by `kill -9`. The file also
//! records the holder's pid so that the second process can say who holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};

/// Held for as long as the profile is open.
#[derive(Debug)]
pub struct ProfileLock {
    _file: File,
    path: PathBuf,
}

impl ProfileLock {
    /// Takes the lock on `dir`, or reports who holds it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join("studio.lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| CoreError::io("opening the profile lock", dir, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut s = String::new();
                let _ = file.read_to_string(&mut s);
                return Err(CoreError::ProfileLocked { path: dir.to_path_buf(), pid: s.trim().parse().ok() });
            }
            Err(TryLockError::Error(e)) => return Err(CoreError::io("locking the profile", dir, e)),
        }
        let record = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.seek(SeekFrom::Start(0))?;
            write!(f, "{}", std::process::id())?;
            f.flush()
        };
        record(&mut file).map_err(|e| CoreError::io("writing the profile lock", dir, e))?;
        Ok(ProfileLock { _file: file, path })
    }

    /// [`ProfileLock::acquire`], waiting up to `wait` for the holder to let go: a Studio window
    /// or `awf` command that has just been closed can hold the lock for a moment while it exits
    /// (a relaunch right after a close would otherwise say "in use"). Still held after `wait`:
    /// [`CoreError::ProfileLocked`].
    pub fn acquire_waiting(dir: &Path, wait: std::time::Duration) -> Result<Self> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match Self::acquire(dir) {
                Err(CoreError::ProfileLocked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_in_same_process_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = ProfileLock::acquire(dir.path()).unwrap();
        match ProfileLock::acquire(dir.path()) {
            Err(CoreError::ProfileLocked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected ProfileLocked, got {other:?}"),
        }
        drop(first);
        ProfileLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_waiting_acquire_gets_a_lock_released_meanwhile_and_still_reports_one_kept() {
        use std::time::{Duration, Instant};
        let dir = tempfile::tempdir().unwrap();
        let held = ProfileLock::acquire(dir.path()).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(held);
        });
        ProfileLock::acquire_waiting(dir.path(), Duration::from_secs(10)).expect("released within the wait");
        releaser.join().unwrap();

        let kept = ProfileLock::acquire(dir.path()).unwrap();
        let start = Instant::now();
        match ProfileLock::acquire_waiting(dir.path(), Duration::from_millis(200)) {
            Err(CoreError::ProfileLocked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected ProfileLocked, got {other:?}"),
        }
        assert!(start.elapsed() >= Duration::from_millis(200), "it waited before giving up");
        drop(kept);
    }
}
