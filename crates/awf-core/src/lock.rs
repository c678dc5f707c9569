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
}
