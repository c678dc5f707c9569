//! Secret wrapper types. They cannot be serialised (no `Serialize` impl exists), print as
//! `<redacted>`, are not `Clone`, and wipe their memory on drop.

use zeroize::{Zeroize, Zeroizing};

/// A secret string such as a passphrase or a token.
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(value: String) -> Self {
        SecretString(Zeroizing::new(value))
    }
    /// The secret itself. Call sites are few and easy to audit: grep for `expose`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

/// The 256-bit key that seals every record of a profile.
pub struct DataKey([u8; 32]);

impl DataKey {
    pub(crate) fn random() -> Self {
        use rand::RngCore;
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        DataKey(k)
    }
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(DataKey(arr))
    }
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = SecretString::new("hunter2-very-secret".into());
        assert_eq!(format!("{s:?}"), "SecretString(<redacted>)");
        let k = DataKey::random();
        assert!(!format!("{k:?}").contains(&format!("{:?}", k.expose())));
        assert_eq!(format!("{k:?}"), "DataKey(<redacted>)");
    }
}

#[cfg(test)]
mod type_guarantees {
    use super::{DataKey, SecretString};
    // Secrets cannot be serialised, cloned or copied.
    static_assertions::assert_not_impl_any!(SecretString: serde::Serialize, Clone, Copy, std::fmt::Display);
    static_assertions::assert_not_impl_any!(DataKey: serde::Serialize, Clone, Copy, std::fmt::Display);
}
