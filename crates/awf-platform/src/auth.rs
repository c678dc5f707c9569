//! Credentials: Argon2id password hashing, opaque random tokens stored only as SHA-256 hashes,
//! SMS codes, and the in-memory sliding-window limiter for failed log-ins.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

pub const ACCESS_PREFIX: &str = "awfa_";
pub const REFRESH_PREFIX: &str = "awfr_";

/// Argon2id with the crate's default parameters (m = 19 MiB, t = 2, p = 1: OWASP's minimum).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Verifies against a PHC string; a malformed stored hash verifies nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// 32 random bytes, base64url without padding, behind `prefix`.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The only form in which a token, cookie or SMS code is stored.
pub fn sha256_hex(data: &str) -> String {
    hex::encode(Sha256::digest(data.as_bytes()))
}

/// A uniformly random 6-digit code.
pub fn new_sms_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

/// Failed attempts per key within a sliding window.
pub struct FailureWindow {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl FailureWindow {
    pub fn new(limit: usize, window: Duration) -> Self {
        FailureWindow { limit, window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Some(seconds to wait)` when `key` has used up its failures in the window.
    pub fn blocked(&self, key: &str, now: Instant) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entries = map.get_mut(key)?;
        while entries.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            entries.pop_front();
        }
        if entries.is_empty() {
            map.remove(key);
            return None;
        }
        if entries.len() < self.limit {
            return None;
        }
        let oldest = *entries.front()?;
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }

    /// Forgets a key's failures (its account is gone).
    pub fn forget(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory against a flood of distinct names: forget keys whose window has passed.
        if map.len() > 100_000 {
            map.retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        let entries = map.entry(key.to_string()).or_default();
        entries.push_back(now);
        while entries.len() > self.limit {
            entries.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = new_token(ACCESS_PREFIX);
        let b = new_token(ACCESS_PREFIX);
        assert!(a.starts_with("awfa_") && a.len() == 5 + 43);
        assert_ne!(a, b);
        assert_eq!(sha256_hex(&a).len(), 64);
        assert_ne!(sha256_hex(&a), sha256_hex(&b));
    }

    #[test]
    fn sms_codes_have_six_digits() {
        for _ in 0..200 {
            let c = new_sms_code();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn argon2id_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn failure_window_blocks_after_limit_and_slides() {
        let w = FailureWindow::new(5, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(w.blocked("k", t0 + Duration::from_secs(i)), None);
            w.record_failure("k", t0 + Duration::from_secs(i));
        }
        assert_eq!(w.blocked("k", t0 + Duration::from_secs(10)), Some(50));
        assert_eq!(w.blocked("other", t0), None);
        // The first failure leaves the window at t0 + 60 s.
        assert_eq!(w.blocked("k", t0 + Duration::from_secs(60)), None);
    }
}
