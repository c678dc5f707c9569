//! The platform's storage: a narrow interface over sled, so that another backend (PostgreSQL,
//! for several platform nodes) can replace it without touching the handlers.
//!
//! Trees: `accounts` (account id → [`AccountRecord`]), `names` (lower-cased account name →
//! account id), `phones` (phone digits → account id), `sms` (phone digits → [`SmsRecord`]),
//! `sessions` (SHA-256 of the access token → [`SessionRecord`]), `refresh` (SHA-256 of the
//! refresh token → [`RefreshRecord`]), `cookies` (SHA-256 of the session cookie → access hash).
//! Values are JSON. Secrets never reach disk in clear: passwords are Argon2id hashes, tokens,
//! cookies and SMS codes are SHA-256 hashes. Writes that a client relies on are flushed before
//! the answer leaves.

use std::path::Path;

use awf_platform_api::AccountProfile;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountRecord {
    pub profile: AccountProfile,
    /// Argon2id PHC string.
    pub password_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsRecord {
    /// SHA-256 (hex) of `phone digits ":" code`.
    pub code_hash: String,
    /// Unix seconds.
    pub sent_at: i64,
    pub expires_at: i64,
    /// Wrong codes tried so far; the code is void after five.
    pub attempts: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub account_id: String,
    pub access_expires_at: i64,
    pub refresh_hash: String,
    pub cookie_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub account_id: String,
    pub access_hash: String,
    pub expires_at: i64,
}

pub struct Store {
    db: sled::Db,
    accounts: sled::Tree,
    names: sled::Tree,
    phones: sled::Tree,
    sms: sled::Tree,
    sessions: sled::Tree,
    refresh: sled::Tree,
    cookies: sled::Tree,
}

fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &str) -> Result<Option<T>> {
    match tree.get(key.as_bytes())? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

fn put<T: Serialize>(tree: &sled::Tree, key: &str, value: &T) -> Result<()> {
    tree.insert(key.as_bytes(), serde_json::to_vec(value)?)?;
    Ok(())
}

fn get_str(tree: &sled::Tree, key: &str) -> Result<Option<String>> {
    Ok(tree.get(key.as_bytes())?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

/// Inserts `key → value` only when `key` is absent; `false` when it was taken.
fn claim(tree: &sled::Tree, key: &str, value: &str) -> Result<bool> {
    Ok(tree.compare_and_swap(key.as_bytes(), None::<&[u8]>, Some(value.as_bytes()))?.is_ok())
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store> {
        let db = sled::Config::new().path(dir.join("store")).open()?;
        Ok(Store {
            accounts: db.open_tree("accounts")?,
            names: db.open_tree("names")?,
            phones: db.open_tree("phones")?,
            sms: db.open_tree("sms")?,
            sessions: db.open_tree("sessions")?,
            refresh: db.open_tree("refresh")?,
            cookies: db.open_tree("cookies")?,
            db,
        })
    }

    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    // Accounts.

    pub fn account(&self, id: &str) -> Result<Option<AccountRecord>> {
        get(&self.accounts, id)
    }

    pub fn put_account(&self, record: &AccountRecord) -> Result<()> {
        put(&self.accounts, &record.profile.account_id, record)?;
        self.flush()
    }

    pub fn account_id_by_name(&self, name: &str) -> Result<Option<String>> {
        get_str(&self.names, &name.to_lowercase())
    }

    pub fn account_id_by_phone(&self, phone_key: &str) -> Result<Option<String>> {
        get_str(&self.phones, phone_key)
    }

    /// Reserves an account name (case-insensitively); `false` when it is taken.
    pub fn claim_name(&self, name: &str, account_id: &str) -> Result<bool> {
        claim(&self.names, &name.to_lowercase(), account_id)
    }

    pub fn release_name(&self, name: &str) -> Result<()> {
        self.names.remove(name.to_lowercase().as_bytes())?;
        Ok(())
    }

    pub fn claim_phone(&self, phone_key: &str, account_id: &str) -> Result<bool> {
        claim(&self.phones, phone_key, account_id)
    }

    // SMS codes.

    pub fn sms(&self, phone_key: &str) -> Result<Option<SmsRecord>> {
        get(&self.sms, phone_key)
    }

    pub fn put_sms(&self, phone_key: &str, record: &SmsRecord) -> Result<()> {
        put(&self.sms, phone_key, record)?;
        self.flush()
    }

    pub fn remove_sms(&self, phone_key: &str) -> Result<()> {
        self.sms.remove(phone_key.as_bytes())?;
        self.flush()
    }

    // Sessions.

    pub fn put_session(&self, access_hash: &str, session: &SessionRecord, refresh: &RefreshRecord) -> Result<()> {
        put(&self.sessions, access_hash, session)?;
        put(&self.refresh, &session.refresh_hash, refresh)?;
        self.cookies.insert(session.cookie_hash.as_bytes(), access_hash.as_bytes())?;
        self.flush()
    }

    pub fn session(&self, access_hash: &str) -> Result<Option<SessionRecord>> {
        get(&self.sessions, access_hash)
    }

    /// The access hash the session cookie (hashed) belongs to.
    pub fn access_hash_by_cookie(&self, cookie_hash: &str) -> Result<Option<String>> {
        get_str(&self.cookies, cookie_hash)
    }

    /// Removes and returns a refresh record: of two concurrent uses of one refresh token only
    /// one gets it.
    pub fn take_refresh(&self, refresh_hash: &str) -> Result<Option<RefreshRecord>> {
        match self.refresh.remove(refresh_hash.as_bytes())? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Revokes a session: its access token, refresh token and cookie.
    pub fn revoke_session(&self, access_hash: &str) -> Result<()> {
        if let Some(bytes) = self.sessions.remove(access_hash.as_bytes())? {
            let session: SessionRecord = serde_json::from_slice(&bytes)?;
            self.refresh.remove(session.refresh_hash.as_bytes())?;
            self.cookies.remove(session.cookie_hash.as_bytes())?;
        }
        self.flush()
    }
}
